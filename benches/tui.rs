//! Hot paths of the browser: one frame of a 10,000-row instance table, and
//! one filter keystroke over 100,000 rows. Goals: < 2 ms and < 16 ms.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::{Terminal, backend::TestBackend};
use rdsdeck::config::Config;
use rdsdeck::settings::{GlobalArgs, Settings};
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
    let args = GlobalArgs { region: Some("us-east-1".into()), ..GlobalArgs::default() };
    let settings = Settings::from_config(&args, Config::default(), None).unwrap();
    let mut app = build_app(args, settings).unwrap();
    let p = app.panes.get_mut(&Kind::Instance).unwrap();
    p.table.set_items(rows(10_000));
    p.loaded = true;
    app.set_tab(Kind::ALL.iter().position(|k| *k == Kind::Instance).unwrap() + 1);
    app.update(Action::Resize(200, 50));
    // Somewhere in the middle of the list.
    app.panes.get_mut(&Kind::Instance).unwrap().table.select(5_000);
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

criterion_group!(benches, bench_render, bench_filter);
criterion_main!(benches);
