//! The shape the code promises (README, "Architecture"), checked on the source:
//! the core never prints and never knows clap, and no two modules import each
//! other, directly or round a circle.
//!
//! Modules are read from `src/` (a file or a `mod.rs` each); a module's
//! references are the `crate::…` and `super::…` paths in its code (comments
//! and `#[cfg(test)]` code left out). A reference between two modules is
//! lifted to the two siblings under their closest common parent (so
//! `stack::discover -> aws` is `stack -> aws`), and each parent's siblings
//! must form no circle. A module and its own parent or children are not
//! siblings: `db` re-exporting `db::wire` is not a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Front ends: they print, parse argv and draw. Everything else is core.
const FRONT_ENDS: [&str; 3] = ["cli", "main", "tui"];

fn sources() -> Vec<(Vec<String>, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src is readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            let text = std::fs::read_to_string(&p).unwrap();
            (module, code_only(&text))
        })
        .collect()
}

/// The text without comments and without the `#[cfg(test)]` part at the end of a file.
fn code_only(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let (mut i, b) = (0, text.as_bytes());
    let mut in_str = false;
    while i < b.len() {
        if in_str {
            if b[i] == b'\\' {
                i += 2;
                continue;
            }
            if b[i] == b'"' {
                in_str = false;
            }
            out.push(' ');
            i += 1;
        } else if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' && !(i > 0 && b[i - 1] == b'\'') {
            in_str = true;
            out.push(' ');
            i += 1;
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_core(module: &[String]) -> bool {
    !module.first().is_some_and(|m| FRONT_ENDS.contains(&m.as_str()))
}

#[test]
fn the_core_never_prints_and_never_knows_clap() {
    let mut found = Vec::new();
    for (module, code) in sources() {
        if !is_core(&module) {
            continue;
        }
        for bad in ["print!(", "println!(", "eprint!(", "eprintln!(", "dbg!(", "clap::", "use clap"] {
            for (n, line) in code.lines().enumerate() {
                let hit = line.match_indices(bad).any(|(i, _)| i == 0 || !line.as_bytes()[i - 1].is_ascii_alphanumeric() && line.as_bytes()[i - 1] != b'_');
                if hit {
                    found.push(format!("src/{}: line {}: {}", module.join("/"), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "core code prints or uses clap (notices go back as values; clap lives in cli.rs):\n{}", found.join("\n"));
}

/// `a::b::c` references, resolved against the known modules (the longest prefix that is one).
fn references(module: &[String], code: &str, modules: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut refs = BTreeSet::new();
    let resolve = |path: Vec<String>, refs: &mut BTreeSet<Vec<String>>| {
        for n in (1..=path.len()).rev() {
            if modules.contains(&path[..n]) {
                refs.insert(path[..n].to_vec());
                return;
            }
        }
    };
    let ident = |s: &str| -> Vec<String> {
        let mut parts = Vec::new();
        let mut rest = s;
        loop {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            if end == 0 {
                break;
            }
            parts.push(rest[..end].to_string());
            match rest[end..].strip_prefix("::") {
                Some(r) if r.starts_with(|c: char| c.is_alphanumeric() || c == '_') => rest = r,
                _ => break,
            }
        }
        parts
    };
    // `crate::x::y`, `crate::{x::y, z}`, `super::x`, `super::super::x`.
    for (i, _) in code.match_indices("crate::") {
        if i > 0 && (code.as_bytes()[i - 1].is_ascii_alphanumeric() || code.as_bytes()[i - 1] == b'_') {
            continue;
        }
        let rest = &code[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        resolve(ident(group[start..j].trim()), &mut refs);
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        resolve(ident(group[start..j].trim()), &mut refs);
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            resolve(ident(rest), &mut refs);
        }
    }
    for (i, _) in code.match_indices("super::") {
        if i > 0 && (code.as_bytes()[i - 1].is_ascii_alphanumeric() || code.as_bytes()[i - 1] == b'_' || code[..i].ends_with("super::")) {
            continue;
        }
        let mut base: Vec<String> = module.to_vec();
        let mut rest = &code[i..];
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        let mut path = base;
        path.extend(ident(rest));
        resolve(path, &mut refs);
    }
    refs
}

#[test]
fn no_import_circles() {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|(m, _)| m.clone()).collect();
    // parent -> sibling edges (from child, to child)
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut why: BTreeMap<(Vec<String>, String, String), String> = BTreeMap::new();
    for (module, code) in &sources {
        for target in references(module, code, &modules) {
            let common = module.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common == module.len() || common == target.len() {
                continue; // the module itself, an ancestor or a descendant
            }
            let parent = module[..common].to_vec();
            let (from, to) = (module[common].clone(), target[common].clone());
            graphs.entry(parent.clone()).or_default().entry(from.clone()).or_default().insert(to.clone());
            why.entry((parent, from, to)).or_insert_with(|| format!("{} -> {}", module.join("::"), target.join("::")));
        }
    }
    let mut circles = Vec::new();
    let mut reported = BTreeSet::new();
    for (parent, g) in &graphs {
        // A circle is a path back to where it started: depth-first from every node.
        for start in g.keys() {
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((node, path)) = stack.pop() {
                for next in g.get(&node).into_iter().flatten() {
                    if next == start {
                        let mut ring = path.clone();
                        ring.push(start.clone());
                        // Report each circle once.
                        let members: BTreeSet<String> = ring.iter().cloned().collect();
                        if reported.insert((parent.clone(), members)) {
                            let edges: Vec<String> =
                                ring.windows(2).map(|w| why[&(parent.clone(), w[0].clone(), w[1].clone())].clone()).collect();
                            circles.push(format!("in `{}`: {} ({})", if parent.is_empty() { "crate".into() } else { parent.join("::") }, ring.join(" -> "), edges.join("; ")));
                        }
                    } else if seen.insert(next.clone()) {
                        let mut p = path.clone();
                        p.push(next.clone());
                        stack.push((next.clone(), p));
                    }
                }
            }
        }
    }
    assert!(circles.is_empty(), "import circles:\n{}", circles.join("\n"));
}

#[test]
fn the_checker_sees_a_circle() {
    let modules: BTreeSet<Vec<String>> = [vec!["a".to_string()], vec!["b".to_string()], vec!["b".to_string(), "c".to_string()]].into_iter().collect();
    let refs = references(&["b".into(), "c".into()], &code_only("use crate::{a::X, b::c::Y};\n// crate::nope\nfn f() { super::super::a::g(); }"), &modules);
    assert_eq!(refs, [vec!["a".to_string()], vec!["b".to_string(), "c".to_string()]].into_iter().collect());
}
