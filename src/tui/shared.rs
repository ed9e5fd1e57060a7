//! What the app and its features share as words: which feature has the keys
//! ([`Mode`]) and where the stack's discovery is ([`Phase`]).

use std::time::Instant;

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Connecting { since: Instant },
    Locating { since: Instant },
    Ready,
    Failed(String),
}

/// Every view that takes the keys, one line each: the only place a view is registered.
///
/// `Mode => module, "config name", "help title" [, open: "palette verb"] [, also: Scope "name" "title"];`
///
/// The module (in `features/`) holds the view's state (`pub type Feature`, an `impl View`) and its
/// keys (`pub const KEYS`; a row `(Scope::Main, Cmd::View(Mode::It), …)` is its key on the lists).
/// From this line come its [`Mode`], its key-map scope (`[keys.NAME]`, a section of `?` help), its
/// field in `Features`, the routing of its keys, mouse, messages and drawing, and with `open:` its
/// palette verb. `also:` adds a second scope read under the same mode (the SQL grid's).
macro_rules! views {
    ($then:ident) => {
        $then! {
            Detail => detail, "detail", "Detail view";
            Help => help, "help", "Help";
            Palette => palette, "palette", "Command palette";
            Token => token, "token", "Token";
            Sql => sql, "sql", "SQL shell", also: SqlGrid "sql_grid" "SQL results grid";
            Forwards => forwards, "forwards", "Forwards";
            Bootstrap => bootstrap, "bootstrap", "Bootstrap";
            Doctor => doctor, "doctor", "Doctor", open: "doctor";
            Pulse => pulse, "pulse", "Pulse", open: "pulse";
            Tour => tour, "tour", "Tour", open: "tour";
        }
    };
}
pub(crate) use views;

macro_rules! modes {
    ($($mode:ident => $field:ident, $name:literal, $title:literal $(, open: $verb:literal)? $(, also: $also:ident $aname:literal $atitle:literal)?;)*) => {
        /// Which feature has the keys: the browser's own modes, then every view of [`views!`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Mode {
            Normal,
            Filter,
            ChooseProxy,
            $($mode,)*
        }
    };
}
views!(modes);
