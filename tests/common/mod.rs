//! Test harness: runs the real `rdsdeck` binary against a private sandbox
//! (`sandbox/sandbox.py up`, moto on a free loopback port) with a clean
//! environment.
//!
//! * [`Sandbox::start`] starts one sandbox per call (its own port and temp dir,
//!   so tests stay parallel-safe under both `cargo test` and `cargo nextest`).
//!   The sandbox runs with `--stdin-lifeline`: dropping the [`Sandbox`] closes
//!   its stdin and it stops moto; if the test process dies, the pipe closes
//!   all the same.
//! * [`Sandbox::cmd`] / [`CleanHome::cmd`] build a `Command` for the binary
//!   with `env_clear()`, `PATH`, a `HOME` without `~/.aws`, private
//!   `XDG_CONFIG_HOME` / `XDG_STATE_HOME`, and (for the sandbox) its env file.
//! * [`run`] runs a command with a generous watchdog and captures its output.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// How long the sandbox may take to print `READY`.
pub const SANDBOX_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one run of the binary may take before the watchdog kills it.
/// Generous on purpose: this is a hang detector, not a timing assertion.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

pub const BIN: &str = env!("CARGO_BIN_EXE_rdsdeck");

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The sandbox venv (`sandbox/setup-venv` runs once per process; it is a
/// fast no-op when the venv is up to date, e.g. in CI after the setup step).
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let script = repo_root().join("sandbox/setup-venv");
        let out = Command::new(&script)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            panic!(
                "{} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let path = PathBuf::from(stdout.lines().last().unwrap_or("").trim());
        assert!(path.join("bin/python").exists(), "setup-venv printed {path:?}, which has no bin/python");
        path
    })
}

/// A private HOME (no `~/.aws`) with private XDG config/state dirs.
pub struct CleanHome {
    dir: TempDir,
}

impl Default for CleanHome {
    fn default() -> Self {
        Self::new()
    }
}

impl CleanHome {
    pub fn new() -> CleanHome {
        let dir = tempfile::Builder::new().prefix("rdsdeck-test-home-").tempdir().expect("temp HOME");
        for sub in ["home", "config", "state"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create temp dirs");
        }
        CleanHome { dir }
    }

    /// The temp dir holding `home/`, `config/`, `state/` (and any files you write).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn config_home(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn state_home(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Writes `contents` to `rel` (relative to [`root`](Self::root)) and returns its path.
    pub fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("create parent dir");
        }
        std::fs::write(&p, contents).expect("write test file");
        p
    }

    /// The binary with a clean environment and no AWS configuration at all
    /// (IMDS disabled so credential lookup never probes the network).
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("XDG_STATE_HOME", self.state_home())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null());
        c
    }
}

/// A running sandbox (moto seeded with the stack). Dropping it stops it.
pub struct Sandbox {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    vars: BTreeMap<String, String>,
    env_file: PathBuf,
    stderr_path: PathBuf,
    home: CleanHome,
    // Declared last: removed after the sandbox has stopped.
    _dir: TempDir,
}

impl Sandbox {
    /// Starts a sandbox and waits (up to [`SANDBOX_TIMEOUT`]) for `READY`.
    pub fn start() -> Sandbox {
        Sandbox::start_with(&[])
    }

    /// Starts a sandbox with extra `sandbox.py up` flags (`--with-plain-db`, `--fresh-db`, `--no-db`).
    pub fn start_with(flags: &[&str]) -> Sandbox {
        let python = venv().join("bin/python");
        let dir = tempfile::Builder::new().prefix("rdsdeck-sandbox-").tempdir().expect("sandbox temp dir");
        let env_file = dir.path().join("env");
        let stderr_path = dir.path().join("sandbox.stderr");
        let stderr = std::fs::File::create(&stderr_path).expect("sandbox stderr file");
        let mut child = Command::new(&python)
            .arg(repo_root().join("sandbox/sandbox.py"))
            .args(["up", "--stdin-lifeline", "--env-file"])
            .arg(&env_file)
            .args(flags)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} sandbox/sandbox.py: {e}", python.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");

        // Read stdout on a thread (it keeps draining after READY until the sandbox exits).
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Once nobody listens, keep draining so the sandbox never blocks.
                let _ = tx.send(line);
            }
        });

        let mut sb = Sandbox {
            child: Some(child),
            stdin,
            vars: BTreeMap::new(),
            env_file: env_file.clone(),
            stderr_path,
            home: CleanHome::new(),
            _dir: dir,
        };

        let deadline = Instant::now() + SANDBOX_TIMEOUT;
        let ready = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(path) = line.strip_prefix("READY ") {
                        break PathBuf::from(path.trim());
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    sb.stop();
                    panic!(
                        "sandbox did not print READY within {}s\n--- sandbox stderr\n{}",
                        SANDBOX_TIMEOUT.as_secs(),
                        sb.stderr()
                    );
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = sb.stop();
                    panic!("sandbox exited ({status:?}) before READY\n--- sandbox stderr\n{}", sb.stderr());
                }
            }
        };
        let text = std::fs::read_to_string(&ready)
            .unwrap_or_else(|e| panic!("cannot read the sandbox env file {}: {e}", ready.display()));
        sb.vars = parse_env_file(&text);
        for key in
            ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "RDSDECK_SANDBOX_FACTS"]
        {
            assert!(sb.vars.contains_key(key), "sandbox env file {} lacks {key}:\n{text}", ready.display());
        }
        sb
    }

    /// Every `KEY=value` of the env file.
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// One variable of the env file (panics when absent).
    pub fn var(&self, key: &str) -> &str {
        self.vars.get(key).unwrap_or_else(|| panic!("sandbox env file has no {key}"))
    }

    pub fn endpoint(&self) -> &str {
        self.var("AWS_ENDPOINT_URL")
    }

    /// The proxy's endpoint name (what the app's parameter names, tokens are signed for and the
    /// certificate carries).
    pub fn proxy(&self) -> &str {
        self.var("RDSDECK_SANDBOX_PROXY_ENDPOINT")
    }

    /// An IAM connection to the proxy's name as `user` on node_db, TCP sent to the sandbox's
    /// database by its `RDSDECK_CONNECT_TO` (the documented map, as rdsdeck applies it).
    pub fn db_spec(&self, user: &str) -> rdsdeck::db::connect::ConnectSpec {
        self.db_spec_at(self.proxy(), user)
    }

    /// The same at the instance's name, as the IAM admin logs in (the proxy's role, with end-to-end
    /// IAM, may connect only as the app's users).
    pub fn instance_spec(&self, user: &str) -> rdsdeck::db::connect::ConnectSpec {
        self.db_spec_at(self.var("RDSDECK_SANDBOX_INSTANCE_ENDPOINT"), user)
    }

    fn db_spec_at(&self, host: &str, user: &str) -> rdsdeck::db::connect::ConnectSpec {
        let mut map = rdsdeck::db::connect::ConnectTo::default();
        map.add_list(self.var("RDSDECK_CONNECT_TO")).expect("the sandbox's RDSDECK_CONNECT_TO parses");
        rdsdeck::db::connect::ConnectSpec {
            host: host.into(),
            port: 3306,
            user: user.into(),
            database: Some("node_db".into()),
            region: "us-east-1".into(),
            ca: Some(self.var("RDSDECK_SANDBOX_DB_CA").into()),
            timeout: std::time::Duration::from_secs(10),
            tls_name: None,
            read_only: false,
        }
        .routed(&map)
    }

    pub fn env_file(&self) -> &Path {
        &self.env_file
    }

    /// One HTTP request to the sandbox's stand-in (its `/sandbox/...` control routes, or an API call
    /// with `headers` lines such as `X-Amz-Target: AmazonSSM.<Op>`), its JSON answer.
    pub fn standin(&self, method: &str, path: &str, headers: &str, body: &str) -> Value {
        use std::io::Write;
        let base = self.var("RDSDECK_SANDBOX_SSM_ENDPOINT").trim_start_matches("http://").to_string();
        let mut s = std::net::TcpStream::connect(&base).unwrap();
        // A stand-in that stops answering fails the test instead of hanging it.
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(s, "{method} {path} HTTP/1.1\r\nHost: {base}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let json = text.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
    }

    /// `sandbox.py break NAME` / `fix NAME` on this sandbox (the doctor's scenarios).
    pub fn scenario(&self, verb: &str, name: &str) {
        let mut c = Command::new(venv().join("bin/python"));
        c.arg(repo_root().join("sandbox/sandbox.py")).args([verb, name, "--env-file"]).arg(&self.env_file).stdin(Stdio::null());
        let out = run(&mut c);
        assert_eq!(out.code(), Some(0), "sandbox.py {verb} {name} failed:\n{}", out.dump());
    }

    /// Runs a fix the doctor printed, as an operator would paste it: an `aws …` command line in a
    /// shell (the venv's AWS CLI, every call through the sandbox's stand-in endpoint, which passes
    /// what it does not answer to moto), or SQL through `rdsdeck sql` as the IAM admin at the instance.
    pub fn apply_fix(&self, fix: &str) -> Output {
        if let Some(rest) = fix.strip_prefix("aws ") {
            let aws = format!("aws --endpoint-url {} ", self.var("RDSDECK_SANDBOX_SSM_ENDPOINT"));
            let line = format!("{aws}{}", rest.replace("&& aws ", &format!("&& {aws}")));
            let path = format!("{}:{}", venv().join("bin").display(), std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()));
            let mut c = Command::new("bash");
            c.env_clear().env("PATH", path).env("HOME", self.home.home()).envs(&self.vars).args(["-c", &line]).stdin(Stdio::null());
            run(&mut c).expect_code(0)
        } else {
            // As the bootstrap's IAM admin, at the instance (the proxy's role may not log in as it).
            let instance = self.var("RDSDECK_SANDBOX_INSTANCE_ENDPOINT");
            run(self.cmd().args(["sql", "--host", instance, "-u", "dbadmin", "--yes", "--ca", self.var("RDSDECK_SANDBOX_DB_CA"), "-e", fix])).expect_code(0)
        }
    }

    /// The seeded facts (`RDSDECK_SANDBOX_FACTS`): ids, ARNs, the secret's name...
    pub fn facts(&self) -> Value {
        let path = self.var("RDSDECK_SANDBOX_FACTS");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read facts {path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("facts {path} are not JSON: {e}"))
    }

    /// A string fact (panics when absent).
    pub fn fact(&self, key: &str) -> String {
        self.facts()[key].as_str().unwrap_or_else(|| panic!("facts have no string `{key}`")).to_string()
    }

    /// The clean HOME the commands run with (write config files here).
    pub fn home(&self) -> &CleanHome {
        &self.home
    }

    /// The binary with a clean environment plus the sandbox's variables.
    pub fn cmd(&self) -> Command {
        let mut c = self.home.cmd();
        c.envs(&self.vars);
        c
    }

    /// Runs the venv's `aws` CLI (v1) against the sandbox; returns stdout.
    pub fn aws(&self, args: &[&str]) -> String {
        self.aws_at(self.endpoint(), &[], args)
    }

    /// The `aws` CLI as rdsdeck sees the sandbox: each service at the endpoint rdsdeck's
    /// environment gives it (`AWS_ENDPOINT_URL_RDS`: the stand-in), timestamps in ISO 8601 (the
    /// AWS CLI v2's default; v1 prints them as received).
    pub fn aws_as_rdsdeck(&self, args: &[&str]) -> String {
        let service = args.first().map(|s| s.to_uppercase()).unwrap_or_default();
        let endpoint = self.vars.get(&format!("AWS_ENDPOINT_URL_{service}")).map(String::as_str).unwrap_or(self.endpoint());
        let config = self.home.write("aws-iso-timestamps.config", "[default]\ncli_timestamp_format = iso8601\n");
        self.aws_at(endpoint, &[("AWS_CONFIG_FILE", config.to_str().unwrap())], args)
    }

    fn aws_at(&self, endpoint: &str, env: &[(&str, &str)], args: &[&str]) -> String {
        let mut c = Command::new(venv().join("bin/aws"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
            .env("HOME", self.home.home())
            // the CLI prints a JSON protocol's timestamps in the local zone; rdsdeck prints UTC
            .env("TZ", "UTC")
            .envs(&self.vars)
            .envs(env.iter().copied())
            .args(["--endpoint-url", endpoint, "--output", "json"])
            .args(args);
        let out = run(&mut c);
        assert_eq!(out.code(), Some(0), "aws {args:?} failed:\n{}", out.dump());
        out.stdout
    }

    /// The sandbox's stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Closes the lifeline and waits for the sandbox to exit (kills it after 20 s).
    fn stop(&mut self) -> Option<ExitStatus> {
        drop(self.stdin.take());
        let mut child = self.child.take()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = child.kill();
                    return child.wait().ok();
                }
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Parses `KEY=value` lines (blank lines and `#` comments skipped).
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .collect()
}

/// A finished run of a command.
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub argv: String,
}

impl Output {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// stdout parsed as JSON (panics with the whole output otherwise).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.dump()))
    }

    /// Everything about the run, for assertion messages.
    pub fn dump(&self) -> String {
        let clip = |s: &str| {
            if s.len() <= 8000 {
                return s.to_string();
            }
            let mut end = 8000;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}… ({} bytes)", &s[..end], s.len())
        };
        format!(
            "$ {}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.argv,
            self.status,
            clip(&self.stdout),
            clip(&self.stderr)
        )
    }

    /// Asserts the exit code and returns self.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(self.code(), Some(code), "unexpected exit code:\n{}", self.dump());
        self
    }

    /// Asserts that stderr contains every one of `needles`.
    pub fn expect_stderr(self, needles: &[&str]) -> Self {
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks {n:?}:\n{}", self.dump());
        }
        self
    }
}

/// Runs `cmd` to completion with captured stdout/stderr; a watchdog kills it
/// after [`RUN_TIMEOUT`] (and the test fails: the binary hung).
pub fn run(cmd: &mut Command) -> Output {
    run_within(cmd, RUN_TIMEOUT)
}

/// [`run`] with another watchdog: where a hang is the bug under test.
pub fn run_within(cmd: &mut Command, timeout: Duration) -> Output {
    let argv = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("cannot run {argv}: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out_t = drain(Box::new(child.stdout.take().expect("stdout")));
    let err_t = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait for the command") {
            Some(s) => break s,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{argv} did not finish within {}s (killed)\n--- stderr\n{}",
                    timeout.as_secs(),
                    err_t.join().unwrap_or_default()
                );
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    Output { status, stdout: out_t.join().unwrap_or_default(), stderr: err_t.join().unwrap_or_default(), argv }
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

/// Stops (SIGSTOP) the sandbox's database until dropped (SIGCONT), however the test ends.
pub struct Frozen(i32);

impl Frozen {
    pub fn database(sb: &Sandbox) -> Frozen {
        let dir = std::path::Path::new(sb.var("RDSDECK_SANDBOX_DB_SOCKET")).parent().unwrap().to_path_buf();
        let pid: i32 = std::fs::read_to_string(dir.join("mysqld.pid")).unwrap().trim().parse().unwrap();
        // SAFETY: a signal to the sandbox's own database process.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        // SAFETY: as above.
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}
