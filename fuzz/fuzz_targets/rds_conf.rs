//! The seed's `rds.conf` parser on arbitrary text: it never panics, and what it accepts yields an
//! anchor or a clear error.
//!   cargo fuzz run rds_conf -- -max_total_time=600   (from the repository root)
#![no_main]

#[allow(dead_code)]
#[path = "../../src/stack/sources.rs"]
mod sources;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(conf) = sources::RdsConf::parse(text, std::path::Path::new("rds.conf")) {
        let _ = conf.anchor();
    }
});
