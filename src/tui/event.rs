//! What moves through the TUI: [`Action`]s come in (keys, mouse, ticks, worker
//! results), [`Effect`]s go out to the runner (every disk and network job),
//! [`Msg`]s come back from it, and features speak to each other with
//! [`Internal`] events through the app's queue (never through each other's fields).

use crossterm::event::{KeyEvent, MouseEvent};
use secrecy::SecretString;
use std::time::{Duration, Instant};

use crate::auth::token::TokenRequest;
use crate::aws::{AwsContext, AwsSettings};
use crate::settings::{Flags, Settings};
use crate::ssm::forward::ForwardSpec;
use crate::stack::{Anchor, DiscoverError, Health, Identity, Kind, KindResult, Located};
use crate::target::DbTarget;

pub use super::shared::Mode;

/// Everything that can change the state.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick(Instant),
    Worker(Msg),
    /// A signal asked us to stop.
    Quit,
}

/// Results from workers.
#[derive(Debug)]
pub enum Msg {
    Context { generation: u64, result: Result<AwsContext, String> },
    Identity { generation: u64, result: Result<Identity, String> },
    Located { generation: u64, result: Result<Located, DiscoverError> },
    Kind { generation: u64, kind: Kind, result: KindResult, elapsed: Duration },
    Token { generation: u64, target: String, result: Result<SecretString, String> },
    /// `session` tells a reopened shell's events from the one it replaced.
    Sql { generation: u64, session: u64, event: crate::db::session::Event },
    /// The bootstrap's inputs, read and validated (step 1).
    BootstrapPlan { generation: u64, result: Result<crate::bootstrap::Inputs, String> },
    Bootstrap { run_id: u64, event: crate::bootstrap::Event },
    Exported(Result<std::path::PathBuf, String>),
    /// Rows a whole-result export has written so far.
    ExportProgress(u64),
    ForwardStarted { id: u64, result: Result<(), String> },
    ForwardStatus { id: u64, status: Box<crate::ssm::forward::Status>, probe: Option<Result<Duration, String>> },
    ForwardStopped { id: u64, last: Option<Box<crate::ssm::forward::Status>> },
    /// A core notice (a session handed to the plugin): the log and the status line.
    Notice(String),
    /// A shell session ended (the agent's last words, or why it could not start).
    ShellEnded { target: String, result: Result<String, String> },
    /// Settings for a switched profile, region, stack or proxy (they may read rds.conf or terraform output).
    Switched { verb: String, arg: String, args: Flags, result: Result<Box<Settings>, String> },
    /// A message for the view of `to`, sent by a [`Job`] it started (its type is the view's own).
    To { to: Mode, msg: Box<dyn std::any::Any + Send> },
    /// A theme read for `:theme NAME`.
    Theme { name: String, result: Result<Box<super::theme::Theme>, String> },
}

/// Work for the runner: every network call and file access happens there, never in `update`.
#[derive(Debug)]
pub enum Effect {
    LoadContext { generation: u64, aws: AwsSettings },
    Identity { generation: u64, ctx: AwsContext },
    Locate { generation: u64, ctx: AwsContext, anchor: Anchor, prefix: String },
    Fetch { generation: u64, ctx: AwsContext, loc: Box<Located>, kind: Kind },
    /// Sign an IAM auth token with the context's credentials.
    Token { generation: u64, ctx: AwsContext, req: TokenRequest, target: String },
    /// Put text on the clipboard of the terminal (OSC 52).
    Copy(SecretString),
    /// Start an SQL session (a task owning one IAM connection).
    SqlOpen { generation: u64, session: u64, spec: crate::db::connect::ConnectSpec, ctx: AwsContext, via: String },
    SqlRun(Vec<String>),
    /// `connection_id`: the statement's connection, once the session has one.
    SqlCancel { generation: u64, session: u64, connection_id: Option<u32> },
    /// Give up on the running statement: its connection is dropped.
    SqlAbandon,
    /// Write the result to a new CSV file in `dir` named from `stem` (never over an existing file).
    SqlExport { dir: std::path::PathBuf, stem: String, columns: Vec<String>, rows: Vec<Vec<crate::db::rows::Cell>> },
    /// The whole result: the (read-only) statement runs again on a connection of its own, straight
    /// into a new private CSV file, with progress.
    SqlExportQuery { dir: std::path::PathBuf, stem: String, sql: String },
    /// Stop that export (its partial file is removed).
    SqlExportStop,
    /// Append a statement to the SQL history file.
    SqlHistory { path: std::path::PathBuf, text: String },
    SqlClose,
    /// Read the bootstrap's inputs (rds.conf, or the stack's instance).
    BootstrapPlan { generation: u64, settings: Box<Settings>, ctx: Option<AwsContext>, located: Option<Box<Located>> },
    BootstrapRun { run_id: u64, inputs: Box<crate::bootstrap::Inputs>, ctx: AwsContext, opts: crate::bootstrap::Options },
    Suspend,
    /// Start a port forward (its worker reports status every second).
    ForwardStart { id: u64, ctx: Box<AwsContext>, spec: Box<ForwardSpec> },
    ForwardStop { id: u64 },
    /// Hand the terminal to a shell on an instance (Session Manager) until it exits.
    Shell { ctx: AwsContext, target: String },
    /// Resolve settings for new flags (reads the files they name).
    Switch { verb: String, arg: String, args: Box<Flags>, config: Box<crate::config::Config>, config_path: Option<std::path::PathBuf> },
    /// Async work a view starts; what it sends comes back to that view as [`Msg::To`].
    Job { to: Mode, job: Job },
    /// Read a theme.
    LoadTheme { name: String, dir: Option<std::path::PathBuf> },
}

/// Between features, through the app's queue.
#[derive(Debug, Clone)]
pub enum Internal {
    /// The status line.
    Status(Health, String),
    ClearStatus,
    /// The log file and the log pane.
    Log(Health, String),
    /// The log pane only (the core already wrote the line to the log file).
    LogPane(Health, String),
    /// Give the keys to another feature.
    Focus(Mode),
    Quit,
    /// A palette command line to run.
    Command(String),
    /// The SQL shell waits for a forward to this target: reuse a running one or start one.
    ForwardFor(DbTarget),
    /// A forward is ready (said on each of its status reports): whoever waits for one may use it.
    ForwardReady { spec: ForwardSpec, local_port: u16 },
    /// A forward could not start.
    ForwardFailed { spec: ForwardSpec, error: String },
    /// Open the SQL shell on this target (through a forward when its route says so).
    OpenSql(DbTarget),
    /// Show this resource in the detail view.
    Describe(Box<crate::stack::Resource>),
    /// Hosts or parameters changed: saved forwards may start now.
    StackKnown,
}

/// A view's async work: given where to send its messages, a future the runner spawns.
pub struct Job(pub Box<dyn FnOnce(Reply) -> futures::future::BoxFuture<'static, ()> + Send>, pub Ends);

/// What a job needs at exit: nothing (it is dropped), or to be awaited (it opened sessions that it
/// ends when its reply channel closes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    Dropped,
    Awaited,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Job {
    pub fn new<F: std::future::Future<Output = ()> + Send + 'static>(f: impl FnOnce(Reply) -> F + Send + 'static) -> Job {
        Job(Box::new(move |r| Box::pin(f(r))), Ends::Dropped)
    }

    /// A job that opens sessions (forwards): at exit the TUI waits for it to end them.
    pub fn holding_sessions<F: std::future::Future<Output = ()> + Send + 'static>(f: impl FnOnce(Reply) -> F + Send + 'static) -> Job {
        Job(Box::new(move |r| Box::pin(f(r))), Ends::Awaited)
    }
}

/// Sends a job's messages back to the view that started it.
#[derive(Clone)]
pub struct Reply {
    tx: tokio::sync::mpsc::UnboundedSender<Msg>,
    to: Mode,
}

impl Reply {
    pub fn new(tx: tokio::sync::mpsc::UnboundedSender<Msg>, to: Mode) -> Reply {
        Reply { tx, to }
    }

    /// Completes when nobody listens any more (the TUI is gone): a job's cue to end what it opened.
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// False when nobody listens any more (the TUI is ending).
    pub fn send<T: std::any::Any + Send>(&self, msg: T) -> bool {
        self.tx.send(Msg::To { to: self.to, msg: Box::new(msg) }).is_ok()
    }
}
