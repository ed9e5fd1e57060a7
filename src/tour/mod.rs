//! The tour: chapters that walk a newcomer through the zero-secret flow on the live stack. The
//! chapters are data (TOML, `tour/*.toml`, shipped in the binary; a team adds or replaces chapters
//! in `$XDG_CONFIG_HOME/rdsdeck/tour/`); each step may name an [`Action`], the real thing rdsdeck
//! does for it ([`lessons`]). Progress is kept in the state folder.

pub mod lessons;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The chapters shipped with rdsdeck, in order (file name, text).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("10-architecture.toml", include_str!("../../tour/10-architecture.toml")),
    ("20-proxy-auth.toml", include_str!("../../tour/20-proxy-auth.toml")),
    ("30-token.toml", include_str!("../../tour/30-token.toml")),
    ("40-login.toml", include_str!("../../tour/40-login.toml")),
    ("50-session-manager.toml", include_str!("../../tour/50-session-manager.toml")),
    ("60-bootstrap.toml", include_str!("../../tour/60-bootstrap.toml")),
    ("70-on-call.toml", include_str!("../../tour/70-on-call.toml")),
];

/// What rdsdeck does for a step, each real: reads the stack, signs, logs in, forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Read the stack (as the doctor does) and show the chain, or the links in focus.
    Stack,
    /// The proxy's auth block, RequireTLS, DefaultAuthScheme, role.
    ProxyAuth,
    /// Sign a token for the app's endpoint and user (no AWS call).
    SignToken,
    /// Decode the token signed before (or a new one).
    Decode,
    /// Log in over TLS as the app's user; CURRENT_USER() and the cipher.
    Login,
    /// Log in with a token signed for 127.0.0.1: refused.
    LoginWrongHost,
    /// Try to log in to a local server that offers no TLS: refused before anything is sent.
    LoginNoTls,
    /// A Session Manager forward through the app host, a login and a query through it, closed.
    ForwardQuery,
    /// The bootstrap's plan, a dry run.
    BootstrapPlan,
    /// The sandbox only: remove the rule that lets the app host reach the proxy.
    Break,
    /// Run the doctor.
    Doctor,
    /// The sandbox only: put the rule back (the doctor's fix).
    Fix,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Stack,
        Action::ProxyAuth,
        Action::SignToken,
        Action::Decode,
        Action::Login,
        Action::LoginWrongHost,
        Action::LoginNoTls,
        Action::ForwardQuery,
        Action::BootstrapPlan,
        Action::Break,
        Action::Doctor,
        Action::Fix,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Stack => "stack",
            Action::ProxyAuth => "proxy-auth",
            Action::SignToken => "sign-token",
            Action::Decode => "decode",
            Action::Login => "login",
            Action::LoginWrongHost => "login-wrong-host",
            Action::LoginNoTls => "login-no-tls",
            Action::ForwardQuery => "forward-query",
            Action::BootstrapPlan => "bootstrap-plan",
            Action::Break => "break",
            Action::Doctor => "doctor",
            Action::Fix => "fix",
        }
    }

    /// The key that does it, unless the chapter names another.
    pub fn default_key(self) -> char {
        match self {
            Action::Stack => 'l',
            Action::ProxyAuth => 'a',
            Action::SignToken => 't',
            Action::Decode => 'd',
            Action::Login | Action::LoginWrongHost | Action::LoginNoTls => 'c',
            Action::ForwardQuery => 'f',
            Action::BootstrapPlan => 'p',
            Action::Break => 'x',
            Action::Doctor => 'd',
            Action::Fix => 'f',
        }
    }

    /// What the key does, as the screen says it.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Stack => "read the stack",
            Action::ProxyAuth => "read the auth block",
            Action::SignToken => "sign a token",
            Action::Decode => "decode the token",
            Action::Login => "log in",
            Action::LoginWrongHost => "try the wrong host",
            Action::LoginNoTls => "try a no-TLS server",
            Action::ForwardQuery => "forward and query",
            Action::BootstrapPlan => "show the plan",
            Action::Break => "break the link",
            Action::Doctor => "run the doctor",
            Action::Fix => "apply the fix",
        }
    }

    /// It changes the stack: run on the sandbox only, shown elsewhere.
    pub fn changes_the_stack(self) -> bool {
        matches!(self, Action::Break | Action::Fix)
    }
}

/// Keys the tour itself uses: a chapter may not take them for a step.
pub const RESERVED_KEYS: &[char] = &['s', 'q', 'h', 'j', 'k', 'n', 'b', '?', ':'];

/// Where the stack-specific names go in a step's text.
pub const PLACEHOLDERS: &[&str] = &["proxy", "proxy_endpoint", "port", "instance", "host", "user", "region", "prefix", "database"];

/// One step of a chapter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub action: Option<Action>,
    /// For `stack`: the links in focus (host, config, proxy, instance, network): one, or a list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub focus: Vec<String>,
    /// The key that does the action (one character), instead of the action's own.
    #[serde(default)]
    pub key: Option<char>,
}

impl Step {
    /// The key that does this step's action.
    pub fn key(&self) -> Option<char> {
        self.action.map(|a| self.key.unwrap_or(a.default_key()))
    }
}

/// A chapter: an id (its progress and overrides go by it), a title, its steps.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chapter {
    pub id: String,
    pub title: String,
    pub steps: Vec<Step>,
    /// The file it came from (chapters are ordered by file name).
    #[serde(skip)]
    pub file: String,
}

pub const FOCUS: &[&str] = &["host", "config", "proxy", "instance", "network"];

impl Chapter {
    /// Parses and checks one chapter file: what is wrong, with the file's name.
    pub fn parse(file: &str, text: &str) -> Result<Chapter, String> {
        let mut c: Chapter = toml::from_str(text).map_err(|e| format!("tour chapter {file}: {}", e.message()))?;
        c.file = file.to_string();
        let bad = |why: String| Err(format!("tour chapter {file}: {why}"));
        if c.id.trim().is_empty() || !c.id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            return bad(format!("id `{}` must be letters, digits, - and _", c.id));
        }
        if c.steps.is_empty() {
            return bad("it has no [[steps]]".into());
        }
        for (n, s) in c.steps.iter().enumerate() {
            let at = format!("step {} ({})", n + 1, s.title);
            if let Some(k) = s.key {
                if s.action.is_none() {
                    return bad(format!("{at}: a key without an action"));
                }
                if !k.is_ascii_alphanumeric() || RESERVED_KEYS.contains(&k) {
                    return bad(format!("{at}: key `{k}` is not free (a letter or digit, not one of {})", RESERVED_KEYS.iter().collect::<String>()));
                }
            }
            if !s.focus.is_empty() && s.action != Some(Action::Stack) {
                return bad(format!("{at}: focus is for action = \"stack\" only"));
            }
            if let Some(f) = s.focus.iter().find(|f| !FOCUS.contains(&f.as_str())) {
                return bad(format!("{at}: focus `{f}` is not one of {}", FOCUS.join(", ")));
            }
            if let Some(p) = unknown_placeholder(&s.text) {
                return bad(format!("{at}: unknown placeholder {{{p}}}; the known ones: {}", PLACEHOLDERS.join(", ")));
            }
        }
        Ok(c)
    }
}

/// `focus = "proxy"` or `focus = ["proxy", "instance"]`.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Links;
    impl<'de> serde::de::Visitor<'de> for Links {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a link (\"{}\") or a list of them", FOCUS.join("\", \""))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element::<String>()? {
                out.push(v);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Links)
}

fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let end = after.find('}')?;
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}

/// The stack's names, filled into the text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names(pub BTreeMap<&'static str, String>);

impl Names {
    /// `{name}` replaced by the stack's value, or a plain description while it is not known.
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for p in PLACEHOLDERS {
            let value = self.0.get(p).cloned().unwrap_or_else(|| unknown_name(p).to_string());
            out = out.replace(&format!("{{{p}}}"), &value);
        }
        out
    }
}

fn unknown_name(p: &str) -> &'static str {
    match p {
        "proxy" => "the proxy",
        "proxy_endpoint" => "the proxy's endpoint",
        "port" => "3306",
        "instance" => "the DB instance",
        "host" => "the app host",
        "user" => "the app's user",
        "region" => "the region",
        "prefix" => "the app's prefix",
        _ => "the app's database",
    }
}

/// The chapters: the built-in ones, then the folder's (a file with a built-in chapter's id replaces
/// it; others are added), ordered by file name. Errors name the file.
pub fn chapters(dir: Option<&Path>) -> Result<Vec<Chapter>, String> {
    let mut by_id: BTreeMap<String, Chapter> = BTreeMap::new();
    for (file, text) in BUILT_IN {
        let c = Chapter::parse(file, text)?;
        by_id.insert(c.id.clone(), c);
    }
    if let Some(dir) = dir {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ordered(by_id)),
            Err(e) => return Err(format!("tour chapters in {}: {e}", dir.display())),
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("tour chapter {}: {e}", path.display()))?;
            let c = Chapter::parse(&path.display().to_string(), &text)?;
            by_id.insert(c.id.clone(), Chapter { file: file_name(&path), ..c });
        }
    }
    Ok(ordered(by_id))
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}

fn ordered(by_id: BTreeMap<String, Chapter>) -> Vec<Chapter> {
    let mut v: Vec<Chapter> = by_id.into_values().collect();
    v.sort_by(|a, b| a.file.cmp(&b.file).then(a.id.cmp(&b.id)));
    v
}

/// The folder a team's chapters go in: `tour/` beside the config file.
pub fn user_dir(config_path: Option<&Path>) -> Option<PathBuf> {
    config_path.and_then(|p| p.parent()).map(|d| d.join("tour"))
}

/// Where the learner is, kept in the state folder (`tour.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The chapter open now (its id) and its step (0-based).
    pub chapter: Option<String>,
    pub step: usize,
    /// Chapters finished, by id.
    #[serde(default)]
    pub done: Vec<String>,
}

impl Progress {
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("tour.json")
    }

    /// The saved progress; nothing saved (or unreadable) is a fresh start.
    pub fn load(state_dir: Option<&Path>) -> Progress {
        state_dir
            .and_then(|d| std::fs::read_to_string(Progress::path(d)).ok())
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Writes it (private, replaced whole).
    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        crate::files::private_dir(state_dir)?;
        let path = Progress::path(state_dir);
        let tmp = path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut f = crate::files::create_private(&tmp)?;
            f.write_all(serde_json::to_string_pretty(self).map_err(std::io::Error::other)?.as_bytes())?;
        }
        std::fs::rename(tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_chapters_parse_and_every_action_is_used() {
        let cs = chapters(None).unwrap();
        assert_eq!(cs.len(), BUILT_IN.len());
        for a in Action::ALL {
            assert!(cs.iter().flat_map(|c| &c.steps).any(|s| s.action == Some(a)), "{} is in no chapter", a.name());
        }
        // Each step's key is free and the chapter's steps do not share one that means two things.
        for c in &cs {
            for s in &c.steps {
                if let Some(k) = s.key() {
                    assert!(!RESERVED_KEYS.contains(&k), "{}: {k}", c.id);
                }
            }
        }
    }

    #[test]
    fn a_bad_chapter_says_what_is_wrong_and_where() {
        let e = Chapter::parse("x.toml", "id = \"x\"\ntitle = \"t\"\n[[steps]]\ntitle = \"a\"\ntext = \"{nope}\"\n").unwrap_err();
        assert!(e.contains("x.toml") && e.contains("unknown placeholder {nope}"), "{e}");
        let e = Chapter::parse("x.toml", "id = \"x\"\ntitle = \"t\"\n[[steps]]\ntitle = \"a\"\ntext = \"b\"\naction = \"fly\"\n").unwrap_err();
        assert!(e.contains("x.toml") && e.contains("fly"), "{e}");
        let e = Chapter::parse("x.toml", "id = \"x\"\ntitle = \"t\"\n[[steps]]\ntitle = \"a\"\ntext = \"b\"\naction = \"login\"\nkey = \"s\"\n").unwrap_err();
        assert!(e.contains("key `s` is not free"), "{e}");
        let e = Chapter::parse("x.toml", "id = \"x\"\ntitle = \"t\"\n[[steps]]\ntitle = \"a\"\ntext = \"b\"\ncolour = \"red\"\n").unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let e = Chapter::parse("x.toml", "id = \"x\"\ntitle = \"t\"\n").unwrap_err();
        assert!(e.contains("steps"), "{e}");
    }

    #[test]
    fn focus_is_one_link_or_a_list_of_known_ones() {
        let step = |focus: &str| format!("id = \"x\"\ntitle = \"t\"\n[[steps]]\ntitle = \"a\"\ntext = \"b\"\naction = \"stack\"\nfocus = {focus}\n");
        assert_eq!(Chapter::parse("x.toml", &step("\"proxy\"")).unwrap().steps[0].focus, ["proxy"]);
        assert_eq!(Chapter::parse("x.toml", &step("[\"proxy\", \"instance\"]")).unwrap().steps[0].focus, ["proxy", "instance"]);
        let e = Chapter::parse("x.toml", &step("[\"proxy\", \"bastion\"]")).unwrap_err();
        assert!(e.contains("x.toml") && e.contains("focus `bastion` is not one of host, config"), "{e}");
        let e = Chapter::parse("x.toml", &step("3")).unwrap_err();
        assert!(e.contains("x.toml") && e.contains("a link (\"host\", \"config\""), "{e}");
        let e = Chapter::parse("x.toml", "id = \"x\"\ntitle = \"t\"\n[[steps]]\ntitle = \"a\"\ntext = \"b\"\naction = \"login\"\nfocus = \"proxy\"\n").unwrap_err();
        assert!(e.contains("focus is for action = \"stack\" only"), "{e}");
    }

    #[test]
    fn a_teams_folder_replaces_a_chapter_by_id_and_adds_its_own() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("30-token.toml"), "id = \"token\"\ntitle = \"Our tokens\"\n[[steps]]\ntitle = \"a\"\ntext = \"on {proxy}\"\n").unwrap();
        std::fs::write(d.path().join("95-ours.toml"), "id = \"ours\"\ntitle = \"Our runbook\"\n[[steps]]\ntitle = \"a\"\ntext = \"b\"\n").unwrap();
        std::fs::write(d.path().join("notes.txt"), "not a chapter").unwrap();
        let cs = chapters(Some(d.path())).unwrap();
        assert_eq!(cs.len(), BUILT_IN.len() + 1);
        assert_eq!(cs.iter().find(|c| c.id == "token").unwrap().title, "Our tokens");
        assert_eq!(cs.last().unwrap().id, "ours");
        std::fs::write(d.path().join("96-bad.toml"), "id = ").unwrap();
        assert!(chapters(Some(d.path())).unwrap_err().contains("96-bad.toml"));
    }

    #[test]
    fn names_fill_the_text_and_unknown_ones_read_plainly() {
        let mut n = Names::default();
        n.0.insert("proxy", "dev-node-app".into());
        assert_eq!(n.fill("{proxy} then {host}"), "dev-node-app then the app host");
    }

    #[test]
    fn progress_survives_a_restart_and_is_private() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("state");
        let p = Progress { chapter: Some("token".into()), step: 1, done: vec!["architecture".into()] };
        p.save(&state).unwrap();
        assert_eq!(Progress::load(Some(&state)), p);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(Progress::path(&state)).unwrap().permissions().mode() & 0o077, 0);
        std::fs::write(Progress::path(&state), "garbage").unwrap();
        assert_eq!(Progress::load(Some(&state)), Progress::default());
    }
}
