//! Text from AWS, a database, a token or a file is untrusted on its way to a
//! terminal: an escape sequence in an SSM parameter's value could recolour the
//! screen, move the cursor, or write the clipboard (OSC 52). Every control
//! character (C0, DEL, C1) is shown as a visible escape instead. (The TUI's
//! renderer drops control characters itself; this is for what the CLI prints.)

use std::borrow::Cow;

fn escape(c: char, out: &mut String) {
    use std::fmt::Write;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// One line of a table or a value: every control character escaped (newlines too).
pub fn line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() { escape(c, &mut out) } else { out.push(c) }
    }
    Cow::Owned(out)
}

/// A message: line breaks and tabs kept, every other control character escaped.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' { escape(c, &mut out) } else { out.push(c) }
    }
    Cow::Owned(out)
}

/// JSON text with DEL and the C1 controls (which serde_json leaves raw) written as `\u` escapes.
pub fn json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c)) {
        return Cow::Borrowed(json);
    }
    json.chars()
        .map(|c| if c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) { format!("\\u{:04x}", c as u32) } else { c.to_string() })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_reach_no_terminal() {
        let osc52 = "on\x1b]52;c;aGFja2Vk\x07";
        assert_eq!(line(osc52), "on\\x1b]52;c;aGFja2Vk\\x07");
        assert_eq!(line("a\u{9b}31mb"), "a\\x9b31mb", "C1 CSI too");
        assert_eq!(line("x\ny"), "x\\ny");
        assert_eq!(text("x\ny\x1b[2J"), "x\ny\\x1b[2J");
        assert!(matches!(line("plain ünïcode ✓"), Cow::Borrowed(_)));
        assert_eq!(line("del\u{7f}"), "del\\x7f");
    }
}
