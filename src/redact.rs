//! No secret in the log, at any level: two mechanisms, not a list of call sites.
//!
//! 1. [`CAPS`]: the crates that log secrets or keystrokes at their most verbose levels are capped
//!    whatever `RDSDECK_LOG` says (tungstenite's frames carry the Session Manager `TokenValue` and
//!    every shell keystroke, the SDK's HTTP traces carry response bodies, sqlparser logs whole
//!    statements, `IDENTIFIED BY 'password'` included).
//! 2. [`Redacting`]: every line written to the log is scanned for the names of credentials
//!    (`TokenValue`, `X-Amz-Security-Token`, `X-Amz-Signature`, `Authorization`, `password`, …)
//!    and the value after each is replaced by `***`, whatever logged it.

use std::borrow::Cow;
use std::io::Write;

/// Directives added after the user's: the most specific wins, so these hold under `trace`.
pub const CAPS: &[&str] = &[
    "tungstenite=debug",
    "tokio_tungstenite=debug",
    "aws_smithy_runtime=debug",
    "aws_smithy_runtime_api=debug",
    "aws_sigv4=debug",
    "aws_smithy_http_client=debug",
    "hyper=info",
    "hyper_util=info",
    "h2=info",
    "rustls=info",
    "sqlparser=info",
    "mysql_async=info",
    "mysql_common=info",
];

/// Names whose values are secrets, matched without regard to case.
const NAMES: &[&str] = &[
    "tokenvalue",
    "token_value",
    "x-amz-security-token",
    "x-amz-signature",
    "authorization",
    "secretstring",
    "secret_string",
    "secret_access_key",
    "secretaccesskey",
    "session_token",
    "sessiontoken",
    "password",
    "identified by",
];

/// `s` with the value after every secret's name replaced by `***`.
pub fn line(s: &str) -> Cow<'_, str> {
    let lower = s.to_ascii_lowercase();
    if !NAMES.iter().any(|n| lower.contains(n)) {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let hit = NAMES.iter().find(|n| lower.as_bytes()[i..].starts_with(n.as_bytes()));
        let Some(name) = hit else {
            // Copy one character (whole, for UTF-8).
            let ch = s[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
            continue;
        };
        let mut j = i + name.len();
        out.push_str(&s[i..j]);
        // The separator: quotes (escaped or not), `:`, `=`, spaces, `Some(`.
        let sep_start = j;
        while j < b.len() && matches!(b[j], b'"' | b'\\' | b':' | b'=' | b' ' | b'\'') {
            j += 1;
        }
        if s[j..].starts_with("Some(") {
            j += "Some(".len();
            while j < b.len() && matches!(b[j], b'"' | b'\\') {
                j += 1;
            }
        }
        let value_start = j;
        while j < b.len() && !matches!(b[j], b'"' | b'\\' | b'&' | b',' | b' ' | b'}' | b')' | b'\'' | b';' | b'\n') {
            j += 1;
        }
        // A name with no separator is a word that merely contains it ("passwords"): keep it.
        if value_start == sep_start || value_start == j {
            out.push_str(&s[sep_start..j]);
        } else {
            out.push_str(&s[sep_start..value_start]);
            out.push_str("***");
        }
        i = j;
    }
    Cow::Owned(out)
}

/// A log writer that redacts what goes through it ([`line`]); `fmt` writes an event at once.
pub struct Redacting<W: Write>(pub W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(line(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_after_secret_names_are_masked() {
        for (input, secret) in [
            (r#"body: {"SessionId":"s-1","TokenValue":"AAEAAbc/def+ghi=","StreamUrl":"wss://x"}"#, "AAEAAbc/def+ghi="),
            (r#"payload: b"{\"RequestId\":\"r\",\"TokenValue\":\"tok-123\",\"ClientId\":\"c\"}""#, "tok-123"),
            ("uri: https://h/?X-Amz-Security-Token=IQoJb3JpZ2luX2Vj%2F&X-Amz-Signature=abc123def", "IQoJb3JpZ2luX2Vj%2F"),
            ("uri: https://h/?X-Amz-Security-Token=IQoJb3JpZ2luX2Vj%2F&X-Amz-Signature=abc123def", "abc123def"),
            ("headers: {\"authorization\": \"AWS4-HMAC-SHA256 Credential=AKIA\"}", "AWS4-HMAC-SHA256"),
            ("token_value: Some(\"s3cr3t\")", "s3cr3t"),
            ("ALTER USER x IDENTIFIED BY 'pw-9' -- password='hunter2'", "hunter2"),
            ("ALTER USER x IDENTIFIED BY 'pw-9' -- password='hunter2'", "pw-9"),
            (r#"{"SecretString":"{\"password\":\"p@ss\"}"}"#, "p@ss"),
        ] {
            let out = line(input);
            assert!(!out.contains(secret), "{input} -> {out}");
            assert!(out.contains("***"), "{out}");
        }
        // Lines without a secret's name pass untouched; a word that contains one stays.
        assert!(matches!(line("SELECT 1 FROM orders"), Cow::Borrowed(_)));
        assert_eq!(line("two passwords were wrong"), "two passwords were wrong");
        assert_eq!(line("naïve TokenValue=x é"), "naïve TokenValue=*** é");
    }

    #[test]
    fn the_writer_redacts_each_event() {
        let mut w = Redacting(Vec::new());
        w.write_all(b"TRACE x: \"TokenValue\":\"abc\"\n").unwrap();
        assert_eq!(String::from_utf8(w.0).unwrap(), "TRACE x: \"TokenValue\":\"***\"\n");
    }
}
