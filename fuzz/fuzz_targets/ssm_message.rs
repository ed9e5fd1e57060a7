//! The data-channel frame decoder on arbitrary bytes: it never panics, and a
//! frame it accepts re-encodes to one that decodes to the same message.
//!   cargo fuzz run ssm_message -- -max_total_time=600   (from the repository root)
#![no_main]

#[allow(dead_code)]
#[path = "../../src/ssm/channel/message.rs"]
mod message;

use libfuzzer_sys::fuzz_target;
use message::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::decode(data) {
        let again = Message::decode(&m.encode()).expect("a re-encoded frame decodes");
        assert_eq!(again, m);
    }
});
