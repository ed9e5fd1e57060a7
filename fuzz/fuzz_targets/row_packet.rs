//! Result packets from the server (untrusted) on arbitrary bytes: a row splits into fields that
//! lie inside the packet and re-encode to a packet that splits into the same fields; OK, EOF and
//! error packets never panic.
//!   cargo fuzz run row_packet -- -max_total_time=600   (from the repository root)
#![no_main]

#[allow(dead_code)]
#[path = "../../src/db/packet.rs"]
mod packet;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, packet)) = data.split_first() else { return };
    let mut spans = Vec::new();
    if packet::parse_row(packet, n as usize, &mut spans).is_some() {
        assert_eq!(spans.len(), n as usize);
        let fields: Vec<Option<&[u8]>> = spans
            .iter()
            .map(|s| (*s != packet::NULL_SPAN).then(|| &packet[s.start as usize..(s.start + s.len) as usize]))
            .collect();
        let again = packet::encode_row(&fields);
        let mut spans2 = Vec::new();
        packet::parse_row(&again, n as usize, &mut spans2).expect("a re-encoded row parses");
        let fields2: Vec<Option<&[u8]>> = spans2
            .iter()
            .map(|s| (*s != packet::NULL_SPAN).then(|| &again[s.start as usize..(s.start + s.len) as usize]))
            .collect();
        assert_eq!(fields, fields2);
    }
    let _ = packet::parse_ok(data);
    let _ = packet::parse_eof(data);
    let _ = packet::is_eof(data);
    let _ = packet::parse_err(data);
    let _ = packet::lenenc(data);
});
