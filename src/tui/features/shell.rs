//! A shell on a host through Session Manager: the host is decided as
//! `rdsdeck shell` decides it; the runner hands the terminal over and back.

use super::{Cx, Effect};
use crate::stack::Health;

/// `x`: a shell on the selected host (or the stack's only usable one).
pub fn open(cx: &mut Cx) -> Vec<Effect> {
    let Some(ctx) = cx.ctx else {
        cx.status(Health::Bad, "no AWS credentials yet: a session needs them");
        return Vec::new();
    };
    match crate::target::carrier_host(cx.facts, None, cx.selected_host) {
        Ok(target) => {
            cx.log(Health::Unknown, format!("shell on {target}"));
            vec![Effect::Shell { ctx: ctx.clone(), target }]
        }
        Err(e) => {
            cx.status(Health::Bad, format!("shell: {}", super::forwards::hint(&e)));
            Vec::new()
        }
    }
}

/// The shell ended (or could not start).
pub fn ended(target: &str, result: Result<String, String>, cx: &mut Cx) {
    let (h, m) = match result {
        Ok(why) => (Health::Ok, format!("shell on {target} ended: {why}")),
        Err(e) => (Health::Bad, format!("shell on {target}: {e}")),
    };
    cx.log(h, m.clone());
    cx.status(h, m);
}
