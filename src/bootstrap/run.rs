//! Running the plan: each step checks whether it is already satisfied, runs
//! only what is missing, and checks again. Progress goes out as [`Event`]s,
//! which the CLI prints and the TUI draws through the same [`Report`].

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

use super::plan::{ALL_PRIVILEGES, AppUser, DB_PRIVILEGES, Inputs, StepId, StepPlan, admin_statements, plan, quote_user, user_statements};
use crate::aws::{AwsContext, explain};
use crate::db::connect::{Auth, ConnectSpec, Connector};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IAM_PLUGIN: &str = "AWSAuthenticationPlugin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pending,
    Checking,
    Ok,
    AlreadyDone,
    Running,
    Failed,
    Skipped,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Checking => "checking",
            Status::Ok => "ok",
            Status::AlreadyDone => "already done",
            Status::Running => "running",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Status::Ok | Status::AlreadyDone | Status::Failed | Status::Skipped)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub number: usize,
    #[serde(flatten)]
    pub plan: StepPlan,
    pub status: Status,
    /// Something was changed in the database by this step.
    pub changed: bool,
    pub detail: String,
    /// The statements that were actually run, in order.
    pub executed: Vec<String>,
}

/// One row of the final verification.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerifyRow {
    pub user: String,
    pub plugin: String,
    pub ssl_type: String,
    pub grants: Vec<String>,
    /// How the IAM login went ("ok: node_app@% over TLSv1.3 …" or the error).
    pub login: String,
    pub ok: bool,
}

#[derive(Debug, Clone)]
pub enum Event {
    Step { id: StepId, status: Status, detail: String },
    Executed { id: StepId, sql: String },
    Verification(Vec<VerifyRow>),
    Done { ok: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Start here; earlier steps are skipped (step 1 always runs).
    pub from: StepId,
    /// Run only `from`.
    pub only: bool,
    /// Print the plan; connect to nothing, read no secret, run nothing.
    pub dry_run: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { from: StepId::Config, only: false, dry_run: false }
    }
}

/// The state of a bootstrap run, built from its events (CLI and TUI alike).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub inputs: Inputs,
    pub dry_run: bool,
    pub steps: Vec<StepReport>,
    pub verification: Vec<VerifyRow>,
    pub done: bool,
    pub ok: bool,
    /// The step to resume from (`--from`) after a failure.
    pub resume_from: Option<StepId>,
}

impl Report {
    pub fn new(inputs: Inputs, dry_run: bool) -> Report {
        let steps = plan(&inputs)
            .into_iter()
            .enumerate()
            .map(|(n, plan)| StepReport { number: n + 1, plan, status: Status::Pending, changed: false, detail: String::new(), executed: vec![] })
            .collect();
        Report { inputs, dry_run, steps, verification: vec![], done: false, ok: false, resume_from: None }
    }

    pub fn step(&self, id: StepId) -> &StepReport {
        &self.steps[id.number() - 1]
    }

    pub fn apply(&mut self, ev: &Event) {
        match ev {
            Event::Step { id, status, detail } => {
                let s = &mut self.steps[id.number() - 1];
                s.status = *status;
                s.detail = detail.clone();
                if *status == Status::Failed {
                    self.resume_from = Some(*id);
                }
            }
            Event::Executed { id, sql } => {
                let s = &mut self.steps[id.number() - 1];
                s.executed.push(sql.clone());
                s.changed = true;
            }
            Event::Verification(rows) => self.verification = rows.clone(),
            Event::Done { ok } => {
                self.done = true;
                self.ok = *ok;
            }
        }
    }

    pub fn changed(&self) -> bool {
        self.steps.iter().any(|s| s.changed)
    }
}

/// What a user must look like.
pub struct Expect {
    /// Global privileges: (name, mysql.user column).
    pub global: Vec<(&'static str, &'static str)>,
    /// Database-level privileges: (database, canonical privilege names).
    pub dbs: Vec<(String, Vec<String>)>,
}

/// A user as `mysql.user` and `mysql.db` show it, against what it must be (the doctor asks too).
#[derive(Debug, Clone, PartialEq)]
pub enum UserState {
    Missing,
    /// Exists, but not as an IAM user: rdsdeck will not change how it logs in.
    Conflict(String),
    Incomplete(Vec<String>),
    Complete,
}

fn admin_expect(i: &Inputs) -> Expect {
    Expect {
        global: vec![("CREATE USER", "Create_user_priv"), ("RELOAD", "Reload_priv"), ("PROCESS", "Process_priv"), ("GRANT OPTION", "Grant_priv")],
        dbs: vec![(i.database.clone(), vec![ALL_PRIVILEGES.into()]), ("mysql".into(), vec!["SELECT".into()])],
    }
}

fn user_expect(i: &Inputs, u: &AppUser) -> Expect {
    Expect { global: vec![], dbs: vec![(i.database.clone(), u.privileges.clone())] }
}

fn text(row: &Row, col: &str) -> Option<String> {
    let idx = row.columns_ref().iter().position(|c| c.name_str().eq_ignore_ascii_case(col))?;
    match row.as_ref(idx)? {
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::NULL => None,
        v => Some(v.as_sql(true).trim_matches('\'').to_string()),
    }
}

pub async fn check_user(conn: &mut Conn, user: &str, ex: &Expect) -> Result<UserState, mysql_async::Error> {
    let row: Option<Row> = conn.exec_first("SELECT * FROM mysql.user WHERE User = ? AND Host = '%'", (user,)).await?;
    let Some(row) = row else { return Ok(UserState::Missing) };
    let plugin = text(&row, "plugin").unwrap_or_default();
    if !plugin.eq_ignore_ascii_case(IAM_PLUGIN) {
        let how = if plugin.is_empty() { "a password".to_string() } else { plugin };
        return Ok(UserState::Conflict(format!(
            "{} already exists and logs in with {how}, not {IAM_PLUGIN}: rdsdeck will not change how an existing user logs in. \
             If it should use IAM, run ALTER USER {} IDENTIFIED WITH {IAM_PLUGIN} AS 'RDS' (or drop the user) and resume",
            quote_user(user),
            quote_user(user)
        )));
    }
    let mut missing = Vec::new();
    if !text(&row, "ssl_type").is_some_and(|s| s.eq_ignore_ascii_case("ANY")) {
        missing.push("REQUIRE SSL".to_string());
    }
    for (name, col) in &ex.global {
        if text(&row, col).as_deref() != Some("Y") {
            missing.push(format!("{name} ON *.*"));
        }
    }
    for (db, privs) in &ex.dbs {
        let row: Option<Row> =
            conn.exec_first("SELECT * FROM mysql.db WHERE User = ? AND Host = '%' AND Db = ?", (user, db.as_str())).await?;
        let has = |col: &str| row.as_ref().and_then(|r| text(r, col)).as_deref() == Some("Y");
        for p in privs {
            let ok = if p == ALL_PRIVILEGES {
                match &row {
                    Some(r) => r
                        .columns_ref()
                        .iter()
                        .map(|c| c.name_str().into_owned())
                        .filter(|c| c.ends_with("_priv") && c != "Grant_priv")
                        .all(|c| has(&c)),
                    None => false,
                }
            } else {
                DB_PRIVILEGES.iter().find(|(n, _)| n == p).is_some_and(|(_, col)| has(col))
            };
            if !ok {
                missing.push(format!("{p} ON `{db}`.*"));
            }
        }
    }
    Ok(if missing.is_empty() { UserState::Complete } else { UserState::Incomplete(missing) })
}

/// A privilege column's name as a GRANT names it (`Create_user_priv` -> `CREATE USER`).
fn priv_name(col: &str) -> String {
    match col {
        "Grant_priv" => "GRANT OPTION".into(),
        c => DB_PRIVILEGES
            .iter()
            .find(|(_, dc)| *dc == c)
            .map(|(n, _)| n.to_string())
            .unwrap_or_else(|| c.trim_end_matches("_priv").replace('_', " ").to_ascii_uppercase()),
    }
}

/// What `user` holds beyond `ex`, each named as a GRANT names it: global privileges, privileges on
/// its database past the plan's, any on another database, and table- or column-level grants.
pub async fn extra_privileges(conn: &mut Conn, user: &str, ex: &Expect) -> Result<Vec<String>, mysql_async::Error> {
    let yes = |row: &Row, col: &str| text(row, col).as_deref() == Some("Y");
    let privs = |row: &Row| -> Vec<String> {
        row.columns_ref().iter().map(|c| c.name_str().into_owned()).filter(|c| c.ends_with("_priv")).filter(|c| yes(row, c)).collect()
    };
    let mut extra = Vec::new();
    let global: Option<Row> = conn.exec_first("SELECT * FROM mysql.user WHERE User = ? AND Host = '%'", (user,)).await?;
    if let Some(row) = global {
        for c in privs(&row) {
            if !ex.global.iter().any(|(_, col)| *col == c) {
                extra.push(format!("{} ON *.*", priv_name(&c)));
            }
        }
    }
    let dbs: Vec<Row> = conn.exec("SELECT * FROM mysql.db WHERE User = ? AND Host = '%'", (user,)).await?;
    for row in dbs {
        let db = text(&row, "Db").unwrap_or_default();
        let planned = ex.dbs.iter().find(|(d, _)| *d == db).map(|(_, p)| p.as_slice()).unwrap_or(&[]);
        let all = planned.iter().any(|p| p == ALL_PRIVILEGES);
        for c in privs(&row) {
            let allowed = (all && c != "Grant_priv") || DB_PRIVILEGES.iter().any(|(n, col)| *col == c && planned.iter().any(|p| p == n));
            if !allowed {
                extra.push(format!("{} ON `{db}`.*", priv_name(&c)));
            }
        }
    }
    for (table, what) in [("tables_priv", "table"), ("columns_priv", "column")] {
        let n: Option<u64> = conn.exec_first(format!("SELECT COUNT(*) FROM mysql.{table} WHERE User = ? AND Host = '%'"), (user,)).await?;
        if let Some(n) = n.filter(|n| *n > 0) {
            extra.push(format!("{n} {what}-level grant(s) (mysql.{table})"));
        }
    }
    Ok(extra)
}

/// A login the server refused as a login: access denied (1045, 1044, 1698), the authentication
/// plugin missing or refusing (1524, 1251). Not a network, TLS or capacity failure.
fn refused_login(e: &crate::db::connect::DbError) -> bool {
    matches!(e.code, Some(1044 | 1045 | 1251 | 1524 | 1698))
}

/// The master login, from Secrets Manager. The password lives only here (zeroized on drop).
struct Master {
    user: String,
    password: SecretString,
    secret: String,
}

struct Session {
    connector: Connector,
    conn: Conn,
}

struct Run {
    i: Inputs,
    ctx: AwsContext,
    tx: UnboundedSender<Event>,
    master: Option<Master>,
    master_conn: Option<Session>,
    admin: Option<Session>,
    /// Step 2 found the admin user complete over IAM: the master is not needed.
    admin_complete: bool,
}

type StepResult = Result<(Status, String), String>;

/// Runs the bootstrap, sending progress to `tx`. Returns whether every step that ran succeeded.
pub async fn execute(inputs: Inputs, ctx: AwsContext, opts: Options, tx: UnboundedSender<Event>) -> bool {
    let mut r = Run { i: inputs, ctx, tx, master: None, master_conn: None, admin: None, admin_complete: false };
    let ok = r.all(opts).await;
    r.close_master().await;
    if let Some(s) = r.admin.take() {
        let _ = s.conn.disconnect().await;
    }
    let _ = r.tx.send(Event::Done { ok });
    ok
}

impl Run {
    fn emit(&self, id: StepId, status: Status, detail: impl Into<String>) {
        let detail = detail.into();
        match status {
            Status::Failed => tracing::warn!("bootstrap step {} ({}): failed: {detail}", id.number(), id.name()),
            s if s.is_final() => tracing::info!("bootstrap step {} ({}): {}: {detail}", id.number(), id.name(), s.label()),
            _ => {}
        }
        let _ = self.tx.send(Event::Step { id, status, detail });
    }

    async fn all(&mut self, opts: Options) -> bool {
        for id in StepId::ALL {
            if opts.dry_run {
                if id == StepId::Config {
                    self.emit(id, Status::Ok, "validated");
                } else {
                    self.emit(id, Status::Skipped, "dry run: nothing is run");
                }
                continue;
            }
            if id != StepId::Config {
                if id.number() < opts.from.number() {
                    self.emit(id, Status::Skipped, format!("before --from {}", opts.from.name()));
                    continue;
                }
                if opts.only && id != opts.from {
                    self.emit(id, Status::Skipped, format!("only step {} ({}) was asked for", opts.from.number(), opts.from.name()));
                    continue;
                }
            }
            let result = match id {
                StepId::Config => Ok((Status::Ok, self.config_summary())),
                StepId::MasterSecret => self.master_secret().await,
                StepId::AdminUser => {
                    let r = self.admin_user().await;
                    // The long-lived credential is used for this step only.
                    self.close_master().await;
                    r
                }
                StepId::IamLogin => self.iam_login().await,
                StepId::AppUsers => self.app_users().await,
                StepId::Verify => self.verify().await,
            };
            match result {
                Ok((status, detail)) => self.emit(id, status, detail),
                Err(e) => {
                    self.emit(id, Status::Failed, e);
                    return false;
                }
            }
        }
        true
    }

    fn config_summary(&self) -> String {
        let mut s = format!(
            "{} application user{}; tokens for {}:{} in {}",
            self.i.app_users.len(),
            if self.i.app_users.len() == 1 { "" } else { "s" },
            self.i.host,
            self.i.port,
            self.i.region
        );
        for w in &self.i.warnings {
            s.push_str(&format!("; warning: {w}"));
        }
        s
    }

    fn iam_connector(&self, user: &str, database: Option<String>) -> Result<Connector, String> {
        let provider = self.ctx.sdk.credentials_provider().ok_or("no AWS credentials to sign tokens with")?;
        Ok(Connector::new(self.spec(user, database), Auth::Iam(provider)))
    }

    fn spec(&self, user: &str, database: Option<String>) -> ConnectSpec {
        ConnectSpec {
            host: self.i.host.clone(),
            port: self.i.port,
            user: user.to_string(),
            database,
            region: self.i.region.clone(),
            ca: self.i.ca.clone(),
            timeout: CONNECT_TIMEOUT,
            tls_name: None,
            // The bootstrap creates users: in read-only mode it runs only after an explicit --yes.
            read_only: false,
        }
        .routed(&self.i.connect_to)
    }

    /// The admin's IAM session, opened on first use.
    async fn admin(&mut self) -> Result<&mut Session, String> {
        if self.admin.is_none() {
            let connector = self.iam_connector(&self.i.admin_user.clone(), None)?;
            let conn = connector.connect().await.map_err(|e| e.message)?;
            self.admin = Some(Session { connector, conn });
        }
        Ok(self.admin.as_mut().expect("just set"))
    }

    async fn fetch_master(&mut self) -> Result<(), String> {
        if self.master.is_some() {
            return Ok(());
        }
        let id = match &self.i.master_secret {
            Some(s) => s.clone(),
            None => self.instance_master_secret().await?,
        };
        let region = &self.ctx.region;
        let sm = aws_sdk_secretsmanager::Client::new(&self.ctx.sdk);
        let mut out = sm.get_secret_value().secret_id(&id).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) {
                format!(
                    "secret `{id}` does not exist in {region}: check MASTER_SECRET_NAME in rds.conf (or bootstrap.master_secret); \
                     the RDS-managed master secret is named rds!db-<uuid>"
                )
            } else {
                format!("cannot read secret `{id}`: {}", explain(&e))
            }
        })?;
        // Owned from here on, and zeroized when dropped.
        let raw = SecretString::from(out.secret_string.take().ok_or_else(|| format!("secret `{id}` has no string value"))?);
        let mut v: serde_json::Value = serde_json::from_str(raw.expose_secret())
            .map_err(|_| format!("secret `{id}` is not the JSON {{\"username\", \"password\"}} RDS writes"))?;
        let user = v.get("username").and_then(|u| u.as_str()).map(str::to_string);
        let password = match v.get_mut("password").map(serde_json::Value::take) {
            Some(serde_json::Value::String(p)) => SecretString::from(p),
            _ => return Err(format!("secret `{id}` has no \"password\"")),
        };
        let user = user.ok_or_else(|| format!("secret `{id}` has no \"username\""))?;
        self.master = Some(Master { user, password, secret: id });
        Ok(())
    }

    /// The instance's RDS-managed master secret, when the inputs name none.
    async fn instance_master_secret(&self) -> Result<String, String> {
        let rds = aws_sdk_rds::Client::new(&self.ctx.sdk);
        let out = rds.describe_db_instances().send().await.map_err(|e| format!("cannot describe DB instances: {}", explain(&e)))?;
        let want = &self.i.endpoint;
        let db = out
            .db_instances()
            .iter()
            .find(|d| d.endpoint().and_then(|e| e.address()) == Some(want.as_str()) || d.db_instance_identifier() == want.split('.').next())
            .ok_or_else(|| format!("no DB instance has the endpoint {want}: name the master secret (MASTER_SECRET_NAME)"))?;
        db.master_user_secret().and_then(|m| m.secret_arn()).map(str::to_string).ok_or_else(|| {
            format!(
                "instance {} has no MasterUserSecret (its master password is not managed by Secrets Manager): name the secret with MASTER_SECRET_NAME",
                db.db_instance_identifier().unwrap_or(want)
            )
        })
    }

    async fn master_session(&mut self) -> Result<&mut Session, String> {
        if self.master_conn.is_none() {
            self.fetch_master().await?;
            let m = self.master.as_ref().expect("fetched");
            let connector = Connector::new(self.spec(&m.user, None), Auth::Password(m.password.clone()));
            let conn = connector.connect().await.map_err(|e| {
                if e.code == Some(1045) {
                    format!(
                        "the master user `{}` was refused with the password from secret `{}` ({}): the secret does not hold the \
                         instance's current master password (rotated outside Secrets Manager? another instance's secret?)",
                        m.user, m.secret, e.message
                    )
                } else {
                    e.message
                }
            })?;
            self.master_conn = Some(Session { connector, conn });
        }
        Ok(self.master_conn.as_mut().expect("just set"))
    }

    /// Ends the master session and forgets the password.
    async fn close_master(&mut self) {
        if let Some(s) = self.master_conn.take() {
            let _ = s.conn.disconnect().await;
        }
        self.master = None;
    }

    /// Step 2. When the admin user already logs in with IAM and has every grant,
    /// the long-lived credential is not read at all.
    async fn master_secret(&mut self) -> StepResult {
        let admin = self.i.admin_user.clone();
        self.emit(StepId::MasterSecret, Status::Checking, format!("is `{admin}` already complete? (IAM login)"));
        let expect = admin_expect(&self.i);
        if self.admin.is_none() {
            let connector = self.iam_connector(&admin, None)?;
            match connector.connect().await {
                Ok(conn) => self.admin = Some(Session { connector, conn }),
                // Refused as a login (no such user yet, not IAM, no grant): the master is needed.
                Err(e) if refused_login(&e) => tracing::info!("bootstrap: IAM login as {admin} before step 3: {}", e.message),
                // Anything else (network, TLS, a full server) says nothing about the user: the
                // long-lived credential is not read on the strength of it.
                Err(e) => {
                    return Err(format!(
                        "cannot tell whether `{admin}` is already complete, so the master secret was not read: {} — fix this first, then run again",
                        e.message
                    ));
                }
            }
        }
        if let Some(s) = self.admin.as_mut()
            && s.connector.answer("reading mysql.user", check_user(&mut s.conn, &admin, &expect)).await.map_err(|e| e.message)? == UserState::Complete
        {
            self.admin_complete = true;
            return Ok((Status::AlreadyDone, format!("`{admin}` logs in with IAM and has every grant: the master secret is not needed")));
        }
        self.emit(StepId::MasterSecret, Status::Running, "secretsmanager:GetSecretValue");
        self.fetch_master().await?;
        let m = self.master.as_ref().expect("fetched");
        Ok((Status::Ok, format!("secret `{}`: master user `{}` (password in memory only)", m.secret, m.user)))
    }

    /// Runs `statements` on a session, reporting each.
    async fn exec(&self, id: StepId, s: &mut Session, statements: Vec<String>) -> Result<(), String> {
        for sql in statements {
            s.connector.answer(&format!("`{sql}`"), s.conn.query_drop(&sql)).await.map_err(|e| format!("{sql}: {}", e.message))?;
            tracing::info!("bootstrap ran: {sql}");
            let _ = self.tx.send(Event::Executed { id, sql });
        }
        Ok(())
    }

    /// Step 3, as the master user.
    async fn admin_user(&mut self) -> StepResult {
        let admin = self.i.admin_user.clone();
        if self.admin_complete {
            return Ok((Status::AlreadyDone, format!("`{admin}` is complete (checked over IAM in step 2)")));
        }
        let expect = admin_expect(&self.i);
        let statements = admin_statements(&self.i);
        self.emit(StepId::AdminUser, Status::Checking, "logging in as the master user");
        let mut s = self.master_conn_take().await?;
        let r = self.ensure_user(StepId::AdminUser, &mut s, &admin, &expect, statements).await;
        self.master_conn = Some(s);
        r.map(|changed| {
            if changed {
                (Status::Ok, format!("`{admin}` created with its grants, REQUIRE SSL"))
            } else {
                (Status::AlreadyDone, format!("`{admin}` already has the plugin, REQUIRE SSL and every grant"))
            }
        })
    }

    async fn master_conn_take(&mut self) -> Result<Session, String> {
        self.master_session().await?;
        Ok(self.master_conn.take().expect("opened"))
    }

    /// Checks a user; runs `statements` when anything is missing and checks again.
    /// Returns whether anything was changed.
    async fn ensure_user(&self, id: StepId, s: &mut Session, user: &str, expect: &Expect, statements: Vec<String>) -> Result<bool, String> {
        let state = s.connector.answer("reading mysql.user", check_user(&mut s.conn, user, expect)).await.map_err(|e| e.message)?;
        match state {
            UserState::Complete => return Ok(false),
            UserState::Conflict(why) => return Err(why),
            UserState::Missing => self.emit(id, Status::Running, format!("creating `{user}`")),
            UserState::Incomplete(m) => self.emit(id, Status::Running, format!("`{user}` lacks {}", m.join(", "))),
        }
        self.exec(id, s, statements).await?;
        match s.connector.answer("reading mysql.user", check_user(&mut s.conn, user, expect)).await.map_err(|e| e.message)? {
            UserState::Complete => Ok(true),
            UserState::Incomplete(m) => Err(format!("after running the statements, `{user}` still lacks {}", m.join(", "))),
            UserState::Missing => Err(format!("after CREATE USER, `{user}`@'%' is not in mysql.user")),
            UserState::Conflict(why) => Err(why),
        }
    }

    /// Step 4.
    async fn iam_login(&mut self) -> StepResult {
        let was_open = self.admin.is_some();
        self.emit(StepId::IamLogin, Status::Running, format!("signing a token for `{}`", self.i.admin_user));
        let s = self.admin().await?;
        let info = s.connector.session_info(&mut s.conn, "direct").await;
        Ok((
            Status::Ok,
            format!(
                "logged in as `{}` with a token over {} {}{}",
                info.user,
                info.tls_version,
                info.tls_cipher,
                if was_open { " (the session opened in step 2)" } else { "" }
            ),
        ))
    }

    /// Step 5, as the IAM admin.
    async fn app_users(&mut self) -> StepResult {
        let users = self.i.app_users.clone();
        let mut s = match self.admin().await {
            Ok(_) => self.admin.take().expect("opened"),
            Err(e) => return Err(format!("cannot log in as `{}` with IAM: {e}", self.i.admin_user)),
        };
        let mut notes = Vec::new();
        let mut changed = false;
        let mut result = Ok(());
        for u in &users {
            self.emit(StepId::AppUsers, Status::Checking, format!("checking `{}`", u.name));
            match self.ensure_user(StepId::AppUsers, &mut s, &u.name, &user_expect(&self.i, u), user_statements(&self.i, u)).await {
                Ok(c) => {
                    changed |= c;
                    notes.push(format!("`{}` {}", u.name, if c { "created" } else { "already done" }));
                }
                Err(e) => {
                    notes.push(format!("`{}`: {e}", u.name));
                    result = Err(notes.join("; "));
                    break;
                }
            }
        }
        self.admin = Some(s);
        result?;
        Ok((if changed { Status::Ok } else { Status::AlreadyDone }, notes.join("; ")))
    }

    /// Step 6: mysql.user, SHOW GRANTS, and a real IAM login per application user.
    async fn verify(&mut self) -> StepResult {
        self.emit(StepId::Verify, Status::Checking, "reading mysql.user and the grants");
        let admin = self.i.admin_user.clone();
        let mut wanted: Vec<(String, Expect)> = vec![(admin.clone(), admin_expect(&self.i))];
        wanted.extend(self.i.app_users.iter().map(|u| (u.name.clone(), user_expect(&self.i, u))));
        let mut rows = Vec::new();
        {
            let s = self.admin().await?;
            for (user, expect) in &wanted {
                let explain = |e: mysql_async::Error| s.connector.explain(&e).message;
                let row: Option<Row> =
                    s.conn.exec_first("SELECT * FROM mysql.user WHERE User = ? AND Host = '%'", (user.as_str(),)).await.map_err(explain)?;
                let state = s.connector.answer("reading mysql.user", check_user(&mut s.conn, user, expect)).await.map_err(|e| e.message)?;
                // More than planned is a failure too: a user is verified as the plan made it.
                let extra = match &state {
                    UserState::Complete => s.connector.answer("reading the grants", extra_privileges(&mut s.conn, user, expect)).await.map_err(|e| e.message)?,
                    _ => Vec::new(),
                };
                let grants: Vec<String> = match &row {
                    Some(_) => s.connector.answer("SHOW GRANTS", s.conn.query(format!("SHOW GRANTS FOR {}", quote_user(user)))).await.map_err(|e| e.message)?,
                    None => vec![],
                };
                rows.push(VerifyRow {
                    user: user.clone(),
                    plugin: row.as_ref().and_then(|r| text(r, "plugin")).unwrap_or_else(|| "(missing)".into()),
                    ssl_type: row.as_ref().and_then(|r| text(r, "ssl_type")).unwrap_or_default(),
                    grants,
                    login: match &state {
                        UserState::Complete if !extra.is_empty() => format!(
                            "holds more than planned: {} (REVOKE it, or plan it in the bootstrap config)",
                            extra.join(", ")
                        ),
                        UserState::Complete => String::new(),
                        UserState::Missing => "user missing".into(),
                        UserState::Conflict(w) => w.clone(),
                        UserState::Incomplete(m) => format!("lacks {}", m.join(", ")),
                    },
                    ok: state == UserState::Complete && extra.is_empty(),
                });
            }
        }
        rows[0].login = if rows[0].ok { format!("ok: `{admin}` (logged in for this run)") } else { rows[0].login.clone() };
        for row in rows.iter_mut().skip(1) {
            if !row.ok {
                continue;
            }
            self.emit(StepId::Verify, Status::Checking, format!("IAM login as `{}`", row.user));
            let c = self.iam_connector(&row.user, Some(self.i.database.clone()))?;
            match c.connect().await {
                Ok(mut conn) => {
                    let who: Result<Option<Option<String>>, _> = c.answer("SELECT CURRENT_USER()", conn.query_first("SELECT CURRENT_USER()")).await;
                    let info = c.session_info(&mut conn, "direct").await;
                    let _ = conn.disconnect().await;
                    match who {
                        Ok(Some(Some(cu))) if !info.tls_cipher.is_empty() => {
                            row.login = format!("ok: {cu} over {} ({})", info.tls_version, info.tls_cipher)
                        }
                        Ok(Some(Some(cu))) => {
                            row.ok = false;
                            row.login = format!("logged in as {cu} but without TLS");
                        }
                        Ok(_) => {
                            row.ok = false;
                            row.login = "logged in, but CURRENT_USER() returned nothing".into();
                        }
                        Err(e) => {
                            row.ok = false;
                            row.login = e.message;
                        }
                    }
                }
                Err(e) => {
                    row.ok = false;
                    row.login = format!("IAM login failed: {}", e.message);
                }
            }
        }
        let ok = rows.iter().all(|r| r.ok);
        let bad: Vec<String> = rows.iter().filter(|r| !r.ok).map(|r| format!("`{}`: {}", r.user, r.login)).collect();
        let _ = self.tx.send(Event::Verification(rows));
        if ok {
            Ok((Status::Ok, format!("{} users verified, each IAM login accepted", wanted.len())))
        } else {
            Err(bad.join("; "))
        }
    }
}
