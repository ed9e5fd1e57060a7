//! The CLI and the TUI decide where to connect in one place (`rdsdeck::target`).
//! Each row gives both front ends the same stack and the same request — the
//! CLI through its real argument parser, the TUI through keys and palette
//! commands driven by `update` — and checks that they reach the same answer:
//! the database target, the forward's spec, the host a shell runs on, or the
//! same refusal.

use clap::Parser;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rdsdeck::aws::AwsContext;
use rdsdeck::cli::{Cli, Command, plan_forward, plan_shell, plan_sql};
use rdsdeck::config::Config;
use rdsdeck::settings::{Flags, Settings};
use rdsdeck::ssm::forward::ForwardSpec;
use rdsdeck::stack::{Kind, KindResult, Located, Resource};
use rdsdeck::target::{StackFacts, connect_spec};
use rdsdeck::tui::app::{Action, App, Effect, Msg};
use rdsdeck::tui::build_app;
use std::time::Duration;

const EP: &str = "dev-node-app.proxy-c0ffee.us-east-1.rds.amazonaws.com";

fn params() -> Vec<Resource> {
    [("endpoint", EP), ("port", "3306"), ("dbname", "node_db"), ("username", "node_user")]
        .into_iter()
        .map(|(n, v)| {
            let name = format!("/dev/database/{n}");
            Resource::new(Kind::Parameter, &name, &name).attr("value", v)
        })
        .collect()
}

fn hosts(list: &[(&str, &str)]) -> Vec<Resource> {
    list.iter()
        .map(|(id, state)| Resource::new(Kind::Host, *id, *id).attr("state", *state).attr("ssm_ping_status", if *state == "running" { "Online" } else { "ConnectionLost" }))
        .collect()
}

fn settings(config: &str) -> Settings {
    let config = Config::parse(config, std::path::Path::new("parity.toml")).expect("config parses");
    let flags = Flags { region: Some("us-east-1".into()), ..Flags::default() };
    let mut s = Settings::from_config(&flags, config, None).unwrap();
    s.refresh = None;
    s
}

fn ctx() -> AwsContext {
    AwsContext { sdk: aws_types::SdkConfig::builder().build(), profile: "default".into(), region: "us-east-1".into(), endpoint: None, timeout: Duration::from_secs(10) }
}

/// The CLI's facts: what `target::gather` builds from the fetched resources.
fn cli_facts(hosts: &[Resource]) -> StackFacts {
    StackFacts::from_resources(Some(EP.into()), Ok(&params()), Ok(hosts))
}

/// The TUI after discovery, fed through `update` as the workers would.
fn tui(s: Settings, hosts: &[Resource]) -> App {
    let mut app = build_app(Flags::default(), s).unwrap();
    app.update(Action::Resize(120, 40));
    app.start();
    let generation = app.generation;
    app.update(Action::Worker(Msg::Context { generation, result: Ok(ctx()) }));
    let loc = Located { region: "us-east-1".into(), proxy: Some("dev-node-app".into()), proxy_endpoint: Some(EP.into()), ..Located::default() };
    app.update(Action::Worker(Msg::Located { generation, result: Ok(loc) }));
    for (kind, items) in [(Kind::Parameter, params()), (Kind::Host, hosts.to_vec())] {
        app.update(Action::Worker(Msg::Kind { generation, kind, result: KindResult::Ok { items }, elapsed: Duration::ZERO }));
    }
    app
}

fn key(app: &mut App, c: char) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
}

fn palette(app: &mut App, line: &str) -> Vec<Effect> {
    key(app, ':');
    for c in line.chars() {
        key(app, c);
    }
    app.update(Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)))
}

fn select_host(app: &mut App, id: &str) {
    app.update(Action::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)));
    for c in "hosts".chars() {
        key(app, c);
    }
    app.update(Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let i = app.pane(Kind::Host).table.visible.iter().position(|&i| app.pane(Kind::Host).table.items[i].id == id).expect("host listed");
    app.f.browser.panes.get_mut(&Kind::Host).unwrap().table.select(i);
}

fn cli(argv: &[&str]) -> Command {
    let mut full = vec!["rdsdeck"];
    full.extend_from_slice(argv);
    Cli::try_parse_from(full).expect("argv parses").command.expect("a subcommand")
}

/// What a front end decided: the connection (user@tcp-host:port, tls name, database), a forward, a shell host, or a refusal.
#[derive(Debug, PartialEq)]
enum Decided {
    Sql { user: String, host: String, port: u16, database: Option<String> },
    Forward(ForwardSpec),
    Shell(String),
    Refused,
}

fn from_effects(effects: &[Effect]) -> Decided {
    for e in effects {
        match e {
            Effect::SqlOpen { spec, .. } => {
                let (host, port) = spec.tls_name.clone().unwrap_or((spec.host.clone(), spec.port));
                return Decided::Sql { user: spec.user.clone(), host, port, database: spec.database.clone() };
            }
            Effect::ForwardStart { spec, .. } => return Decided::Forward((**spec).clone()),
            Effect::Shell { target, .. } => return Decided::Shell(target.clone()),
            _ => {}
        }
    }
    Decided::Refused
}

fn cli_decides(s: &Settings, facts: &StackFacts, argv: &[&str]) -> Decided {
    match cli(argv) {
        Command::Sql(a) => match plan_sql(s, facts, &a) {
            Ok((_, Some(spec))) => Decided::Forward(spec),
            Ok((t, None)) => {
                let c = connect_spec(&t, None, "us-east-1", s, Duration::from_secs(10), false);
                Decided::Sql { user: c.user, host: c.host, port: c.port, database: c.database }
            }
            Err(_) => Decided::Refused,
        },
        Command::Forward(a) => plan_forward(s, facts, &a).map(Decided::Forward).unwrap_or(Decided::Refused),
        Command::Shell(a) => plan_shell(facts, &a).map(Decided::Shell).unwrap_or(Decided::Refused),
        other => panic!("not a routed command: {other:?}"),
    }
}

/// How the TUI asks: a palette line (`:sql via auto`), keys (`f` then `n`), and an optional host selected first.
enum Ask<'a> {
    Palette(&'a str),
    Keys(&'a str),
}

struct Row<'a> {
    name: &'a str,
    config: &'a str,
    hosts: &'a [(&'a str, &'a str)],
    cli: &'a [&'a str],
    tui: Ask<'a>,
    selected: Option<&'a str>,
    want: Decided,
}

fn fwd(name: &str, target: &str, host: &str, port: u16, local: u16) -> Decided {
    Decided::Forward(ForwardSpec { name: name.into(), target: target.into(), host: Some(host.into()), remote_port: port, local_port: local })
}

fn sql_direct() -> Decided {
    Decided::Sql { user: "node_user".into(), host: EP.into(), port: 3306, database: Some("node_db".into()) }
}

#[test]
fn the_cli_and_the_tui_decide_the_same() {
    let one = &[("i-a", "running")][..];
    let two_one_running = &[("i-a", "stopped"), ("i-b", "running")][..];
    let two_running = &[("i-a", "running"), ("i-b", "running")][..];
    let saved = "[forwards.replica]\ntarget = \"i-r\"\nhost = \"replica.internal\"\nremote_port = 3310\nlocal_port = 13310\n";
    let rows = vec![
        Row { name: "sql, one host, direct", config: "", hosts: one, cli: &["sql", "-e", "SELECT 1"], tui: Ask::Keys("e"), selected: None, want: sql_direct() },
        Row { name: "sql, sql_via = auto in the config", config: "sql_via = \"auto\"\n", hosts: one, cli: &["sql", "-e", "SELECT 1"], tui: Ask::Keys("e"), selected: None, want: fwd("auto", "i-a", EP, 3306, 0) },
        Row { name: "sql via auto, flag vs palette", config: "", hosts: one, cli: &["sql", "--via-forward", "auto", "-e", "SELECT 1"], tui: Ask::Palette("sql via auto"), selected: None, want: fwd("auto", "i-a", EP, 3306, 0) },
        Row { name: "sql via direct overrides the config", config: "sql_via = \"auto\"\n", hosts: one, cli: &["sql", "--via-forward", "direct", "-e", "SELECT 1"], tui: Ask::Palette("sql via direct"), selected: None, want: sql_direct() },
        Row { name: "sql via auto, two hosts, one running", config: "", hosts: two_one_running, cli: &["sql", "--via-forward", "auto", "-e", "SELECT 1"], tui: Ask::Palette("sql via auto"), selected: None, want: fwd("auto", "i-b", EP, 3306, 0) },
        Row { name: "sql via auto, two running hosts: refused", config: "", hosts: two_running, cli: &["sql", "--via-forward", "auto", "-e", "SELECT 1"], tui: Ask::Palette("sql via auto"), selected: None, want: Decided::Refused },
        Row { name: "sql via a saved forward", config: saved, hosts: two_running, cli: &["sql", "--via-forward", "replica", "-e", "SELECT 1"], tui: Ask::Palette("sql via replica"), selected: None, want: fwd("replica", "i-r", "replica.internal", 3310, 13310) },
        Row { name: "sql via an unknown forward: refused", config: saved, hosts: one, cli: &["sql", "--via-forward", "nope", "-e", "SELECT 1"], tui: Ask::Palette("sql via nope"), selected: None, want: Decided::Refused },
        Row { name: "forward, one host", config: "", hosts: one, cli: &["forward"], tui: Ask::Keys("fn"), selected: None, want: fwd("auto", "i-a", EP, 3306, 0) },
        Row { name: "forward, two hosts, one running", config: "", hosts: two_one_running, cli: &["forward"], tui: Ask::Keys("fn"), selected: None, want: fwd("auto", "i-b", EP, 3306, 0) },
        Row { name: "forward, two running hosts: refused", config: "", hosts: two_running, cli: &["forward"], tui: Ask::Keys("fn"), selected: None, want: Decided::Refused },
        Row { name: "forward, a chosen host (flag vs selection)", config: "", hosts: two_running, cli: &["forward", "--target", "i-b"], tui: Ask::Keys("fn"), selected: Some("i-b"), want: fwd("auto", "i-b", EP, 3306, 0) },
        Row { name: "shell, one host", config: "", hosts: one, cli: &["shell"], tui: Ask::Keys("x"), selected: None, want: Decided::Shell("i-a".into()) },
        Row { name: "shell, two hosts, one running", config: "", hosts: two_one_running, cli: &["shell"], tui: Ask::Palette("shell"), selected: None, want: Decided::Shell("i-b".into()) },
        Row { name: "shell, two running hosts: refused", config: "", hosts: two_running, cli: &["shell"], tui: Ask::Keys("x"), selected: None, want: Decided::Refused },
        Row { name: "shell, a chosen host (argument vs selection)", config: "", hosts: two_running, cli: &["shell", "i-a"], tui: Ask::Keys("x"), selected: Some("i-a"), want: Decided::Shell("i-a".into()) },
    ];
    let mut failures = Vec::new();
    for row in rows {
        let s = settings(row.config);
        let hosts = hosts(row.hosts);
        let by_cli = cli_decides(&s, &cli_facts(&hosts), row.cli);
        let mut app = tui(s, &hosts);
        if let Some(h) = row.selected {
            select_host(&mut app, h);
        }
        let effects = match row.tui {
            Ask::Palette(line) => palette(&mut app, line),
            Ask::Keys(keys) => keys.chars().flat_map(|c| key(&mut app, c)).collect(),
        };
        let by_tui = from_effects(&effects);
        if by_cli != row.want || by_tui != row.want {
            failures.push(format!("{}:\n  want {:?}\n  cli  {by_cli:?}\n  tui  {by_tui:?} (status: {:?})", row.name, row.want, app.status));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
