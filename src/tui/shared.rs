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

/// Which feature has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Filter,
    Palette,
    Help,
    Detail,
    ChooseProxy,
    Token,
    Sql,
    Bootstrap,
    Forwards,
    Doctor,
    Pulse,
    Tour,
}
