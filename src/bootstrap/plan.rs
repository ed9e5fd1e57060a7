//! The bootstrap plan: the seed's `rds.sh`, as named steps with the exact
//! statements each will run. Every name that reaches SQL is validated here
//! (MySQL rules, length) and quoted; nothing untrusted is interpolated.

use serde::Serialize;
use std::path::PathBuf;

use crate::config::BootstrapConfig;
use crate::stack::RdsConf;

/// The seed's application users and their privileges on the application database.
pub const SEED_USERS: [&str; 2] = ["node_app", "node_user"];
pub const DEFAULT_PRIVILEGES: [&str; 5] = ["SELECT", "CREATE", "INSERT", "UPDATE", "DELETE"];
pub const DEFAULT_ADMIN: &str = "dbadmin";
/// MySQL 5.7+/8.0 user names (what RDS MySQL accepts).
pub const MAX_USER_LEN: usize = 32;
pub const MAX_DATABASE_LEN: usize = 64;

/// Database-level privileges a user may be granted, and their `mysql.db` column.
pub const DB_PRIVILEGES: [(&str, &str); 18] = [
    ("SELECT", "Select_priv"),
    ("INSERT", "Insert_priv"),
    ("UPDATE", "Update_priv"),
    ("DELETE", "Delete_priv"),
    ("CREATE", "Create_priv"),
    ("DROP", "Drop_priv"),
    ("REFERENCES", "References_priv"),
    ("INDEX", "Index_priv"),
    ("ALTER", "Alter_priv"),
    ("CREATE TEMPORARY TABLES", "Create_tmp_table_priv"),
    ("LOCK TABLES", "Lock_tables_priv"),
    ("EXECUTE", "Execute_priv"),
    ("CREATE VIEW", "Create_view_priv"),
    ("SHOW VIEW", "Show_view_priv"),
    ("CREATE ROUTINE", "Create_routine_priv"),
    ("ALTER ROUTINE", "Alter_routine_priv"),
    ("EVENT", "Event_priv"),
    ("TRIGGER", "Trigger_priv"),
];
pub const ALL_PRIVILEGES: &str = "ALL PRIVILEGES";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppUser {
    pub name: String,
    /// Canonical upper-case names; `ALL PRIVILEGES` alone means every privilege.
    pub privileges: Vec<String>,
}

/// Everything the bootstrap needs, validated.
#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    /// Where these came from ("rds.conf ./rds.conf", "the stack's instance db-1").
    pub source: String,
    /// The instance endpoint (RDS_ENDPOINT): the master logs in here, never through the proxy.
    pub endpoint: String,
    /// Where TCP goes and what tokens are signed for (the endpoint unless overridden).
    pub host: String,
    pub port: u16,
    pub region: String,
    /// Secret name or ARN; `None`: the instance's MasterUserSecret, looked up when needed.
    pub master_secret: Option<String>,
    pub database: String,
    pub admin_user: String,
    pub app_users: Vec<AppUser>,
    #[serde(skip)]
    pub ca: Option<PathBuf>,
    /// Where TCP for the endpoint really goes (the settings' `connect_to`).
    #[serde(skip)]
    pub connect_to: crate::db::connect::ConnectTo,
    pub warnings: Vec<String>,
}

/// Flag and environment overrides (`--host`, `--port`, `--admin-user`).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub ca: Option<PathBuf>,
    pub connect_to: crate::db::connect::ConnectTo,
}

impl Overrides {
    /// Fills unset values from `RDSDECK_BOOTSTRAP_HOST` / `RDSDECK_BOOTSTRAP_PORT`
    /// (the TUI's way to the same settings as `rdsdeck bootstrap --host/--port`).
    pub fn with_env(mut self) -> Result<Overrides, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if self.host.is_none() {
            self.host = env("RDSDECK_BOOTSTRAP_HOST");
        }
        if self.port.is_none()
            && let Some(p) = env("RDSDECK_BOOTSTRAP_PORT")
        {
            self.port = Some(p.parse().map_err(|_| format!("RDSDECK_BOOTSTRAP_PORT=`{p}` is not a port number"))?);
        }
        Ok(self)
    }
}

/// A user name as MySQL (and RDS) accepts it, restricted to characters that
/// need no escaping anywhere: letters, digits, `_`, `-`, `.`, `$`.
pub fn validate_user(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    let n = name.chars().count();
    if n > MAX_USER_LEN {
        return Err(format!("is {n} characters long; MySQL user names have at most {MAX_USER_LEN}"));
    }
    if let Some(c) = name.chars().find(|c| matches!(c, '\'' | '"' | '`' | '\\')) {
        return Err(format!("contains a quote, backtick or backslash (`{c}`); use letters, digits, _ - . $"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'))) {
        return Err(format!("contains `{}`; use letters, digits, _ - . $", c.escape_default()));
    }
    Ok(())
}

/// A database name: letters, digits, `_` and `$`, at most 64, not only digits.
pub fn validate_database(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    let n = name.chars().count();
    if n > MAX_DATABASE_LEN {
        return Err(format!("is {n} characters long; MySQL database names have at most {MAX_DATABASE_LEN}"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '$'))) {
        return Err(format!("contains `{}`; use letters, digits, _ and $", c.escape_default()));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err("is only digits; MySQL needs at least one letter".into());
    }
    if SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        return Err("is one of the server's own schemas: the app's users would be granted on the grant tables and server state; name the app's database".into());
    }
    Ok(())
}

/// Schemas the server keeps for itself: never the app's database.
pub const SYSTEM_SCHEMAS: &[&str] = &["mysql", "sys", "information_schema", "performance_schema"];

/// An AWS region name as AWS spells them (`us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`).
pub fn validate_region(region: &str) -> Result<(), String> {
    if crate::auth::token::is_region(region) { Ok(()) } else { Err(format!("`{}` is not an AWS region (e.g. us-east-1)", clip(region))) }
}

/// A host name (RFC 1123: dot-separated labels of letters, digits and `-`, none starting or ending
/// with `-`, each at most 63, at most 253 in all) or an IP address.
pub fn validate_host(host: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{}` is not a host name ({why})", clip(host)));
    if host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    if host.is_empty() || host.len() > 253 {
        return bad("empty or longer than 253 characters");
    }
    for label in host.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return bad("an empty label, or one longer than 63");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return bad("use letters, digits, - and .");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label starts or ends with -");
        }
    }
    Ok(())
}

/// A validated privilege list, canonicalised (upper case, single spaces, `ALL` = `ALL PRIVILEGES`).
pub fn validate_privileges(list: &[String]) -> Result<Vec<String>, String> {
    if list.is_empty() {
        return Err("the privilege list is empty: name at least one (e.g. SELECT)".into());
    }
    let mut out: Vec<String> = Vec::new();
    for p in list {
        let canon = p.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
        let canon = if canon == "ALL" { ALL_PRIVILEGES.to_string() } else { canon };
        if canon != ALL_PRIVILEGES && !DB_PRIVILEGES.iter().any(|(n, _)| *n == canon) {
            return Err(format!(
                "`{p}` is not a database privilege; one of: {}, ALL PRIVILEGES",
                DB_PRIVILEGES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ));
        }
        if !out.contains(&canon) {
            out.push(canon);
        }
    }
    if out.len() > 1 && out.iter().any(|p| p == ALL_PRIVILEGES) {
        return Err("ALL PRIVILEGES already includes the others: list it alone".into());
    }
    Ok(out)
}

/// `'name'@'%'`, for a name that passed [`validate_user`] (escaped all the same).
pub fn quote_user(name: &str) -> String {
    format!("'{}'@'%'", name.replace('\\', "\\\\").replace('\'', "''"))
}

/// `` `name` ``, backticks doubled.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Step 3: the IAM admin user, as the seed's script makes it.
pub fn admin_statements(i: &Inputs) -> Vec<String> {
    let u = quote_user(&i.admin_user);
    vec![
        format!("CREATE USER IF NOT EXISTS {u} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"),
        format!("ALTER USER {u} REQUIRE SSL"),
        format!("GRANT CREATE USER, RELOAD, PROCESS ON *.* TO {u} WITH GRANT OPTION"),
        format!("GRANT ALL PRIVILEGES ON {}.* TO {u}", quote_ident(&i.database)),
        format!("GRANT SELECT ON mysql.* TO {u}"),
    ]
}

/// Step 5, one application user.
pub fn user_statements(i: &Inputs, user: &AppUser) -> Vec<String> {
    let u = quote_user(&user.name);
    vec![
        format!("CREATE USER IF NOT EXISTS {u} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL"),
        format!("GRANT {} ON {}.* TO {u}", user.privileges.join(", "), quote_ident(&i.database)),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum StepId {
    Config,
    MasterSecret,
    AdminUser,
    IamLogin,
    AppUsers,
    Verify,
}

impl StepId {
    pub const ALL: [StepId; 6] =
        [StepId::Config, StepId::MasterSecret, StepId::AdminUser, StepId::IamLogin, StepId::AppUsers, StepId::Verify];

    pub fn name(self) -> &'static str {
        match self {
            StepId::Config => "config",
            StepId::MasterSecret => "master-secret",
            StepId::AdminUser => "admin-user",
            StepId::IamLogin => "iam-login",
            StepId::AppUsers => "app-users",
            StepId::Verify => "verify",
        }
    }

    /// 1-based, as printed.
    pub fn number(self) -> usize {
        StepId::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    /// A step by name or number (`--from app-users`, `--from 5`).
    pub fn parse(s: &str) -> Result<StepId, String> {
        let s = s.trim();
        if let Ok(n) = s.parse::<usize>() {
            return StepId::ALL.get(n.wrapping_sub(1)).copied().ok_or_else(|| format!("no step {n}: steps are 1 to 6"));
        }
        StepId::ALL.iter().copied().find(|id| id.name() == s).ok_or_else(|| {
            format!(
                "unknown step `{s}`; one of: {}",
                StepId::ALL.iter().map(|i| format!("{} ({})", i.number(), i.name())).collect::<Vec<_>>().join(", ")
            )
        })
    }
}

/// One step as planned: what it does and the statements it will run.
#[derive(Debug, Clone, Serialize)]
pub struct StepPlan {
    pub id: StepId,
    pub title: String,
    /// What the step does, in words (API calls, which connection).
    pub what: String,
    /// The SQL it runs, in order (none holds a secret: IAM users have no password).
    pub statements: Vec<String>,
}

pub fn plan(i: &Inputs) -> Vec<StepPlan> {
    let users = i.app_users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>().join(", ");
    let secret = match &i.master_secret {
        Some(s) => format!("secret `{s}`"),
        None => "the instance's MasterUserSecret".into(),
    };
    let target = if i.host == i.endpoint && i.port == 3306 {
        i.endpoint.clone()
    } else {
        format!("{} (at {}:{})", i.endpoint, i.host, i.port)
    };
    vec![
        StepPlan {
            id: StepId::Config,
            title: "read and validate the configuration".into(),
            what: format!(
                "from {}: instance {target}, region {}, database `{}`, admin `{}`, users {}",
                i.source, i.region, i.database, i.admin_user, users
            ),
            statements: vec![],
        },
        StepPlan {
            id: StepId::MasterSecret,
            title: "fetch the master credentials".into(),
            what: format!(
                "secretsmanager:GetSecretValue on {secret}, unless `{}` is already complete (checked over IAM); the password stays in memory only",
                i.admin_user
            ),
            statements: vec![],
        },
        StepPlan {
            id: StepId::AdminUser,
            title: format!("create the IAM admin user `{}`", i.admin_user),
            what: format!("as the master user, on the instance endpoint {target}, over verified TLS; the master connection is closed after this step"),
            statements: admin_statements(i),
        },
        StepPlan {
            id: StepId::IamLogin,
            title: format!("switch to IAM: log in as `{}`", i.admin_user),
            what: format!("a fresh token signed for {}:{} in {}, sent only under TLS", i.host, i.port, i.region),
            statements: vec![],
        },
        StepPlan {
            id: StepId::AppUsers,
            title: "create the application users".into(),
            what: format!("{users}, as `{}` over IAM; each user is checked first and left alone when complete", i.admin_user),
            statements: i.app_users.iter().flat_map(|u| user_statements(i, u)).collect(),
        },
        StepPlan {
            id: StepId::Verify,
            title: "verify users, grants and IAM logins".into(),
            what: "mysql.user (plugin, ssl_type), SHOW GRANTS FOR each user, and a real IAM login as each application user".into(),
            statements: std::iter::once(&i.admin_user)
                .chain(i.app_users.iter().map(|u| &u.name))
                .map(|u| format!("SHOW GRANTS FOR {}", quote_user(u)))
                .collect(),
        },
    ]
}

/// A problem with the inputs, naming where it is.
fn at(conf: &RdsConf, key: &str) -> String {
    match conf.entries.get(key) {
        Some((_, line)) => format!("{}:{line}: {key}", conf.path.display()),
        None => format!("{}: {key}", conf.path.display()),
    }
}

/// The application users from the config, else the seed's.
pub fn app_users(cfg: &BootstrapConfig) -> Result<Vec<AppUser>, String> {
    let default_privs: Vec<String> = DEFAULT_PRIVILEGES.iter().map(|s| s.to_string()).collect();
    let list: Vec<(String, Option<Vec<String>>)> = match &cfg.users {
        Some(users) => users.iter().map(|u| (u.name.clone(), u.privileges.clone())).collect(),
        None => SEED_USERS.iter().map(|u| (u.to_string(), None)).collect(),
    };
    if list.is_empty() {
        return Err("bootstrap.users is empty: name at least one application user".into());
    }
    let mut out: Vec<AppUser> = Vec::new();
    for (name, privs) in list {
        validate_user(&name).map_err(|e| format!("application user `{}` {e}", clip(&name)))?;
        let privileges = validate_privileges(privs.as_ref().unwrap_or(&default_privs))
            .map_err(|e| format!("application user `{name}`: {e}"))?;
        if out.iter().any(|u| u.name == name) {
            return Err(format!("application user `{name}` is listed twice"));
        }
        out.push(AppUser { name, privileges });
    }
    Ok(out)
}

fn clip(s: &str) -> String {
    if s.chars().count() > 40 { format!("{}…", s.chars().take(40).collect::<String>()) } else { s.to_string() }
}

/// Inputs from a seed-style `rds.conf`, the bootstrap config and overrides.
pub fn from_rds_conf(conf: &RdsConf, cfg: &BootstrapConfig, ov: &Overrides, default_region: Option<&str>) -> Result<Inputs, String> {
    let req = |k: &str| conf.require(k).map(str::to_string).map_err(|e| e.to_string());
    let endpoint_raw = req("RDS_ENDPOINT")?;
    let (endpoint, conf_port) = match endpoint_raw.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), Some(p.parse::<u16>().map_err(|_| format!("{}: `{p}` is not a port", at(conf, "RDS_ENDPOINT")))?)),
        None => (endpoint_raw.clone(), None),
    };
    validate_host(&endpoint).map_err(|e| format!("{}: {e}", at(conf, "RDS_ENDPOINT")))?;
    let master_secret = req("MASTER_SECRET_NAME")?;
    let admin_user = req("IAM_ADMIN_USER")?;
    validate_user(&admin_user).map_err(|e| format!("{}: `{}` {e}", at(conf, "IAM_ADMIN_USER"), clip(&admin_user)))?;
    let database = match conf.get("DB_NAME").map(str::to_string).or(cfg.database.clone()) {
        Some(d) => d,
        None => return Err(format!("{}: DB_NAME is missing; add a line DB_NAME=\"...\"", conf.path.display())),
    };
    validate_database(&database).map_err(|e| format!("{}: `{}` {e}", at(conf, "DB_NAME"), clip(&database)))?;
    let region = conf
        .get("REGION")
        .map(str::to_string)
        .or(default_region.map(str::to_string))
        .ok_or_else(|| format!("{}: REGION is missing and no AWS region is configured", conf.path.display()))?;
    validate_region(&region).map_err(|e| format!("{}: {e}", if conf.get("REGION").is_some() { at(conf, "REGION") } else { "the AWS region".to_string() }))?;
    if let Some(h) = ov.host.as_ref().or(cfg.host.as_ref()) {
        validate_host(h).map_err(|e| format!("--host / bootstrap.host: {e}"))?;
    }
    let app_users = app_users(cfg)?;
    if app_users.iter().any(|u| u.name == admin_user) {
        return Err(format!("`{admin_user}` is both the admin and an application user"));
    }
    Ok(Inputs {
        source: format!("rds.conf {}", conf.path.display()),
        host: ov.host.clone().or(cfg.host.clone()).unwrap_or_else(|| endpoint.clone()),
        port: ov.port.or(cfg.port).or(conf_port).unwrap_or(3306),
        endpoint,
        region,
        master_secret: Some(master_secret),
        database,
        admin_user,
        app_users,
        ca: ov.ca.clone(),
        connect_to: ov.connect_to.clone(),
        warnings: conf.warnings.clone(),
    })
}

/// What the discovered stack says about its instance.
#[derive(Debug, Clone, Default)]
pub struct InstanceFacts {
    pub identifier: String,
    pub address: String,
    pub port: u16,
    pub master_secret_arn: Option<String>,
    pub db_name: Option<String>,
}

/// Inputs from the discovered stack's instance, the bootstrap config and overrides.
pub fn from_instance(db: &InstanceFacts, cfg: &BootstrapConfig, ov: &Overrides, region: &str) -> Result<Inputs, String> {
    let admin_user = cfg.admin_user.clone().unwrap_or_else(|| DEFAULT_ADMIN.into());
    validate_user(&admin_user).map_err(|e| format!("bootstrap.admin_user `{}` {e}", clip(&admin_user)))?;
    let database = cfg.database.clone().or(db.db_name.clone()).ok_or_else(|| {
        format!("instance {} has no DBName: set bootstrap.database in the config, or use an rds.conf (--conf)", db.identifier)
    })?;
    validate_database(&database).map_err(|e| format!("database `{}` {e}", clip(&database)))?;
    validate_region(region)?;
    if let Some(h) = ov.host.as_ref().or(cfg.host.as_ref()) {
        validate_host(h).map_err(|e| format!("--host / bootstrap.host: {e}"))?;
    }
    let app_users = app_users(cfg)?;
    if app_users.iter().any(|u| u.name == admin_user) {
        return Err(format!("`{admin_user}` is both the admin and an application user"));
    }
    Ok(Inputs {
        source: format!("the stack's instance {}", db.identifier),
        host: ov.host.clone().or(cfg.host.clone()).unwrap_or_else(|| db.address.clone()),
        port: ov.port.or(cfg.port).unwrap_or(db.port),
        endpoint: db.address.clone(),
        region: region.to_string(),
        master_secret: cfg.master_secret.clone().or(db.master_secret_arn.clone()),
        database,
        admin_user,
        app_users,
        ca: ov.ca.clone(),
        connect_to: ov.connect_to.clone(),
        warnings: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn conf(text: &str) -> RdsConf {
        RdsConf::parse(text, Path::new("rds.conf")).unwrap()
    }

    const SEED: &str = "RDS_ENDPOINT=\"db.x.us-east-1.rds.amazonaws.com\"\nREGION=\"us-east-1\"\nMASTER_SECRET_NAME=\"rds!db-1\"\nDB_NAME=\"node_db\"\nIAM_ADMIN_USER=\"dbadmin\"\n";

    #[test]
    fn seed_plan_matches_rds_sh() {
        let i = from_rds_conf(&conf(SEED), &BootstrapConfig::default(), &Overrides::default(), None).unwrap();
        assert_eq!(i.port, 3306);
        assert_eq!(i.host, "db.x.us-east-1.rds.amazonaws.com");
        assert_eq!(
            admin_statements(&i),
            vec![
                "CREATE USER IF NOT EXISTS 'dbadmin'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
                "ALTER USER 'dbadmin'@'%' REQUIRE SSL",
                "GRANT CREATE USER, RELOAD, PROCESS ON *.* TO 'dbadmin'@'%' WITH GRANT OPTION",
                "GRANT ALL PRIVILEGES ON `node_db`.* TO 'dbadmin'@'%'",
                "GRANT SELECT ON mysql.* TO 'dbadmin'@'%'",
            ]
        );
        let p = plan(&i);
        assert_eq!(p.len(), 6);
        assert_eq!(
            p[4].statements,
            vec![
                "CREATE USER IF NOT EXISTS 'node_app'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL",
                "GRANT SELECT, CREATE, INSERT, UPDATE, DELETE ON `node_db`.* TO 'node_app'@'%'",
                "CREATE USER IF NOT EXISTS 'node_user'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL",
                "GRANT SELECT, CREATE, INSERT, UPDATE, DELETE ON `node_db`.* TO 'node_user'@'%'",
            ]
        );
    }

    #[test]
    fn system_schemas_regions_and_endpoints_are_checked_before_anything_runs() {
        for db in ["mysql", "MySQL", "sys", "information_schema", "performance_schema"] {
            let e = from_rds_conf(&conf(&SEED.replace("node_db", db)), &BootstrapConfig::default(), &Overrides::default(), None).unwrap_err();
            assert!(e.contains("rds.conf:4: DB_NAME") && e.contains("server's own schemas"), "{db}: {e}");
        }
        for r in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-northwest-1", "ap-southeast-5"] {
            assert_eq!(validate_region(r), Ok(()), "{r}");
        }
        for r in ["", "us-east", "USEAST1", "us-east-1; rm", "us_east_1", "u-east-1", "us--1"] {
            assert!(validate_region(r).is_err(), "{r:?}");
        }
        let e = from_rds_conf(&conf(&SEED.replace("REGION=\"us-east-1\"", "REGION=\"us east 1\"")), &BootstrapConfig::default(), &Overrides::default(), None).unwrap_err();
        assert!(e.contains("rds.conf:2: REGION") && e.contains("not an AWS region"), "{e}");
        for h in ["db.x.us-east-1.rds.amazonaws.com", "127.0.0.1", "::1", "[::1]", "localhost", "db.x.local."] {
            assert_eq!(validate_host(h), Ok(()), "{h}");
        }
        for h in ["", "db x", "db/x", "-db.x", "db..x", "db.x-", "db;x", &"a".repeat(64)] {
            assert!(validate_host(h).is_err(), "{h:?}");
        }
        let e = from_rds_conf(&conf(&SEED.replace("db.x.us-east-1", "db_x.us-east-1")), &BootstrapConfig::default(), &Overrides::default(), None).unwrap_err();
        assert!(e.contains("rds.conf:1: RDS_ENDPOINT") && e.contains("not a host name"), "{e}");
        let ov = Overrides { host: Some("bad host".into()), ..Overrides::default() };
        assert!(from_rds_conf(&conf(SEED), &BootstrapConfig::default(), &ov, None).unwrap_err().contains("--host"));
        let facts = InstanceFacts { identifier: "db".into(), address: "db.x".into(), port: 3306, master_secret_arn: None, db_name: Some("sys".into()) };
        assert!(from_instance(&facts, &BootstrapConfig::default(), &Overrides::default(), "us-east-1").unwrap_err().contains("server's own schemas"));
        let facts = InstanceFacts { db_name: Some("node_db".into()), ..facts };
        assert!(from_instance(&facts, &BootstrapConfig::default(), &Overrides::default(), "nowhere").unwrap_err().contains("not an AWS region"));
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        for (name, want) in [
            ("a'b", "quote"),
            ("a`b", "backtick"),
            ("", "empty"),
            ("a b", "contains ` `"),
            ("x;DROP", "contains `;`"),
        ] {
            let e = validate_user(name).unwrap_err();
            assert!(e.contains(want), "{name}: {e}");
        }
        let long = "u".repeat(100);
        assert!(validate_user(&long).unwrap_err().contains("100 characters"));
        assert!(validate_user(&"u".repeat(32)).is_ok());
        assert!(validate_database("node-db").is_err());
        assert!(validate_database("123").is_err());
        assert!(validate_database("node_db").is_ok());
    }

    #[test]
    fn rds_conf_errors_name_the_key_and_line() {
        let e = from_rds_conf(&conf(&SEED.replace("dbadmin", "db'admin")), &Default::default(), &Default::default(), None).unwrap_err();
        assert!(e.contains("rds.conf:5: IAM_ADMIN_USER") && e.contains("quote"), "{e}");
        let e = from_rds_conf(&conf(&SEED.replace("rds!db-1", "")), &Default::default(), &Default::default(), None).unwrap_err();
        assert!(e.contains("MASTER_SECRET_NAME is empty"), "{e}");
        let e = from_rds_conf(&conf("REGION=us-east-1\n"), &Default::default(), &Default::default(), None).unwrap_err();
        assert!(e.contains("RDS_ENDPOINT is missing"), "{e}");
        let e = from_rds_conf(&conf(&SEED.replace(".com\"", ".com:abc\"")), &Default::default(), &Default::default(), None).unwrap_err();
        assert!(e.contains("not a port"), "{e}");
    }

    #[test]
    fn privileges_are_canonical_and_checked() {
        let p = |v: &[&str]| validate_privileges(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(p(&["select", "create  temporary tables"]).unwrap(), vec!["SELECT", "CREATE TEMPORARY TABLES"]);
        assert_eq!(p(&["all"]).unwrap(), vec!["ALL PRIVILEGES"]);
        assert!(p(&["SELECT", "ALL"]).is_err());
        assert!(p(&["SUPER"]).unwrap_err().contains("not a database privilege"));
        assert!(p(&["SELECT; DROP"]).is_err());
        assert!(p(&[]).is_err());
    }

    #[test]
    fn config_users_and_overrides() {
        let cfg = BootstrapConfig {
            users: Some(vec![crate::config::BootstrapUser { name: "reporter".into(), privileges: Some(vec!["select".into()]) }]),
            host: Some("localhost".into()),
            port: Some(13306),
            ..Default::default()
        };
        let i = from_rds_conf(&conf(SEED), &cfg, &Overrides { port: Some(4000), ..Default::default() }, None).unwrap();
        assert_eq!((i.host.as_str(), i.port), ("localhost", 4000));
        assert_eq!(user_statements(&i, &i.app_users[0])[1], "GRANT SELECT ON `node_db`.* TO 'reporter'@'%'");
        let bad = BootstrapConfig {
            users: Some(vec![crate::config::BootstrapUser { name: "dbadmin".into(), privileges: None }]),
            ..Default::default()
        };
        assert!(from_rds_conf(&conf(SEED), &bad, &Default::default(), None).unwrap_err().contains("both"));
    }

    #[test]
    fn steps_parse_by_name_or_number() {
        assert_eq!(StepId::parse("5").unwrap(), StepId::AppUsers);
        assert_eq!(StepId::parse("app-users").unwrap(), StepId::AppUsers);
        assert!(StepId::parse("0").is_err());
        assert!(StepId::parse("7").unwrap_err().contains("1 to 6"));
        assert!(StepId::parse("users").unwrap_err().contains("app-users"));
    }

    #[test]
    fn quoting_escapes_even_what_validation_refuses() {
        assert_eq!(quote_user("a'b"), "'a''b'@'%'");
        assert_eq!(quote_ident("a`b"), "`a``b`");
    }
}
