//! The TUI's features. Each owns its state, turns its named actions (from the
//! key map) and worker messages into state changes and [`Effect`]s, asks other
//! features for things with [`Internal`] events, and draws its state alone.
//! `update` code here touches no disk, network, clock or environment: those
//! come in through [`Cx`] or go out as effects.
//!
//! Adding a view: a file (or folder) here with its state (`impl View`: its
//! keys, messages and `draw`) and its `KEYS`, and one line in
//! [`crate::tui::shared::views!`]. The mode, the key map scope, the field in
//! [`Features`], the routing of keys, mouse, messages and drawing, its key on
//! the lists and its palette verb all follow from that line.

pub mod browser;
pub mod log;
pub mod shell;

use ratatui::layout::Rect;
use std::time::{Instant, SystemTime};

use super::event::Internal;
use super::keymap::Keymap;
use super::theme::Theme;
use crate::aws::AwsContext;
use crate::settings::Settings;
use crate::stack::{Health, Located};
use crate::target::StackFacts;

pub use super::event::Effect;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::text::Line;

use super::keymap::{Cmd, Scope};
use super::shared::Mode;

/// A feature that takes the keys when it has focus (a [`super::shared::Mode`]): the scope its keys
/// are read in, what they do, what it draws, and its footer. The browser's own modes (the lists,
/// the filter, the detail view, the proxy chooser) are the base layer and are routed by `App`.
pub trait View {
    /// The key map scope its keys are read in now.
    fn scope(&self) -> Scope;
    /// A key, with what the key map says it means here (`None`: unbound; text input may use it).
    fn on_key(&mut self, key: KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect>;
    /// Draws over the main area (`screen` for views that take the whole screen).
    fn draw(&self, vx: &ViewCx, f: &mut Frame, main: Rect, screen: Rect);
    /// It draws over the whole main area: the lists are not drawn beneath it (so it needs no
    /// `Clear`, and keeps the theme's background).
    fn covers_main(&self) -> bool {
        false
    }
    /// A mouse event while it has the keys (`cx.main` is where it draws).
    fn on_mouse(&mut self, _m: crossterm::event::MouseEvent, _cx: &mut Cx) -> Vec<Effect> {
        Vec::new()
    }
    /// Its footer line.
    fn footer(&self, _vx: &ViewCx) -> Footer {
        Footer::Keys
    }
    /// Opened by its key or palette verb (focus is given to it already).
    fn open(&mut self, _cx: &mut Cx) -> Vec<Effect> {
        Vec::new()
    }
    /// Work is going on (the spinner ticks).
    fn busy(&self) -> bool {
        false
    }
    /// When it next wants [`View::on_tick`] while it has focus (a refresh, a poll).
    fn deadline(&self) -> Option<Instant> {
        None
    }
    /// Its deadline passed (the loop set `cx.now`).
    fn on_tick(&mut self, _cx: &mut Cx) -> Vec<Effect> {
        Vec::new()
    }
    /// A message from a job it started ([`Effect::Job`]); whether the screen changed.
    fn on_msg(&mut self, _msg: Box<dyn std::any::Any + Send>, _cx: &mut Cx) -> (bool, Vec<Effect>) {
        (false, Vec::new())
    }
}

/// What the footer shows while a view has focus.
pub enum Footer {
    /// The status line, else the main list's key hints.
    Keys,
    /// The status line, else this view's hints.
    Hints(String),
    /// This line, always (a text input).
    Input(Line<'static>),
}

macro_rules! features {
    ($($mode:ident => $field:ident, $name:literal, $title:literal $(, open: $verb:literal)? $(, also: $also:ident $aname:literal $atitle:literal)?;)*) => {
        $(pub mod $field;)*

        /// Every feature's state.
        #[derive(Default)]
        pub struct Features {
            pub browser: browser::Browser,
            pub log: log::Log,
            $(pub $field: $field::Feature,)*
        }

        /// The lists' actions and palette verbs that open a view, by mode.
        pub const OPENERS: &[(Mode, &str)] = &[$($((Mode::$mode, $verb),)?)*];
        /// Every view's keys (added to the key map's table).
        pub const VIEW_KEYS: &[&[crate::tui::keymap::Def]] = &[$($field::KEYS,)*];

        impl Features {
            /// The view that has the keys in `mode` (`None`: the browser's own modes).
            pub fn view(&self, mode: Mode) -> Option<&dyn View> {
                match mode {
                    $(Mode::$mode => Some(&self.$field),)*
                    _ => None,
                }
            }

            pub fn view_mut(&mut self, mode: Mode) -> Option<&mut dyn View> {
                match mode {
                    $(Mode::$mode => Some(&mut self.$field),)*
                    _ => None,
                }
            }

            /// Some view has work going on.
            pub fn any_busy(&self) -> bool {
                false $(|| View::busy(&self.$field))*
            }
        }
    };
}
crate::tui::shared::views!(features);

/// What a feature reads while it updates (shared state, owned by `App`), and the queue it writes to.
pub struct Cx<'a> {
    pub settings: &'a Settings,
    pub ctx: Option<&'a AwsContext>,
    pub located: Option<&'a Located>,
    pub generation: u64,
    pub keymap: &'a Keymap,
    pub now: Instant,
    pub wall: SystemTime,
    pub size: Rect,
    /// The main area (the list or the overview) in the current layout.
    pub main: Rect,
    /// The stack as the browser's panes know it, for the decisions in [`crate::target`].
    pub facts: &'a StackFacts,
    /// The host selected in the Hosts list, when it is on screen.
    pub selected_host: Option<&'a str>,
    /// Which feature had the keys when the input came.
    pub mode: super::shared::Mode,
    pub queue: &'a mut Vec<Internal>,
}

impl Cx<'_> {
    pub fn send(&mut self, e: Internal) {
        self.queue.push(e);
    }

    pub fn status(&mut self, h: Health, text: impl Into<String>) {
        self.queue.push(Internal::Status(h, text.into()));
    }

    pub fn log(&mut self, h: Health, text: impl Into<String>) {
        self.queue.push(Internal::Log(h, text.into()));
    }
}

/// What a feature draws with besides its own state.
pub struct ViewCx<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    pub settings: &'a Settings,
    pub now: Instant,
    pub wall: SystemTime,
}

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// A spinner and the seconds since `since`.
pub fn spinner(now: Instant, since: Instant) -> String {
    let e = now.saturating_duration_since(since);
    format!("{} {:.1}s", SPINNER[(e.as_millis() / 100) as usize % SPINNER.len()], e.as_secs_f64())
}

impl ViewCx<'_> {
    pub fn spinner(&self, since: Instant) -> String {
        spinner(self.now, since)
    }
}

/// A rectangle of `w` x `h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}
