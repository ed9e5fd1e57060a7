//! The command line: `rdsdeck` (the TUI) and its subcommands, which print
//! what the core returns.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use unicode_width::UnicodeWidthStr;

use crate::aws::AwsContext;

/// `rdsdeck: error: …` on stderr; text from AWS or the database in it cannot reach the terminal as
/// escapes, and a stderr that is gone (a hang-up) is not a panic.
macro_rules! fail {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stderr(), "rdsdeck: error: {}", crate::untrusted::text(&format!($($t)*)));
    }};
}

/// `rdsdeck: warning: …` on stderr, the same way.
macro_rules! warn_user {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stderr(), "rdsdeck: warning: {}", crate::untrusted::text(&format!($($t)*)));
    }};
}
use crate::settings::{Flags, Settings};
use crate::target::{DbFlags, DbTarget, ForwardFlags, Route, StackFacts};
use crate::stack::{Kind, KindResult, Snapshot, locate, snapshot};

/// What a man page would add to `--help`: how to start, exit codes, files, the environment.
const AFTER_HELP: &str = "\
Without a command, rdsdeck opens the TUI (`?` lists every key). `rdsdeck COMMAND --help` for each command.

Examples:
  rdsdeck --profile ops --region us-east-1      the TUI on the region's proxy
  rdsdeck doctor                                why can't the app reach the database?
  rdsdeck describe proxy dev-node-app -o json   the proxy as the AWS API describes it
  rdsdeck sql -e \"SELECT CURRENT_USER()\"        as the app's user, with a fresh IAM token
  rdsdeck token | rdsdeck token inspect         a token for the stack, and what is in it
  rdsdeck forward                               a local port to the database through the app host
  rdsdeck tour                                  learn the zero-secret flow on this stack

Exit codes: 0 done; 1 failed (nothing discovered, a statement or step failed, a check failed);
2 bad input (flags, config, rds.conf). A closed output pipe is not an error.

Files: $XDG_CONFIG_HOME/rdsdeck/config.toml (the config; themes/ and tour/ beside it);
$XDG_STATE_HOME/rdsdeck/ (rdsdeck.log, sql_history, exports/, tour.json: 0600 in a 0700 folder).

Environment: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL[_SERVICE], RDSDECK_STACK, RDSDECK_CONFIG,
RDSDECK_CA, RDSDECK_CONNECT_TO, RDSDECK_LOG (error..trace), RDSDECK_LOG_FILE, RDSDECK_EXPORT_DIR, NO_COLOR.";

#[derive(Debug, Parser)]
#[command(name = "rdsdeck", version, about = "Terminal ops console for the RDS Proxy + IAM auth stack", long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the stack's resources (what the browser shows)
    List(ListArgs),
    /// Print one resource as AWS describes it (the field names `aws … describe-…` prints), as YAML or JSON
    Describe(DescribeArgs),
    /// Print an RDS IAM auth token (drop-in for `aws rds generate-db-auth-token`), or inspect one
    Token(TokenCmd),
    /// Run SQL as an IAM database user, over verified TLS, with a fresh token
    Sql(SqlArgs),
    /// Create the IAM admin and application users (the seed's rds.sh), step by step and idempotent
    Bootstrap(BootstrapArgs),
    /// Forward a local port through an SSM-managed instance (Session Manager), e.g. to the RDS Proxy
    Forward(ForwardArgs),
    /// An interactive shell on an SSM-managed instance (Session Manager, native data channel)
    Shell(ShellArgs),
    /// Walk the chain app host -> proxy -> target -> database and name the broken link, with the evidence and the fix
    Doctor(DoctorArgs),
    /// The proxy's and the instance's CloudWatch metrics over a window, and the alarms on them
    Metrics(MetricsArgs),
    /// The proxy's log and the instance's exported logs (error, iam-db-auth-error, slowquery), merged by time
    Logs(LogsArgs),
    /// A guided tour of the zero-secret flow on this stack (the sandbox when no AWS account is set up):
    /// chapters you do step by step; progress is kept and resumed
    Tour(TourArgs),
    /// Print a shell completion script: `source <(rdsdeck completions bash)`, or save it where your shell
    /// loads completions (bash: ~/.local/share/bash-completion/completions/rdsdeck; zsh: a file `_rdsdeck`
    /// in your $fpath; fish: ~/.config/fish/completions/rdsdeck.fish)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, clap::Args)]
pub struct TourArgs {
    /// Print the chapters and their steps (the built-in ones and your own, from `tour/` beside the
    /// config file) and exit: a chapter with a mistake is named with what is wrong
    #[arg(long)]
    pub list: bool,
    /// Start again from the first chapter (forget the saved progress)
    #[arg(long)]
    pub restart: bool,
}

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[arg(long, short, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Warnings fail too (exit 1)
    #[arg(long)]
    pub strict: bool,
    /// Log in as this database user (default: the app's, from its username parameter)
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    /// Show only this check (its prerequisites still run): identity, proxy, proxy.tls, proxy.auth, instance,
    /// network.proxy-db, targets, host.egress, host, network.host-proxy, config, iam, dbuser, login
    #[arg(long, value_name = "ID")]
    pub check: Option<String>,
    /// Show the evidence of every check, not only of the failing ones
    #[arg(long, short)]
    pub verbose: bool,
    /// How the logins reach the database: `direct`, `auto` (a Session Manager forward through the app
    /// host) or a saved `[forwards.NAME]` (default: the config's `sql_via`, else direct)
    #[arg(long, value_name = "direct|auto|NAME", conflicts_with = "from_host")]
    pub via: Option<String>,
    /// Judge the path from the app host: the logins go through a forward on it (`--via auto`), so
    /// their TCP leaves from where the app's does
    #[arg(long)]
    pub from_host: bool,
    /// How a forward travels: `native`, `plugin` or `auto`
    #[arg(long, value_enum, default_value_t = Transport::Auto)]
    pub transport: Transport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricsFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// `table` (latest, min, max per series, then the alarms), `json` (every point), `csv` (series,time,value)
    #[arg(long, short, value_enum, default_value_t = MetricsFormat::Table)]
    pub output: MetricsFormat,
    /// The window: 15m, 1h, 3h, 24h or 7d (the period follows: 1 min up to 3h, 5 min for 24h, 1 h for 7d)
    #[arg(long, short, default_value = "1h", value_parser = parse_window)]
    pub window: crate::pulse::Window,
}

fn parse_window(s: &str) -> Result<crate::pulse::Window, String> {
    crate::pulse::Window::parse(s).ok_or_else(|| format!("unknown window `{s}`: one of 15m, 1h, 3h, 24h, 7d"))
}

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Keep reading new events (every 5 s) until Ctrl-C
    #[arg(long, short)]
    pub follow: bool,
    /// How far back: 90s, 15m, 2h, 1d (at most 14d)
    #[arg(long, default_value = "15m", value_parser = crate::pulse::logs::parse_since)]
    pub since: i64,
    /// A CloudWatch Logs filter pattern, passed through (e.g. `"authentication failed"`, `?ERROR ?WARN`)
    #[arg(long)]
    pub filter: Option<String>,
    /// Only these logs (repeatable, or comma-separated): proxy, error, iam, slow (default: all)
    #[arg(long, short, value_delimiter = ',', value_parser = parse_group)]
    pub group: Vec<crate::pulse::logs::Group>,
    /// `text` (time, log, message) or `json` (one object per line)
    #[arg(long, short, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// At most this many events per log per read (the newest are kept)
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
}

fn parse_group(s: &str) -> Result<crate::pulse::logs::Group, String> {
    crate::pulse::logs::Group::parse(s).ok_or_else(|| format!("unknown log `{s}`: one of proxy, error, iam, slow"))
}

#[derive(Debug, clap::Args)]
pub struct ShellArgs {
    /// The instance (default: the stack's app host)
    pub instance: Option<String>,
    /// `native`, `plugin` (AWS's session-manager-plugin) or `auto` (native, the plugin when the agent asks for KMS)
    #[arg(long, value_enum, default_value_t = Transport::Auto)]
    pub transport: Transport,
}

#[derive(Debug, clap::Args)]
pub struct ForwardArgs {
    /// A forward saved in the config ([forwards.NAME]); flags override its fields
    pub name: Option<String>,
    /// The SSM-managed instance the session runs on (default: the stack's app host)
    #[arg(long)]
    pub target: Option<String>,
    /// The remote host, as the instance resolves it (default: the stack's database endpoint)
    #[arg(long)]
    pub host: Option<String>,
    /// The remote port (default: the stack's database port, else 3306)
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub remote_port: Option<u16>,
    /// The local port on 127.0.0.1 (default 0: any free port)
    #[arg(long)]
    pub local_port: Option<u16>,
    /// How the session's data travels: `native` (rdsdeck's own data channel), `plugin` (AWS's
    /// session-manager-plugin), or `auto` (native, and the plugin when the agent asks for KMS encryption)
    #[arg(long, value_enum, default_value_t = Transport::Auto)]
    pub transport: Transport,
}

pub use crate::ssm::transport::Transport;

/// The global flags, as the CLI parsed them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// AWS profile (default: $AWS_PROFILE, then the config's stack, then `default`)
    #[arg(long, global = true, env = "AWS_PROFILE", hide_env_values = true)]
    pub profile: Option<String>,
    /// AWS region (default: $AWS_REGION, then the profile's region)
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// A named stack from the config file
    #[arg(long, global = true, env = "RDSDECK_STACK")]
    pub stack: Option<String>,
    /// The RDS Proxy at the centre of the stack (default: the region's only proxy)
    #[arg(long, global = true)]
    pub proxy: Option<String>,
    /// Describe the stack with a seed-style rds.conf
    #[arg(long = "rds-conf", global = true, value_name = "FILE")]
    pub rds_conf: Option<PathBuf>,
    /// Describe the stack with `terraform output -json` saved to FILE
    #[arg(long = "terraform-output", global = true, value_name = "FILE")]
    pub terraform_output: Option<PathBuf>,
    /// Config file (default: $XDG_CONFIG_HOME/rdsdeck/config.toml)
    #[arg(long, global = true, env = "RDSDECK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Theme: dark, light, high-contrast, or a file name in the themes folder
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Refuse every write
    #[arg(long = "read-only", global = true)]
    pub read_only: bool,
    /// Send every AWS call to this endpoint (also: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>)
    #[arg(long = "endpoint-url", global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Extra CA certificates (PEM) trusted for database TLS, added to the built-in roots (e.g. RDS global-bundle.pem)
    #[arg(long, global = true, env = "RDSDECK_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Diagnostics log file (default: $XDG_STATE_HOME/rdsdeck/rdsdeck.log)
    #[arg(long = "log-file", global = true, env = "RDSDECK_LOG_FILE", value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Send TCP for a database endpoint elsewhere, as curl's --connect-to: HOST:PORT:ADDR:PORT
    /// (repeatable; also RDSDECK_CONNECT_TO and the config's [connect_to]). Tokens and TLS stay HOST's.
    #[arg(long = "connect-to", global = true, value_name = "HOST:PORT:ADDR:PORT")]
    pub connect_to: Vec<String>,
}

impl GlobalArgs {
    /// The flags as the core takes them.
    pub fn flags(&self) -> Flags {
        Flags {
            profile: self.profile.clone(),
            region: self.region.clone(),
            stack: self.stack.clone(),
            proxy: self.proxy.clone(),
            rds_conf: self.rds_conf.clone(),
            terraform_output: self.terraform_output.clone(),
            config: self.config.clone(),
            theme: self.theme.clone(),
            read_only: self.read_only,
            endpoint_url: self.endpoint_url.clone(),
            ca: self.ca.clone(),
            log_file: self.log_file.clone(),
            connect_to: self.connect_to.clone(),
        }
    }
}

/// The core's enums as clap values (the core does not know clap).
macro_rules! value_enum {
    ($t:ty) => {
        impl ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                &<$t>::ALL
            }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.name()).help(self.about()))
            }
        }
    };
}
value_enum!(Transport);
value_enum!(crate::db::output::Format);


#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// A seed-style rds.conf (default: --rds-conf / the stack's rds_conf, else ./rds.conf, else the discovered instance)
    #[arg(long, value_name = "FILE")]
    pub conf: Option<std::path::PathBuf>,
    /// Print the plan with every statement; connect to nothing, read no secret, run nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Resume at this step (1-6 or its name: config, master-secret, admin-user, iam-login, app-users, verify)
    #[arg(long, value_name = "STEP", value_parser = crate::bootstrap::StepId::parse)]
    pub from: Option<crate::bootstrap::StepId>,
    /// Run only the step given by --from
    #[arg(long, requires = "from")]
    pub only: bool,
    #[arg(long, short, value_enum, default_value_t = BootstrapOutput::Text)]
    pub output: BootstrapOutput,
    /// Connect here instead of the instance endpoint (tokens are signed for it), e.g. a local forward
    #[arg(long, env = "RDSDECK_BOOTSTRAP_HOST")]
    pub host: Option<String>,
    /// The instance's port (rds.conf has no port key)
    #[arg(long, short = 'P', env = "RDSDECK_BOOTSTRAP_PORT")]
    pub port: Option<u16>,
    /// Confirm a run on a production stack or in read-only mode
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum BootstrapOutput {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SqlArgs {
    /// SQL to run (several statements separated by `;`)
    #[arg(long, short = 'e', conflicts_with = "file")]
    pub execute: Option<String>,
    /// A script to run (`-` for stdin)
    #[arg(long, short = 'f')]
    pub file: Option<std::path::PathBuf>,
    #[arg(long, short, value_enum, default_value_t = crate::db::output::Format::Table)]
    pub output: crate::db::output::Format,
    /// Endpoint (default: the stack's /dev/database/endpoint parameter, else the proxy endpoint)
    #[arg(long)]
    pub host: Option<String>,
    /// Port (default: the stack's /dev/database/port, else 3306)
    #[arg(long, short = 'P')]
    pub port: Option<u16>,
    /// Database user (default: the stack's /dev/database/username, else node_app)
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    /// Default database (default: the stack's /dev/database/dbname)
    #[arg(long, short = 'D')]
    pub database: Option<String>,
    /// Run destructive statements: DROP, TRUNCATE, RENAME, ALTER, CREATE OR REPLACE, REPLACE, GRANT,
    /// REVOKE, DELETE/UPDATE whose WHERE is absent or always true, CALL, PREPARE/EXECUTE, and what
    /// the SQL parser cannot read
    #[arg(long)]
    pub yes: bool,
    /// Seconds to wait for the connection
    #[arg(long, default_value_t = 10)]
    pub connect_timeout: u64,
    /// Connect through a Session Manager port forward: a name from [forwards.NAME], `auto` (to the
    /// endpoint through the stack's app host), or `direct` (none; overrides the config's `sql_via`).
    /// The token is signed for, and TLS verified against, the endpoint.
    #[arg(long, value_name = "NAME", conflicts_with = "tunnel_port")]
    pub via_forward: Option<String>,
    /// Connect through a tunnel already listening on 127.0.0.1:PORT (`rdsdeck forward`, the session
    /// manager plugin, ssh -L); the token is still signed for, and TLS verified against, --host/--port
    #[arg(long, value_name = "PORT")]
    pub tunnel_port: Option<u16>,
    /// How a --via-forward session travels (as `rdsdeck forward --transport`)
    #[arg(long, value_enum, default_value_t = Transport::Auto)]
    pub transport: Transport,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TokenCmd {
    #[command(subcommand)]
    pub action: Option<TokenAction>,
    /// The endpoint the client connects to (the proxy endpoint, not the instance, when going through
    /// the proxy). Without --hostname, --port and --username: the stack's endpoint and the app's user
    #[arg(long)]
    pub hostname: Option<String>,
    /// The port the client connects to
    #[arg(long)]
    pub port: Option<u16>,
    /// The database user (IDENTIFIED WITH AWSAuthenticationPlugin)
    #[arg(long)]
    pub username: Option<String>,
    /// Sign as of this Unix time instead of now (for comparing with other signers)
    #[arg(long, hide = true)]
    pub signing_time: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Decode a token without secrets: host, port, user, region, key id (last 4), expiry
    Inspect {
        /// The token; `-` or nothing reads it from stdin (keeps it out of argv and history)
        token: Option<String>,
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only these kinds (repeatable; e.g. proxies, instances, hosts, parameters, secrets, sg, alb, ecr, s3)
    #[arg(long, short, value_parser = parse_kind)]
    pub kind: Vec<Kind>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// The kind (as `list --kind` takes it: proxies, target-groups, targets, instances, hosts, sg, subnets,
    /// vpc, parameters, secrets, alb, ecr, s3)
    #[arg(value_parser = parse_kind)]
    pub kind: Kind,
    /// Its name or id, as `rdsdeck list` shows them
    pub name: String,
    /// YAML, or JSON as the AWS CLI prints it
    #[arg(long, short, value_enum, default_value_t = DescribeFormat::Yaml)]
    pub output: DescribeFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DescribeFormat {
    Yaml,
    Json,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| {
        format!("unknown kind `{s}`; one of: {}", Kind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "))
    })
}

/// `rdsdeck doctor`: 0 when nothing failed (warnings do not fail), 1 when a check failed, 2 on bad input.
/// `rdsdeck tour`: the TUI with the tour open; `--list` prints the chapters (checking them).
pub async fn run_tour(flags: Flags, settings: Settings, args: &TourArgs) -> anyhow::Result<i32> {
    let dir = crate::tour::user_dir(settings.config_path.as_deref());
    let chapters = match crate::tour::chapters(dir.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            fail!("{e}");
            return Ok(2);
        }
    };
    if args.list {
        let mut out = std::io::stdout().lock();
        let own = dir.as_ref().map(|d| format!(" (your own chapters: {})", d.display())).unwrap_or_default();
        writeln!(out, "{} chapters{own}", chapters.len())?;
        for (i, c) in chapters.iter().enumerate() {
            writeln!(out, "{}. {} [{}, {}]", i + 1, crate::untrusted::line(&c.title), c.id, c.file)?;
            for s in &c.steps {
                let does = match (s.action, s.key()) {
                    (Some(a), Some(k)) => format!("  — {k}: {}", a.verb()),
                    _ => String::new(),
                };
                writeln!(out, "   · {}{does}", crate::untrusted::line(&s.title))?;
            }
        }
        return Ok(0);
    }
    if args.restart
        && let Some(d) = crate::config::Config::state_dir()
    {
        crate::tour::Progress::default().save(&d)?;
    }
    crate::tui::run_opening(flags, settings, Some(crate::tui::shared::Mode::Tour)).await
}

pub async fn run_doctor(settings: &Settings, args: &DoctorArgs) -> anyhow::Result<i32> {
    use crate::doctor::{CHECKS, Finding, Options, Status};
    if let Some(id) = &args.check
        && !CHECKS.iter().any(|c| c.0 == id)
    {
        fail!("--check {id}: no such check; checks: {}", CHECKS.iter().map(|c| c.0).collect::<Vec<_>>().join(", "));
        return Ok(2);
    }
    let Some(ctx) = load_context(settings).await else { return Ok(1) };
    let shown = |f: &Finding| args.check.as_deref().is_none_or(|c| c == f.id);
    let text = args.output == Output::Table;
    let mut out = Lenient { inner: std::io::stdout().lock(), closed: false };
    if text {
        writeln!(out, "rdsdeck doctor — profile {}, region {}", ctx.profile, ctx.region)?;
    }
    let verbose = args.verbose;
    let print = |out: &mut dyn Write, f: &Finding| -> std::io::Result<()> {
        let u = |s: &str| crate::untrusted::line(s).into_owned();
        writeln!(out, "{} {:<19} {}", f.status.symbol(), f.id, u(&f.summary))?;
        if verbose || f.status == Status::Fail || f.status == Status::Warn {
            for e in &f.evidence {
                writeln!(out, "      {}", u(e))?;
            }
            if let Some(fix) = &f.fix {
                writeln!(out, "      fix: {}", u(fix))?;
            }
        }
        Ok(())
    };
    let mut err = None;
    let via = if args.from_host { Some("auto") } else { args.via.as_deref() };
    let opts = Options::new(settings, args.user.clone(), via, args.transport);
    let mut stopped = false;
    let findings = crate::doctor::run(
        &ctx,
        settings,
        &opts,
        |f| {
            if text && shown(f)
                && let Err(e) = print(&mut out, f)
            {
                err.get_or_insert(e);
            }
        },
        async {
            signals_or_forever().await;
            stopped = true;
        },
    )
    .await;
    if stopped {
        fail!("interrupted: the doctor stopped (any forward it opened is closed)");
        return Ok(130);
    }
    if let Some(e) = err {
        return Err(e.into());
    }
    let findings: Vec<&Finding> = findings.iter().filter(|f| shown(f)).collect();
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    let (passed, warned, failed, skipped) = (count(Status::Pass), count(Status::Warn), count(Status::Fail), count(Status::Skipped));
    if text {
        writeln!(out)?;
        writeln!(out, "{passed} passed, {warned} warnings, {failed} failed, {skipped} skipped")?;
        if let Some(f) = findings.iter().find(|f| f.status == Status::Fail) {
            writeln!(out, "first broken link: {} — {}", f.id, crate::untrusted::line(&f.summary))?;
        }
    } else {
        let doc = serde_json::json!({
            "region": ctx.region,
            "findings": findings,
            "passed": passed,
            "warnings": warned,
            "failed": failed,
            "skipped": skipped,
            "first_failure": findings.iter().find(|f| f.status == Status::Fail).map(|f| f.id),
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(if failed > 0 || (args.strict && warned > 0) { 1 } else { 0 })
}

/// `rdsdeck completions SHELL`: the completion script on stdout.
pub fn run_completions(shell: clap_complete::Shell) -> i32 {
    use clap::CommandFactory;
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "rdsdeck", &mut out);
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            fail!("{e}");
            1
        }
        _ => 0,
    }
}

/// The AWS context, or `None` after saying why on stderr (the caller exits 1).
async fn load_context(settings: &Settings) -> Option<AwsContext> {
    match AwsContext::load(&settings.aws).await {
        Ok(c) => Some(c),
        Err(e) => {
            fail!("{e}");
            None
        }
    }
}

/// The config's warnings said, the AWS context loaded and the stack located (each failure said).
async fn located(settings: &Settings) -> Option<(AwsContext, crate::stack::Located)> {
    for w in &settings.warnings {
        warn_user!("{w}");
    }
    let ctx = load_context(settings).await?;
    match locate(&ctx, &settings.anchor, &settings.parameter_prefix).await {
        Ok(loc) => Some((ctx, loc)),
        Err(e) => {
            fail!("{e}");
            None
        }
    }
}

/// Exit codes: 0 ok, 1 nothing discovered / runtime failure, 2 bad input.
pub async fn run_list(settings: &Settings, args: &ListArgs) -> anyhow::Result<i32> {
    let Some((ctx, loc)) = located(settings).await else { return Ok(1) };
    let kinds: Vec<Kind> = if args.kind.is_empty() { Kind::ALL.to_vec() } else { args.kind.clone() };
    let snap = snapshot(&ctx, &loc, &kinds).await;
    let mut out = std::io::stdout().lock();
    let written = match args.output {
        Output::Json => serde_json::to_writer_pretty(&mut out, &snap).map_err(std::io::Error::from).and_then(|_| writeln!(out)),
        // A terminal gets columns cut to fit; a pipe gets every value whole.
        Output::Table => write_tables(&mut out, &snap, std::io::IsTerminal::is_terminal(&std::io::stdout()).then_some(60)),
    };
    match written.and_then(|_| out.flush()) {
        Ok(()) => Ok(0),
        // `rdsdeck list | head`: the reader left; that is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// `rdsdeck describe KIND NAME`: 0 printed; 1 not found, not readable, or nothing discovered; 2 bad input.
pub async fn run_describe(settings: &Settings, args: &DescribeArgs) -> anyhow::Result<i32> {
    let Some((ctx, loc)) = located(settings).await else { return Ok(1) };
    let items = match crate::stack::fetch::fetch_kind(&ctx, &loc, args.kind).await.0 {
        KindResult::Ok { items } => items,
        KindResult::Error { error } => {
            fail!("{}: {error}", args.kind.name());
            return Ok(1);
        }
    };
    let found: Vec<&crate::stack::Resource> = items.iter().filter(|r| r.name == args.name || r.id == args.name).collect();
    let r = match found.as_slice() {
        [r] => r,
        [] => {
            let names: Vec<&str> = items.iter().map(|r| r.name.as_str()).collect();
            if names.is_empty() {
                fail!("no {} in this stack", args.kind.name());
            } else {
                fail!("no {} named `{}` in this stack; there are: {}", args.kind.name(), args.name, names.join(", "));
            }
            return Ok(1);
        }
        many => {
            fail!("`{}` names {} {}: give the id ({})", args.name, many.len(), args.kind.name(), many.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", "));
            return Ok(1);
        }
    };
    let Some(api) = &r.api else {
        fail!("AWS's response for {} `{}` could not be read (the log says why: RDSDECK_LOG=warn)", args.kind.name(), r.name);
        return Ok(1);
    };
    let format = match args.output {
        DescribeFormat::Yaml => crate::stack::api::Format::Yaml,
        DescribeFormat::Json => crate::stack::api::Format::Json,
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(crate::stack::api::text(api, format).as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// The snapshot as tables; `max` cuts cells to that width (with `…`), `None` keeps them whole.
pub fn write_tables(out: &mut impl Write, snap: &Snapshot, max: Option<usize>) -> std::io::Result<()> {
    let who = match &snap.identity {
        Ok(i) => format!("{} ({})", i.arn, i.account),
        Err(e) => format!("unknown ({e})"),
    };
    let header = format!(
        "stack: {}  region: {}  profile: {}  identity: {}",
        snap.stack.proxy.as_deref().unwrap_or("(no proxy)"),
        snap.stack.region,
        snap.profile,
        who
    );
    writeln!(out, "{}", crate::untrusted::line(&header))?;
    for (kind, res) in &snap.kinds {
        writeln!(out)?;
        match res {
            KindResult::Error { error } => writeln!(out, "{} — failed: {}", kind.name().to_uppercase(), crate::untrusted::line(error))?,
            KindResult::Ok { items } => {
                writeln!(out, "{} ({})", kind.name().to_uppercase(), items.len())?;
                let rows: Vec<&Vec<String>> = items.iter().map(|r| &r.cells).collect();
                write_table(out, kind.columns(), &rows, max)?;
            }
        }
    }
    Ok(())
}

fn write_table(out: &mut impl Write, header: &[&str], rows: &[&Vec<String>], max: Option<usize>) -> std::io::Result<()> {
    let max = max.unwrap_or(usize::MAX);
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(crate::untrusted::line(c).width().min(max));
            }
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .map(|c| crate::untrusted::line(c))
            .enumerate()
            .map(|(i, c)| {
                let c: String = if c.width() > max { format!("{}…", c.chars().take(max - 1).collect::<String>()) } else { c.to_string() };
                format!("{c}{}", " ".repeat(widths[i].saturating_sub(c.width())))
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for r in rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// The most `token inspect` reads from stdin.
const TOKEN_INPUT_MAX: usize = 16 * 1024;

/// `rdsdeck token`: exit codes follow the aws CLI: 0 ok, 2 usage, 255 no credentials/region.
pub async fn run_token(settings: &Settings, args: &TokenCmd) -> anyhow::Result<i32> {
    use crate::auth::token::{TokenRequest, generate, inspect};
    use std::io::Read;
    if let Some(TokenAction::Inspect { token, output }) = &args.action {
        let mut text = token.clone().filter(|t| t != "-").unwrap_or_default();
        if text.is_empty() {
            // A token is about 1-2 KB: read a little more than the largest one, never the whole stream.
            let mut buf = Vec::new();
            std::io::stdin().take(TOKEN_INPUT_MAX as u64 + 1).read_to_end(&mut buf)?;
            if buf.len() > TOKEN_INPUT_MAX {
                fail!("the input is longer than any RDS auth token ({TOKEN_INPUT_MAX} bytes read): pipe one token (`rdsdeck token | rdsdeck token inspect`)");
                return Ok(2);
            }
            text = String::from_utf8(buf).map_err(|_| anyhow::anyhow!("the input is not text: not an RDS auth token"))?;
        }
        return match inspect(&text, std::time::SystemTime::now()) {
            Ok(info) => {
                if *output == Output::Json {
                    println!("{}", serde_json::to_string_pretty(&info)?);
                } else {
                    let state = if info.expired {
                        format!("EXPIRED {}s ago", -info.remaining_seconds)
                    } else {
                        format!("valid for {}m{:02}s", info.remaining_seconds / 60, info.remaining_seconds % 60)
                    };
                    let u = |v: &str| crate::untrusted::line(v).into_owned();
                    println!("host           {}", u(&info.host));
                    println!("port           {}", info.port);
                    println!("user           {}", u(&info.user));
                    println!("region         {}", u(&info.region));
                    println!("access key     …{}", u(&info.key_id_last4));
                    println!("signed at      {}", u(&info.signed_at));
                    println!("expires at     {} ({state})", u(&info.expires_at));
                    println!("session token  {}", if info.session_token { "yes (temporary credentials)" } else { "no (long-term key)" });
                }
                Ok(if info.expired { 1 } else { 0 })
            }
            Err(e) => {
                fail!("{e}");
                Ok(2)
            }
        };
    }
    let missing: Vec<&str> = [("--hostname", args.hostname.is_none()), ("--port", args.port.is_none()), ("--username", args.username.is_none())]
        .into_iter()
        .filter_map(|(n, m)| m.then_some(n))
        .collect();
    // All three: the aws CLI's drop-in. None: the stack's endpoint and the app's user, as `sql` connects.
    let (creds, req) = match missing.len() {
        0 => {
            let (creds, region) = match crate::auth::credentials_for(&settings.aws).await {
                Ok(x) => x,
                Err(e) => {
                    fail!("{e}");
                    return Ok(255);
                }
            };
            let req = TokenRequest {
                hostname: args.hostname.clone().unwrap_or_default(),
                port: args.port.unwrap_or_default(),
                region,
                username: args.username.clone().unwrap_or_default(),
            };
            (creds, req)
        }
        3 => match stack_token_request(settings).await {
            Ok(x) => x,
            Err((code, e)) => {
                fail!("{e}");
                return Ok(code);
            }
        },
        _ => {
            fail!(
                "the following arguments are required: {} (pass all of --hostname, --port and --username, as `aws rds generate-db-auth-token` takes them, or none for the stack's endpoint and the app's user)",
                missing.join(", ")
            );
            return Ok(2);
        }
    };
    let now = match args.signing_time {
        Some(t) => std::time::UNIX_EPOCH + std::time::Duration::from_secs(t),
        None => std::time::SystemTime::now(),
    };
    match generate(&req, &creds, now) {
        Ok(t) => {
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{t}").and_then(|_| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(0),
            }
        }
        Err(e) => {
            fail!("{e}");
            Ok(2)
        }
    }
}

/// A token request for the stack's endpoint and the app's user (what `rdsdeck sql` connects to),
/// with the context's credentials; the exit code and message when there is none.
async fn stack_token_request(settings: &Settings) -> Result<(aws_credential_types::Credentials, crate::auth::TokenRequest), (i32, String)> {
    let ctx = AwsContext::load(&settings.aws).await.map_err(|e| (255, e.to_string()))?;
    let facts = crate::target::gather(&ctx, settings).await.map_err(|e| (1, format!("cannot find the stack's endpoint: {e} (or pass --hostname, --port and --username)")))?;
    let t = crate::target::db_target(&facts, &DbFlags::default(), Route::Direct, &settings.config.forwards).map_err(|e| (1, e.to_string()))?;
    let provider = ctx.sdk.credentials_provider().ok_or((255, "no AWS credentials found".to_string()))?;
    let creds = crate::auth::credentials(&provider).await.map_err(|e| (255, e.to_string()))?;
    Ok((creds, crate::auth::TokenRequest { hostname: t.host, port: t.port, region: ctx.region.clone(), username: t.user }))
}

/// Output for a command that must finish its work even when the reader leaves (`| head`): once the
/// pipe is closed, what is written is dropped instead of failing the command.
struct Lenient<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> Write for Lenient<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.closed {
            match self.inner.write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.closed = true,
                other => return other,
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.inner.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other if self.closed => other.or(Ok(())),
            other => other,
        }
    }
}

/// The stack's facts when the decision needs them; without them when the flags say it all.
async fn facts_for(ctx: &AwsContext, settings: &Settings, needed: bool) -> Result<StackFacts, String> {
    if !needed {
        return Ok(StackFacts::unknown("not needed: the flags name everything"));
    }
    crate::target::gather(ctx, settings).await
}

/// What `rdsdeck sql` connects to, and the forward it opens for it (if any).
pub fn plan_sql(settings: &Settings, facts: &StackFacts, args: &SqlArgs) -> Result<(DbTarget, Option<crate::ssm::forward::ForwardSpec>), crate::target::DecideError> {
    let flags = DbFlags { host: args.host.clone(), port: args.port, user: args.user.clone(), database: args.database.clone() };
    let route = Route::decide(args.via_forward.as_deref(), args.tunnel_port, settings.sql_via.as_deref());
    let target = crate::target::db_target(facts, &flags, route, &settings.config.forwards)?;
    let forward = crate::target::sql_forward_spec(facts, &settings.config.forwards, &target, None)?;
    Ok((target, forward))
}

/// What `rdsdeck forward` opens.
pub fn plan_forward(settings: &Settings, facts: &StackFacts, args: &ForwardArgs) -> Result<crate::ssm::forward::ForwardSpec, crate::target::DecideError> {
    let flags = ForwardFlags { target: args.target.clone(), host: args.host.clone(), remote_port: args.remote_port, local_port: args.local_port };
    crate::target::forward_spec(facts, &settings.config.forwards, args.name.as_deref(), &flags, None)
}

/// The instance `rdsdeck shell` opens a shell on.
pub fn plan_shell(facts: &StackFacts, args: &ShellArgs) -> Result<String, crate::target::DecideError> {
    crate::target::carrier_host(facts, args.instance.as_deref(), None)
}

/// A decision's error, with the flag that settles it.
fn decide_hint(e: &crate::target::DecideError, flag: &str) -> String {
    use crate::target::DecideError;
    match e {
        DecideError::SeveralHosts(_) | DecideError::NoHost | DecideError::HostsUnknown(_) => format!("{e}: choose one with {flag}"),
        DecideError::NoEndpoint => format!("{e}: pass --host"),
        DecideError::UnknownForward { .. } => e.to_string(),
    }
}

/// Prints a core notice (a hand-over to the plugin) on stderr.
fn notice_to_stderr(n: crate::ssm::transport::Notice) {
    eprintln!("rdsdeck: {}", crate::untrusted::text(&n.to_string()));
}

/// `rdsdeck sql`: results on stdout, diagnostics on stderr, non-zero on any error.
pub async fn run_sql(settings: &Settings, args: &SqlArgs) -> anyhow::Result<i32> {
    use crate::db::{connect::{Auth, Connector}, guard::Guard, output::sink, split::split};
    use std::io::Read;
    let script = match (&args.execute, &args.file) {
        (Some(e), _) => e.clone(),
        (None, Some(f)) if f.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
        (None, Some(f)) => match std::fs::read_to_string(f) {
            Ok(s) => s,
            Err(e) => {
                fail!("cannot read {}: {e}", f.display());
                return Ok(2);
            }
        },
        (None, None) => {
            fail!("nothing to run: pass -e SQL or -f FILE (the interactive shell is in the TUI)");
            return Ok(2);
        }
    };
    let statements = match split(&script) {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => {
            fail!("no SQL statement in the input");
            return Ok(2);
        }
        Err(e) => {
            fail!("{e}");
            return Ok(2);
        }
    };
    let guard = Guard { read_only: settings.read_only, confirmed: args.yes };
    // Refuse before connecting: nothing half-runs because of a later statement.
    for st in &statements {
        if let Err(e) = guard.check(&st.sql) {
            fail!("line {}: {e}", st.line);
            return Ok(2);
        }
    }
    let Some(ctx) = load_context(settings).await else { return Ok(1) };
    let flags = DbFlags { host: args.host.clone(), port: args.port, user: args.user.clone(), database: args.database.clone() };
    let via = Route::decide(args.via_forward.as_deref(), args.tunnel_port, settings.sql_via.as_deref());
    let facts = match facts_for(&ctx, settings, !flags.complete() || matches!(via, Route::Forward(_))).await {
        Ok(f) => f,
        Err(e) if args.host.is_some() => {
            tracing::info!("stack defaults unavailable: {e}");
            StackFacts::unknown(&e)
        }
        Err(e) => {
            fail!("cannot find the database endpoint: {e}");
            return Ok(1);
        }
    };
    let (target, forward_spec) = match plan_sql(settings, &facts, args) {
        Ok(p) => p,
        Err(e) => {
            let what = args.via_forward.as_deref().map(|n| format!("--via-forward {n}: ")).unwrap_or_default();
            fail!("{what}{}", decide_hint(&e, "`target` in [forwards.NAME] (or start `rdsdeck forward --target i-…` and pass --tunnel-port)"));
            return Ok(if matches!(e, crate::target::DecideError::NoEndpoint) { 1 } else { 2 });
        }
    };
    let Some(provider) = ctx.sdk.credentials_provider() else {
        fail!("no AWS credentials found");
        return Ok(1);
    };
    let mut forward = None;
    let local_port = match (&target.route, forward_spec) {
        (Route::Tunnel(p), _) => Some(*p),
        (Route::Forward(name), Some(spec)) => match crate::ssm::transport::open_forward(&ctx, &spec, args.transport, &mut notice_to_stderr).await {
            Ok(f) => {
                let local = f.local_addr();
                let line = format!("via forward {name}: 127.0.0.1:{} -> {}:{} through {} ({})", local.port(), spec.host.as_deref().unwrap_or("the instance"), spec.remote_port, spec.target, f.carrier());
                eprintln!("{}", crate::untrusted::line(&line));
                forward = Some(f);
                Some(local.port())
            }
            Err(e) => {
                fail!("--via-forward {name}: {e}");
                return Ok(1);
            }
        },
        _ => None,
    };
    let connector = Connector::new(
        crate::target::connect_spec(&target, local_port, &ctx.region, &settings, std::time::Duration::from_secs(args.connect_timeout), settings.read_only),
        Auth::Iam(provider),
    );
    let mut conn = match connector.connect_wire().await {
        Ok(c) => c,
        Err(e) => {
            fail!("{e}");
            if let Some(f) = forward {
                f.stop().await;
            }
            return Ok(1);
        }
    };
    let (tls_version, cipher) = conn.tls();
    tracing::info!(
        "sql: connected to {}:{} as {} (connection {}, server {}, {tls_version} {cipher})",
        connector.spec.host,
        connector.spec.port,
        connector.spec.user,
        conn.id(),
        conn.server_version()
    );
    let stdout = std::io::stdout();
    let mut out = sink(args.output, std::io::BufWriter::with_capacity(1 << 16, stdout.lock()));
    let mut code = 0;
    for st in &statements {
        match conn.run(&st.sql, out.as_mut()).await.map_err(|e| connector.explain_wire(&e)) {
            Ok(o) => {
                if o.result_sets > 0 {
                    eprintln!("{} row{} in {:.3} s", o.rows, if o.rows == 1 { "" } else { "s" }, o.elapsed.as_secs_f64());
                } else {
                    eprintln!("ok, {} row{} affected in {:.3} s", o.affected, if o.affected == 1 { "" } else { "s" }, o.elapsed.as_secs_f64());
                }
            }
            Err(e) if e.message == "output closed" => break,
            Err(e) => {
                fail!("line {}: {e}", st.line);
                code = 1;
                break;
            }
        }
    }
    drop(out);
    conn.close().await;
    if let Some(f) = forward {
        f.stop().await;
    }
    Ok(code)
}

/// The stack's proxy and instance names, for the pulse: from discovery (a failure is said here).
async fn pulse_names(ctx: &AwsContext, settings: &Settings) -> Option<(Option<String>, Option<String>)> {
    match locate(ctx, &settings.anchor, &settings.parameter_prefix).await {
        Ok(loc) => Some((loc.proxy.clone(), loc.instances.first().cloned())),
        Err(e) => {
            fail!("cannot find the stack: {e}");
            None
        }
    }
}

fn clock_text(epoch_s: i64) -> String {
    chrono::DateTime::from_timestamp(epoch_s, 0).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// `rdsdeck metrics`: 0 when read, 1 when CloudWatch could not be read.
pub async fn run_metrics(settings: &Settings, args: &MetricsArgs) -> anyhow::Result<i32> {
    use crate::pulse::human;
    let Some(ctx) = load_context(settings).await else { return Ok(1) };
    let Some((proxy, instance)) = pulse_names(&ctx, settings).await else { return Ok(1) };
    let p = match crate::pulse::fetch(&ctx, proxy.as_deref(), instance.as_deref(), args.window, std::time::SystemTime::now()).await {
        Ok(p) => p,
        Err(e) => {
            fail!("cannot read CloudWatch metrics: {e}");
            return Ok(1);
        }
    };
    let mut out = Lenient { inner: std::io::BufWriter::new(std::io::stdout().lock()), closed: false };
    let u = |s: &str| crate::untrusted::line(s).into_owned();
    match args.output {
        MetricsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &p)?;
            writeln!(out)?;
        }
        MetricsFormat::Csv => {
            writeln!(out, "scope,metric,stat,unit,time,value")?;
            for s in &p.series {
                for (t, v) in &s.points {
                    let time = chrono::DateTime::from_timestamp(*t, 0).map(|t| t.to_rfc3339()).unwrap_or_default();
                    writeln!(out, "{},{},{},{},{time},{v}", serde_json::to_value(s.scope)?.as_str().unwrap_or_default(), s.metric, s.stat, s.unit)?;
                }
            }
        }
        MetricsFormat::Table => {
            writeln!(
                out,
                "{} to {} UTC, {} s period — proxy {}, instance {}",
                clock_text(p.start),
                clock_text(p.end),
                p.period,
                u(p.proxy.as_deref().unwrap_or("-")),
                u(p.instance.as_deref().unwrap_or("-"))
            )?;
            writeln!(out, "{:<9} {:<58} {:>10} {:>10} {:>10} {:>6}", "SCOPE", "METRIC", "LATEST", "MIN", "MAX", "POINTS")?;
            for s in &p.series {
                let v = |x: Option<f64>| x.map(|v| human(v, s.unit)).unwrap_or_else(|| "-".into());
                let scope = if s.scope == crate::pulse::Scope::Proxy { "proxy" } else { "instance" };
                writeln!(out, "{scope:<9} {:<58} {:>10} {:>10} {:>10} {:>6}", format!("{} ({})", s.metric, s.stat), v(s.latest()), v(s.min()), v(s.max()), s.points.len())?;
            }
            match &p.alarms {
                Ok(a) if a.is_empty() => writeln!(out, "\nno alarm on the proxy or the instance")?,
                Ok(a) => {
                    writeln!(out, "\nALARMS")?;
                    for a in a {
                        writeln!(out, "{:<18} {:<40} {} — {}", u(&a.state), u(&a.name), u(&a.metric), u(&a.reason))?;
                    }
                }
                Err(e) => writeln!(out, "\nalarms not read: {}", u(e))?,
            }
        }
    }
    out.flush()?;
    Ok(0)
}

/// `rdsdeck logs`: 0 when read (or followed until a signal), 1 when no log could be read.
pub async fn run_logs(settings: &Settings, args: &LogsArgs) -> anyhow::Result<i32> {
    use crate::pulse::logs::{Group, Query, Tail, read};
    let Some(ctx) = load_context(settings).await else { return Ok(1) };
    let Some((proxy, instance)) = pulse_names(&ctx, settings).await else { return Ok(1) };
    let wanted: Vec<Group> = if args.group.is_empty() { Group::ALL.to_vec() } else { args.group.clone() };
    let groups: Vec<(Group, String)> = wanted.iter().filter_map(|g| g.path(proxy.as_deref(), instance.as_deref()).map(|p| (*g, p))).collect();
    if groups.is_empty() {
        fail!("the stack has no proxy or instance whose logs could be read");
        return Ok(1);
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut tail = Tail::new(now_ms - args.since * 1000, args.limit.max(1) * groups.len());
    let mut out = Lenient { inner: std::io::stdout().lock(), closed: false };
    let json = args.output == Output::Json;
    let print = |out: &mut Lenient<std::io::StdoutLock<'_>>, events: &[crate::pulse::logs::Event]| -> std::io::Result<()> {
        for e in events {
            if json {
                // serde_json leaves DEL and C1 controls raw: a terminal may act on them.
                let line = serde_json::json!({"time": e.time, "log": e.group.name(), "message": e.message, "auth_failure": e.is_auth_failure()}).to_string();
                writeln!(out, "{}", crate::untrusted::json(&line))?;
            } else {
                let t = chrono::DateTime::from_timestamp_millis(e.time).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).unwrap_or_default();
                let mut lines = e.message.lines();
                writeln!(out, "{t} {:<5} {}", e.group.name(), crate::untrusted::line(lines.next().unwrap_or("")))?;
                for l in lines {
                    writeln!(out, "{:30}{}", "", crate::untrusted::line(l))?;
                }
            }
        }
        out.flush()
    };
    let mut stop = std::pin::pin!(signals_or_forever());
    let mut failures = 0;
    loop {
        let q = Query { groups: groups.iter().map(|(g, p)| (*g, p.clone(), tail.since(*g))).collect(), end: None, filter: args.filter.clone(), limit: args.limit.max(1) };
        let found = tokio::select! {
            f = read(&ctx, &q) => f,
            _ = &mut stop => return Ok(0),
        };
        for (g, e) in &found.errors {
            warn_user!("{} log ({}): {e}", g.name(), groups.iter().find(|x| x.0 == *g).map(|x| x.1.as_str()).unwrap_or(""));
        }
        // Every log failed: give up at once when not following, after three reads in a row when following.
        failures = if found.errors.len() == groups.len() { failures + 1 } else { 0 };
        if failures > 0 && (!args.follow || failures >= 3) {
            return Ok(1);
        }
        if found.truncated {
            warn_user!("more than {} events in a log: the oldest of them were left out (--limit, --since, --filter)", args.limit);
        }
        // Printed as they come: the tail only remembers where the next read starts.
        tail.push(found.events);
        let fresh: Vec<_> = tail.events.drain(..).collect();
        print(&mut out, &fresh)?;
        if out.closed {
            // The reader went away (`| head`): nothing more to follow for.
            return Ok(0);
        }
        if !args.follow {
            return Ok(0);
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            _ = &mut stop => return Ok(0),
        }
    }
}

/// Completes on Ctrl-C, SIGTERM or SIGHUP (never, when the handlers cannot be installed).
async fn signals_or_forever() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate()), signal(SignalKind::hangup())) {
        (Ok(mut i), Ok(mut t), Ok(mut h)) => {
            tokio::select! {
                _ = i.recv() => {}
                _ = t.recv() => {}
                _ = h.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

/// `rdsdeck forward`: runs until Ctrl-C, SIGTERM or SIGHUP (the terminal went away), then ends the session.
pub async fn run_forward(settings: &Settings, args: &ForwardArgs) -> anyhow::Result<i32> {
    use tokio::signal::unix::{SignalKind, signal};
    // From the start: a Ctrl-C while the session starts still ends it cleanly.
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let Some(ctx) = load_context(settings).await else { return Ok(1) };
    let flags_say_all = args.target.is_some() && args.host.is_some() && args.remote_port.is_some();
    let facts = match facts_for(&ctx, settings, !flags_say_all).await {
        Ok(f) => f,
        Err(e) => {
            fail!("cannot read the stack: {e}");
            return Ok(1);
        }
    };
    let spec = match plan_forward(settings, &facts, args) {
        Ok(s) => s,
        Err(e) => {
            fail!("{}", decide_hint(&e, "--target"));
            return Ok(2);
        }
    };
    let mut f = match crate::ssm::transport::open_forward(&ctx, &spec, args.transport, &mut notice_to_stderr).await {
        Ok(f) => f,
        Err(e) => {
            fail!("{e}");
            return Ok(1);
        }
    };
    let local = f.local_addr();
    let line = format!(
        "forwarding 127.0.0.1:{} -> {}:{} through {} (session {}, {})",
        local.port(),
        spec.host.as_deref().unwrap_or("the instance"),
        spec.remote_port,
        spec.target,
        f.session_id(),
        f.carrier()
    );
    let _ = writeln!(std::io::stdout(), "{}", crate::untrusted::line(&line));
    match crate::ssm::forward::probe(local, std::time::Duration::from_secs(5)).await {
        Ok(t) => {
            let _ = writeln!(std::io::stdout(), "probe: the remote end answered through the forward in {} ms", t.as_millis());
        }
        Err(e) => warn_user!("probe: {e}"),
    }
    if let Some(host) = spec.host.as_deref() {
        // How to use it: the token is signed for, and TLS checked against, the remote end.
        let (p, rp) = (local.port(), spec.remote_port);
        let usage = format!(
            "use it:\n  rdsdeck sql --host {host} --port {rp} --tunnel-port {p} -e \"SELECT CURRENT_USER()\"\n  \
             MYSQL_PWD=\"$(rdsdeck token --hostname {host} --port {rp} --username USER)\" \
             mysql -h 127.0.0.1 -P {p} -u USER --enable-cleartext-plugin --ssl-mode=REQUIRED   \
             # the certificate names {host}, not 127.0.0.1"
        );
        let _ = writeln!(std::io::stdout(), "{}", crate::untrusted::text(&usage));
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    use crate::ssm::forward::State;
    let mut last = State::Ready;
    let mut code = 0;
    loop {
        tokio::select! {
            _ = int.recv() => break,
            _ = term.recv() => break,
            _ = hup.recv() => break,
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                let s = f.status();
                if s.state != last {
                    // Not println!: a terminal that went away must not turn into a panic.
                    let mut out = std::io::stdout();
                    let _ = writeln!(out, "{:?}{}", s.state, s.last_error.as_deref().map(|e| format!(": {}", crate::untrusted::line(e))).unwrap_or_default());
                    let _ = out.flush();
                    last = s.state.clone();
                }
                if s.state == State::Failed {
                    // The plugin exited: the forward is gone.
                    code = 1;
                    break;
                }
            }
        }
    }
    let s = f.status();
    f.stop().await;
    let _ = writeln!(
        std::io::stdout(),
        "stopped: {} connections, {} bytes in, {} bytes out, {} reconnects",
        s.total_connections,
        s.bytes_in,
        s.bytes_out,
        s.reconnects
    );
    Ok(code)
}

/// `rdsdeck bootstrap`: 0 when every step holds, 1 when a step failed, 2 on bad input.
pub async fn run_bootstrap(settings: &Settings, args: &BootstrapArgs) -> anyhow::Result<i32> {
    use crate::bootstrap::{Event, Options, Overrides, Report, StepId, resolve, run::execute};
    use std::io::IsTerminal;
    for w in &settings.warnings {
        warn_user!("{w}");
    }
    // A context is only needed without rds.conf (discovery) and to run; a dry
    // run from rds.conf works with no AWS account at all.
    let needs_ctx = !args.dry_run || crate::bootstrap::conf_path(args.conf.as_deref(), settings).is_none();
    let ctx = if needs_ctx {
        match load_context(settings).await {
            Some(c) => Some(c),
            None => return Ok(1),
        }
    } else {
        None
    };
    let ov = Overrides { host: args.host.clone(), port: args.port, ca: settings.ca.clone(), ..Default::default() };
    let inputs = match resolve(settings, args.conf.as_deref(), ov, ctx.as_ref(), None).await {
        Ok(i) => i,
        Err(e) => {
            fail!("{e}");
            return Ok(2);
        }
    };
    if !args.dry_run && (settings.production || settings.read_only) && !args.yes {
        let why = if settings.production { "the stack is marked production" } else { "read-only mode is on" };
        if !std::io::stdin().is_terminal() {
            fail!("{why}: confirm the bootstrap with --yes");
            return Ok(2);
        }
        eprint!("{why}: bootstrap users on {}:{}? type yes to go on: ", inputs.host, inputs.port);
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            eprintln!("rdsdeck: not confirmed; nothing was run");
            return Ok(2);
        }
    }
    let opts = Options { from: args.from.unwrap_or(StepId::Config), only: args.only, dry_run: args.dry_run };
    let mut report = Report::new(inputs.clone(), args.dry_run);
    let text = args.output == BootstrapOutput::Text;
    // The bootstrap finishes even when the reader leaves (`| head`): its output is then dropped.
    let mut out = Lenient { inner: std::io::stdout().lock(), closed: false };
    if text {
        writeln!(out, "bootstrap of {} — {}", inputs.endpoint, inputs.source)?;
        for w in &inputs.warnings {
            writeln!(out, "warning: {w}")?;
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ok = match ctx {
        Some(ctx) => {
            let task = tokio::spawn(execute(inputs, ctx, opts, tx));
            let mut started: Option<StepId> = None;
            while let Some(ev) = rx.recv().await {
                report.apply(&ev);
                if text {
                    print_event(&mut out, &report, &ev, &mut started)?;
                }
            }
            match task.await {
                Ok(ok) => ok,
                Err(e) => {
                    // A bug, not the user's input: say so, and never claim success.
                    let id = report.steps.iter().find(|s| !s.status.is_final()).map(|s| s.plan.id).unwrap_or(StepId::Verify);
                    report.apply(&Event::Step { id, status: crate::bootstrap::Status::Failed, detail: format!("internal error: {e}") });
                    report.apply(&Event::Done { ok: false });
                    false
                }
            }
        }
        None => {
            // A dry run without AWS: the same report, every step planned and skipped.
            for id in StepId::ALL {
                let ev = if id == StepId::Config {
                    Event::Step { id, status: crate::bootstrap::Status::Ok, detail: "validated".into() }
                } else {
                    Event::Step { id, status: crate::bootstrap::Status::Skipped, detail: "dry run: nothing is run".into() }
                };
                report.apply(&ev);
            }
            report.apply(&Event::Done { ok: true });
            true
        }
    };
    if text {
        if args.dry_run {
            print_plan(&mut out, &report)?;
        }
        print_summary(&mut out, &report)?;
    } else {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(if ok { 0 } else { 1 })
}

fn print_event(out: &mut impl Write, report: &crate::bootstrap::Report, ev: &crate::bootstrap::Event, started: &mut Option<crate::bootstrap::StepId>) -> std::io::Result<()> {
    use crate::bootstrap::{Event, Status};
    let header = |out: &mut dyn Write, id: crate::bootstrap::StepId, started: &mut Option<crate::bootstrap::StepId>| -> std::io::Result<()> {
        if *started != Some(id) {
            *started = Some(id);
            let s = report.step(id);
            writeln!(out, "[{}/6] {}", s.number, s.plan.title)?;
        }
        Ok(())
    };
    match ev {
        Event::Step { id, status, detail } => {
            if report.dry_run {
                return Ok(());
            }
            let detail = crate::untrusted::line(detail);
            header(out, *id, started)?;
            match status {
                Status::Checking | Status::Running => writeln!(out, "      … {detail}"),
                Status::Failed => writeln!(out, "      FAILED: {detail}"),
                s => writeln!(out, "      {}: {detail}", s.label()),
            }
        }
        Event::Executed { id, sql } => {
            header(out, *id, started)?;
            writeln!(out, "      > {sql};")
        }
        Event::Verification(_) | Event::Done { .. } => Ok(()),
    }
}

fn print_plan(out: &mut impl Write, report: &crate::bootstrap::Report) -> std::io::Result<()> {
    writeln!(out, "plan (dry run):")?;
    for s in &report.steps {
        writeln!(out, "[{}/6] {} ({})", s.number, s.plan.title, s.plan.id.name())?;
        writeln!(out, "      {}", s.plan.what)?;
        for st in &s.plan.statements {
            writeln!(out, "      > {st};")?;
        }
    }
    Ok(())
}

fn print_summary(out: &mut impl Write, report: &crate::bootstrap::Report) -> std::io::Result<()> {
    if !report.verification.is_empty() {
        writeln!(out)?;
        writeln!(out, "verification:")?;
        let rows: Vec<Vec<String>> = report
            .verification
            .iter()
            .map(|r| vec![r.user.clone(), r.plugin.clone(), r.ssl_type.clone(), r.login.clone()])
            .collect();
        write_table(out, &["USER", "PLUGIN", "SSL", "IAM LOGIN"], &rows.iter().collect::<Vec<_>>(), None)?;
        for r in &report.verification {
            for g in &r.grants {
                writeln!(out, "  {g}")?;
            }
        }
    }
    writeln!(out)?;
    if report.dry_run {
        writeln!(out, "dry run: nothing was run (no database connection, no secret read)")
    } else if let Some(id) = report.resume_from {
        writeln!(out, "bootstrap FAILED at step {} ({}); fix the cause, then resume with: rdsdeck bootstrap --from {}", id.number(), id.name(), id.name())
    } else if report.changed() {
        writeln!(out, "bootstrap complete: {} statements run", report.steps.iter().map(|s| s.executed.len()).sum::<usize>())
    } else {
        writeln!(out, "bootstrap complete: everything was already in place; nothing changed")
    }
}

/// `rdsdeck shell`: 0 when the remote shell ended, 1 when the session could not start.
pub async fn run_shell(settings: &Settings, args: &ShellArgs) -> anyhow::Result<i32> {
    let Some(ctx) = load_context(settings).await else { return Ok(1) };
    let facts = match facts_for(&ctx, settings, args.instance.is_none()).await {
        Ok(f) => f,
        Err(e) => {
            fail!("cannot read the stack: {e}");
            return Ok(1);
        }
    };
    let target = match plan_shell(&facts, args) {
        Ok(t) => t,
        Err(e) => {
            fail!("{}", decide_hint(&e, "rdsdeck shell INSTANCE"));
            return Ok(2);
        }
    };
    eprintln!("Starting a shell on {target} (Session Manager; exit or Ctrl-D ends it)");
    match crate::ssm::transport::run_shell(&ctx, &target, args.transport, &mut notice_to_stderr).await {
        Ok(why) => {
            // Not eprintln!: after a hang-up the terminal is gone, and that must not be a panic.
            let _ = writeln!(std::io::stderr(), "\r\n{}", crate::untrusted::text(&why));
            Ok(0)
        }
        Err(e) => {
            fail!("{e}");
            Ok(1)
        }
    }
}
