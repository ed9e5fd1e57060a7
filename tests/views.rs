//! View snapshots (ratatui TestBackend) of every view at 80x24, 200x50 and
//! 20x5, and the app's update logic driven by key events and worker messages.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::{Terminal, backend::TestBackend};
use rdsdeck::aws::AwsContext;
use rdsdeck::config::Config;
use rdsdeck::settings::{Flags, Settings};
use rdsdeck::stack::{Health, Identity, Kind, KindResult, Located, Resource};
use rdsdeck::tui::app::{Action, App, Effect, Mode, Msg, Phase};
use rdsdeck::tui::{build_app, views};
use serde_json::json;
use std::time::Duration;

const SIZES: [(u16, u16); 3] = [(80, 24), (200, 50), (20, 5)];

fn res(kind: Kind, id: &str, name: &str, h: Health, cells: &[&str]) -> Resource {
    Resource::new(kind, id, name).health(h).cells(cells.iter().map(|c| c.to_string()))
}

/// A replica of the sandbox's stack, as discovery would return it.
fn fixture() -> Vec<(Kind, Vec<Resource>)> {
    let ep = "dev-node-app.proxy-c0ffee.us-east-1.rds.amazonaws.com";
    vec![
        (
            Kind::Proxy,
            vec![
                res(Kind::Proxy, "arn:aws:rds:us-east-1:123456789012:db-proxy:prx-1", "dev-node-app", Health::Ok,
                    &["dev-node-app *", "available", "MYSQL", "required", "REQUIRED", "SECRETS", ep])
                .attr("status", "available").attr("require_tls", true).attr("iam_auth", "REQUIRED").attr("engine_family", "MYSQL")
                .attr("endpoint", ep)
                .api(Some(json!({"DBProxyName": "dev-node-app", "RequireTLS": true, "Status": "available", "IdleClientTimeout": 1800,
                    "Auth": [{"AuthScheme": "SECRETS", "IAMAuth": "REQUIRED", "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-admin"}],
                    "VpcSubnetIds": ["subnet-1", "subnet-2"]}))),
            ],
        ),
        (Kind::TargetGroup, vec![res(Kind::TargetGroup, "tg", "default", Health::Ok, &["default", "dev-node-app", "available", "yes", "100", "50", "120"])]),
        (
            Kind::Target,
            vec![res(Kind::Target, "t", "rds-iam-auth-db", Health::Ok, &["rds-iam-auth-db", "RDS_INSTANCE", "READ_WRITE", "AVAILABLE", "", "rds-iam-auth-db.c0ffee.us-east-1.rds.amazonaws.com", "3306"])
                .attr("health_state", "AVAILABLE").attr("health_reason", "")],
        ),
        (
            Kind::Instance,
            vec![res(Kind::Instance, "db", "rds-iam-auth-db", Health::Ok, &["rds-iam-auth-db", "available", "mysql 8.4.7", "db.t3.micro", "enabled", "rds-iam-auth-db.c0ffee.us-east-1.rds.amazonaws.com:3306", "rds-ca-rsa2048-g1"])
                .attr("status", "available").attr("engine", "mysql").attr("engine_version", "8.4.7").attr("iam_auth", true)],
        ),
        (
            Kind::Host,
            vec![res(Kind::Host, "i-0abc", "rds-iam-auth-node-app", Health::Ok, &["rds-iam-auth-node-app", "i-0abc", "running", "Online", "t3.micro", "172.20.32.4", "rds-iam-auth-instance-profile"])
                .attr("state", "running").attr("ssm_ping_status", "Online").attr("security_group_ids", vec!["sg-ec2"])],
        ),
        (
            Kind::SecurityGroup,
            vec![
                res(Kind::SecurityGroup, "sg-ec2", "rds-iam-auth-ec2-sg", Health::Ok, &["rds-iam-auth-ec2-sg", "sg-ec2", "host", "", "1", "1"]),
                res(Kind::SecurityGroup, "sg-prx", "rds-iam-auth-proxy-sg", Health::Ok, &["rds-iam-auth-proxy-sg", "sg-prx", "proxy", "rds-iam-auth-ec2-sg", "1", "1"])
                    .attr("mysql_ingress_from_ids", vec!["sg-ec2"]),
                res(Kind::SecurityGroup, "sg-rds", "rds-iam-auth-rds-sg", Health::Ok, &["rds-iam-auth-rds-sg", "sg-rds", "db", "rds-iam-auth-proxy-sg", "1", "1"])
                    .attr("mysql_ingress_from_ids", vec!["sg-prx"]),
            ],
        ),
        (Kind::Subnet, vec![res(Kind::Subnet, "subnet-1", "rds-iam-auth-private-subnet-1", Health::Ok, &["rds-iam-auth-private-subnet-1", "subnet-1", "172.20.32.0/20", "us-east-1a", "private", "proxy,db"])]),
        (Kind::Vpc, vec![res(Kind::Vpc, "vpc-1", "rds-iam-auth-vpc", Health::Ok, &["rds-iam-auth-vpc", "vpc-1", "172.20.0.0/16", "available", "on"]).attr("cidr", "172.20.0.0/16")]),
        (
            Kind::Parameter,
            ["endpoint", "port", "dbname", "username", "region"]
                .iter()
                .zip([ep, "3306", "node_db", "node_user", "us-east-1"])
                .map(|(n, v)| {
                    let name = format!("/dev/database/{n}");
                    res(Kind::Parameter, &name, &name, Health::Ok, &[&name, "String", v, "1", "prefix"]).attr("value", v)
                })
                .collect(),
        ),
        (Kind::Secret, vec![res(Kind::Secret, "arn:secret", "rds!db-1234", Health::Ok, &["rds!db-1234", "proxy auth, db master", "off", "2026-11-23T20:53:22Z", "arn:secret"]).attr("used_by", "proxy auth, db master")]),
        (Kind::LoadBalancer, vec![res(Kind::LoadBalancer, "arn:alb", "rds-iam-auth-alb", Health::Ok, &["rds-iam-auth-alb", "active", "internet-facing", "1", "1 healthy", "rds-iam-auth-alb-1.elb.amazonaws.com"]).attr("target_health_summary", "1 healthy")]),
        (Kind::Repository, vec![res(Kind::Repository, "arn:ecr", "nodeapp", Health::Ok, &["nodeapp", "123456789012.dkr.ecr.us-east-1.amazonaws.com/nodeapp", "on", "MUTABLE"])]),
        (Kind::Bucket, vec![res(Kind::Bucket, "arn:s3", "rds-iam-auth-alb-logs", Health::Ok, &["rds-iam-auth-alb-logs", "2026-11-23T20:53:22Z", "rds-iam-auth-alb access logs"])]),
    ]
}

fn settings(config: Config, stack: Option<&str>) -> Settings {
    let args = Flags { stack: stack.map(str::to_string), region: Some("us-east-1".into()), ..Flags::default() };
    let mut s = Settings::from_config(&args, config, None).unwrap();
    s.refresh = None;
    s
}

fn ctx() -> AwsContext {
    AwsContext {
        sdk: aws_types::SdkConfig::builder().build(),
        profile: "default".into(),
        region: "us-east-1".into(),
        endpoint: None,
        timeout: Duration::from_secs(10),
    }
}

fn located() -> Located {
    Located {
        region: "us-east-1".into(),
        source: "discovered".into(),
        proxy: Some("dev-node-app".into()),
        proxy_endpoint: Some("dev-node-app.proxy-c0ffee.us-east-1.rds.amazonaws.com".into()),
        vpc_id: Some("vpc-1".into()),
        proxy_sgs: vec!["sg-prx".into()],
        instance_sgs: vec!["sg-rds".into()],
        instances: vec!["rds-iam-auth-db".into()],
        parameter_prefix: "/dev/database/".into(),
        all_proxies: vec!["dev-node-app".into()],
        ..Located::default()
    }
}

/// The app after credentials, identity and discovery, as the workers report them; no pane loaded yet.
fn discovered(s: Settings) -> App {
    let mut app = build_app(Flags::default(), s).unwrap();
    app.start();
    let generation = app.generation;
    app.update(Action::Worker(Msg::Context { generation, result: Ok(ctx()) }));
    let identity = Identity { account: "123456789012".into(), arn: "arn:aws:iam::123456789012:user/ops".into(), user_id: "AIDA".into() };
    app.update(Action::Worker(Msg::Identity { generation, result: Ok(identity) }));
    app.update(Action::Worker(Msg::Located { generation, result: Ok(located()) }));
    app
}

/// A pane's fetch finished (42 ms).
fn deliver(app: &mut App, kind: Kind, result: KindResult) -> Vec<Effect> {
    let generation = app.generation;
    app.update(Action::Worker(Msg::Kind { generation, kind, result, elapsed: Duration::from_millis(42) }))
}

fn loaded_app_with(s: Settings) -> App {
    let mut app = discovered(s);
    for (k, items) in fixture() {
        deliver(&mut app, k, KindResult::Ok { items });
    }
    app
}

fn loaded_app() -> App {
    loaded_app_with(settings(Config::default(), None))
}

fn draw(app: &mut App, w: u16, h: u16) -> String {
    app.update(Action::Resize(w, h));
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| views::render(app, f)).unwrap();
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>().trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn key(app: &mut App, c: KeyCode) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn snap_all(name: &str, app: &mut App) {
    for (w, h) in SIZES {
        let screen = draw(app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

#[test]
fn overview_snapshots() {
    snap_all("overview", &mut loaded_app());
}

#[test]
fn every_kind_list_snapshots() {
    for (i, k) in Kind::ALL.iter().enumerate() {
        let mut app = loaded_app();
        app.set_tab(i + 1);
        snap_all(&format!("list_{}", k.name()), &mut app);
    }
}

#[test]
fn the_detail_view_shows_the_api_object_folds_switches_to_json_and_copies() {
    let mut app = loaded_app();
    app.set_tab(1);
    key(&mut app, KeyCode::Enter);
    let screen = draw(&mut app, 80, 24);
    assert!(screen.contains("proxies › dev-node-app · YAML"), "{screen}");
    assert!(screen.contains("DBProxyName: dev-node-app") && screen.contains("- AuthScheme: SECRETS"), "{screen}");
    assert!(!screen.contains("Some(") && !screen.contains("require_tls"), "no Rust Debug text, no rdsdeck attributes:\n{screen}");
    // `Auth:` is the first line: fold it, its item and its fields go
    key(&mut app, KeyCode::Char('z'));
    let screen = draw(&mut app, 80, 24);
    assert!(screen.contains("Auth:  ▸ 3 lines") && !screen.contains("AuthScheme"), "{screen}");
    key(&mut app, KeyCode::Char(' '));
    assert!(draw(&mut app, 80, 24).contains("AuthScheme: SECRETS"));
    key(&mut app, KeyCode::Char('J'));
    let screen = draw(&mut app, 80, 24);
    assert!(screen.contains("· JSON ·") && screen.contains("\"DBProxyName\": \"dev-node-app\","), "{screen}");
    let copied = key(&mut app, KeyCode::Char('y'));
    let Some(Effect::Copy(text)) = copied.first() else { panic!("y copies: {copied:?}") };
    let v: serde_json::Value = serde_json::from_str(secrecy::ExposeSecret::expose_secret(text)).unwrap();
    assert_eq!(v["RequireTLS"], true);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
    // a resource whose response could not be read shows rdsdeck's reading, and says so
    app.set_tab(2);
    key(&mut app, KeyCode::Enter);
    let screen = draw(&mut app, 200, 50);
    assert!(screen.contains("rdsdeck's reading: AWS's response could not be read"), "{screen}");
}

#[test]
fn detail_help_palette_filter_snapshots() {
    let mut app = loaded_app();
    app.set_tab(1);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Detail);
    snap_all("detail_proxy", &mut app);

    let mut app = loaded_app();
    key(&mut app, KeyCode::Char('?'));
    snap_all("help", &mut app);

    let mut app = loaded_app();
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "re");
    snap_all("palette", &mut app);

    let mut app = loaded_app();
    app.set_tab(9); // parameters
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "dbn");
    snap_all("filter_parameters", &mut app);
}

#[test]
fn loading_error_and_failure_snapshots() {
    // Hosts still loading, repositories denied, the rest loaded.
    let mut app = discovered(settings(Config::default(), None));
    for (k, items) in fixture() {
        match k {
            Kind::Host => {}
            Kind::Repository => {
                deliver(&mut app, k, KindResult::Error { error: "AccessDeniedException: not authorized to perform ecr:DescribeRepositories".into() });
            }
            k => {
                deliver(&mut app, k, KindResult::Ok { items });
            }
        }
    }
    snap_all("overview_partial", &mut app);
    app.set_tab(5);
    snap_all("list_loading", &mut app);
    app.set_tab(12);
    snap_all("list_error", &mut app);

    let mut app = build_app(Flags::default(), settings(Config::default(), None)).unwrap();
    app.start();
    let generation = app.generation;
    app.update(Action::Worker(Msg::Context { generation, result: Err("no RDS Proxy in region eu-west-1: pick the region of your stack (--region)".into()) }));
    assert!(matches!(app.phase, Phase::Failed(_)));
    snap_all("failed", &mut app);

    // What the user sees when the region has several proxies: discovery stops and asks.
    let mut app = build_app(Flags::default(), settings(Config::default(), None)).unwrap();
    app.start();
    let generation = app.generation;
    app.update(Action::Worker(Msg::Context { generation, result: Ok(ctx()) }));
    let names = vec!["dev-node-app".into(), "prod-node-app".into()];
    app.update(Action::Worker(Msg::Located { generation, result: Err(rdsdeck::stack::DiscoverError::Ambiguous { region: "us-east-1".into(), names }) }));
    assert_eq!(app.mode, Mode::ChooseProxy);
    key(&mut app, KeyCode::Down);
    snap_all("choose_proxy", &mut app);
}

#[test]
fn production_stack_shows_the_banner() {
    let cfg = Config::parse("[stacks.prod]\nproduction = true\nproxy = \"dev-node-app\"\n", std::path::Path::new("c.toml")).unwrap();
    let mut app = loaded_app_with(settings(cfg, Some("prod")));
    let screen = draw(&mut app, 80, 24);
    assert!(screen.lines().next().unwrap().contains("PRODUCTION"), "{screen}");
    snap_all("production", &mut app);
}

#[test]
fn tiny_terminals_never_panic() {
    for w in 1..=30 {
        for h in 1..=8 {
            let mut app = loaded_app();
            draw(&mut app, w, h);
            app.set_tab(6);
            draw(&mut app, w, h);
            key(&mut app, KeyCode::Enter);
            draw(&mut app, w, h);
            key(&mut app, KeyCode::Esc);
            key(&mut app, KeyCode::Char('?'));
            draw(&mut app, w, h);
        }
    }
}

#[test]
fn filter_narrows_and_escape_restores() {
    let mut app = loaded_app();
    app.set_tab(6); // security groups
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "prxy");
    // Fuzzy: the proxy SG, and the rds SG whose 3306 source is the proxy SG.
    assert_eq!(app.pane(Kind::SecurityGroup).table.visible.len(), 2);
    key(&mut app, KeyCode::Backspace);
    typed(&mut app, " 'sg-prx"); // nucleo syntax: an exact substring too
    let t = &app.pane(Kind::SecurityGroup).table;
    assert_eq!(t.visible.len(), 1);
    assert_eq!(t.selected_item().unwrap().name, "rds-iam-auth-proxy-sg");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.pane(Kind::SecurityGroup).table.visible.len(), 3);
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn palette_jumps_to_kinds_and_reports_unknown_commands() {
    let mut app = loaded_app();
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "sg");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_kind(), Some(Kind::SecurityGroup));
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "params");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_kind(), Some(Kind::Parameter));
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "frobnicate");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.status.as_ref().unwrap().0, Health::Bad);
    assert_eq!(app.current_kind(), Some(Kind::Parameter));
}

#[test]
fn region_switch_restarts_discovery() {
    let mut app = loaded_app();
    let g = app.generation;
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "region eu-west-1");
    // The new settings are resolved off the UI thread (they may read rds.conf); then discovery starts again.
    let effects = key(&mut app, KeyCode::Enter);
    let Some(Effect::Switch { verb, arg, args, config, config_path }) = effects.into_iter().next() else { panic!("a switch") };
    assert_eq!(args.region.as_deref(), Some("eu-west-1"));
    let result = Settings::from_config(&args, *config, config_path).map(Box::new).map_err(|e| e.to_string());
    let effects = app.update(Action::Worker(Msg::Switched { verb, arg, args: *args, result }));
    assert!(matches!(&effects[..], [Effect::LoadContext { aws, .. }] if aws.region.as_deref() == Some("eu-west-1")), "{effects:?}");
    assert!(app.generation > g);
    assert!(app.located.is_none());
    // A late answer from the old region is dropped.
    app.update(Action::Worker(Msg::Kind { generation: g, kind: Kind::Proxy, result: KindResult::Ok { items: vec![] }, elapsed: Duration::ZERO }));
    assert!(!app.pane(Kind::Proxy).loaded);
}

#[test]
fn refresh_is_coalesced_per_pane() {
    let mut app = loaded_app();
    let first = key(&mut app, KeyCode::Char('r'));
    let fetches = |e: &[Effect]| e.iter().filter(|e| matches!(e, Effect::Fetch { .. })).count();
    assert_eq!(fetches(&first), Kind::ALL.len());
    // A second and third refresh while all are running start nothing new.
    assert_eq!(fetches(&key(&mut app, KeyCode::Char('r'))), 0);
    assert_eq!(fetches(&key(&mut app, KeyCode::Char('r'))), 0);
    // When one finishes, exactly one more run of that pane starts.
    let g = app.generation;
    let again = app.update(Action::Worker(Msg::Kind { generation: g, kind: Kind::Proxy, result: KindResult::Ok { items: vec![] }, elapsed: Duration::ZERO }));
    assert!(matches!(&again[..], [Effect::Fetch { kind: Kind::Proxy, .. }]), "{again:?}");
    let done = app.update(Action::Worker(Msg::Kind { generation: g, kind: Kind::Proxy, result: KindResult::Ok { items: vec![] }, elapsed: Duration::ZERO }));
    assert!(done.is_empty());
}

#[test]
fn a_failing_kind_keeps_its_rows_and_marks_the_pane() {
    let mut app = loaded_app();
    key(&mut app, KeyCode::Char('r'));
    let g = app.generation;
    app.update(Action::Worker(Msg::Kind { generation: g, kind: Kind::Host, result: KindResult::Error { error: "timed out".into() }, elapsed: Duration::ZERO }));
    let p = app.pane(Kind::Host);
    assert_eq!(p.table.items.len(), 1);
    assert_eq!(p.error.as_deref(), Some("timed out"));
    app.set_tab(5);
    assert!(draw(&mut app, 120, 30).contains("stale: refresh failed"));
}

#[test]
fn idle_app_sleeps_without_deadline() {
    let mut app = loaded_app();
    assert_eq!(app.next_deadline(), None, "nothing loading and no refresh: no wake-ups");
    key(&mut app, KeyCode::Char('r'));
    assert!(app.next_deadline().is_some(), "spinners tick while loading");
    // An unbound key does not ask for a redraw.
    app.dirty = false;
    key(&mut app, KeyCode::Char('z'));
    assert!(!app.dirty);
}

#[test]
fn key_overrides_change_behaviour_and_help() {
    let cfg = Config::parse("[keys]\nquit = \"ctrl-q\"\n", std::path::Path::new("c.toml")).unwrap();
    let mut app = loaded_app_with(settings(cfg, None));
    key(&mut app, KeyCode::Char('q'));
    assert!(!app.quit);
    app.update(Action::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)));
    assert!(app.quit);
    let mut app = loaded_app_with(settings(Config::parse("[keys]\nquit = \"ctrl-q\"\n", std::path::Path::new("c.toml")).unwrap(), None));
    key(&mut app, KeyCode::Char('?'));
    assert!(draw(&mut app, 100, 40).contains("C-q  quit rdsdeck"));
}

#[test]
fn token_view_is_masked_until_revealed_and_counts_down() {
    let mut app = loaded_app();
    app.set_tab(1); // proxies
    let effects = key(&mut app, KeyCode::Char('t'));
    let (generation, target, req) = match &effects[..] {
        [Effect::Token { generation, target, req, .. }] => (*generation, target.clone(), req.clone()),
        other => panic!("{other:?}"),
    };
    assert_eq!(req.hostname, "dev-node-app.proxy-c0ffee.us-east-1.rds.amazonaws.com");
    assert_eq!(req.port, 3306);
    assert_eq!(req.username, "node_user", "the app's /dev/database/username");
    let creds = aws_credential_types::Credentials::new("AKIAEXAMPLEKEY1234", "secret", None, None, "t");
    let token = rdsdeck::auth::generate(&req, &creds, app.wall).unwrap();
    app.update(Action::Worker(Msg::Token { generation, target, result: Ok(token.clone().into()) }));
    let screen = draw(&mut app, 120, 30);
    assert!(screen.contains("IAM auth token for node_user@dev-node-app"), "{screen}");
    assert!(screen.contains("…1234") && screen.contains("14:59 left") || screen.contains("15:00 left"), "{screen}");
    assert!(!screen.contains("X-Amz-") && !screen.contains("AKIAEXAMPLE"), "masked: {screen}");
    key(&mut app, KeyCode::Char('v'));
    let revealed = draw(&mut app, 200, 40);
    assert!(revealed.contains(&token[..60]), "revealed: {revealed}");
    let copy = key(&mut app, KeyCode::Char('y'));
    assert!(matches!(&copy[..], [Effect::Copy(_)]));
    // Fifteen minutes later it says so.
    app.wall += Duration::from_secs(901);
    assert!(draw(&mut app, 120, 30).contains("EXPIRED"));
    key(&mut app, KeyCode::Esc);
    assert!(app.f.token.view.is_none(), "the token leaves memory with the view");
    insta::assert_snapshot!("token_masked_80x24", token_screen());
}

/// The token view at a fixed wall-clock time, 5 minutes after signing.
fn token_screen() -> String {
    let mut app = loaded_app();
    let e = key(&mut app, KeyCode::Char('t'));
    let Effect::Token { generation, target, .. } = &e[0] else { panic!("{e:?}") };
    let (g, t) = (*generation, target.clone());
    let tok = "h:3306/?Action=connect&DBUser=node_user&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLEKEY1234%2F20261123%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20261123T210000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
    app.wall = std::time::UNIX_EPOCH + Duration::from_secs(1_795_467_600 + 120);
    app.update(Action::Worker(Msg::Token { generation: g, target: t, result: Ok(tok.to_string().into()) }));
    app.wall = std::time::UNIX_EPOCH + Duration::from_secs(1_795_467_600 + 300);
    draw(&mut app, 80, 24)
}

#[test]
fn mouse_clicks_tabs_and_rows_and_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = loaded_app();
    draw(&mut app, 120, 30);
    let click = |app: &mut App, column: u16, row: u16| {
        app.update(Action::Mouse(MouseEvent { kind: MouseEventKind::Down(MouseButton::Left), column, row, modifiers: KeyModifiers::NONE }));
    };
    // The tab bar is row 1: find "SGs" on it and click it.
    let screen = draw(&mut app, 120, 30);
    let tabs = screen.lines().nth(1).unwrap();
    let col = tabs.find("SGs").unwrap() as u16; // ASCII before it on this line
    click(&mut app, col, 1);
    assert_eq!(app.current_kind(), Some(Kind::SecurityGroup));
    // Rows start below the block's top border and the header: row 2 (block) + 2.
    click(&mut app, 10, 5);
    assert_eq!(app.pane(Kind::SecurityGroup).table.selected, 1);
    click(&mut app, 10, 5); // a second click on the selected row opens it
    assert_eq!(app.mode, Mode::Detail);
    key(&mut app, KeyCode::Esc);
    app.update(Action::Mouse(MouseEvent { kind: MouseEventKind::ScrollDown, column: 10, row: 10, modifiers: KeyModifiers::NONE }));
    assert_eq!(app.pane(Kind::SecurityGroup).table.selected, 2);
}

fn sql_app(read_only: bool, history: Option<std::path::PathBuf>) -> App {
    let mut s = settings(Config::default(), None);
    s.read_only = read_only;
    let mut app = loaded_app_with(s);
    let effects = key(&mut app, KeyCode::Char('e'));
    assert!(matches!(&effects[..], [Effect::SqlOpen { spec, .. }] if spec.user == "node_user" && spec.port == 3306), "{effects:?}");
    app.f.sql.history_file = history;
    app
}

/// Empties the SQL editor the way a user would.
fn clear_editor(app: &mut App) {
    let n: usize = app.f.sql.view.as_ref().unwrap().editor.lines().iter().map(|l| l.chars().count() + 1).sum();
    app.update(Action::Key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE)));
    for _ in 0..n {
        key(app, KeyCode::Backspace);
    }
    assert_eq!(app.f.sql.view.as_ref().unwrap().editor.lines().join(""), "");
}

fn sql_event(app: &mut App, event: rdsdeck::db::session::Event) {
    let g = app.generation;
    let session = app.f.sql.session;
    app.update(Action::Worker(Msg::Sql { generation: g, session, event }));
}

#[test]
fn sql_view_snapshots_and_tiny_sizes() {
    use rdsdeck::db::connect::SessionInfo;
    use rdsdeck::db::rows::Cell;
    use rdsdeck::db::session::Event;
    let mut app = sql_app(false, None);
    typed(&mut app, "SELECT id, note, data FROM node_db.edge_cases");
    let run = key(&mut app, KeyCode::F(5));
    assert!(matches!(&run[..], [Effect::SqlRun(s)] if s.len() == 1));
    sql_event(&mut app, Event::Connected(SessionInfo {
        user: "node_user".into(), host: "dev-node-app.proxy-c0ffee.us-east-1.rds.amazonaws.com".into(), port: 3306,
        via: "direct".into(), tls_version: "TLSv1.3".into(), tls_cipher: "TLS_AES_256_GCM_SHA384".into(), connection_id: 7, server_version: "8.4.7".into(),
    }));
    sql_event(&mut app, Event::Columns(vec!["id".into(), "note".into(), "data".into()]));
    sql_event(&mut app, Event::Rows((1..=50).map(|i| vec![
        Cell::Text(i.to_string()),
        if i % 3 == 0 { Cell::Null } else if i % 3 == 1 { Cell::Text(String::new()) } else { Cell::Text(format!("note {i}")) },
        Cell::Binary(vec![0xde, 0xad, i as u8]),
    ]).collect()));
    sql_event(&mut app, Event::StatementDone { rows: 50, affected: 0, elapsed: Duration::from_millis(3), first_row: Some(Duration::from_millis(1)) });
    sql_event(&mut app, Event::Idle);
    snap_all("sql_result", &mut app);
    // Scroll the grid.
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::End);
    assert_eq!(app.f.sql.view.as_ref().unwrap().result().unwrap().row, 49);
    assert!(draw(&mut app, 120, 30).contains("row 50 col 1"));
    for w in 1..=24 {
        for h in 1..=8 {
            draw(&mut app, w, h);
        }
    }
}

/// A script's statements each keep their result: the grid follows the script as it runs, and
/// `[` / `]` show the others (each with its own cursor); a statement without rows says what it did.
#[test]
fn sql_view_keeps_every_result_of_a_script() {
    use rdsdeck::db::rows::Cell;
    use rdsdeck::db::session::Event;
    let mut app = sql_app(false, None);
    typed(&mut app, "SELECT id FROM a; INSERT INTO log VALUES (1); SELECT name, city FROM b");
    let run = key(&mut app, KeyCode::F(5));
    assert!(matches!(&run[..], [Effect::SqlRun(s)] if s.len() == 3), "{run:?}");
    let done = |rows, affected| Event::StatementDone { rows, affected, elapsed: Duration::from_millis(2), first_row: None };
    sql_event(&mut app, Event::Columns(vec!["id".into()]));
    sql_event(&mut app, Event::Rows((1..=5).map(|i| vec![Cell::Text(format!("a{i}"))]).collect()));
    sql_event(&mut app, done(5, 0));
    sql_event(&mut app, done(0, 1));
    sql_event(&mut app, Event::Columns(vec!["name".into(), "city".into()]));
    sql_event(&mut app, Event::Rows(vec![vec![Cell::Text("Zoë".into()), Cell::Text("Oslo".into())]]));
    sql_event(&mut app, done(1, 0));
    sql_event(&mut app, Event::Idle);
    let screen = draw(&mut app, 100, 30);
    assert!(screen.contains("3/3 SELECT name, city FROM b") && screen.contains("Oslo") && !screen.contains("a3"), "{screen}");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char('['));
    let screen = draw(&mut app, 100, 30);
    assert!(screen.contains("2/3 INSERT INTO log VALUES (1)") && screen.contains("ok, 1 row(s) affected"), "{screen}");
    key(&mut app, KeyCode::Char('['));
    key(&mut app, KeyCode::End);
    let screen = draw(&mut app, 100, 30);
    assert!(screen.contains("1/3 SELECT id FROM a") && screen.contains("a5") && screen.contains("row 5 col 1"), "{screen}");
    key(&mut app, KeyCode::Char(']'));
    key(&mut app, KeyCode::Char(']'));
    key(&mut app, KeyCode::Char(']'));
    let screen = draw(&mut app, 100, 30);
    assert!(screen.contains("3/3") && screen.contains("row 1 col 1"), "each result keeps its own cursor: {screen}");
    // The next run starts over.
    key(&mut app, KeyCode::Tab);
    clear_editor(&mut app);
    typed(&mut app, "SELECT 1");
    key(&mut app, KeyCode::F(5));
    sql_event(&mut app, Event::Columns(vec!["1".into()]));
    sql_event(&mut app, done(1, 0));
    sql_event(&mut app, Event::Idle);
    assert!(!draw(&mut app, 100, 30).contains("/3"));
}

#[test]
fn sql_view_guards_destructive_and_read_only() {
    let mut app = sql_app(false, None);
    typed(&mut app, "DELETE FROM node_db.users");
    assert!(key(&mut app, KeyCode::F(5)).is_empty(), "not run before confirmation");
    assert!(app.f.sql.view.as_ref().unwrap().message.as_ref().unwrap().1.contains("DELETE without WHERE"));
    assert!(key(&mut app, KeyCode::Char('n')).is_empty(), "any other key cancels");
    key(&mut app, KeyCode::F(5));
    let run = key(&mut app, KeyCode::Char('y'));
    assert!(matches!(&run[..], [Effect::SqlRun(_)]), "y runs it: {run:?}");

    let mut app = sql_app(true, None);
    typed(&mut app, "INSERT INTO t VALUES (1)");
    assert!(key(&mut app, KeyCode::F(5)).is_empty());
    assert!(app.f.sql.view.as_ref().unwrap().message.as_ref().unwrap().1.contains("read-only"));
}

#[test]
fn sql_history_persists_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sql_history");
    let mut app = sql_app(false, Some(file.clone()));
    // The runner appends what these effects carry (off the UI thread); do it here.
    let persist = |effects: Vec<Effect>| {
        for e in effects {
            if let Effect::SqlHistory { path, text } = e {
                rdsdeck::tui::features::sql::session::append_history(&path, &text).unwrap();
            }
        }
    };
    typed(&mut app, "SELECT 1");
    persist(key(&mut app, KeyCode::F(5)));
    sql_event(&mut app, rdsdeck::db::session::Event::Idle);
    clear_editor(&mut app);
    typed(&mut app, "CREATE USER x IDENTIFIED BY 'hunter2'");
    persist(key(&mut app, KeyCode::F(5)));
    sql_event(&mut app, rdsdeck::db::session::Event::Idle);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("SELECT 1"), "{saved}");
    assert!(!saved.contains("hunter2"), "a password reached the history: {saved}");
    // Ctrl-P recalls it.
    clear_editor(&mut app);
    app.update(Action::Key(KeyEvent::new(KeyCode::Char('p'), KeyModifiers::CONTROL)));
    assert_eq!(app.f.sql.view.as_ref().unwrap().editor.lines().join("\n"), "SELECT 1");
}

fn bootstrap_inputs() -> rdsdeck::bootstrap::Inputs {
    let conf = rdsdeck::stack::RdsConf::parse(
        "RDS_ENDPOINT=\"rds-iam-auth-db.c0ffee.us-east-1.rds.amazonaws.com\"\nREGION=\"us-east-1\"\nMASTER_SECRET_NAME=\"rds!db-1\"\nDB_NAME=\"node_db\"\nIAM_ADMIN_USER=\"dbadmin\"\n",
        std::path::Path::new("rds.conf"),
    )
    .unwrap();
    rdsdeck::bootstrap::plan::from_rds_conf(&conf, &Default::default(), &Default::default(), None).unwrap()
}

fn bootstrap_app(production: bool) -> App {
    let mut config = Config::default();
    let mut s = if production {
        config.stacks.insert("prod".into(), rdsdeck::config::StackConfig { production: true, ..Default::default() });
        settings(config, Some("prod"))
    } else {
        settings(config, None)
    };
    s.refresh = None;
    let mut app = loaded_app_with(s);
    let effects = key(&mut app, KeyCode::Char('b'));
    assert_eq!(app.mode, Mode::Bootstrap);
    let generation = match &effects[..] {
        [Effect::BootstrapPlan { generation, .. }] => *generation,
        other => panic!("opening the view reads the plan: {other:?}"),
    };
    app.update(Action::Worker(Msg::BootstrapPlan { generation, result: Ok(bootstrap_inputs()) }));
    app
}

#[test]
fn bootstrap_view_runs_resumes_and_asks_on_production() {
    use rdsdeck::bootstrap::{Event, Options, StepId, Status, run::VerifyRow};
    let mut app = bootstrap_app(false);
    snap_all("bootstrap_plan", &mut app);
    // The dry-run toggle goes into the run's options.
    key(&mut app, KeyCode::Char('d'));
    let e = key(&mut app, KeyCode::Char('r'));
    assert!(matches!(&e[..], [Effect::BootstrapRun { opts: Options { dry_run: true, .. }, .. }]), "{e:?}");
    let run_id = app.f.bootstrap.view.as_ref().unwrap().run_id;
    // Keys that start runs are ignored while one runs.
    assert!(key(&mut app, KeyCode::Char('r')).is_empty());
    app.update(Action::Worker(Msg::Bootstrap { run_id, event: Event::Done { ok: true } }));
    key(&mut app, KeyCode::Char('d'));

    // A real run: steps progress, step 5 fails, the view follows it.
    let e = key(&mut app, KeyCode::Char('r'));
    assert!(matches!(&e[..], [Effect::BootstrapRun { opts: Options { from: StepId::Config, only: false, dry_run: false }, .. }]));
    let run_id = app.f.bootstrap.view.as_ref().unwrap().run_id;
    let ev = |app: &mut App, event: Event| {
        app.update(Action::Worker(Msg::Bootstrap { run_id, event }));
    };
    ev(&mut app, Event::Step { id: StepId::Config, status: Status::Ok, detail: "2 application users".into() });
    ev(&mut app, Event::Step { id: StepId::MasterSecret, status: Status::Ok, detail: "secret `rds!db-1`: master user `admin`".into() });
    for sql in rdsdeck::bootstrap::plan::admin_statements(&bootstrap_inputs()) {
        ev(&mut app, Event::Executed { id: StepId::AdminUser, sql });
    }
    ev(&mut app, Event::Step { id: StepId::AdminUser, status: Status::Ok, detail: "`dbadmin` created".into() });
    ev(&mut app, Event::Step { id: StepId::IamLogin, status: Status::Ok, detail: "logged in".into() });
    ev(&mut app, Event::Step { id: StepId::AppUsers, status: Status::Failed, detail: "'node_user'@'%' already exists".into() });
    ev(&mut app, Event::Done { ok: false });
    // A stale run's events are dropped.
    app.update(Action::Worker(Msg::Bootstrap { run_id: run_id - 1, event: Event::Step { id: StepId::Verify, status: Status::Ok, detail: String::new() } }));
    let b = app.f.bootstrap.view.as_ref().unwrap();
    assert_eq!(b.selected, 4, "the failed step is selected");
    assert_eq!(b.report.as_ref().unwrap().step(StepId::Verify).status, Status::Pending);
    snap_all("bootstrap_failed", &mut app);
    // c resumes at the failed step.
    let e = key(&mut app, KeyCode::Char('c'));
    assert!(matches!(&e[..], [Effect::BootstrapRun { opts: Options { from: StepId::AppUsers, only: false, .. }, .. }]), "{e:?}");
    let run_id = app.f.bootstrap.view.as_ref().unwrap().run_id;
    app.update(Action::Worker(Msg::Bootstrap { run_id, event: Event::Verification(vec![VerifyRow {
        user: "node_app".into(), plugin: "AWSAuthenticationPlugin".into(), ssl_type: "ANY".into(),
        grants: vec!["GRANT USAGE ON *.* TO `node_app`@`%` REQUIRE SSL".into()], login: "ok: node_app@% over TLSv1.3".into(), ok: true,
    }]) }));
    app.update(Action::Worker(Msg::Bootstrap { run_id, event: Event::Done { ok: true } }));
    // o runs the selected step only.
    key(&mut app, KeyCode::Up);
    let e = key(&mut app, KeyCode::Char('o'));
    assert!(matches!(&e[..], [Effect::BootstrapRun { opts: Options { from: StepId::IamLogin, only: true, .. }, .. }]), "{e:?}");
    // Esc keeps the plan; reopening does not read it again.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
    assert!(key(&mut app, KeyCode::Char('b')).is_empty());

    // Production: a run needs y.
    let mut app = bootstrap_app(true);
    assert!(key(&mut app, KeyCode::Char('r')).is_empty());
    assert!(draw(&mut app, 120, 30).contains("production stack: press y"));
    assert!(key(&mut app, KeyCode::Char('n')).is_empty(), "any other key cancels");
    assert!(key(&mut app, KeyCode::Char('r')).is_empty());
    assert_eq!(key(&mut app, KeyCode::Char('y')).len(), 1);
    for w in 1..=30 {
        for h in 1..=8 {
            draw(&mut app, w, h);
        }
    }
    // A plan that could not be read says why.
    let mut app = loaded_app();
    let effects = key(&mut app, KeyCode::Char('b'));
    let Effect::BootstrapPlan { generation, .. } = &effects[0] else { panic!() };
    let generation = *generation;
    app.update(Action::Worker(Msg::BootstrapPlan { generation, result: Err("rds.conf:5: IAM_ADMIN_USER is empty; it is required".into()) }));
    assert!(draw(&mut app, 120, 30).contains("IAM_ADMIN_USER is empty"));
}

#[test]
fn forwards_view_starts_reports_flags_dead_and_stops() {
    use rdsdeck::ssm::forward::{State, Status};
    let mut app = loaded_app();
    key(&mut app, KeyCode::Char('f'));
    assert_eq!(app.mode, Mode::Forwards);
    assert!(draw(&mut app, 120, 30).contains("No forwards yet"));
    let e = key(&mut app, KeyCode::Char('n'));
    let (id, spec) = match &e[..] {
        [Effect::ForwardStart { id, spec, .. }] => (*id, spec.clone()),
        other => panic!("n starts a forward: {other:?}"),
    };
    assert_eq!(spec.target, "i-0abc", "through the stack's only host");
    assert_eq!(spec.local_port, 0);
    app.update(Action::Worker(Msg::ForwardStarted { id, result: Ok(()) }));
    let status = Status {
        state: State::Ready,
        local: Some("127.0.0.1:13306".parse().unwrap()),
        session_id: Some("moto-1".into()),
        mode: Some("smux".into()),
        bytes_in: 48 << 10,
        bytes_out: 900,
        open_connections: 2,
        total_connections: 5,
        reconnects: 0,
        started: std::time::SystemTime::UNIX_EPOCH,
        last_error: None,
    };
    app.update(Action::Worker(Msg::ForwardStatus { id, status: Box::new(status.clone()), probe: Some(Ok(Duration::from_millis(3))) }));
    snap_all("forwards_ready", &mut app);
    // A probe that fails marks the forward DEAD, whatever its state says.
    app.update(Action::Worker(Msg::ForwardStatus { id, status: Box::new(status.clone()), probe: Some(Err("nothing came back".into())) }));
    let screen = draw(&mut app, 160, 30);
    assert!(screen.contains("DEAD") && screen.contains("probe: nothing came back"), "{screen}");
    // `e` opens the SQL shell through it; closing the shell comes back here.
    app.update(Action::Worker(Msg::ForwardStatus { id, status: Box::new(status.clone()), probe: Some(Ok(Duration::from_millis(2))) }));
    let e = key(&mut app, KeyCode::Char('e'));
    assert!(e.iter().any(|e| matches!(e, Effect::SqlOpen { spec, .. } if spec.port == 13306)), "{e:?}");
    assert_eq!(app.mode, Mode::Sql);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Forwards, "Esc returns to the forwards view");
    let e = key(&mut app, KeyCode::Char('s'));
    assert!(matches!(&e[..], [Effect::ForwardStop { id: x }] if *x == id), "{e:?}");
    assert!(key(&mut app, KeyCode::Char('s')).is_empty(), "stopping once");
    app.update(Action::Worker(Msg::ForwardStopped { id, last: Some(Box::new(status)) }));
    let screen = draw(&mut app, 160, 30);
    assert!(screen.contains("stopped") && !screen.contains("ok 2 ms"), "no stale probe: {screen}");
    assert!(screen.contains("stopped: n starts a new one") && !screen.contains("SQL shell through it"), "{screen}");
    // A stopped forward offers nothing, and says so.
    assert!(key(&mut app, KeyCode::Char('e')).is_empty());
    assert!(app.status.as_ref().is_some_and(|(_, m)| m.contains("is stopped")), "{:?}", app.status);
    // A forward that cannot start says why.
    let e = key(&mut app, KeyCode::Char('n'));
    let Effect::ForwardStart { id, .. } = &e[0] else { panic!() };
    app.update(Action::Worker(Msg::ForwardStarted { id: *id, result: Err("i-0abc is not connected".into()) }));
    let screen = draw(&mut app, 160, 30);
    assert!(screen.contains("failed") && screen.contains("last error: i-0abc is not connected"), "{screen}");
    for w in 1..=30 {
        for h in 1..=8 {
            draw(&mut app, w, h);
        }
    }
}

#[test]
fn saved_forwards_with_auto_start_start_once_the_stack_is_known() {
    let cfg = Config::parse(
        "[forwards.db]\nauto_start = true\nlocal_port = 13306\n\n[forwards.manual]\nhost = \"other\"\nremote_port = 5432\n",
        std::path::Path::new("c.toml"),
    )
    .unwrap();
    let mut app = discovered(settings(cfg, None));
    let mut e = Vec::new();
    let mut hosts = Vec::new();
    for (k, items) in fixture() {
        if k == Kind::Host {
            hosts = items.clone();
        }
        let effects = deliver(&mut app, k, KindResult::Ok { items });
        if k == Kind::Host {
            assert!(!effects.iter().any(|e| matches!(e, Effect::ForwardStart { .. })), "not before the parameters are known");
        }
        e.extend(effects);
    }
    let g = app.generation;
    let starts: Vec<_> = e.iter().filter_map(|e| if let Effect::ForwardStart { spec, .. } = e { Some(spec.clone()) } else { None }).collect();
    assert_eq!(starts.len(), 1, "only the auto_start one: {e:?}");
    assert_eq!((starts[0].name.as_str(), starts[0].local_port, starts[0].remote_port), ("db", 13306, 3306));
    assert_eq!(starts[0].target, "i-0abc");
    // Once per stack.
    let e = app.update(Action::Worker(Msg::Kind { generation: g, kind: Kind::Host, result: KindResult::Ok { items: hosts } , elapsed: Duration::ZERO }));
    assert!(!e.iter().any(|e| matches!(e, Effect::ForwardStart { .. })));
}

/// `sql_via` in the config (a stack's over the top-level one), `:sql via`, and
/// the shell opening through the forward once it is ready: TCP to its local
/// port, the token and the certificate name still the endpoint's.
#[test]
fn sql_shell_via_a_forward_from_config_and_palette() {
    let config: Config = toml::from_str("sql_via = \"auto\"\n[stacks.direct]\nsql_via = \"direct\"\n").unwrap();
    assert_eq!(settings(config.clone(), None).sql_via.as_deref(), Some("auto"));
    assert_eq!(settings(config.clone(), Some("direct")).sql_via.as_deref(), Some("direct"));

    let mut app = loaded_app_with(settings(config, None));
    // `e` with sql_via = auto starts a forward to the endpoint and waits for it.
    let effects = app.update(Action::Key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE)));
    let (id, spec) = effects
        .iter()
        .find_map(|e| match e {
            Effect::ForwardStart { id, spec, .. } => Some((*id, spec.clone())),
            _ => None,
        })
        .expect("a forward is started");
    let ep = "dev-node-app.proxy-c0ffee.us-east-1.rds.amazonaws.com";
    assert_eq!((spec.host.as_deref(), spec.remote_port, spec.target.as_str()), (Some(ep), 3306, "i-0abc"));
    assert!(app.f.sql.view.is_none(), "the shell waits for the forward");

    let status = |state, local: Option<&str>| rdsdeck::ssm::forward::Status {
        state,
        local: local.map(|l| l.parse().unwrap()),
        session_id: Some("s-1".into()),
        mode: Some("smux".into()),
        bytes_in: 0,
        bytes_out: 0,
        open_connections: 0,
        total_connections: 0,
        reconnects: 0,
        started: std::time::SystemTime::now(),
        last_error: None,
    };
    use rdsdeck::ssm::forward::State;
    let starting = app.update(Action::Worker(Msg::ForwardStatus { id, status: Box::new(status(State::Starting, None)), probe: None }));
    assert!(starting.is_empty() && app.f.sql.view.is_none());
    let ready = app.update(Action::Worker(Msg::ForwardStatus { id, status: Box::new(status(State::Ready, Some("127.0.0.1:40123"))), probe: None }));
    let (spec, via) = ready
        .iter()
        .find_map(|e| match e {
            Effect::SqlOpen { spec, via, .. } => Some((spec.clone(), via.clone())),
            _ => None,
        })
        .expect("the shell opens once the forward is ready");
    assert_eq!((spec.host.as_str(), spec.port), ("127.0.0.1", 40123));
    assert_eq!(spec.tls_name, Some((ep.to_string(), 3306)));
    assert_eq!(via, "forward auto (127.0.0.1:40123)");
    assert_eq!(app.mode, Mode::Sql);

    // `:sql via direct` replaces the shell (the old session is closed).
    let effects = app.run_command("sql via direct");
    assert!(matches!(effects.first(), Some(Effect::SqlClose)), "{effects:?}");
    let spec = effects.iter().find_map(|e| if let Effect::SqlOpen { spec, .. } = e { Some(spec.clone()) } else { None }).unwrap();
    assert_eq!((spec.host.as_str(), spec.tls_name.clone()), (ep, None));
    // `:sql via auto` reuses the running forward instead of starting another.
    let effects = app.run_command("sql via auto");
    assert!(effects.iter().all(|e| !matches!(e, Effect::ForwardStart { .. })), "{effects:?}");
    assert!(effects.iter().any(|e| matches!(e, Effect::SqlOpen { .. })));
    // An unknown name is an error that says what exists.
    assert!(app.run_command("sql via nope").is_empty());
    let (_, msg) = app.status.clone().unwrap();
    assert!(msg.contains("no forward named `nope`") && msg.contains("auto"), "{msg}");
}

/// Every mode's keys come from the key map: rebinding an action in `[keys.MODE]`
/// makes the new key do it, and the hints on screen name the new key.
#[test]
fn a_rebound_key_works_and_its_hint_follows_in_every_mode() {
    let cfg = |text: &str| Config::parse(text, std::path::Path::new("/cfg/config.toml")).unwrap();
    let ctrl = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);

    // The main list.
    let mut app = loaded_app_with(settings(cfg("[keys]\nrefresh = \"f9\"\n"), None));
    assert!(draw(&mut app, 120, 30).lines().last().unwrap().contains("F9 refresh"));
    assert!(key(&mut app, KeyCode::Char('r')).is_empty());
    assert!(key(&mut app, KeyCode::F(9)).iter().any(|e| matches!(e, Effect::Fetch { .. })));

    // The detail view.
    let mut app = loaded_app_with(settings(cfg("[keys.detail]\nback = \"x\"\n"), None));
    app.set_tab(1);
    key(&mut app, KeyCode::Enter);
    assert!(draw(&mut app, 120, 30).lines().last().unwrap().contains("x back"));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Detail, "Esc is not back any more");
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(app.mode, Mode::Normal);

    // Help.
    let mut app = loaded_app_with(settings(cfg("[keys.help]\ndown = \"n\"\n"), None));
    key(&mut app, KeyCode::Char('?'));
    assert!(draw(&mut app, 120, 60).contains("↑n scroll"));
    key(&mut app, KeyCode::Char('n'));
    assert_eq!((app.mode, app.f.help.scroll), (Mode::Help, 1));

    // The palette.
    let mut app = loaded_app_with(settings(cfg("[keys.palette]\ncomplete = \"ctrl-t\"\n"), None));
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "hos");
    assert!(draw(&mut app, 120, 30).lines().last().unwrap().contains("C-t complete"));
    app.update(Action::Key(ctrl('t')));
    assert_eq!(app.f.palette.input, "hosts");

    // The filter.
    let mut app = loaded_app_with(settings(cfg("[keys.filter]\nback = \"ctrl-g\"\n"), None));
    app.set_tab(6);
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "prx");
    assert!(draw(&mut app, 120, 30).lines().last().unwrap().contains("C-g clear"));
    app.update(Action::Key(ctrl('g')));
    assert_eq!((app.mode, app.pane(Kind::SecurityGroup).table.filter.as_str()), (Mode::Normal, ""));

    // The proxy chooser.
    let mut app = build_app(Flags::default(), settings(cfg("[keys.choose]\nopen = \"o\"\n"), None)).unwrap();
    app.start();
    let generation = app.generation;
    app.update(Action::Worker(Msg::Context { generation, result: Ok(ctx()) }));
    let names = vec!["dev-node-app".into(), "prod-node-app".into()];
    app.update(Action::Worker(Msg::Located { generation, result: Err(rdsdeck::stack::DiscoverError::Ambiguous { region: "us-east-1".into(), names }) }));
    assert!(draw(&mut app, 120, 30).contains("o open"));
    let e = key(&mut app, KeyCode::Char('o'));
    assert!(matches!(&e[..], [Effect::Switch { arg, .. }] if arg == "dev-node-app"), "{e:?}");

    // The token view.
    let mut app = loaded_app_with(settings(cfg("[keys.token]\nreveal = \"R\"\n"), None));
    let e = key(&mut app, KeyCode::Char('t'));
    let Effect::Token { generation, target, .. } = &e[0] else { panic!("{e:?}") };
    let tok = "h:3306/?Action=connect&DBUser=node_user&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLEKEY1234%2F20261123%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20261123T210000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
    app.update(Action::Worker(Msg::Token { generation: *generation, target: target.clone(), result: Ok(tok.to_string().into()) }));
    assert!(draw(&mut app, 120, 30).contains("R reveal"));
    key(&mut app, KeyCode::Char('v'));
    assert!(!app.f.token.view.as_ref().unwrap().revealed);
    key(&mut app, KeyCode::Char('R'));
    assert!(app.f.token.view.as_ref().unwrap().revealed);

    // The SQL shell, and its results grid.
    let mut app = loaded_app_with(settings(cfg("[keys.sql]\nrun = \"f9\"\n[keys.sql_grid]\ndown = \"n\"\n"), None));
    key(&mut app, KeyCode::Char('e'));
    assert!(draw(&mut app, 160, 30).lines().last().unwrap().contains("F9 run"));
    typed(&mut app, "SELECT 1");
    assert!(key(&mut app, KeyCode::F(5)).is_empty());
    let e = key(&mut app, KeyCode::F(9));
    assert!(e.iter().any(|e| matches!(e, Effect::SqlRun(_))), "{e:?}");
    sql_event(&mut app, rdsdeck::db::session::Event::Columns(vec!["n".into()]));
    sql_event(&mut app, rdsdeck::db::session::Event::Rows(vec![vec![rdsdeck::db::rows::Cell::Text("1".into())]; 3]));
    sql_event(&mut app, rdsdeck::db::session::Event::Idle);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.f.sql.view.as_ref().unwrap().result().unwrap().row, 1);

    // Forwards.
    let mut app = loaded_app_with(settings(cfg("[keys.forwards]\nnew = \"a\"\n"), None));
    key(&mut app, KeyCode::Char('f'));
    assert!(draw(&mut app, 160, 30).lines().last().unwrap().contains(" a new forward"));
    assert!(key(&mut app, KeyCode::Char('n')).is_empty());
    assert!(matches!(&key(&mut app, KeyCode::Char('a'))[..], [Effect::ForwardStart { .. }]));

    // The bootstrap.
    let mut s = settings(cfg("[keys.bootstrap]\nrun = \"x\"\n"), None);
    s.refresh = None;
    let mut app = loaded_app_with(s);
    let e = key(&mut app, KeyCode::Char('b'));
    let Effect::BootstrapPlan { generation, .. } = &e[0] else { panic!("{e:?}") };
    let generation = *generation;
    app.update(Action::Worker(Msg::BootstrapPlan { generation, result: Ok(bootstrap_inputs()) }));
    let screen = draw(&mut app, 160, 30);
    assert!(screen.contains("x runs all steps") && screen.lines().last().unwrap().contains(" x run all"), "{screen}");
    assert!(key(&mut app, KeyCode::Char('r')).is_empty());
    assert!(matches!(&key(&mut app, KeyCode::Char('x'))[..], [Effect::BootstrapRun { .. }]));
}

#[test]
fn key_conflicts_are_reported_at_start_with_the_file_lines_and_both_actions() {
    let parse = |text: &str| Config::parse(text, std::path::Path::new("/cfg/config.toml")).unwrap();
    let with_path = |c: Config| {
        let mut s = settings(c, None);
        s.config_path = Some("/cfg/config.toml".into());
        s
    };
    // Two of the user's keys for two actions of one mode: refused, naming both lines.
    let e = build_app(Flags::default(), with_path(parse("theme = \"dark\"\n[keys.sql]\nrun = \"ctrl-x\"\nexport = \"ctrl-x\"\n"))).err().expect("a conflict");
    assert!(e.contains("/cfg/config.toml:3") && e.contains("/cfg/config.toml:4") && e.contains("run") && e.contains("export"), "{e}");
    // A mode that does not exist, an action a mode does not have.
    let e = build_app(Flags::default(), with_path(parse("[keys.nope]\nrun = \"x\"\n"))).err().expect("no such mode");
    assert!(e.contains("[keys.nope]") && e.contains("sql"), "{e}");
    let e = build_app(Flags::default(), with_path(parse("[keys.token]\nrun = \"x\"\n"))).err().expect("no such action");
    assert!(e.contains("/cfg/config.toml:2") && e.contains("reveal"), "{e}");
    // Taking another action's default key works and is said in the log.
    let mut app = build_app(Flags::default(), with_path(parse("[keys]\nrefresh = \"q\"\n"))).unwrap();
    app.start();
    let log: Vec<String> = app.f.log.lines.iter().map(|l| l.text.clone()).collect();
    assert!(log.iter().any(|l| l.contains("/cfg/config.toml:2") && l.contains("refresh") && l.contains("quit")), "{log:?}");
}

/// A message on the status line gives the footer back to the key hints after a while.
#[test]
fn status_messages_expire_and_the_key_hints_come_back() {
    let mut app = loaded_app();
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "frobnicate");
    key(&mut app, KeyCode::Enter);
    let footer = |app: &mut App| draw(app, 120, 30).lines().last().unwrap().to_string();
    assert!(footer(&mut app).contains("unknown command"));
    let until = app.next_deadline().expect("a wake-up to clear the message");
    assert!(until <= app.now + rdsdeck::tui::app::STATUS_FOR);
    app.update(Action::Tick(app.now + Duration::from_secs(2)));
    assert!(footer(&mut app).contains("unknown command"), "still there after 2 s");
    app.update(Action::Tick(until));
    assert!(app.status.is_none());
    assert!(footer(&mut app).contains("? help"), "the hints are back");
    assert_eq!(app.next_deadline(), None, "and nothing more to wake up for");
}

/// The doctor view, fed findings as the runner sends them: the first failure is selected and marked,
/// its evidence and fix below.
#[test]
fn doctor_view_snapshots() {
    use rdsdeck::doctor::{CHECKS, Finding, Status};
    let mut app = loaded_app();
    use rdsdeck::tui::features::doctor::DoctorMsg;
    let e = key(&mut app, KeyCode::Char('D'));
    assert!(matches!(&e[..], [Effect::Job { to: Mode::Doctor, .. }]), "D runs the doctor: {e:?}");
    let run = app.f.doctor.run;
    assert_eq!(app.mode, Mode::Doctor);
    for (id, title, _) in CHECKS {
        let (status, summary, fix) = match *id {
            "network.host-proxy" => (Status::Fail, "no rule lets the app host (sg-ec2) reach the proxy (sg-prx) on 3306".to_string(), Some("aws ec2 authorize-security-group-ingress --group-id sg-prx --protocol tcp --port 3306 --source-group sg-ec2".to_string())),
            "login" => (Status::Skipped, "waits for network.host-proxy".to_string(), None),
            _ => (Status::Pass, format!("{title}: ok"), None),
        };
        let finding = Finding { id, title, status, summary, evidence: vec![format!("evidence of {id}")], fix, waited_for: None };
        app.update(Action::Worker(Msg::To { to: Mode::Doctor, msg: Box::new(DoctorMsg::Finding(run, Box::new(finding))) }));
    }
    // A stale run's message is dropped.
    app.update(Action::Worker(Msg::To { to: Mode::Doctor, msg: Box::new(DoctorMsg::Done(run + 7)) }));
    assert!(app.f.doctor.running.is_some());
    app.update(Action::Worker(Msg::To { to: Mode::Doctor, msg: Box::new(DoctorMsg::Done(run)) }));
    snap_all("doctor_failed", &mut app);
    // y copies the selected (first failing) check's fix.
    assert!(matches!(&key(&mut app, KeyCode::Char('y'))[..], [Effect::Copy(_)]));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
}

/// The light theme paints its own background, so it stays readable on a dark terminal.
#[test]
fn the_light_theme_sets_its_own_background() {
    let mut app = loaded_app();
    // Colours on whatever the environment says about NO_COLOR.
    app.theme = rdsdeck::tui::theme::Theme::load("light", None, false).unwrap();
    app.update(Action::Resize(80, 24));
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| views::render(&app, f)).unwrap();
    let buf = t.backend().buffer();
    let white = ratatui::style::Color::Rgb(255, 255, 255);
    // A blank cell inside the overview, and the footer's empty end.
    assert_eq!(buf[(70, 20)].bg, white);
    assert_eq!(buf[(79, 23)].bg, white);
}

/// The pulse view (`p`): every series of the proxy and the instance as a sparkline with latest and
/// range, the alarms (ALARM first), the logs with refused logins; the window keys change the
/// window and ask again; answers for an older window are dropped.
#[test]
fn pulse_view_snapshots() {
    use rdsdeck::pulse::logs::{Event, Found, Group};
    use rdsdeck::pulse::{Alarm, Pulse, SERIES, Series};
    use rdsdeck::tui::features::pulse::PulseMsg;
    let mut app = loaded_app();
    let start = 1_764_000_000i64;
    app.wall = std::time::UNIX_EPOCH + Duration::from_secs(start as u64 + 3600);
    let e = key(&mut app, KeyCode::Char('p'));
    assert_eq!(e.iter().filter(|e| matches!(e, Effect::Job { to: Mode::Pulse, .. })).count(), 2, "metrics and logs are read: {e:?}");
    assert_eq!(app.mode, Mode::Pulse);
    let round = app.f.pulse.round;
    // An hour of minutes: a burst of refused logins and a spike 40 minutes in.
    let series: Vec<Series> = SERIES
        .iter()
        .map(|d| {
            Series::new(
                d,
                (0..60)
                .map(|i| {
                    let incident = (40..48).contains(&i);
                    let v = match (d.failures, incident) {
                        (true, true) if d.metric.contains("Throttling") || d.metric.contains("InvalidToken") => 0.0,
                        (true, true) => 30.0,
                        (true, false) => 0.0,
                        (false, true) => 100.0 + i as f64,
                        (false, false) => 20.0 + (i % 7) as f64,
                    };
                    (start + 60 * i, v)
                })
                    .collect(),
            )
        })
        .collect();
    let alarms = vec![
        Alarm { name: "proxy-pinned".into(), state: "ALARM".into(), metric: "DatabaseConnectionsCurrentlySessionPinned".into(), reason: "1 datapoint was greater than 0.5".into(), updated: None },
        Alarm { name: "proxy-auth-failures".into(), state: "OK".into(), metric: "ClientConnectionsSetupFailedAuth".into(), reason: "recovered".into(), updated: None },
    ];
    let data = Pulse { window: "1h", period: 60, start, end: start + 3600, proxy: Some("dev-node-app".into()), instance: Some("rds-iam-auth-db".into()), series, alarms: Ok(alarms) };
    let to = |m: PulseMsg| Action::Worker(Msg::To { to: Mode::Pulse, msg: Box::new(m) });
    app.update(to(PulseMsg::Metrics(round, Box::new(Ok(data.clone())))));
    let events = (0..6)
        .map(|i| Event {
            time: (start + 2400 + i * 20) * 1000,
            group: if i % 2 == 0 { Group::Iam } else { Group::Proxy },
            message: format!("IAM authentication failed for user 'node_user': not authorized to perform rds-db:connect ({i})"),
            id: format!("e{i}"),
        })
        .chain(std::iter::once(Event { time: (start + 3000) * 1000, group: Group::Slow, message: "# Query_time: 3.4\nSELECT 1".into(), id: "s".into() }))
        .collect();
    app.update(to(PulseMsg::Logs(round, Box::new(Found { events, errors: vec![], truncated: false }))));
    snap_all("pulse", &mut app);
    let screen = draw(&mut app, 80, 24);
    assert!(screen.contains("proxy failed auth") && screen.contains("ALARM") && screen.contains("not authorized"), "{screen}");
    // A wider window: asked again, with a new round; the old round's answer is dropped.
    let e = key(&mut app, KeyCode::Char(']'));
    assert_eq!(e.iter().filter(|e| matches!(e, Effect::Job { to: Mode::Pulse, .. })).count(), 2);
    assert_eq!(app.f.pulse.window, rdsdeck::pulse::Window::H3);
    app.update(to(PulseMsg::Metrics(round, Box::new(Ok(data)))));
    assert!(app.f.pulse.data.is_none(), "a stale answer is dropped");
    assert!(draw(&mut app, 80, 24).contains("Pulse · last 3h"));
    // While following, the view asks for new log events on its own clock; Esc leaves and stops it.
    let due = app.next_deadline().expect("the view has a clock");
    assert!(due <= app.now + Duration::from_secs(5));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
}

/// The tour (`T`): the contents, then each chapter's first screen at 80x24 (snapshots); the step's
/// own key does it, → waits until it is done, s skips; every button answers a click; it reads on the
/// light and high-contrast themes and without colour.
#[test]
fn tour_view_snapshots_and_buttons() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    use rdsdeck::tour::lessons::{Outcome, Said, Tone};
    use rdsdeck::tui::features::tour::TourMsg;
    let mut app = loaded_app();
    let e = key(&mut app, KeyCode::Char('T'));
    assert_eq!(app.mode, Mode::Tour);
    assert!(e.iter().any(|e| matches!(e, Effect::Job { to: Mode::Tour, .. })), "the chapters are read by a job: {e:?}");
    let chapters = rdsdeck::tour::chapters(None).unwrap();
    let to = |m: TourMsg| Action::Worker(Msg::To { to: Mode::Tour, msg: Box::new(m) });
    app.update(to(TourMsg::Loaded(Ok(chapters.clone()), rdsdeck::tour::Progress::default())));
    insta::assert_snapshot!("tour_contents_80x24", draw(&mut app, 80, 24));
    for (i, c) in chapters.iter().enumerate() {
        // From the contents: down to the chapter, Enter.
        key(&mut app, KeyCode::Tab);
        for _ in 0..i {
            key(&mut app, KeyCode::Down);
        }
        key(&mut app, KeyCode::Enter);
        let screen = draw(&mut app, 80, 24);
        assert!(screen.contains(&format!("Tour · {}/{}", i + 1, chapters.len())), "{screen}");
        insta::assert_snapshot!(format!("tour_{}_80x24", c.id), screen);
        // Back to the top of the contents for the next one.
        key(&mut app, KeyCode::Tab);
        for _ in 0..chapters.len() {
            key(&mut app, KeyCode::Up);
        }
    }
    // Every step's text is whole at 80x24: its last words are on screen (s skips to the next step).
    key(&mut app, KeyCode::Enter);
    for c in &chapters {
        for st in &c.steps {
            let screen = draw(&mut app, 80, 24);
            let last: Vec<&str> = st.text.split_whitespace().filter(|w| !w.contains('{') && !w.contains('`')).collect();
            let tail = last[last.len().saturating_sub(2)..].join(" ");
            let flat = screen.lines().map(|l| l.trim_matches(|ch: char| ch == '│' || ch == ' ')).collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&tail), "{} / {}: `{tail}` is cut off at 80x24:\n{screen}", c.id, st.title);
            key(&mut app, KeyCode::Char('s'));
        }
    }
    // Back to the contents' top.
    key(&mut app, KeyCode::Tab);
    for _ in 0..chapters.len() {
        key(&mut app, KeyCode::Up);
    }
    // The first step again: → is refused until the step is done; its key starts it (a job).
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.f.tour.progress.step, 0);
    key(&mut app, KeyCode::Right);
    assert_eq!(app.f.tour.progress.step, 0, "not done yet");
    assert!(draw(&mut app, 80, 24).contains("press l first"), "the refusal says which key");
    let e = key(&mut app, KeyCode::Char('l'));
    assert!(e.iter().any(|e| matches!(e, Effect::Job { to: Mode::Tour, .. })));
    assert!(app.f.tour.running.is_some());
    // An outcome for an older run is dropped; this run's is shown, and → goes on.
    let done = || Outcome { done: true, lines: vec![Said(Tone::Focus, "▶ App host   ✓ i-0abc is running, SSM Online".into())], token: None };
    app.update(to(TourMsg::Done(0, Box::new(done()))));
    assert!(app.f.tour.outcome.is_none());
    app.update(to(TourMsg::Done(1, Box::new(done()))));
    assert!(draw(&mut app, 80, 24).contains("SSM Online"));
    // A result taller than its box: the frame says there is more, and ↓ reaches its very last line
    // however the long words wrap (a newcomer could not reach the end of some results).
    let mut long = done();
    long.lines.extend((0..24).map(|i| Said(Tone::Plain, format!("{i}: arn:aws:rds:us-east-1:123456789012:db-proxy:prx-0123456789abcdef0123456789abcdef01234567{i} allows all traffic out to"))));
    long.lines.push(Said(Tone::Focus, "0.0.0.0/0 is the last line".into()));
    key(&mut app, KeyCode::Char('l'));
    app.update(to(TourMsg::Done(2, Box::new(long))));
    let screen = draw(&mut app, 80, 24);
    assert!(screen.contains("↓ more below") && !screen.contains("the last line"), "{screen}");
    // A page at a time (PgDn, Space) — a page is the result's height, less a line of context.
    key(&mut app, KeyCode::PageDown);
    let paged = app.f.tour.scroll;
    assert!(paged > 3, "a page, not a line: {paged}");
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(app.f.tour.scroll, paged * 2);
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.f.tour.scroll, paged);
    for _ in 0..200 {
        key(&mut app, KeyCode::Down);
    }
    let screen = draw(&mut app, 80, 24);
    assert!(screen.contains("0.0.0.0/0 is the last line") && screen.contains("↑ more above") && !screen.contains("more below"), "{screen}");
    key(&mut app, KeyCode::Char('l'));
    app.update(to(TourMsg::Done(3, Box::new(done()))));
    key(&mut app, KeyCode::Right);
    assert_eq!(app.f.tour.progress.step, 1);
    // Back shows what the step did; it stays done.
    key(&mut app, KeyCode::Left);
    assert!(draw(&mut app, 80, 24).contains("SSM Online"), "the result is kept");
    key(&mut app, KeyCode::Right);
    assert_eq!(app.f.tour.progress.step, 1);
    // s skips a step not done; ← goes back.
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.f.tour.progress.step, 2);
    key(&mut app, KeyCode::Left);
    assert_eq!(app.f.tour.progress.step, 1);
    // The mouse: the bottom row's buttons, by where they are drawn.
    let click = |app: &mut App, label: &str| {
        let screen = draw(app, 80, 24);
        let (row, line) = screen.lines().enumerate().find(|(_, l)| l.contains(label)).unwrap_or_else(|| panic!("no {label}:\n{screen}"));
        let col = line.find(label).map(|b| line[..b].chars().count()).unwrap() as u16;
        app.update(Action::Mouse(MouseEvent { kind: MouseEventKind::Down(MouseButton::Left), column: col + 1, row: row as u16, modifiers: KeyModifiers::NONE }))
    };
    click(&mut app, "[s skip]");
    assert_eq!(app.f.tour.progress.step, 2);
    click(&mut app, "[← back]");
    assert_eq!(app.f.tour.progress.step, 1);
    let e = click(&mut app, "[l read the stack]");
    assert!(e.iter().any(|e| matches!(e, Effect::Job { to: Mode::Tour, .. })), "the step's button does it");
    click(&mut app, "[Tab contents]");
    assert!(app.f.tour.contents);
    click(&mut app, "[→ start]");
    assert!(!app.f.tour.contents);
    click(&mut app, "[Esc leave]");
    assert_eq!(app.mode, Mode::Normal);
    // Themes: light, high contrast, and no colour at all still read.
    key(&mut app, KeyCode::Char('T'));
    for (name, no_color) in [("light", false), ("high-contrast", false), ("dark", true)] {
        app.theme = rdsdeck::tui::theme::Theme::load(name, None, no_color).unwrap();
        let screen = draw(&mut app, 80, 24);
        assert!(screen.contains("Tour · 1/7") && screen.contains("[l read the stack]"), "{name}: {screen}");
    }
}
