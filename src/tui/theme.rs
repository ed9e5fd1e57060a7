//! Themes: built-in presets from `themes/*.toml`, then the user's file applied
//! field by field; `NO_COLOR` turns every colour off (modifiers stay).

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;
use std::str::FromStr;

pub const BUILTIN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
];

/// A theme file: every field optional, so a user theme overrides only what it sets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeFile {
    pub base: Option<String>,
    pub fg: Option<String>,
    pub bg: Option<String>,
    pub muted: Option<String>,
    pub accent: Option<String>,
    pub border: Option<String>,
    pub border_focus: Option<String>,
    pub title: Option<String>,
    pub header_fg: Option<String>,
    pub header_bg: Option<String>,
    pub tab_fg: Option<String>,
    pub tab_active_fg: Option<String>,
    pub tab_active_bg: Option<String>,
    pub table_header: Option<String>,
    pub selected_fg: Option<String>,
    pub selected_bg: Option<String>,
    pub ok: Option<String>,
    pub warn: Option<String>,
    pub bad: Option<String>,
    pub unknown: Option<String>,
    pub key: Option<String>,
    pub banner_fg: Option<String>,
    pub banner_bg: Option<String>,
}

macro_rules! merge {
    ($dst:expr, $src:expr, $($f:ident),*) => { $( if $src.$f.is_some() { $dst.$f = $src.$f.clone(); } )* };
}

impl ThemeFile {
    fn overlay(&mut self, o: &ThemeFile) {
        merge!(self, o, fg, bg, muted, accent, border, border_focus, title, header_fg, header_bg, tab_fg, tab_active_fg,
            tab_active_bg, table_header, selected_fg, selected_bg, ok, warn, bad, unknown, key, banner_fg, banner_bg);
    }
}

/// Resolved styles used by the views.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub base: Style,
    pub muted: Style,
    pub accent: Style,
    pub border: Style,
    pub border_focus: Style,
    pub title: Style,
    pub header: Style,
    pub tab: Style,
    pub tab_active: Style,
    pub table_header: Style,
    pub selected: Style,
    pub ok: Style,
    pub warn: Style,
    pub bad: Style,
    pub unknown: Style,
    pub key: Style,
    pub banner: Style,
}

fn color(field: &str, v: &Option<String>) -> Result<Color, String> {
    let v = v.as_deref().unwrap_or("reset");
    Color::from_str(v).map_err(|_| format!("`{field}` = \"{v}\" is not a colour (a name, #rrggbb, or 0-255)"))
}

impl Theme {
    /// Loads theme `name`: a built-in preset or `<dir>/<name>.toml`, which may
    /// name a `base` preset and override it field by field.
    pub fn load(name: &str, user_dir: Option<&Path>, no_color: bool) -> Result<Theme, String> {
        let mut file: ThemeFile;
        let user = user_dir.map(|d| d.join(format!("{name}.toml"))).filter(|p| p.exists());
        match (&user, BUILTIN.iter().find(|(n, _)| *n == name)) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("theme {}: {e}", path.display()))?;
                let t: ThemeFile = toml::from_str(&text).map_err(|e| {
                    let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
                    format!("theme {}{}: {}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default(), e.message())
                })?;
                let base = t.base.clone().unwrap_or_else(|| "dark".into());
                let preset = BUILTIN
                    .iter()
                    .find(|(n, _)| *n == base)
                    .ok_or_else(|| format!("theme {}: base `{base}` is not a built-in theme (dark, light, high-contrast)", path.display()))?;
                file = toml::from_str(preset.1).expect("built-in theme parses");
                file.overlay(&t);
            }
            (None, Some((_, text))) => file = toml::from_str(text).expect("built-in theme parses"),
            (None, None) => {
                return Err(format!(
                    "no theme `{name}`: use dark, light, high-contrast, or put {name}.toml in {}",
                    user_dir.map(|d| d.display().to_string()).unwrap_or_else(|| "the themes folder".into())
                ));
            }
        }
        let mut t = Theme::from_file(name, &file)?;
        if no_color {
            t = t.without_color();
        }
        Ok(t)
    }

    pub fn from_file(name: &str, f: &ThemeFile) -> Result<Theme, String> {
        let fg = color("fg", &f.fg)?;
        let bg = color("bg", &f.bg)?;
        let s = |field: &str, v: &Option<String>| -> Result<Style, String> { Ok(Style::default().fg(color(field, v)?)) };
        Ok(Theme {
            name: name.to_string(),
            base: Style::default().fg(fg).bg(bg),
            muted: s("muted", &f.muted)?,
            accent: s("accent", &f.accent)?,
            border: s("border", &f.border)?,
            border_focus: s("border_focus", &f.border_focus)?,
            title: s("title", &f.title)?.add_modifier(Modifier::BOLD),
            header: Style::default().fg(color("header_fg", &f.header_fg)?).bg(color("header_bg", &f.header_bg)?),
            tab: s("tab_fg", &f.tab_fg)?,
            tab_active: Style::default()
                .fg(color("tab_active_fg", &f.tab_active_fg)?)
                .bg(color("tab_active_bg", &f.tab_active_bg)?)
                .add_modifier(Modifier::BOLD),
            table_header: s("table_header", &f.table_header)?.add_modifier(Modifier::BOLD),
            selected: Style::default()
                .fg(color("selected_fg", &f.selected_fg)?)
                .bg(color("selected_bg", &f.selected_bg)?)
                .add_modifier(Modifier::BOLD),
            ok: s("ok", &f.ok)?,
            warn: s("warn", &f.warn)?,
            bad: s("bad", &f.bad)?.add_modifier(Modifier::BOLD),
            unknown: s("unknown", &f.unknown)?,
            key: s("key", &f.key)?.add_modifier(Modifier::BOLD),
            banner: Style::default()
                .fg(color("banner_fg", &f.banner_fg)?)
                .bg(color("banner_bg", &f.banner_bg)?)
                .add_modifier(Modifier::BOLD),
        })
    }

    /// `NO_COLOR`: keep only modifiers; selection and banner become reversed.
    pub fn without_color(mut self) -> Theme {
        let plain = |s: Style| Style::default().add_modifier(s.add_modifier);
        for st in [
            &mut self.base, &mut self.muted, &mut self.accent, &mut self.border, &mut self.border_focus, &mut self.title,
            &mut self.header, &mut self.tab, &mut self.table_header, &mut self.ok, &mut self.warn, &mut self.bad,
            &mut self.unknown, &mut self.key,
        ] {
            *st = plain(*st);
        }
        self.tab_active = Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        self.selected = Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        self.banner = Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        self
    }

    pub fn health(&self, h: crate::stack::Health) -> Style {
        use crate::stack::Health::*;
        match h {
            Ok => self.ok,
            Warn => self.warn,
            Bad => self.bad,
            Unknown => self.unknown,
        }
    }

    pub fn names(user_dir: Option<&Path>) -> Vec<String> {
        let mut v: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
        if let Some(rd) = user_dir.and_then(|d| std::fs::read_dir(d).ok()) {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "toml")
                    && let Some(stem) = p.file_stem().and_then(|s| s.to_str())
                    && !v.iter().any(|n| n == stem)
                {
                    v.push(stem.to_string());
                }
            }
        }
        v
    }
}

pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load() {
        for (n, _) in BUILTIN {
            Theme::load(n, None, false).unwrap();
        }
    }

    #[test]
    fn user_theme_overrides_field_by_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.toml"), "base = \"light\"\nok = \"#010203\"\n").unwrap();
        let t = Theme::load("mine", Some(dir.path()), false).unwrap();
        let light = Theme::load("light", None, false).unwrap();
        assert_eq!(t.ok.fg, Some(Color::Rgb(1, 2, 3)));
        assert_eq!(t.bad, light.bad);
        assert_eq!(t.selected, light.selected);
    }

    #[test]
    fn bad_colour_and_unknown_theme_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.toml"), "ok = \"notacolour\"\n").unwrap();
        assert!(Theme::load("x", Some(dir.path()), false).unwrap_err().contains("`ok`"));
        std::fs::write(dir.path().join("y.toml"), "okk = \"red\"\n").unwrap();
        assert!(Theme::load("y", Some(dir.path()), false).unwrap_err().contains("line 1"));
        assert!(Theme::load("nope", None, false).is_err());
    }

    #[test]
    fn no_color_has_no_colours() {
        let t = Theme::load("dark", None, true).unwrap();
        assert_eq!(t.ok.fg, None);
        assert_eq!(t.selected.bg, None);
        assert!(t.selected.add_modifier.contains(Modifier::REVERSED));
    }
}
