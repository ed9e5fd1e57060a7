use clap::Parser;
use rdsdeck::cli::{Cli, Command, run_bootstrap, run_describe, run_doctor, run_forward, run_list, run_logs, run_metrics, run_shell, run_sql, run_token, run_tour};
use rdsdeck::settings::Settings;

fn init_logging(path: Option<std::path::PathBuf>) {
    let path = path.or_else(|| rdsdeck::config::Config::state_dir().map(|d| d.join("rdsdeck.log")));
    let Some(path) = path else { return };
    // 0600 in a 0700 folder; a symlink planted at the path is refused.
    let Ok(file) = rdsdeck::files::append_private(&path) else { return };
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("RDSDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("rdsdeck=info,warn"));
    // Whatever RDSDECK_LOG asks, the crates that log secrets at their most verbose stay quieter,
    // and every line is redacted on its way to the file.
    for cap in rdsdeck::redact::CAPS {
        if let Ok(d) = cap.parse() {
            filter = filter.add_directive(d);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(rdsdeck::redact::Redacting(file)))
        .try_init();
}

fn main() {
    let cli = Cli::parse();
    if let Some(Command::Completions { shell }) = &cli.command {
        std::process::exit(rdsdeck::cli::run_completions(*shell));
    }
    init_logging(cli.global.log_file.clone());
    let settings = match Settings::resolve(&cli.global.flags()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rdsdeck: error: {}", rdsdeck::untrusted::text(&e.to_string()));
            std::process::exit(2);
        }
    };
    // `token` is one signature and `sql` one connection: a single-threaded
    // runtime starts faster and streams rows without cross-thread wake-ups.
    let mut builder = match &cli.command {
        Some(Command::Token(_) | Command::Sql(_)) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rdsdeck: error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(async {
        match &cli.command {
            Some(Command::List(args)) => run_list(&settings, args).await,
            Some(Command::Describe(args)) => run_describe(&settings, args).await,
            Some(Command::Token(args)) => run_token(&settings, args).await,
            Some(Command::Sql(args)) => run_sql(&settings, args).await,
            Some(Command::Bootstrap(args)) => run_bootstrap(&settings, args).await,
            Some(Command::Forward(args)) => run_forward(&settings, args).await,
            Some(Command::Shell(args)) => run_shell(&settings, args).await,
            Some(Command::Doctor(args)) => run_doctor(&settings, args).await,
            Some(Command::Metrics(args)) => run_metrics(&settings, args).await,
            Some(Command::Logs(args)) => run_logs(&settings, args).await,
            Some(Command::Tour(args)) => run_tour(cli.global.flags(), settings, args).await,
            Some(Command::Completions { .. }) => Ok(0),
            None => rdsdeck::tui::run_with_args(cli.global.flags(), settings).await,
        }
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match code {
        Ok(c) => std::process::exit(c),
        Err(e) => {
            // After a hang-up stderr may be gone: that is not a reason to panic.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "rdsdeck: error: {}", rdsdeck::untrusted::text(&format!("{e:#}")));
            std::process::exit(1);
        }
    }
}
