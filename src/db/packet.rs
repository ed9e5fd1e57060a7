//! The text protocol's packets that carry results, parsed without allocating: a row split into
//! its fields ([`parse_row`]), OK, EOF and error packets. Pure functions on bytes from the
//! server (untrusted): malformed input is `None`, never a panic (`fuzz/fuzz_targets/row_packet.rs`).

/// One field of a text-protocol row: where it is in the packet, or NULL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

pub(crate) const NULL_SPAN: Span = Span { start: u32::MAX, len: 0 };

/// The status flag that says another result set follows.
const SERVER_MORE_RESULTS_EXISTS: u16 = 0x0008;

/// Splits a text-protocol row packet into `n` fields; `None` if it is malformed.
pub(crate) fn parse_row(data: &[u8], n: usize, spans: &mut Vec<Span>) -> Option<()> {
    spans.clear();
    let mut pos = 0usize;
    for _ in 0..n {
        let first = *data.get(pos)?;
        if first == 0xFB {
            spans.push(NULL_SPAN);
            pos += 1;
            continue;
        }
        let (len, used) = lenenc(&data[pos..])?;
        let start = pos + used;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        if end > data.len() || end > u32::MAX as usize - 1 {
            return None;
        }
        spans.push(Span { start: start as u32, len: (end - start) as u32 });
        pos = end;
    }
    (pos == data.len()).then_some(())
}

/// A length-encoded integer: its value and how many bytes it took.
pub(crate) fn lenenc(b: &[u8]) -> Option<(u64, usize)> {
    let le = |n: usize| -> Option<u64> {
        let bytes = b.get(1..1 + n)?;
        Some(bytes.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
    };
    match *b.first()? {
        x @ 0..=0xFA => Some((x as u64, 1)),
        0xFC => Some((le(2)?, 3)),
        0xFD => Some((le(3)?, 4)),
        0xFE => Some((le(8)?, 9)),
        _ => None,
    }
}

/// The fields of an OK packet (0x00 header) or the old EOF packet (0xFE, < 9 bytes) that matter here.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Done {
    pub(crate) affected: u64,
    pub(crate) more_results: bool,
}

pub(crate) fn parse_ok(p: &[u8]) -> Option<Done> {
    let mut pos = 1;
    let (affected, n) = lenenc(&p[pos..])?;
    pos += n;
    let (_insert_id, n) = lenenc(&p[pos..])?;
    pos += n;
    let status = u16::from_le_bytes([*p.get(pos)?, *p.get(pos + 1)?]);
    Some(Done { affected, more_results: status & SERVER_MORE_RESULTS_EXISTS != 0 })
}

pub(crate) fn parse_eof(p: &[u8]) -> Done {
    // 0xFE, warnings (2), status (2)
    let status = if p.len() >= 5 { u16::from_le_bytes([p[3], p[4]]) } else { 0 };
    Done { affected: 0, more_results: status & SERVER_MORE_RESULTS_EXISTS != 0 }
}

pub(crate) fn is_eof(p: &[u8]) -> bool {
    p.first() == Some(&0xFE) && p.len() < 9
}

/// An error packet's code, SQL state and message (`None` when truncated).
pub(crate) fn parse_err(p: &[u8]) -> Option<(u16, String, String)> {
    // 0xFF, code (2), '#', state (5), message
    if p.len() < 3 {
        return None;
    }
    let code = u16::from_le_bytes([p[1], p[2]]);
    let (state, message) = if p.get(3) == Some(&b'#') && p.len() >= 9 {
        (String::from_utf8_lossy(&p[4..9]).into_owned(), String::from_utf8_lossy(&p[9..]).into_owned())
    } else {
        ("HY000".to_string(), String::from_utf8_lossy(&p[3..]).into_owned())
    };
    Some((code, state, message))
}

#[cfg(any(test, fuzzing))]
/// A text-protocol row packet of these fields (the server's encoding).
pub(crate) fn encode_row(fields: &[Option<&[u8]>]) -> Vec<u8> {
    let mut v = Vec::new();
    for f in fields {
        match f {
            None => v.push(0xFB),
            Some(b) if b.len() < 251 => {
                v.push(b.len() as u8);
                v.extend_from_slice(b);
            }
            Some(b) => {
                let n = b.len() as u64;
                if n < 1 << 16 {
                    v.push(0xFC);
                    v.extend_from_slice(&n.to_le_bytes()[..2]);
                } else if n < 1 << 24 {
                    v.push(0xFD);
                    v.extend_from_slice(&n.to_le_bytes()[..3]);
                } else {
                    v.push(0xFE);
                    v.extend_from_slice(&n.to_le_bytes());
                }
                v.extend_from_slice(b);
            }
        }
    }
    v
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::rows::TextRow;

    #[test]
    fn rows_split_into_fields_with_null_and_empty_apart() {
        let long = vec![b'x'; 300];
        let fields: Vec<Option<&[u8]>> = vec![Some(b"1"), None, Some(b""), Some(&long), Some(b"\xff\x00")];
        let p = encode_row(&fields);
        let mut spans = Vec::new();
        parse_row(&p, fields.len(), &mut spans).unwrap();
        let row = TextRow { data: &p, spans: &spans };
        assert_eq!(row.iter().collect::<Vec<_>>(), fields);
    }

    #[test]
    fn malformed_rows_are_refused_not_panicked_on() {
        let mut spans = Vec::new();
        let p = encode_row(&[Some(b"abc"), Some(b"de")]);
        assert!(parse_row(&p, 3, &mut spans).is_none(), "too few fields");
        assert!(parse_row(&p, 1, &mut spans).is_none(), "trailing bytes");
        assert!(parse_row(&p[..p.len() - 1], 2, &mut spans).is_none(), "truncated");
        assert!(parse_row(&[0xFE, 1, 0, 0], 1, &mut spans).is_none(), "short 8-byte length");
        assert!(parse_row(&[0xFF], 1, &mut spans).is_none());
        assert!(parse_row(&[0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], 1, &mut spans).is_none(), "huge length");
    }

    #[test]
    fn lenenc_forms() {
        assert_eq!(lenenc(&[0xFA]), Some((250, 1)));
        assert_eq!(lenenc(&[0xFC, 0x34, 0x12]), Some((0x1234, 3)));
        assert_eq!(lenenc(&[0xFD, 1, 2, 3]), Some((0x030201, 4)));
        assert_eq!(lenenc(&[0xFE, 1, 0, 0, 0, 0, 0, 0, 0]), Some((1, 9)));
        assert_eq!(lenenc(&[0xFC, 1]), None);
        assert_eq!(lenenc(&[]), None);
    }

    #[test]
    fn ok_and_eof_packets() {
        // OK: 3 rows affected, insert id 0, SERVER_MORE_RESULTS_EXISTS, no warnings.
        assert_eq!(parse_ok(&[0x00, 3, 0, 0x08, 0x00, 0, 0]), Some(Done { affected: 3, more_results: true }));
        assert_eq!(parse_ok(&[0x00, 3]), None);
        assert!(is_eof(&[0xFE, 0, 0, 0x02, 0]));
        assert!(!is_eof(&[0xFE, 1, 0, 0, 0, 0, 0, 0, 0]), "a row whose first field has an 8-byte length");
        assert_eq!(parse_eof(&[0xFE, 0, 0, 0x0A, 0]), Done { affected: 0, more_results: true });
        assert_eq!(parse_err(b"\xff\x15\x04#28000Access denied"), Some((1045, "28000".into(), "Access denied".into())));
        assert_eq!(parse_err(&[0xFF]), None);
    }
}
