//! `terraform output -json` on arbitrary text: the parser never panics, and what it accepts
//! yields an anchor or a clear error.
//!   cargo fuzz run terraform_output -- -max_total_time=600   (from the repository root)
#![no_main]

#[allow(dead_code)]
#[path = "../../src/stack/sources.rs"]
mod sources;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(out) = sources::TerraformOutputs::parse(text, std::path::Path::new("outputs.json")) {
        let _ = out.anchor();
    }
});
