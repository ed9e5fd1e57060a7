//! The TUI in a real terminal: tmux runs the real binary against the sandbox,
//! `send-keys` types, `capture-pane` reads the screen, as a user would.

mod common;

use common::{CleanHome, Frozen, Sandbox, closed_port};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static N: AtomicUsize = AtomicUsize::new(0);

struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Tmux {
    /// Starts `rdsdeck ARGS` in a detached tmux session of `w`x`h`, with the
    /// environment of `cmd`. The pane records the tty state before and after.
    fn start(cmd: &Command, args: &[&str], w: u16, h: u16) -> Tmux {
        let socket = format!("rdsdeck-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let dir = tempfile::tempdir().unwrap();
        let mut script = String::from("#!/bin/sh\nstty -g > \"$1/before\"\n");
        script.push_str("env -i TERM=xterm-256color");
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                script.push_str(&format!(" {}={}", k.to_string_lossy(), sh_quote(&v.to_string_lossy())));
            }
        }
        script.push_str(&format!(" {}", sh_quote(env!("CARGO_BIN_EXE_rdsdeck"))));
        for a in args {
            script.push_str(&format!(" {}", sh_quote(a)));
        }
        script.push_str("\necho \"RDSDECK_EXIT=$?\"\nstty -g > \"$1/after\"\nsleep 600\n");
        let path = dir.path().join("run.sh");
        std::fs::write(&path, script).unwrap();
        let t = Tmux { socket, dir };
        let out = t
            .tmux(&["-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", &w.to_string(), "-y", &h.to_string()])
            .arg(format!("sh {} {}", sh_quote(&path.to_string_lossy()), sh_quote(&t.dir.path().to_string_lossy())))
            .output()
            .expect("tmux runs");
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        t.tmux(&["set-option", "-g", "status", "off"]).output().unwrap();
        t
    }

    fn tmux(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]).args(args);
        c
    }

    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-t", "main"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn display(&self, fmt: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", "main", fmt]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until every needle is on the screen (generous limit; not a timing assertion).
    fn wait_for(&self, needles: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if needles.iter().all(|n| s.contains(n)) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("waited 60 s for {needles:?}; the screen was:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "main", k]).output().unwrap();
            // An Esc immediately followed by a key reads as Alt+key in any terminal.
            std::thread::sleep(Duration::from_millis(if *k == "Escape" { 250 } else { 30 }));
        }
    }

    fn text(&self, s: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", s]).output().unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }

    fn pid(&self) -> String {
        let shell = self.display("#{pane_pid}");
        let out = Command::new("pgrep").args(["-P", &shell, "-f", "rdsdeck"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string()
    }

    /// After rdsdeck exits: its code, and the checks that the terminal is back.
    fn assert_exited_and_restored(&self, code: i32) {
        let s = self.wait_for(&["RDSDECK_EXIT="]);
        assert!(s.contains(&format!("RDSDECK_EXIT={code}")), "exit code: {s}");
        assert_eq!(self.display("#{alternate_on}"), "0", "still on the alternate screen");
        assert_eq!(self.display("#{mouse_any_flag}"), "0", "mouse capture left on");
        assert_eq!(self.display("#{cursor_flag}"), "1", "cursor left hidden");
        let path = |n: &str| -> PathBuf { self.dir.path().join(n) };
        let start = Instant::now();
        while !path("after").exists() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let before = std::fs::read_to_string(path("before")).unwrap();
        let after = std::fs::read_to_string(path("after")).unwrap();
        assert_eq!(before, after, "tty modes not restored (raw mode left on?)");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]).output();
    }
}

#[test]
fn browse_filter_detail_help_quit() {
    let sb = Sandbox::start();
    let t = Tmux::start(&sb.cmd(), &[], 100, 30);
    // The overview shows the chain once discovery is done.
    t.wait_for(&["dev-node-app", "rds-iam-auth-db", "rds-iam-auth-node-app", "SSM parameters under"]);
    // Jump to the proxies with the palette.
    t.keys(&[":"]);
    t.text("proxies");
    t.keys(&["Enter"]);
    let s = t.wait_for(&["Proxies (1)", "ENDPOINT", "required"]);
    assert!(s.contains("REQUIRED"), "{s}");
    // Security groups: filter them.
    t.keys(&[":"]);
    t.text("sg");
    t.keys(&["Enter"]);
    t.wait_for(&["rds-iam-auth-alb-sg", "3306 IN FROM"]);
    t.keys(&["/"]);
    t.text("'rds-sg");
    let s = t.wait_for(&["(1/5)"]);
    assert!(s.contains("rds-iam-auth-rds-sg") && !s.contains("rds-iam-auth-alb-sg"), "{s}");
    t.keys(&["Enter"]); // keep the filter
    t.keys(&["Enter"]); // open the detail
    // the group as the EC2 API describes it, with the AWS CLI's names
    let s = t.wait_for(&["security-groups › rds-iam-auth-rds-sg · YAML", "GroupName: rds-iam-auth-rds-sg"]);
    assert!(s.contains("IpPermissions:") && s.contains("FromPort: 3306") && !s.contains("Some("), "{s}");
    t.keys(&["J"]);
    t.wait_for(&["· JSON ·", "\"GroupName\": \"rds-iam-auth-rds-sg\","]);
    t.keys(&["Escape"]);
    t.wait_for(&["(1/5)"]);
    t.keys(&["?"]);
    t.wait_for(&["Help", "fuzzy filter the list"]);
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

#[test]
fn unreachable_endpoint_keeps_the_tui_usable() {
    let home = CleanHome::new();
    let mut cmd = home.cmd();
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE").env("AWS_SECRET_ACCESS_KEY", "example").env("AWS_REGION", "us-east-1");
    let url = format!("http://127.0.0.1:{}", closed_port());
    let t = Tmux::start(&cmd, &["--endpoint-url", &url], 100, 30);
    t.wait_for(&["no stack to show", "connection refused"]);
    t.keys(&["?"]);
    t.wait_for(&["Help"]);
    t.keys(&["Escape"]);
    t.keys(&["Tab"]);
    t.wait_for(&["Proxies"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

#[test]
fn region_without_proxy_says_so_and_region_can_be_switched() {
    let sb = Sandbox::start();
    let t = Tmux::start(&sb.cmd(), &["--region", "eu-west-1"], 100, 30);
    t.wait_for(&["no RDS Proxy in region eu-west-1"]);
    t.keys(&[":"]);
    t.text("region us-east-1");
    t.keys(&["Enter"]);
    t.wait_for(&["dev-node-app", "rds-iam-auth-db", "us-east-1"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

#[test]
fn sigterm_restores_the_terminal() {
    let sb = Sandbox::start();
    let t = Tmux::start(&sb.cmd(), &[], 80, 24);
    t.wait_for(&["dev-node-app"]);
    let pid = t.pid();
    assert!(!pid.is_empty(), "rdsdeck pid not found");
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    t.assert_exited_and_restored(0);
}

#[test]
fn malformed_config_is_a_message_not_a_broken_terminal() {
    let home = CleanHome::new();
    home.write("config/rdsdeck/config.toml", "theme = \"dark\"\n[stacks.prod]\nproduction = \"yes\"\n");
    let mut cmd = home.cmd();
    cmd.env("XDG_CONFIG_HOME", home.root().join("config"));
    let t = Tmux::start(&cmd, &[], 100, 30);
    let s = t.wait_for(&["RDSDECK_EXIT="]);
    assert!(s.contains("line 3") && s.contains("stacks.prod.production"), "{s}");
    t.assert_exited_and_restored(2);
}

#[test]
fn tiny_terminal_works() {
    let sb = Sandbox::start();
    let t = Tmux::start(&sb.cmd(), &[], 20, 5);
    t.wait_for(&["rdsdeck"]);
    std::thread::sleep(Duration::from_secs(2));
    t.keys(&["Tab", "Tab", "Enter"]);
    t.keys(&["Escape"]);
    t.tmux(&["resize-window", "-t", "main", "-x", "80", "-y", "24"]).output().unwrap();
    t.wait_for(&["Targets"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

#[test]
fn missing_credentials_and_unknown_profile_are_shown_in_the_tui() {
    let home = CleanHome::new();
    let mut cmd = home.cmd();
    cmd.env("AWS_REGION", "us-east-1");
    let t = Tmux::start(&cmd, &[], 100, 30);
    t.wait_for(&["no stack to show", "no AWS credentials found"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);

    let t = Tmux::start(&cmd, &["--profile", "nope"], 100, 30);
    t.wait_for(&["no stack to show", "profile `nope` is not defined"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

#[test]
fn token_for_the_stack_proxy_masked_then_revealed() {
    let sb = Sandbox::start();
    let t = Tmux::start(&sb.cmd(), &[], 120, 36);
    t.wait_for(&["dev-node-app", "SSM parameters under"]);
    t.keys(&["t"]);
    let s = t.wait_for(&["IAM auth token for", "left", "hidden"]);
    assert!(!s.contains("X-Amz-"), "masked until revealed: {s}");
    t.keys(&["v"]);
    t.wait_for(&["Action=connect&DBUser="]);
    t.keys(&["y"]);
    t.wait_for(&["(copied)"]);
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

#[test]
fn sql_shell_runs_scrolls_cancels_and_exports() {
    let sb = Sandbox::start();
    let export = tempfile::tempdir().unwrap();
    let mut cmd = sb.cmd();
    cmd.env("RDSDECK_EXPORT_DIR", export.path());
    let t = Tmux::start(&cmd, &[], 120, 36);
    t.wait_for(&["dev-node-app", "5 SSM parameters under"]);
    t.keys(&["e"]);
    t.wait_for(&["SQL · node_user@dev-node-app"]);
    t.text("SELECT id, note FROM node_db.orders ORDER BY id");
    t.keys(&["F5"]);
    let s = t.wait_for(&["Result · 100 rows", "TLSv1.3", "100 row(s) in"]);
    assert!(s.contains("NULL"), "NULL shown as NULL: {s}");
    // Scroll the grid to the end.
    t.keys(&["Tab", "End"]);
    t.wait_for(&["row 100 col 1", "order #99"]);
    // Export what is on screen to CSV.
    t.keys(&["C-e"]);
    t.wait_for(&["exported to"]);
    let file = std::fs::read_dir(export.path()).unwrap().next().expect("a CSV file").unwrap().path();
    let csv = std::fs::read_to_string(&file).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "the export is private");
    assert_eq!(csv.lines().count(), 101, "header + 100 rows");
    assert!(csv.starts_with("id,note\n1,order #1\n"), "{csv}");
    // A slow query, cancelled: KILL QUERY from a second connection.
    t.keys(&["Tab", "C-a"]);
    for _ in 0..3 {
        t.keys(&["C-k"]);
    }
    t.text("SELECT SLEEP(30)");
    t.keys(&["C-r"]);
    t.wait_for(&["running · Esc cancels"]);
    let asked = Instant::now();
    t.keys(&["Escape"]);
    let s = t.wait_for(&["query cancelled"]);
    assert!(asked.elapsed() < Duration::from_secs(3), "cancel took {:?}: {s}", asked.elapsed());
    // A result streaming flat out, cancelled: the grid stops at once (what is still in flight is
    // counted, not shown) and the server's end of the statement follows. (How fast: bench/sql_cancel.sh.)
    t.keys(&["C-a", "C-k"]);
    t.text("SELECT seq FROM seq_1_to_100000000");
    t.keys(&["C-r"]);
    t.wait_for(&["Result · ", "running · Esc cancels"]);
    t.keys(&["Escape"]);
    let s = t.wait_for(&["query cancelled ("]);
    let rows = |s: &str| s.lines().find_map(|l| l.split("Result · ").nth(1).map(|r| r.split(' ').next().unwrap().to_string())).unwrap();
    let stopped_at = rows(&s);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rows(&t.screen()), stopped_at, "the count stopped with the statement");
    // More rows than the grid keeps: Ctrl-E runs the SELECT again straight into the file, every row.
    t.keys(&["C-a", "C-k"]);
    t.text("SELECT seq, 'x' AS tag FROM seq_1_to_250000");
    t.keys(&["C-r"]);
    t.wait_for(&["250000 row(s) in", "(first 200000 kept)"]);
    let before: Vec<_> = std::fs::read_dir(export.path()).unwrap().flatten().map(|e| e.path()).collect();
    t.keys(&["C-e"]);
    let s = t.wait_for(&["exported all 250000 rows to"]);
    let file = std::fs::read_dir(export.path()).unwrap().flatten().map(|e| e.path()).find(|p| !before.contains(p)).expect("a new CSV file");
    assert!(s.contains(&file.file_name().unwrap().to_string_lossy().to_string()), "the path is shown: {s}");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert_eq!(csv.lines().count(), 250_001, "header + every row");
    assert!(csv.ends_with("250000,x\n"), "{}", &csv[csv.len() - 40..]);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    // A cancel the server does not answer (the database stopped) is said on screen, and a second
    // Esc gives the statement up: its connection is dropped, and the next run reconnects.
    t.keys(&["C-a", "C-k"]);
    t.text("SELECT SLEEP(20)");
    t.keys(&["C-r"]);
    t.wait_for(&["running · Esc cancels"]);
    {
        let _frozen = Frozen::database(&sb);
        t.keys(&["Escape"]);
        t.wait_for(&["cancelling (KILL QUERY)"]);
        t.wait_for(&["KILL QUERY not answered for", "the database may be hung", "Esc abandons the statement"]);
        t.keys(&["Escape"]);
        t.wait_for(&["abandoned: the statement's connection is closed"]);
    }
    t.keys(&["C-a", "C-k"]);
    t.text("SELECT 'after' AS thawed");
    t.keys(&["C-r"]);
    t.wait_for(&["1 row(s) in", "after"]);
    t.keys(&["Escape"]);
    t.wait_for(&["Overview"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
    // After a full run: no secret key, token or password in the log or the history.
    let state = sb.home().state_home().join("rdsdeck");
    let log = std::fs::read_to_string(state.join("rdsdeck.log")).unwrap_or_default();
    let history = std::fs::read_to_string(state.join("sql_history")).expect("the history was written");
    assert!(history.contains("SELECT SLEEP(30)"), "{history}");
    assert!(!log.is_empty(), "the log was written");
    for text in [&log, &history] {
        assert!(!text.contains(sb.var("AWS_SECRET_ACCESS_KEY")), "secret key leaked");
        assert!(!text.contains("X-Amz-Signature") && !text.contains("X-Amz-Credential"), "a token leaked");
    }
}

#[test]
fn bootstrap_from_the_tui_reaches_ok_on_every_step() {
    let sb = Sandbox::start_with(&["--fresh-db"]);
    let t = Tmux::start(&sb.cmd(), &[], 150, 40);
    t.wait_for(&["dev-node-app", "SSM parameters under"]);
    t.keys(&["b"]);
    t.wait_for(&["plan ready", "read and validate the configuration"]);
    // A dry run first: nothing runs.
    t.keys(&["d", "r"]);
    t.wait_for(&["dry run: nothing was run"]);
    t.keys(&["d", "r"]);
    let s = t.wait_for(&["bootstrap complete", "Verification"]);
    assert_eq!(s.matches("✔ ok").count(), 6, "every step reaches ok:\n{s}");
    assert!(s.contains("node_user") && s.contains("AWSAuthenticationPlugin"), "{s}");
    // Again: everything is already in place.
    t.keys(&["r"]);
    t.wait_for(&["everything was already in place, nothing changed"]);
    t.keys(&["Escape"]);
    t.wait_for(&["Overview"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

#[test]
fn shell_on_the_seeded_host_then_back_to_the_tui() {
    let sb = Sandbox::start();
    let t = Tmux::start(&sb.cmd(), &[], 120, 36);
    t.wait_for(&["Hosts 1", "SSM parameters under"]);
    t.keys(&["x"]);
    t.wait_for(&["Starting a shell on i-", "sh-sandbox$"]);
    assert_eq!(t.display("#{alternate_on}"), "0", "the shell has the main screen");
    t.text("echo hello-$((6*7)) cols=$(tput cols 2>/dev/null || stty size)");
    t.keys(&["Enter"]);
    t.wait_for(&["hello-42"]);
    t.text("exit");
    t.keys(&["Enter"]);
    let s = t.wait_for(&["shell on i-", "ended"]);
    assert!(s.contains("Overview"), "the TUI is back, intact: {s}");
    assert_eq!(t.display("#{alternate_on}"), "1");
    // The keyboard is the TUI's again.
    t.keys(&["?"]);
    t.wait_for(&["fuzzy filter the list"]);
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

#[test]
fn a_forward_from_the_forwards_view_counts_bytes_carries_the_sql_shell_and_stops() {
    let sb = Sandbox::start();
    let t = Tmux::start(&sb.cmd(), &[], 160, 36);
    t.wait_for(&["Hosts 1", "Params 5", "SSM parameters under"]);
    // A forward that does not exist is named in the error.
    t.keys(&[":"]);
    t.text("sql via nope");
    t.keys(&["Enter"]);
    t.wait_for(&["no forward named `nope`"]);
    t.keys(&["f"]);
    t.wait_for(&["No forwards yet"]);
    t.keys(&["n"]);
    let s = t.wait_for(&["ready", "smux", "ok "]);
    // The local port, from the LOCAL column.
    let row = |screen: &str| screen.lines().find(|l| l.contains("│auto ")).map(str::to_string).unwrap_or_default();
    let before = row(&s);
    let port: u16 = before
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no local port on screen:\n{s}"));
    // A query through the forward; the view's byte counters grow.
    let out = common::run(sb.cmd().args([
        "sql", "--tunnel-port", &port.to_string(),
        "--user", "node_app", "-D", "node_db", "-o", "csv", "-e", "SELECT seq, MD5(seq) FROM seq_1_to_20000",
    ]));
    assert_eq!(out.code(), Some(0), "{}", out.dump());
    let start = Instant::now();
    let after = loop {
        let now = row(&t.screen());
        if now.contains("KiB") || now.contains("MiB") {
            break now;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "bytes did not grow: {before} -> {now}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_ne!(before, after);
    // The SQL shell through this forward (`e`): TCP to its port, the token and TLS for the endpoint.
    t.keys(&["e"]);
    let via = format!("via forward auto (127.0.0.1:{port})");
    t.wait_for(&["SQL · node_user@dev-node-app", &via]);
    t.text("SELECT CURRENT_USER() AS who, @@ssl_cipher <> '' AS tls");
    t.keys(&["F5"]);
    t.wait_for(&["1 row(s) in", "node_user@%", &via]);
    t.keys(&["Escape"]);
    t.keys(&["f"]);
    t.wait_for(&["│auto "]);
    t.keys(&["s"]);
    t.wait_for(&["stopped"]);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the local port is closed");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

/// The doctor view: `D` walks the chain, shows each check, highlights the first
/// failure and its fix; `r` runs it again; Esc goes back.
#[test]
fn the_doctor_view_names_the_broken_link() {
    let sb = Sandbox::start();
    let mut cmd = sb.cmd();
    cmd.env("RDSDECK_CA", sb.var("RDSDECK_SANDBOX_DB_CA"));
    let t = Tmux::start(&cmd, &[], 140, 40);
    t.wait_for(&["dev-node-app", "SSM parameters under"]);
    t.keys(&["D"]);
    let s = t.wait_for(&["Doctor · nothing failed", "network.host-proxy", "logged in as node_user"]);
    assert!(s.contains("✓ proxy.auth") || s.contains("IAMAuth REQUIRED"), "{s}");
    // Break the link from the host to the proxy, run again: it is named, with its fix.
    sb.scenario("break", "proxy-sg");
    t.keys(&["r"]);
    let s = t.wait_for(&["Doctor · 1 failed", "▶✗ network.host-proxy", "authorize-security-group-ingress"]);
    assert!(s.contains("waits for network.host-proxy") || !s.contains("✗ login"), "{s}");
    // Mend it, break the database user instead: the view follows to the new first failure and its SQL.
    sb.scenario("fix", "proxy-sg");
    sb.scenario("break", "user-no-grants");
    t.keys(&["r"]);
    t.wait_for(&["▶✗ dbuser", "GRANT SELECT, CREATE, INSERT, UPDATE, DELETE ON `node_db`.*"]);
    sb.scenario("fix", "user-no-grants");
    t.keys(&["r"]);
    t.wait_for(&["Doctor · nothing failed", "✓ dbuser"]);
    t.keys(&["Escape"]);
    t.wait_for(&["SSM parameters under"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

impl Tmux {
    /// Presses the key a tour step names (its button `[ K verb ]`), after checking the screen names it.
    fn tour_do(&self, key: &str, verb: &str) -> String {
        self.wait_for(&[&format!("[{key} {verb}]"), &format!("Press {key} to {verb}")]);
        self.keys(&[key]);
        // Done when the invitation and the spinner are both gone.
        let (press, busy) = (format!("Press {key} to {verb}"), format!("{verb}…"));
        let start = Instant::now();
        loop {
            let s = self.screen();
            if !s.contains(&press) && !s.contains(&busy) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "waited 60 s for the step `{verb}`; the screen was:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses → once the screen offers it, and waits for the step that follows.
    fn tour_next(&self, then: &str) -> String {
        self.wait_for(&["[→ next]"]);
        self.keys(&["Right"]);
        self.wait_for(&[then])
    }

    /// A left click at a cell (0-based), as the terminal reports it (SGR 1006).
    fn click(&self, col: u16, row: u16) {
        for end in ['M', 'm'] {
            self.text(&format!("\x1b[<0;{};{}{end}", col + 1, row + 1));
        }
    }
}

/// The tour, all of it, on the sandbox: every step's key is the one the screen names, and each step's
/// real effect is checked — the chain read, a token signed and decoded, a query answered over TLS, the
/// two classic refusals, a forward that carried bytes, the plan, the doctor failing on the broken
/// link and passing after the fix. Progress is kept: a second `tour` resumes where the first left.
#[test]
fn the_tour_walks_the_whole_flow_on_the_sandbox() {
    let sb = Sandbox::start();
    let mut cmd = sb.cmd();
    cmd.env("RDSDECK_CA", sb.var("RDSDECK_SANDBOX_DB_CA"));
    let t = Tmux::start(&cmd, &["tour"], 110, 40);
    // The sandbox is known as such once the stack is read.
    let s = t.wait_for(&["Tour · the zero-secret flow", "1. The chain", "7. On call", "[→ start]", "The sandbox: every step runs for real"]);
    // The mouse: a click on the chosen chapter starts it.
    let row = s.lines().position(|l| l.contains("1. The chain")).unwrap() as u16;
    t.click(10, row);
    t.wait_for(&["Tour · 1/7", "step 1/3", "The app host"]);
    // 1. The chain: the host and its settings on the whole chain, then the links with what was seen.
    let s = t.tour_do("l", "read the stack");
    assert!(s.contains("▶ App host") && s.contains("SSM Online") && s.contains("▶ Config"), "{s}");
    t.keys(&["Right"]);
    let s = t.tour_do("l", "read the stack");
    assert!(s.contains("▶ RDS Proxy") && s.contains("is available") && s.contains("▶ DB") && s.contains("IAM auth on"), "{s}");
    t.keys(&["Right"]);
    let s = t.tour_do("l", "read the stack");
    assert!(s.contains("the app host → the proxy on 3306 is open"), "{s}");
    // 2. The auth block, then why it holds a secret ARN.
    t.tour_next("Tour · 2/7");
    let s = t.tour_do("a", "read the auth block");
    assert!(s.contains("IAMAuth") && s.contains("REQUIRED") && s.contains("SecretArn") && s.contains("DefaultAuthScheme  IAM_AUTH"), "{s}");
    t.tour_next("And still a secret ARN");
    let s = t.wait_for(&["Nothing to run here"]);
    assert!(s.contains("With IAM_AUTH no login uses the secret"), "{s}");
    // 3. A token: signed (its signature hidden), then decoded.
    t.tour_next("Tour · 3/7");
    let s = t.tour_do("t", "sign a token");
    // The token wraps wherever the width falls: its rows joined, the signature is masked.
    let joined: String = s.lines().map(|l| l.trim_end().trim_start_matches('│').trim_end_matches('│').trim_end()).collect();
    assert!(s.contains("signed for node_user in us-east-1, with no AWS call") && joined.contains("&X-Amz-Signature=••••••••"), "{s}");
    t.keys(&["Right"]);
    let s = t.tour_do("d", "decode the token");
    assert!(s.contains("DBUser     node_user") && s.contains("lifetime   900 s"), "{s}");
    // 4. A login, then the two classic failures.
    t.tour_next("Tour · 4/7");
    let s = t.tour_do("c", "log in");
    assert!(s.contains("CURRENT_USER() = node_user@%") && s.contains("over TLSv1."), "{s}");
    t.keys(&["Right"]);
    let s = t.tour_do("c", "try the wrong host");
    assert!(s.contains("the server refused it with 1045, as RDS does: the token names 127.0.0.1"), "{s}");
    t.keys(&["Right"]);
    let s = t.tour_do("c", "try a no-TLS server");
    assert!(s.contains("offers no TLS, so the token was never sent") && s.contains("bytes the server received after its greeting: 0"), "{s}");
    // 5. Session Manager: why no SSH, then a forward that carries a query.
    t.tour_next("Tour · 5/7");
    t.tour_next("A forward through the app host");
    let s = t.tour_do("f", "forward and query");
    assert!(s.contains("CURRENT_USER() = node_user@%") && s.contains("session closed"), "{s}");
    let carried = s.lines().find(|l| l.contains("the forward carried")).unwrap_or_default().to_string();
    assert!(!carried.contains("carried 0 bytes out"), "{s}");
    // 6. The bootstrap: who creates the users, then its plan, the key clauses explained under them.
    t.tour_next("Tour · 6/7");
    t.tour_next("The plan, as a dry run");
    let s = t.tour_do("p", "show the plan");
    assert!(s.contains("AWSAuthenticationPlugin") && s.contains("dry run") && s.contains("-- AWSAuthenticationPlugin: no password; RDS checks an IAM token"), "{s}");
    // Leave mid-way; the next `tour` resumes here.
    t.keys(&["Escape"]);
    t.wait_for(&["SSM parameters under"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
    let t = Tmux::start(&cmd, &["tour"], 110, 40);
    t.wait_for(&["Tour · 6/7", "step 2/2", "The plan, as a dry run"]);
    t.tour_do("p", "show the plan");
    // 7. On call: break, the doctor fails on the link, fix, the doctor passes.
    t.tour_next("Tour · 7/7");
    let s = t.tour_do("x", "break the link");
    assert!(s.contains("no longer admits"), "{s}");
    t.keys(&["Right"]);
    let s = t.tour_do("d", "run the doctor");
    assert!(s.contains("Doctor · 1 failed; the first broken link: network.host-proxy"), "{s}");
    t.keys(&["Right"]);
    let s = t.tour_do("f", "apply the fix");
    assert!(s.contains("again"), "{s}");
    t.keys(&["Right"]);
    let s = t.tour_do("d", "run the doctor");
    assert!(s.contains("Doctor · nothing failed"), "{s}");
    // The end: the contents, every chapter ticked.
    t.keys(&["Right"]);
    let s = t.wait_for(&["Tour · the zero-secret flow", "7. On call", "Tour complete"]);
    assert_eq!(s.matches("✓").count(), 7, "{s}");
    t.keys(&["Escape"]);
    t.wait_for(&["SSM parameters under"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

/// On a stack that is not the sandbox — here `--read-only` — the tour's steps that would change it
/// are shown, not run: the doctor still passes after `break`.
#[test]
fn the_tour_changes_nothing_on_a_read_only_stack() {
    let sb = Sandbox::start();
    let mut cmd = sb.cmd();
    cmd.env("RDSDECK_CA", sb.var("RDSDECK_SANDBOX_DB_CA"));
    let t = Tmux::start(&cmd, &["--read-only", "tour"], 100, 34);
    t.wait_for(&["Tour · the zero-secret flow", "7. On call", "Hosts 1", "shown, not run"]);
    t.keys(&["Down", "Down", "Down", "Down", "Down", "Down", "Enter"]);
    t.wait_for(&["Tour · 7/7", "(shown, not run: this is not the sandbox)"]);
    let s = t.tour_do("x", "break the link");
    assert!(s.contains("the tour changes nothing here") && s.contains("aws ec2 revoke-security-group-ingress"), "{s}");
    let out = sb.cmd().args(["doctor", "--check", "network.host-proxy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "the link is intact: {}", String::from_utf8_lossy(&out.stdout));
    t.keys(&["Escape"]);
    t.wait_for(&["SSM parameters under"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}

/// Ctrl-Z under the demo (`sandbox.py run -- rdsdeck`) stops the whole job, so the shell gets the
/// terminal back; `fg` brings rdsdeck back as it was; quitting ends the sandbox too.
#[test]
fn ctrl_z_under_the_demo_gives_the_shell_back_and_fg_resumes() {
    let home = CleanHome::new();
    let socket = format!("rdsdeck-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    let t = Tmux { socket, dir: tempfile::tempdir().unwrap() };
    let out = t
        .tmux(&["-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "120", "-y", "35"])
        .arg("env -i TERM=xterm-256color PATH=/usr/bin:/bin PS1='demo$ ' bash --norc --noprofile -i")
        .output()
        .expect("tmux runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    t.wait_for(&["demo$"]);
    let python = common::venv().join("bin/python");
    let line = format!(
        "env -i PATH=/usr/bin:/bin TERM=xterm-256color HOME={} XDG_CONFIG_HOME={} XDG_STATE_HOME={} {} {} run --no-db --env-file {} -- {}",
        sh_quote(&home.home().to_string_lossy()),
        sh_quote(&home.config_home().to_string_lossy()),
        sh_quote(&home.state_home().to_string_lossy()),
        sh_quote(&python.to_string_lossy()),
        sh_quote(&common::repo_root().join("sandbox/sandbox.py").to_string_lossy()),
        sh_quote(&t.dir.path().join("env").to_string_lossy()),
        sh_quote(env!("CARGO_BIN_EXE_rdsdeck")),
    );
    t.text(&line);
    t.keys(&["Enter"]);
    t.wait_for(&["dev-node-app", "SSM parameters under"]);
    t.keys(&["C-z"]);
    let s = t.wait_for(&["Stopped", "demo$"]);
    assert!(!s.contains("SSM parameters under"), "the shell has the screen back: {s}");
    t.text("fg");
    t.keys(&["Enter"]);
    t.wait_for(&["dev-node-app", "SSM parameters under"]);
    t.keys(&["q"]);
    // rdsdeck and the sandbox both end: the prompt comes back with no job left.
    t.wait_for(&["demo$"]);
    t.text("echo JOBS=$(jobs | wc -l)");
    t.keys(&["Enter"]);
    t.wait_for(&["JOBS=0"]);
}

/// The window closes under the TUI (a pty hang-up): rdsdeck exits and every forward it started
/// ends its Session Manager session; none is left connected.
#[test]
fn a_hang_up_ends_every_forward_session() {
    let sb = Sandbox::start();
    let dir = sb.home().config_home().join("rdsdeck");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "[forwards.db]\nauto_start = true\n").unwrap();
    let t = Tmux::start(&sb.cmd(), &[], 120, 36);
    t.wait_for(&["SSM parameters under"]);
    let sessions = || common::run(sb.cmd().args(["list", "--kind", "hosts"])).expect_code(0).stdout;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sessions().contains("1 session") {
        assert!(Instant::now() < deadline, "the auto-start forward never came up: {}", sessions());
        std::thread::sleep(Duration::from_millis(300));
    }
    // The terminal goes away: tmux's server closes the pty, rdsdeck gets SIGHUP and EIO.
    t.tmux(&["kill-server"]).output().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = sessions();
        if !now.contains("session") {
            break;
        }
        assert!(Instant::now() < deadline, "a session was left connected after the hang-up: {now}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The pulse view on the sandbox's story: the charts show the burst of refused logins, a wider
/// window asks again, and a refusal that happens while it follows the logs shows up in the pane.
#[test]
fn the_pulse_view_charts_the_incident_and_follows_the_logs() {
    let sb = Sandbox::start();
    let story = sb.var("RDSDECK_SANDBOX_STORY").to_string();
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while !std::path::Path::new(&story).exists() {
        assert!(std::time::Instant::now() < until, "the sandbox's story was not seeded");
        std::thread::sleep(Duration::from_millis(200));
    }
    let t = Tmux::start(&sb.cmd(), &[], 120, 40);
    t.wait_for(&["dev-node-app", "SSM parameters under"]);
    t.keys(&["p"]);
    t.wait_for(&["Pulse · last 1h", "proxy failed auth", "rds-iam-auth-proxy-pinned"]);
    // The story is 3 hours old: the 3h window holds the burst (failed auth between 0 and ~37).
    t.keys(&["]"]);
    let s = t.wait_for(&["Pulse · last 3h", "period 60 s", "[ERROR] IAM authentication failed for user 'node_user'"]);
    assert!(s.lines().any(|l| l.contains("proxy failed auth") && l.contains('█')), "{s}");
    // A refusal now: the log pane follows it within a poll (5 s).
    sb.scenario("break", "caller-no-connect");
    common::run(sb.cmd().args(["sql", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "-e", "SELECT 1"])).expect_code(1);
    // The proxy's line for it (the story's own lines name a clientConnection after the endpoint).
    t.wait_for(&["[proxyEndpoint=default] IAM authentication failed"]);
    t.keys(&["Escape"]);
    t.wait_for(&["SSM parameters under"]);
    t.keys(&["q"]);
    t.assert_exited_and_restored(0);
}
