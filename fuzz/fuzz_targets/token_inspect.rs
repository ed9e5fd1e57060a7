//! `rdsdeck token inspect` on arbitrary input never panics; and a token signed for arbitrary
//! (valid) inputs inspects back to those inputs.
//!   cargo fuzz run token_inspect -- -max_total_time=600   (from the repository root)
#![no_main]

#[allow(dead_code)]
#[path = "../../src/auth/token.rs"]
mod token;

use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    let now = UNIX_EPOCH + Duration::from_secs(1_760_000_000);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = token::inspect(text, now);
    // Round trip: the input's parts as a request.
    let mut parts = text.splitn(3, '\n');
    let (Some(host), Some(user), Some(region)) = (parts.next(), parts.next(), parts.next()) else { return };
    let req = token::TokenRequest { hostname: host.into(), port: 3306, region: region.into(), username: user.into() };
    let creds = aws_credential_types::Credentials::new("AKIDEXAMPLE1234", "secret", None, None, "fuzz");
    if let Ok(t) = token::generate(&req, &creds, now) {
        let info = token::inspect(&t, now).expect("a token rdsdeck signed inspects");
        assert_eq!((info.host.as_str(), info.user.as_str(), info.region.as_str(), info.port), (host, user, region, 3306));
    }
});
