//! What may run: the one guard (read-only mode, confirmation of destructive
//! statements) the CLI and the SQL shell both ask before a statement is sent.

use super::classify::{Class, classify};

/// One decision point for what may run (read-only mode, destructive statements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    pub read_only: bool,
    /// Destructive statements were confirmed (`--yes`, or the shell's prompt).
    pub confirmed: bool,
}

impl Guard {
    pub fn check(&self, sql: &str) -> Result<Class, String> {
        let v = classify(sql);
        match v.class {
            Class::Read => Ok(v.class),
            _ if self.read_only => Err(format!("read-only mode: refusing a write ({})", v.reason)),
            Class::Destructive if !self.confirmed => {
                Err(format!("destructive: {} — confirm it (--yes on the command line)", v.reason))
            }
            c => Ok(c),
        }
    }
}
