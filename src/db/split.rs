//! Splits a script into statements the way the mysql client does: `;` ends a
//! statement except inside quotes, backticks or comments; `DELIMITER x`
//! changes the terminator (for procedure bodies).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    /// 1-based line where the statement starts, for error messages.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("line {line}: unterminated {what} (started here)")]
    Unterminated { line: usize, what: &'static str },
}

pub fn split(script: &str) -> Result<Vec<Statement>, SplitError> {
    let mut out = Vec::new();
    let mut delim = ";".to_string();
    let mut cur = String::new();
    let mut start_line = 1;
    let mut line = 1;
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let at_line_start = |cur: &str| cur.trim().is_empty();
    let flush = |cur: &mut String, out: &mut Vec<Statement>, start: usize| {
        let s = cur.trim();
        if !s.is_empty() {
            out.push(Statement { sql: s.to_string(), line: start });
        }
        cur.clear();
    };
    while i < chars.len() {
        let c = chars[i];
        // DELIMITER at the start of a statement.
        if at_line_start(&cur) && (i == 0 || chars[i - 1] == '\n' || chars[i - 1].is_whitespace()) {
            let rest: String = chars[i..].iter().take(10).collect();
            if rest.to_ascii_uppercase().starts_with("DELIMITER") && chars.get(i + 9).is_some_and(|c| c.is_whitespace()) {
                let end = chars[i..].iter().position(|c| *c == '\n').map(|p| i + p).unwrap_or(chars.len());
                let d: String = chars[i + 9..end].iter().collect::<String>().trim().to_string();
                if !d.is_empty() {
                    delim = d;
                }
                cur.clear();
                i = end;
                continue;
            }
        }
        if cur.trim().is_empty() && !c.is_whitespace() {
            start_line = line;
        }
        match c {
            '\'' | '"' | '`' => {
                let open_line = line;
                cur.push(c);
                i += 1;
                loop {
                    let Some(&d) = chars.get(i) else {
                        return Err(SplitError::Unterminated {
                            line: open_line,
                            what: match c {
                                '`' => "backtick-quoted name",
                                _ => "string",
                            },
                        });
                    };
                    cur.push(d);
                    i += 1;
                    if d == '\n' {
                        line += 1;
                    }
                    if d == '\\' && c != '`' {
                        if let Some(&e) = chars.get(i) {
                            cur.push(e);
                            i += 1;
                            if e == '\n' {
                                line += 1;
                            }
                        }
                        continue;
                    }
                    if d == c {
                        // A doubled quote is an escaped quote.
                        if chars.get(i) == Some(&c) {
                            cur.push(c);
                            i += 1;
                            continue;
                        }
                        break;
                    }
                }
                continue;
            }
            '-' if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_none_or(|c| c.is_whitespace()) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let open_line = line;
                // Keep executable comments (/*! ... */) and optimizer hints (/*+ ... */).
                let keep = matches!(chars.get(i + 2), Some('!') | Some('+'));
                let mut j = i + 2;
                loop {
                    if j + 1 >= chars.len() {
                        return Err(SplitError::Unterminated { line: open_line, what: "/* comment" });
                    }
                    if chars[j] == '*' && chars[j + 1] == '/' {
                        break;
                    }
                    j += 1;
                }
                let body: String = chars[i..j + 2].iter().collect();
                line += body.matches('\n').count();
                if keep {
                    cur.push_str(&body);
                } else {
                    cur.push(' ');
                }
                i = j + 2;
                continue;
            }
            _ => {}
        }
        let dchars: Vec<char> = delim.chars().collect();
        if chars[i..].starts_with(&dchars) {
            flush(&mut cur, &mut out, start_line);
            i += dchars.len();
            continue;
        }
        if c == '\n' {
            line += 1;
        }
        cur.push(c);
        i += 1;
    }
    flush(&mut cur, &mut out, start_line);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(s: &str) -> Vec<String> {
        split(s).unwrap().into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        assert_eq!(
            sqls("SELECT 1; SELECT 'a;b', \"c;d\", `e;f`; -- x;y\nSELECT 2 # z;\n; /* ; */ SELECT 3"),
            vec!["SELECT 1", "SELECT 'a;b', \"c;d\", `e;f`", "SELECT 2", "SELECT 3"]
        );
    }

    #[test]
    fn escapes_and_doubled_quotes() {
        assert_eq!(sqls(r"SELECT 'it''s; fine', 'back\'slash;'; SELECT 2"), vec![r"SELECT 'it''s; fine', 'back\'slash;'", "SELECT 2"]);
    }

    #[test]
    fn delimiter_changes_the_terminator() {
        let s = "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END//\nDELIMITER ;\nCALL p();";
        assert_eq!(sqls(s), vec!["CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", "CALL p()"]);
    }

    #[test]
    fn lines_are_tracked_and_unterminated_input_is_an_error() {
        let v = split("SELECT 1;\n\n  SELECT\n 2;").unwrap();
        assert_eq!(v[1].line, 3);
        assert_eq!(split("SELECT 'oops;").unwrap_err(), SplitError::Unterminated { line: 1, what: "string" });
        assert!(split("SELECT 1 /* never closed").is_err());
    }

    #[test]
    fn executable_comments_are_kept_and_dash_dash_needs_a_space() {
        assert_eq!(sqls("SELECT /*! 1 */ 5--1;"), vec!["SELECT /*! 1 */ 5--1"]);
    }
}
