//! One key map for every mode. Each mode (a [`Scope`]) has named actions with
//! default keys; `[keys]` in the config rebinds the main list's actions and
//! `[keys.MODE]` a mode's (`[keys.sql] run = "f9"`). Input handling, the footer
//! hints and the `?` help are all read from here, so a rebinding shows
//! everywhere. Conflicts are found when the map is built: two keys the user
//! wrote for two actions of one mode are an error naming the file, the lines
//! and both actions; a user's key that takes a default key from another action
//! wins and is reported as a warning.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

use super::shared::Mode;

macro_rules! scopes {
    ($($mode:ident => $field:ident, $name:literal, $title:literal $(, open: $verb:literal)? $(, also: $also:ident $aname:literal $atitle:literal)?;)*) => {
        /// Where a key is read: the browser's own modes, then every view of [`views!`] (and the
        /// second scopes they name).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Scope {
            /// The overview and the resource lists.
            Main,
            Filter,
            Choose,
            $($mode, $($also,)?)*
        }

        impl Scope {
            pub const ALL: &'static [Scope] = &[Scope::Main, Scope::Filter, Scope::Choose, $(Scope::$mode, $(Scope::$also,)?)*];

            /// The config's name: `[keys.NAME]` (`[keys]` itself is the main list's).
            pub fn name(self) -> &'static str {
                match self {
                    Scope::Main => "main",
                    Scope::Filter => "filter",
                    Scope::Choose => "choose",
                    $(Scope::$mode => $name, $(Scope::$also => $aname,)?)*
                }
            }

            pub fn title(self) -> &'static str {
                match self {
                    Scope::Main => "Lists and overview",
                    Scope::Filter => "Filter",
                    Scope::Choose => "Choose a proxy",
                    $(Scope::$mode => $title, $(Scope::$also => $atitle,)?)*
                }
            }

            /// Scopes whose keys are read together (a key may mean one action only across them):
            /// a view's second scope reads its first scope's keys first.
            fn group(self) -> Scope {
                match self {
                    $($(Scope::$also => Scope::$mode,)?)*
                    s => s,
                }
            }
        }
    };
}
crate::tui::shared::views!(scopes);

impl Scope {
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.iter().copied().find(|s| s.name() == name)
    }
}

/// The actions keys are bound to. The verbs most views share are named here; a view's own verb is
/// `Own("name")` (a `const` in its module), and the key that opens a view from the lists is
/// `View(its mode)`.
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
    Left,
    Right,
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
    Complete,
    Reveal,
    Copy,
    Run,
    RunOne,
    Resume,
    DryRun,
    Confirm,
    New,
    Stop,
    SwitchFocus,
    HistoryPrev,
    HistoryNext,
    Export,
    /// Opens this view (its key on the lists).
    View(Mode),
    /// A view's own action, by its config name.
    Own(&'static str),
}

/// (mode, command, config name, description, default keys)
pub type Def = (Scope, Cmd, &'static str, &'static str, &'static [&'static str]);

pub const TABLE: &[Def] = &[
    (Scope::Main, Cmd::Quit, "quit", "quit rdsdeck", &["q", "ctrl-c"]),
    (Scope::Main, Cmd::Help, "help", "show this help", &["?", "f1"]),
    (Scope::Main, Cmd::Palette, "palette", "command palette (:proxies, :profile P, :region R, :stack S, :sql via …)", &[":"]),
    (Scope::Main, Cmd::Filter, "filter", "fuzzy filter the list", &["/"]),
    (Scope::Main, Cmd::Back, "back", "clear the filter or the message", &["esc"]),
    (Scope::Main, Cmd::Open, "open", "details of the selected resource", &["enter", "d"]),
    (Scope::Main, Cmd::Up, "up", "move up", &["up", "k"]),
    (Scope::Main, Cmd::Down, "down", "move down", &["down", "j"]),
    (Scope::Main, Cmd::PageUp, "page_up", "page up", &["pageup", "ctrl-b"]),
    (Scope::Main, Cmd::PageDown, "page_down", "page down", &["pagedown", "ctrl-f"]),
    (Scope::Main, Cmd::Top, "top", "first row", &["g", "home"]),
    (Scope::Main, Cmd::Bottom, "bottom", "last row", &["G", "end"]),
    (Scope::Main, Cmd::NextTab, "next_tab", "next resource kind", &["tab", "right", "l"]),
    (Scope::Main, Cmd::PrevTab, "prev_tab", "previous resource kind", &["backtab", "left", "h"]),
    (Scope::Main, Cmd::Overview, "overview", "stack overview", &["o", "0"]),
    (Scope::Main, Cmd::Refresh, "refresh", "refresh now", &["r", "ctrl-r"]),
    (Scope::Main, Cmd::Sort, "sort", "sort by the next column", &["s"]),
    (Scope::Main, Cmd::SortReverse, "sort_reverse", "reverse the sort", &["S"]),
    (Scope::Main, Cmd::ToggleLog, "log", "show/hide the worker log", &["L"]),
    (Scope::Main, Cmd::Sql, "sql", "SQL shell on the stack's endpoint as the app's user (IAM token, TLS)", &["e"]),
    (Scope::Main, Cmd::Token, "token", "IAM auth token for the selected proxy/DB", &["t"]),
    (Scope::Main, Cmd::Bootstrap, "bootstrap", "database bootstrap: IAM admin and app users, step by step", &["b"]),
    (Scope::Main, Cmd::Forwards, "forwards", "port forwards through Session Manager", &["f"]),
    (Scope::Main, Cmd::Shell, "shell", "shell on the selected host (Session Manager); exit returns here", &["x"]),
    (Scope::Main, Cmd::Suspend, "suspend", "suspend to the shell", &["ctrl-z"]),
    (Scope::Filter, Cmd::Open, "keep", "keep the filter", &["enter"]),
    (Scope::Filter, Cmd::Back, "back", "clear the filter", &["esc"]),
    (Scope::Filter, Cmd::Up, "up", "move up", &["up"]),
    (Scope::Filter, Cmd::Down, "down", "move down", &["down"]),
    (Scope::Choose, Cmd::Up, "up", "previous proxy", &["up", "k"]),
    (Scope::Choose, Cmd::Down, "down", "next proxy", &["down", "j"]),
    (Scope::Choose, Cmd::Open, "open", "open the stack of this proxy", &["enter"]),
    (Scope::Choose, Cmd::Back, "back", "cancel", &["esc"]),
    (Scope::Choose, Cmd::Palette, "palette", "command palette", &[":"]),
    (Scope::Choose, Cmd::Quit, "quit", "quit rdsdeck", &["q"]),
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

/// A user's binding: the keys as written and where (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub keys: String,
    /// `path:line` of the entry, when known.
    pub at: String,
}

/// The config's `[keys]` entries by mode and action name.
pub type Overrides = BTreeMap<(Scope, String), Override>;

#[derive(Debug, Clone)]
pub struct Binding {
    pub scope: Scope,
    pub cmd: Cmd,
    pub name: &'static str,
    pub desc: &'static str,
    pub keys: Vec<Key>,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    map: BTreeMap<(Scope, Key), Cmd>,
    /// Every mode's actions, in table order, for help and the footers.
    pub bindings: Vec<Binding>,
    /// Rebindings that took a default key from another action (said once, in the log).
    pub warnings: Vec<String>,
}


impl Keymap {
    /// Defaults (this table and the views' own, `extra`), with `overrides` replacing an action's keys.
    pub fn new(overrides: &Overrides, extra: &[&[Def]]) -> Result<Keymap, String> {
        let table: Vec<&Def> = TABLE.iter().chain(extra.iter().flat_map(|t| t.iter())).collect();
        for ((scope, name), o) in overrides {
            if !table.iter().any(|d| d.0 == *scope && d.2 == name) {
                let known: Vec<&str> = table.iter().filter(|d| d.0 == *scope).map(|d| d.2).collect();
                return Err(format!("{}: [keys{}] `{name}` is not an action of this mode; its actions: {}", o.at, table_suffix(*scope), known.join(", ")));
            }
        }
        let mut bindings = Vec::new();
        for (scope, cmd, name, desc, defaults) in table {
            let keys: Vec<Key> = match overrides.get(&(*scope, name.to_string())) {
                Some(o) => o
                    .keys
                    .split(',')
                    .map(|k| {
                        Key::parse(k).ok_or_else(|| {
                            format!("{}: [keys{}] {name} = \"{}\": `{}` is not a key (e.g. q, ctrl-r, f5, shift-tab)", o.at, table_suffix(*scope), o.keys, k.trim())
                        })
                    })
                    .collect::<Result<_, _>>()?,
                None => defaults.iter().map(|k| Key::parse(k).expect("default key parses")).collect(),
            };
            bindings.push(Binding { scope: *scope, cmd: *cmd, name, desc, keys });
        }
        // Who holds each key in each group: the user's bindings first, so they win over defaults.
        let user = |b: &Binding| overrides.get(&(b.scope, b.name.to_string()));
        let mut holder: BTreeMap<(Scope, Key), usize> = BTreeMap::new();
        let mut warnings = Vec::new();
        for pass in [true, false] {
            for (i, b) in bindings.iter().enumerate() {
                if user(b).is_some() != pass {
                    continue;
                }
                for k in &b.keys {
                    match holder.get(&(b.scope.group(), *k)) {
                        None => {
                            holder.insert((b.scope.group(), *k), i);
                        }
                        Some(&j) if j == i => {}
                        Some(&j) => {
                            let other = &bindings[j];
                            match (user(other), user(b)) {
                                (Some(a), Some(c)) => {
                                    return Err(format!(
                                        "{}: [keys{}] {} = \"{}\" and {}: {} = \"{}\" both bind {}: one key, one action",
                                        a.at,
                                        table_suffix(other.scope),
                                        other.name,
                                        a.keys,
                                        c.at,
                                        b.name,
                                        c.keys,
                                        k.label()
                                    ));
                                }
                                (Some(a), None) => warnings.push(format!(
                                    "{}: [keys{}] {} = \"{}\" takes {} from {} ({})",
                                    a.at,
                                    table_suffix(other.scope),
                                    other.name,
                                    a.keys,
                                    k.label(),
                                    b.name,
                                    b.desc
                                )),
                                _ => panic!("default keys conflict: {} and {} in {:?}", other.name, b.name, b.scope),
                            }
                        }
                    }
                }
            }
        }
        let map = holder.into_iter().map(|((_, k), i)| ((bindings[i].scope, k), bindings[i].cmd)).collect();
        Ok(Keymap { map, bindings, warnings })
    }

    /// The action `e` means in `scope` (and its group: the grid reads the SQL shell's keys first).
    pub fn lookup(&self, scope: Scope, e: &KeyEvent) -> Option<Cmd> {
        let k = Key::from_event(e)?;
        self.map.get(&(scope.group(), k)).or_else(|| self.map.get(&(scope, k))).copied()
    }

    /// The first key of an action that still means it, for the footers.
    pub fn label(&self, scope: Scope, cmd: Cmd) -> String {
        self.bindings
            .iter()
            .find(|b| b.scope == scope && b.cmd == cmd)
            .and_then(|b| b.keys.iter().find(|k| self.map.get(&(scope, **k)) == Some(&cmd)))
            .map(Key::label)
            .unwrap_or_else(|| "—".into())
    }

    /// Every key of an action that still means it.
    pub fn keys(&self, scope: Scope, cmd: Cmd) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|b| b.scope == scope && b.cmd == cmd)
            .flat_map(|b| b.keys.iter().filter(|k| self.map.get(&(scope, **k)) == Some(&cmd)).copied())
            .collect()
    }

    /// The action's one-character key when it has one (`j` rather than `down`), for compact hints.
    pub fn letter(&self, scope: Scope, cmd: Cmd) -> String {
        let keys = self.keys(scope, cmd);
        keys.iter().map(Key::label).find(|l| l.chars().count() == 1).unwrap_or_else(|| pretty(&self.label(scope, cmd)))
    }
}

/// A key's label as hints write it: arrows as arrows, named keys capitalised.
pub fn pretty(label: &str) -> String {
    match label {
        "up" => "↑".into(),
        "down" => "↓".into(),
        "left" => "←".into(),
        "right" => "→".into(),
        "esc" => "Esc".into(),
        "enter" => "Enter".into(),
        "tab" => "Tab".into(),
        "backspace" => "Backspace".into(),
        "delete" => "Del".into(),
        l => l.to_string(),
    }
}

fn table_suffix(scope: Scope) -> String {
    match scope {
        Scope::Main => String::new(),
        s => format!(".{}", s.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(scope: Scope, name: &str, keys: &str, line: usize) -> (Overrides, (Scope, String), Override) {
        let k = (scope, name.to_string());
        let v = Override { keys: keys.into(), at: format!("config.toml:{line}") };
        let mut m = Overrides::new();
        m.insert(k.clone(), v.clone());
        (m, k, v)
    }

    #[test]
    fn parses_keys() {
        assert_eq!(Key::parse("ctrl-r").unwrap(), Key { code: KeyCodeOrd::Char('r'), ctrl: true, alt: false });
        assert_eq!(Key::parse("shift-tab").unwrap().code, KeyCodeOrd::BackTab);
        assert_eq!(Key::parse("F5").unwrap().code, KeyCodeOrd::F(5));
        assert_eq!(Key::parse("G").unwrap().code, KeyCodeOrd::Char('G'));
        assert!(Key::parse("nope").is_none());
    }

    #[test]
    fn the_defaults_have_no_conflicts() {
        let k = Keymap::new(&Overrides::new(), crate::tui::features::VIEW_KEYS).unwrap();
        assert!(k.warnings.is_empty(), "{:?}", k.warnings);
        for &scope in Scope::ALL {
            assert!(k.bindings.iter().any(|b| b.scope == scope), "{scope:?} has actions");
        }
    }

    #[test]
    fn an_override_takes_a_default_key_and_says_so() {
        let (m, _, _) = o(Scope::Main, "refresh", "q", 7);
        let k = Keymap::new(&m, crate::tui::features::VIEW_KEYS).unwrap();
        let ev = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(k.lookup(Scope::Main, &ev), Some(Cmd::Refresh));
        assert_eq!(k.lookup(Scope::Main, &KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)), None);
        assert_eq!(k.label(Scope::Main, Cmd::Quit), "C-c");
        assert_eq!(k.warnings.len(), 1);
        assert!(k.warnings[0].contains("config.toml:7") && k.warnings[0].contains("refresh") && k.warnings[0].contains("quit"), "{:?}", k.warnings);
    }

    #[test]
    fn per_mode_overrides_stay_in_their_mode() {
        let (m, _, _) = o(Scope::Sql, "run", "f9", 3);
        let k = Keymap::new(&m, crate::tui::features::VIEW_KEYS).unwrap();
        let f9 = KeyEvent::new(KeyCode::F(9), KeyModifiers::NONE);
        assert_eq!(k.lookup(Scope::Sql, &f9), Some(Cmd::Run));
        assert_eq!(k.lookup(Scope::SqlGrid, &f9), Some(Cmd::Run), "the grid reads the shell's keys");
        assert_eq!(k.lookup(Scope::Main, &f9), None);
        assert_eq!(k.lookup(Scope::Sql, &KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)), None);
        assert_eq!(k.label(Scope::Sql, Cmd::Run), "F9");
        assert_eq!(k.letter(Scope::Forwards, Cmd::Down), "j");
    }

    #[test]
    fn two_user_keys_for_two_actions_are_an_error_with_both_lines() {
        let (mut m, _, _) = o(Scope::Forwards, "new", "x", 4);
        m.insert((Scope::Forwards, "stop".into()), Override { keys: "x".into(), at: "config.toml:5".into() });
        let e = Keymap::new(&m, crate::tui::features::VIEW_KEYS).unwrap_err();
        assert!(e.contains("config.toml:4") && e.contains("config.toml:5") && e.contains("new") && e.contains("stop"), "{e}");
        // The grid and the shell are one group: a grid key may not shadow a shell key.
        let (mut m, _, _) = o(Scope::Sql, "export", "x", 8);
        m.insert((Scope::SqlGrid, "left".into()), Override { keys: "x".into(), at: "config.toml:9".into() });
        assert!(Keymap::new(&m, crate::tui::features::VIEW_KEYS).is_err());
    }

    #[test]
    fn bad_overrides_are_errors() {
        let (m, _, _) = o(Scope::Main, "explode", "x", 2);
        let e = Keymap::new(&m, crate::tui::features::VIEW_KEYS).unwrap_err();
        assert!(e.contains("explode") && e.contains("config.toml:2"), "{e}");
        let (m, _, _) = o(Scope::Bootstrap, "quit", "x", 2);
        assert!(Keymap::new(&m, crate::tui::features::VIEW_KEYS).unwrap_err().contains("[keys.bootstrap]"));
        let (m, _, _) = o(Scope::Main, "quit", "ctrl-banana", 2);
        assert!(Keymap::new(&m, crate::tui::features::VIEW_KEYS).unwrap_err().contains("not a key"));
    }
}
