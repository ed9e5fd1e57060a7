//! One table of keys -> actions. It drives input handling, the key bar and the
//! `?` help overlay, and takes overrides from the config's `[keys]` table.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmd {
    Quit,
    Help,
    Palette,
    Filter,
    Back,
    Open,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextTab,
    PrevTab,
    Overview,
    Refresh,
    Sort,
    SortReverse,
    ToggleLog,
    Suspend,
    Token,
    Sql,
    Bootstrap,
    Shell,
    Forwards,
}

/// (command, config name, description, default keys)
pub const TABLE: &[(Cmd, &str, &str, &[&str])] = &[
    (Cmd::Quit, "quit", "quit rdsdeck", &["q", "ctrl-c"]),
    (Cmd::Help, "help", "show this help", &["?", "f1"]),
    (Cmd::Palette, "palette", "command palette (:proxies, :profile P, :region R, :stack S)", &[":"]),
    (Cmd::Filter, "filter", "fuzzy filter the list", &["/"]),
    (Cmd::Back, "back", "close, clear filter, go back", &["esc"]),
    (Cmd::Open, "open", "details of the selected resource", &["enter", "d"]),
    (Cmd::Up, "up", "move up", &["up", "k"]),
    (Cmd::Down, "down", "move down", &["down", "j"]),
    (Cmd::PageUp, "page_up", "page up", &["pageup", "ctrl-b"]),
    (Cmd::PageDown, "page_down", "page down", &["pagedown", "ctrl-f"]),
    (Cmd::Top, "top", "first row", &["g", "home"]),
    (Cmd::Bottom, "bottom", "last row", &["G", "end"]),
    (Cmd::NextTab, "next_tab", "next resource kind", &["tab", "right", "l"]),
    (Cmd::PrevTab, "prev_tab", "previous resource kind", &["backtab", "left", "h"]),
    (Cmd::Overview, "overview", "stack overview", &["o", "0"]),
    (Cmd::Refresh, "refresh", "refresh now", &["r", "ctrl-r"]),
    (Cmd::Sort, "sort", "sort by the next column", &["s"]),
    (Cmd::SortReverse, "sort_reverse", "reverse the sort", &["S"]),
    (Cmd::ToggleLog, "log", "show/hide the worker log", &["L"]),
    (Cmd::Sql, "sql", "SQL shell on the stack's endpoint as the app's user (IAM token, TLS)", &["e"]),
    (Cmd::Token, "token", "IAM auth token for the selected proxy/DB (v reveal, y copy, r re-sign)", &["t"]),
    (Cmd::Bootstrap, "bootstrap", "database bootstrap: IAM admin and app users, step by step (r run, o one step, c resume, d dry run)", &["b"]),
    (Cmd::Forwards, "forwards", "port forwards through Session Manager (n new to the DB, e SQL through one, s stop)", &["f"]),
    (Cmd::Shell, "shell", "shell on the selected host (Session Manager); exit returns here", &["x"]),
    (Cmd::Suspend, "suspend", "suspend to the shell", &["ctrl-z"]),
];

/// A key as written in the config: `q`, `G`, `ctrl-r`, `f5`, `shift-tab`, `enter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// KeyCode subset that can be ordered and hashed for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Backspace,
    Delete,
}

impl Key {
    pub fn parse(s: &str) -> Option<Key> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = s.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower.strip_prefix("ctrl-").or_else(|| lower.strip_prefix("c-")) {
                ctrl = true;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("alt-").or_else(|| lower.strip_prefix("m-")) {
                alt = true;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("shift-") {
                shift = true;
                rest = &rest[rest.len() - r.len()..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCodeOrd::Enter,
            "esc" | "escape" => KeyCodeOrd::Esc,
            "tab" if shift => KeyCodeOrd::BackTab,
            "tab" => KeyCodeOrd::Tab,
            "backtab" => KeyCodeOrd::BackTab,
            "up" => KeyCodeOrd::Up,
            "down" => KeyCodeOrd::Down,
            "left" => KeyCodeOrd::Left,
            "right" => KeyCodeOrd::Right,
            "pageup" | "pgup" => KeyCodeOrd::PageUp,
            "pagedown" | "pgdn" => KeyCodeOrd::PageDown,
            "home" => KeyCodeOrd::Home,
            "end" => KeyCodeOrd::End,
            "backspace" => KeyCodeOrd::Backspace,
            "delete" | "del" => KeyCodeOrd::Delete,
            "space" => KeyCodeOrd::Char(' '),
            f if f.starts_with('f') && f.len() > 1 && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) => {
                KeyCodeOrd::F(f[1..].parse().ok()?)
            }
            _ => {
                let mut chars = rest.chars();
                let c = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                KeyCodeOrd::Char(if shift { c.to_ascii_uppercase() } else if ctrl { c.to_ascii_lowercase() } else { c })
            }
        };
        Some(Key { code, ctrl, alt })
    }

    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        let alt = e.modifiers.contains(KeyModifiers::ALT);
        let code = match e.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab if e.modifiers.contains(KeyModifiers::SHIFT) => KeyCodeOrd::BackTab,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Delete => KeyCodeOrd::Delete,
            _ => return None,
        };
        Some(Key { code, ctrl, alt })
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCodeOrd::Char(' ') => "space".to_string(),
            KeyCodeOrd::Char(c) => c.to_string(),
            KeyCodeOrd::F(n) => format!("F{n}"),
            KeyCodeOrd::BackTab => "S-tab".into(),
            KeyCodeOrd::PageUp => "pgup".into(),
            KeyCodeOrd::PageDown => "pgdn".into(),
            other => format!("{other:?}").to_lowercase(),
        };
        let mut s = String::new();
        if self.ctrl {
            s.push_str("C-");
        }
        if self.alt {
            s.push_str("M-");
        }
        s + &base
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    map: BTreeMap<Key, Cmd>,
    /// Keys per command, in table order, for help and the key bar.
    pub bindings: Vec<(Cmd, &'static str, &'static str, Vec<Key>)>,
}

impl Keymap {
    /// Defaults, with `overrides` (action name -> key or "k1,k2") replacing an action's keys.
    pub fn new(overrides: &BTreeMap<String, String>) -> Result<Keymap, String> {
        for name in overrides.keys() {
            if !TABLE.iter().any(|(_, n, _, _)| n == name) {
                return Err(format!(
                    "[keys] `{name}` is not an action; actions: {}",
                    TABLE.iter().map(|t| t.1).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let mut bindings = Vec::new();
        for (cmd, name, desc, defaults) in TABLE {
            let keys: Vec<Key> = match overrides.get(*name) {
                Some(v) => v
                    .split(',')
                    .map(|k| Key::parse(k).ok_or_else(|| format!("[keys] {name} = \"{v}\": `{}` is not a key (e.g. q, ctrl-r, f5, shift-tab)", k.trim())))
                    .collect::<Result<_, _>>()?,
                None => defaults.iter().map(|k| Key::parse(k).expect("default key parses")).collect(),
            };
            bindings.push((*cmd, *name, *desc, keys));
        }
        let mut map = BTreeMap::new();
        // Overridden actions claim their keys first, so an override wins over a default.
        for pass in [true, false] {
            for (cmd, name, _, keys) in &bindings {
                if overrides.contains_key(*name) != pass {
                    continue;
                }
                for k in keys {
                    map.entry(*k).or_insert(*cmd);
                }
            }
        }
        Ok(Keymap { map, bindings })
    }

    pub fn lookup(&self, e: &KeyEvent) -> Option<Cmd> {
        Key::from_event(e).and_then(|k| self.map.get(&k).copied())
    }

    /// The first key of a command that still maps to it, for the key bar.
    pub fn label(&self, cmd: Cmd) -> String {
        self.bindings
            .iter()
            .find(|b| b.0 == cmd)
            .and_then(|b| b.3.iter().find(|k| self.map.get(k) == Some(&cmd)))
            .map(Key::label)
            .unwrap_or_else(|| "—".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys() {
        assert_eq!(Key::parse("ctrl-r").unwrap(), Key { code: KeyCodeOrd::Char('r'), ctrl: true, alt: false });
        assert_eq!(Key::parse("shift-tab").unwrap().code, KeyCodeOrd::BackTab);
        assert_eq!(Key::parse("F5").unwrap().code, KeyCodeOrd::F(5));
        assert_eq!(Key::parse("G").unwrap().code, KeyCodeOrd::Char('G'));
        assert!(Key::parse("nope").is_none());
    }

    #[test]
    fn override_replaces_and_wins() {
        let mut o = BTreeMap::new();
        o.insert("refresh".to_string(), "q".to_string());
        let k = Keymap::new(&o).unwrap();
        let ev = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(k.lookup(&ev), Some(Cmd::Refresh));
        let r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE);
        assert_eq!(k.lookup(&r), None);
        assert_eq!(k.label(Cmd::Quit), "C-c");
    }

    #[test]
    fn bad_overrides_are_errors() {
        let mut o = BTreeMap::new();
        o.insert("explode".to_string(), "x".to_string());
        assert!(Keymap::new(&o).unwrap_err().contains("explode"));
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), "ctrl-banana".to_string());
        assert!(Keymap::new(&o).unwrap_err().contains("not a key"));
    }
}
