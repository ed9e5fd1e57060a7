//! The command line: `rdsdeck` (the TUI) and its subcommands, which print
//! what the core returns.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use unicode_width::UnicodeWidthStr;

use crate::aws::AwsContext;
use crate::settings::{GlobalArgs, Settings};
use crate::stack::{Kind, KindResult, Snapshot, locate, snapshot};

#[derive(Debug, Parser)]
#[command(name = "rdsdeck", version, about = "Terminal ops console for the RDS Proxy + IAM auth stack", long_about = None)]
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

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| {
        format!("unknown kind `{s}`; one of: {}", Kind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "))
    })
}

/// Exit codes: 0 ok, 1 nothing discovered / runtime failure, 2 bad input.
pub async fn run_list(settings: &Settings, args: &ListArgs) -> anyhow::Result<i32> {
    for w in &settings.warnings {
        eprintln!("rdsdeck: warning: {w}");
    }
    let ctx = match AwsContext::load(&settings.aws).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rdsdeck: error: {e}");
            return Ok(1);
        }
    };
    let loc = match locate(&ctx, &settings.anchor, &settings.parameter_prefix).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rdsdeck: error: {e}");
            return Ok(1);
        }
    };
    let kinds: Vec<Kind> = if args.kind.is_empty() { Kind::ALL.to_vec() } else { args.kind.clone() };
    let snap = snapshot(&ctx, &loc, &kinds).await;
    let mut out = std::io::stdout().lock();
    let written = match args.output {
        Output::Json => serde_json::to_writer_pretty(&mut out, &snap).map_err(std::io::Error::from).and_then(|_| writeln!(out)),
        Output::Table => write_tables(&mut out, &snap),
    };
    match written.and_then(|_| out.flush()) {
        Ok(()) => Ok(0),
        // `rdsdeck list | head`: the reader left; that is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(e.into()),
    }
}

pub fn write_tables(out: &mut impl Write, snap: &Snapshot) -> std::io::Result<()> {
    let who = match &snap.identity {
        Ok(i) => format!("{} ({})", i.arn, i.account),
        Err(e) => format!("unknown ({e})"),
    };
    writeln!(
        out,
        "stack: {}  region: {}  profile: {}  identity: {}",
        snap.stack.proxy.as_deref().unwrap_or("(no proxy)"),
        snap.stack.region,
        snap.profile,
        who
    )?;
    for (kind, res) in &snap.kinds {
        writeln!(out)?;
        match res {
            KindResult::Error { error } => writeln!(out, "{} — failed: {error}", kind.name().to_uppercase())?,
            KindResult::Ok { items } => {
                writeln!(out, "{} ({})", kind.name().to_uppercase(), items.len())?;
                let rows: Vec<&Vec<String>> = items.iter().map(|r| &r.cells).collect();
                write_table(out, kind.columns(), &rows)?;
            }
        }
    }
    Ok(())
}

fn write_table(out: &mut impl Write, header: &[&str], rows: &[&Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.width().min(60));
            }
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let c: String = if c.width() > 60 { format!("{}…", c.chars().take(59).collect::<String>()) } else { c.to_string() };
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
