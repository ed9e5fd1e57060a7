//! The config file (TOML) on arbitrary text: parsing and validation never panic.
//!   cargo fuzz run config -- -max_total_time=600   (from the repository root)
#![no_main]

#[allow(dead_code)]
#[path = "../../src/config.rs"]
mod config;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = config::Config::parse(text, std::path::Path::new("config.toml"));
});
