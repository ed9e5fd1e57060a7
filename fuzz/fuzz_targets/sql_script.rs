//! The SQL shell's splitter and classifier on arbitrary scripts: they never panic, and a
//! statement's class does not change when a comment is put in front of it (the destructive
//! check cannot be talked around with comments).
//!   cargo fuzz run sql_script -- -max_total_time=600   (from the repository root)
#![no_main]

#[allow(dead_code)]
#[path = "../../src/db/split.rs"]
mod split;
#[allow(dead_code)]
#[path = "../../src/db/classify.rs"]
mod classify;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(script) = std::str::from_utf8(data) else { return };
    let _ = classify::carries_secret(script);
    let Ok(statements) = split::split(script) else { return };
    for s in statements {
        let v = classify::classify(&s.sql);
        let commented = classify::classify(&format!("/* fuzz */ {}", s.sql));
        assert_eq!(v.class, commented.class, "{:?}: a comment in front changed the class", s.sql);
    }
});
