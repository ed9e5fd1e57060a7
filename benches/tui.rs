//! Hot paths of the browser: one frame of a 10,000-row instance table, and
//! one filter keystroke over 100,000 rows. Goals: < 2 ms and < 16 ms. One frame
//! of the pulse view (17 series of 1,440 points): < 1 ms.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::{Terminal, backend::TestBackend};
use rdsdeck::config::Config;
use rdsdeck::settings::{Flags, Settings};
use rdsdeck::stack::{Health, Kind, Resource};
use rdsdeck::tui::table::TableView;
use rdsdeck::tui::{app::Action, build_app, views};
use std::hint::black_box;

fn rows(n: usize) -> Vec<Resource> {
    (0..n)
        .map(|i| {
            let name = format!("app-{:05}-db-{}", i, ["east", "west", "prod", "stage"][i % 4]);
            Resource::new(Kind::Instance, format!("arn:aws:rds:us-east-1:123456789012:db:{name}"), &name)
                .health(if i % 17 == 0 { Health::Warn } else { Health::Ok })
                .cells([
                    name.clone(),
                    "available".into(),
                    "mysql 8.4.7".into(),
                    "db.t3.micro".into(),
                    if i % 5 == 0 { "DISABLED".into() } else { "enabled".into() },
                    format!("{name}.c0ffee.us-east-1.rds.amazonaws.com:3306"),
                    "rds-ca-rsa2048-g1".into(),
                ])
        })
        .collect()
}

fn bench_render(c: &mut Criterion) {
    let args = Flags { region: Some("us-east-1".into()), ..Flags::default() };
    let settings = Settings::from_config(&args, Config::default(), None).unwrap();
    let mut app = build_app(args, settings).unwrap();
    let p = app.f.browser.panes.get_mut(&Kind::Instance).unwrap();
    p.table.set_items(rows(10_000));
    p.loaded = true;
    app.set_tab(Kind::ALL.iter().position(|k| *k == Kind::Instance).unwrap() + 1);
    app.update(Action::Resize(200, 50));
    // Somewhere in the middle of the list.
    app.f.browser.panes.get_mut(&Kind::Instance).unwrap().table.select(5_000);
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    c.bench_function("render_instance_table_10k_rows_200x50", |b| {
        b.iter(|| {
            term.draw(|f| views::render(black_box(&app), f)).unwrap();
        })
    });
}

fn bench_filter(c: &mut Criterion) {
    let mut base = TableView::default();
    base.set_items(rows(100_000));
    // The first keystroke scans every row.
    c.bench_function("filter_keystroke_100k_rows_first", |b| {
        b.iter_batched(|| base.clone(), |mut t| { t.set_filter(black_box("w")); t }, BatchSize::LargeInput)
    });
    // Typing on: each keystroke narrows the previous result.
    let mut typed = base.clone();
    typed.set_filter("we");
    c.bench_function("filter_keystroke_100k_rows_narrowing", |b| {
        b.iter_batched(|| typed.clone(), |mut t| { t.set_filter(black_box("wes")); t }, BatchSize::LargeInput)
    });
    // Backspace widens again: a full rescan.
    c.bench_function("filter_keystroke_100k_rows_backspace", |b| {
        b.iter_batched(|| typed.clone(), |mut t| { t.set_filter(black_box("w")); t }, BatchSize::LargeInput)
    });
}

/// The SQL grid holding its maximum of rows (200k kept of a 1M-row result):
/// one frame scrolled to the middle (a scroll step is one frame), and taking
/// in one 512-row chunk from the session.
fn bench_sql_grid(c: &mut Criterion) {
    use rdsdeck::db::output::Cell;
    use rdsdeck::db::session::Event;
    let args = Flags { region: Some("us-east-1".into()), ..Flags::default() };
    let settings = Settings::from_config(&args, Config::default(), None).unwrap();
    let mut app = build_app(args, settings).unwrap();
    app.update(Action::Resize(200, 50));
    let row = |i: usize| vec![Cell::Text(i.to_string()), Cell::Text(format!("user-{i}")), Cell::Text(format!("{}", i as f64 * 1.5)), if i % 7 == 0 { Cell::Null } else { Cell::Text("note".into()) }];
    let mut q = rdsdeck::tui::features::sql::SqlView::new("node_app@localhost:3306".into(), Vec::new(), None, "");
    q.on_event(Event::Columns(vec!["id".into(), "name".into(), "amount".into(), "note".into()]), app.now);
    for chunk in 0..(rdsdeck::tui::features::sql::MAX_ROWS / 512 + 1) {
        q.on_event(Event::Rows((chunk * 512..(chunk + 1) * 512).map(row).collect()), app.now);
    }
    q.focus_grid = true;
    q.results.last_mut().expect("the rows made a result").row = 100_000;
    app.f.sql.view = Some(q);
    app.mode = rdsdeck::tui::app::Mode::Sql;
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    c.bench_function("sql_grid_frame_200k_rows_kept_200x50", |b| {
        b.iter(|| {
            let r = app.f.sql.view.as_mut().unwrap().results.last_mut().unwrap();
            r.row = if r.row == 100_000 { 100_001 } else { 100_000 };
            term.draw(|f| views::render(black_box(&app), f)).unwrap();
        })
    });
    let chunk: Vec<Vec<Cell>> = (0..512).map(row).collect();
    c.bench_function("sql_grid_take_512_row_chunk", |b| {
        b.iter_batched(
            || (rdsdeck::tui::features::sql::SqlView::new("x".into(), Vec::new(), None, ""), chunk.clone()),
            |(mut q, rows)| {
                q.on_event(Event::Rows(rows), std::time::Instant::now());
                q
            },
            BatchSize::SmallInput,
        )
    });
}

/// One frame of the pulse view with every series at 1,440 points (a day of minutes), at 200x50 and
/// 80x24; goal < 1 ms. And following 100k log lines: the buffer stays at its cap (RSS printed).
fn bench_pulse(c: &mut Criterion) {
    use rdsdeck::pulse::logs::{Event, Group, Tail};
    use rdsdeck::pulse::{Pulse, SERIES, Series};
    let args = Flags { region: Some("us-east-1".into()), ..Flags::default() };
    let settings = Settings::from_config(&args, Config::default(), None).unwrap();
    let mut app = build_app(args, settings).unwrap();
    let series: Vec<Series> = SERIES
        .iter()
        .map(|d| Series::new(d, (0..1440).map(|i| (1_764_000_000 + 60 * i as i64, ((i * 37) % 101) as f64)).collect()))
        .collect();
    app.f.pulse.data = Some(Pulse { window: "24h", period: 60, start: 0, end: 0, proxy: Some("p".into()), instance: Some("i".into()), series, alarms: Ok(vec![]) });
    let mut tail = Tail::new(0, rdsdeck::tui::features::pulse::LOG_CAP);
    let ev = |i: i64| Event { time: i, group: Group::Iam, message: format!("{i} IAM authentication failed for user 'node_user': not authorized to perform rds-db:connect on arn:aws:rds-db:us-east-1:123456789012:dbuser:prx-0123456789abcdef/node_user"), id: i.to_string() };
    tail.push((0..2000).map(ev).collect());
    app.f.pulse.tail = tail;
    app.mode = rdsdeck::tui::shared::Mode::Pulse;
    for (w, h) in [(200u16, 50u16), (80, 24)] {
        app.update(Action::Resize(w, h));
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        c.bench_function(&format!("render_pulse_17_series_1440_points_{w}x{h}"), |b| {
            b.iter(|| {
                term.draw(|f| views::render(black_box(&app), f)).unwrap();
            })
        });
    }
    // Following 100k lines, 500 a read: the buffer holds its cap, the rest is counted.
    let rss = || std::fs::read_to_string("/proc/self/status").ok().and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| l.to_string())).unwrap_or_default();
    let before = rss();
    let mut t = Tail::new(0, rdsdeck::tui::features::pulse::LOG_CAP);
    for k in 0..200 {
        t.push((k * 500..(k + 1) * 500).map(ev).collect());
    }
    eprintln!("follow 100k log lines: {} kept, {} counted as older; RSS {before} -> {}", t.events.len(), t.dropped, rss());
    c.bench_function("follow_100k_log_lines_in_reads_of_500", |b| {
        b.iter(|| {
            let mut t = Tail::new(0, rdsdeck::tui::features::pulse::LOG_CAP);
            for k in 0..200 {
                t.push((k * 500..(k + 1) * 500).map(ev).collect());
            }
            black_box(t.events.len())
        })
    });
}

criterion_group!(benches, bench_render, bench_filter, bench_sql_grid, bench_pulse);
criterion_main!(benches);
