//! The README's "Try it on the sandbox" examples, run as written: each line of the block between
//! `<!-- sandbox-examples:start -->` and `<!-- sandbox-examples:end -->` runs in bash (pipes and
//! all) with what `scripts/shell` gives — the sandbox's variables and `rdsdeck` on PATH — and must
//! exit 0 with output. A README edit that breaks an example fails here.

mod common;

use common::{Sandbox, run};
use std::process::Command;

fn examples() -> Vec<String> {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).expect("README.md");
    let start = readme.find("<!-- sandbox-examples:start -->").expect("the examples' start marker");
    let end = readme.find("<!-- sandbox-examples:end -->").expect("the examples' end marker");
    readme[start..end].lines().skip(1).map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

#[test]
fn the_readme_sandbox_examples_run_as_written() {
    let lines = examples();
    assert!(lines.len() >= 8, "{lines:?}");
    assert!(lines.iter().all(|l| l.starts_with("rdsdeck ")), "every line is an rdsdeck command: {lines:?}");
    let sb = Sandbox::start();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_rdsdeck")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    for line in &lines {
        let probe = sb.cmd();
        let mut c = Command::new("bash");
        c.env_clear();
        for (k, v) in probe.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        c.env("PATH", &path).args(["-o", "pipefail", "-c", line]);
        let out = run(&mut c);
        assert_eq!(out.code(), Some(0), "{line}\n{}", out.dump());
        assert!(!out.stdout.trim().is_empty(), "{line}: no output\n{}", out.dump());
    }
}
