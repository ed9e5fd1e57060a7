//! What a statement does, decided by a real SQL parser (sqlparser, MySQL
//! dialect): reads, writes, and the destructive ones that need confirmation.

use sqlparser::ast::{Expr, Statement as Ast};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// SELECT, SHOW, DESCRIBE, EXPLAIN, SET of session variables, USE.
    Read,
    /// INSERT, UPDATE/DELETE with WHERE, CREATE, ...
    Write,
    /// DROP, TRUNCATE, DELETE/UPDATE without WHERE, ALTER, GRANT, REVOKE.
    Destructive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub class: Class,
    /// Why, for the confirmation prompt ("DELETE without WHERE").
    pub reason: String,
}

fn verdict(class: Class, reason: impl Into<String>) -> Verdict {
    Verdict { class, reason: reason.into() }
}

/// Whether a script may carry a secret (a password, a key), read by the SQL tokenizer so that
/// comments, line breaks, case and spacing change nothing: a `PASSWORD` keyword or function, or
/// `IDENTIFIED … BY` / `IDENTIFIED … AS` (`IDENTIFIED WITH plugin BY 'x'` too). What the tokenizer
/// cannot read is treated as carrying one. Statements it flags are never written to the history.
pub fn carries_secret(sql: &str) -> bool {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&MySqlDialect {}, sql).tokenize() else { return true };
    let words: Vec<String> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .collect();
    if words.iter().any(|w| matches!(w.as_str(), "PASSWORD" | "OLD_PASSWORD" | "ENCRYPT" | "AES_ENCRYPT" | "DES_ENCRYPT")) {
        return true;
    }
    words.iter().position(|w| w == "IDENTIFIED").is_some_and(|i| words[i + 1..].iter().any(|w| w == "BY" || w == "AS" || w == "VIA" || w == "USING"))
}

/// Classifies one statement. What the parser cannot read is treated as a
/// write (never as a read): read-only mode refuses it, and says why.
pub fn classify(sql: &str) -> Verdict {
    let parsed = match Parser::parse_sql(&MySqlDialect {}, sql) {
        Ok(v) if v.len() == 1 => v.into_iter().next(),
        _ => None,
    };
    let Some(ast) = parsed else {
        let head = sql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        return match head.as_str() {
            "SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN" | "HELP" => verdict(Class::Read, head),
            _ => verdict(Class::Write, "not understood by the SQL parser: treated as a write"),
        };
    };
    match &ast {
        Ast::Query(_) => {
            // SELECT ... INTO OUTFILE / FOR UPDATE still only reads rows here, but
            // locking reads are writes for read-only purposes.
            let s = sql.to_ascii_uppercase();
            if s.contains(" FOR UPDATE") || s.contains(" INTO OUTFILE") || s.contains(" INTO DUMPFILE") {
                verdict(Class::Write, "locking or file-writing SELECT")
            } else {
                verdict(Class::Read, "SELECT")
            }
        }
        Ast::ShowTables { .. }
        | Ast::ShowColumns { .. }
        | Ast::ShowCreate { .. }
        | Ast::ShowVariables { .. }
        | Ast::ShowStatus { .. }
        | Ast::ShowDatabases { .. }
        | Ast::ShowSchemas { .. }
        | Ast::ShowFunctions { .. }
        | Ast::ShowCollation { .. }
        | Ast::ShowVariable { .. }
        | Ast::ShowProcessList { .. }
        | Ast::ExplainTable { .. }
        | Ast::Explain { .. }
        | Ast::Use(_) => verdict(Class::Read, "read"),
        Ast::Set(_) => verdict(Class::Read, "SET (session)"),
        Ast::Drop { .. } | Ast::DropFunction { .. } | Ast::DropProcedure { .. } | Ast::DropTrigger { .. } => {
            verdict(Class::Destructive, "DROP")
        }
        Ast::Truncate { .. } => verdict(Class::Destructive, "TRUNCATE"),
        Ast::AlterTable { .. } | Ast::AlterView { .. } | Ast::AlterIndex { .. } | Ast::AlterRole { .. } | Ast::AlterUser { .. } => {
            verdict(Class::Destructive, "ALTER")
        }
        Ast::Grant { .. } => verdict(Class::Destructive, "GRANT"),
        Ast::Revoke { .. } => verdict(Class::Destructive, "REVOKE"),
        Ast::Delete(d) => {
            if d.selection.is_none() || d.selection.as_ref().is_some_and(always_true) {
                verdict(Class::Destructive, "DELETE without WHERE")
            } else {
                verdict(Class::Write, "DELETE")
            }
        }
        Ast::Update(u) => {
            if u.selection.is_none() || u.selection.as_ref().is_some_and(always_true) {
                verdict(Class::Destructive, "UPDATE without WHERE")
            } else {
                verdict(Class::Write, "UPDATE")
            }
        }
        _ => verdict(Class::Write, "changes the database"),
    }
}

/// `WHERE 1`, `WHERE TRUE`, `WHERE 1=1`: no filter at all.
fn always_true(e: &Expr) -> bool {
    let s = e.to_string().replace(' ', "").to_ascii_uppercase();
    matches!(s.as_str(), "1" | "TRUE" | "1=1" | "'1'='1'")
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_found_however_they_are_written() {
        for sql in [
            "CREATE USER x IDENTIFIED BY 'hunter2'",
            "create user x identified   by 'hunter2'",
            "CREATE USER x IDENTIFIED\n  BY 'hunter2'",
            "CREATE USER x IDENTIFIED /* the secret */ BY 'hunter2'",
            "ALTER USER x IDENTIFIED WITH mysql_native_password BY 'hunter2'",
            "CREATE USER x IDENTIFIED VIA ed25519 USING PASSWORD('hunter2')",
            "SET PASSWORD FOR x = 'hunter2'",
            "GRANT ALL ON *.* TO x IDENTIFIED BY 'hunter2'",
            "CREATE USER x IDENTIFIED BY -- a comment\n 'hunter2'",
            "SELECT AES_ENCRYPT('data', 'the-key')",
        ] {
            assert!(carries_secret(sql), "{sql}");
        }
        for sql in ["SELECT 1", "SELECT 'password' AS word", "SELECT `identified`, `by` FROM t", "CREATE USER x IDENTIFIED WITH AWSAuthenticationPlugin"] {
            assert!(!carries_secret(sql), "{sql}");
        }
    }

    use super::*;

    fn c(s: &str) -> Class {
        classify(s).class
    }

    #[test]
    fn reads() {
        for s in ["SELECT 1", "select * from t where a = 'DROP TABLE x'", "SHOW TABLES", "SHOW GRANTS FOR node_app", "DESCRIBE t", "EXPLAIN SELECT 1", "USE node_db", "SET @a = 1", "WITH x AS (SELECT 1) SELECT * FROM x"] {
            assert_eq!(c(s), Class::Read, "{s}");
        }
    }

    #[test]
    fn writes() {
        for s in ["INSERT INTO t VALUES (1)", "UPDATE t SET a = 1 WHERE id = 2", "DELETE FROM t WHERE id = 2", "CREATE TABLE x (a INT)", "SELECT * FROM t FOR UPDATE", "CALL p()", "this is not sql"] {
            assert_eq!(c(s), Class::Write, "{s}");
        }
    }

    #[test]
    fn destructive() {
        for s in ["DROP TABLE t", "drop database node_db", "TRUNCATE TABLE t", "DELETE FROM t", "UPDATE t SET a = 1", "DELETE FROM t WHERE 1=1", "ALTER TABLE t ADD c INT", "GRANT SELECT ON *.* TO x", "REVOKE SELECT ON *.* FROM x"] {
            assert_eq!(c(s), Class::Destructive, "{s}");
        }
        assert_eq!(classify("DELETE FROM t").reason, "DELETE without WHERE");
    }
}
