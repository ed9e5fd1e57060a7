//! The README's screenshots show the views as they are: `screenshots/make.sh` records, for each
//! shot, a hash of the files that draw it (`screenshots/sources.txt`) in
//! `screenshots/manifest.txt`; when one of those files changes and the shot is not made again,
//! this fails and names the command to run.

mod common;

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// `sources.txt`: shot name (or `*`) → its globs.
fn sources(root: &Path) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(root.join("screenshots/sources.txt")).expect("screenshots/sources.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap_or_else(|| panic!("`{l}` is not NAME: FILES"));
            (k.trim().to_string(), v.split_whitespace().map(str::to_string).collect())
        })
        .collect()
}

/// A path, or `dir/*.ext` (one folder, one `*` in the file name).
fn expand(root: &Path, glob: &str) -> Vec<String> {
    let Some((dir, pattern)) = glob.rsplit_once('/').filter(|(_, p)| p.contains('*')) else {
        return if root.join(glob).is_file() { vec![glob.to_string()] } else { Vec::new() };
    };
    let (before, after) = pattern.split_once('*').unwrap();
    let mut out = Vec::new();
    for e in std::fs::read_dir(root.join(dir)).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(before) && name.ends_with(after) && name.len() >= before.len() + after.len() && e.path().is_file() {
            out.push(format!("{dir}/{name}"));
        }
    }
    out
}

/// The same hash as make.sh's `source_hash`.
fn source_hash(root: &Path, map: &BTreeMap<String, Vec<String>>, shot: &str) -> (String, Vec<String>) {
    let mut files: Vec<String> = ["*", shot].iter().flat_map(|k| map.get(*k).into_iter().flatten()).flat_map(|g| expand(root, g)).collect();
    files.sort();
    files.dedup();
    let mut h = Sha256::new();
    for f in &files {
        h.update(f.as_bytes());
        h.update(b"\n");
        h.update(std::fs::read(root.join(f)).unwrap());
        h.update(b"\n");
    }
    (hex::encode(h.finalize()), files)
}

#[test]
fn every_screenshot_is_newer_than_the_views_it_shows() {
    let root = common::repo_root();
    let map = sources(root);
    // Every shot make.sh takes is in sources.txt, and every file named there exists.
    let make = std::fs::read_to_string(root.join("screenshots/make.sh")).unwrap();
    let body = &make[make.find("shots() {").unwrap()..];
    let body = &body[..body.find("\n}\n").unwrap()];
    let shots: Vec<String> = body.lines().filter_map(|l| l.trim().strip_prefix("shot ")).map(|r| r.split_whitespace().next().unwrap().to_string()).collect();
    assert!(shots.len() >= 15, "{shots:?}");
    for s in &shots {
        assert!(map.contains_key(s), "shot `{s}` of make.sh has no line in screenshots/sources.txt");
    }
    for (k, globs) in &map {
        for g in globs {
            assert!(!expand(root, g).is_empty(), "screenshots/sources.txt, `{k}`: `{g}` names no file");
        }
    }
    let manifest: BTreeMap<String, String> = std::fs::read_to_string(root.join("screenshots/manifest.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.trim().to_string())))
        .collect();
    let mut stale = Vec::new();
    let mut names = Vec::new();
    for s in &shots {
        let (hash, files) = source_hash(root, &map, s);
        let png = root.join(format!("screenshots/{s}.png"));
        if !png.is_file() || manifest.get(s) != Some(&hash) {
            stale.push(format!("screenshots/{s}.png was made before a change to one of: {}", files.join(", ")));
            names.push(s.as_str());
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nmake them again: screenshots/make.sh {} (then commit the PNGs and screenshots/manifest.txt)",
        stale.join("\n"),
        names.join(" ")
    );
}
