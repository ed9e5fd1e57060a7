//! What a statement does, decided by a real SQL parser (sqlparser, MySQL
//! dialect): reads, writes, and the destructive ones that need confirmation.

use sqlparser::ast::{Expr, SetExpr, Statement as Ast};
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

/// Classifies one statement, from its parse tree: comments, case, spacing and the way a condition
/// is written change nothing. What the parser cannot read is never a read: it needs the
/// confirmation (and read-only mode refuses it), unless it is a `SHOW`/`DESCRIBE`/`EXPLAIN`/`HELP`.
pub fn classify(sql: &str) -> Verdict {
    let parsed = match Parser::parse_sql(&MySqlDialect {}, sql) {
        Ok(v) if v.len() == 1 => v.into_iter().next(),
        _ => None,
    };
    let Some(ast) = parsed else {
        let head = first_word(sql);
        return match head.as_str() {
            "SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN" | "HELP" => verdict(Class::Read, head),
            // A query can lock rows or call a function that writes, but not drop or rewrite a table.
            "SELECT" => verdict(Class::Write, "a SELECT the SQL parser cannot read: treated as a write"),
            _ => verdict(Class::Destructive, "a statement the SQL parser cannot read: rdsdeck cannot tell what it changes"),
        };
    };
    statement(&ast)
}

/// The first keyword of a script, past comments and spacing (upper case; empty when none).
fn first_word(sql: &str) -> String {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&MySqlDialect {}, sql).tokenize().unwrap_or_default();
    tokens
        .into_iter()
        .find(|t| !matches!(t, Token::Whitespace(_)))
        .and_then(|t| match t {
            Token::Word(w) => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .unwrap_or_default()
}

fn statement(ast: &Ast) -> Verdict {
    // The canonical text of the parse tree: no comments, one space, upper-case keywords.
    let canon = ast.to_string();
    let upper = canon.to_ascii_uppercase();
    match ast {
        Ast::Query(q) => match q.body.as_ref() {
            // `WITH c AS (…) DELETE …` (MySQL 8): the statement inside decides.
            SetExpr::Insert(inner) | SetExpr::Update(inner) | SetExpr::Delete(inner) | SetExpr::Merge(inner) => statement(inner),
            _ if !q.locks.is_empty() || upper.contains(" FOR UPDATE") || upper.contains(" LOCK IN SHARE MODE") => {
                verdict(Class::Write, "a locking read")
            }
            _ if upper.contains(" INTO OUTFILE") || upper.contains(" INTO DUMPFILE") => verdict(Class::Write, "SELECT … INTO a file"),
            _ => verdict(Class::Read, "SELECT"),
        },
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
        | Ast::Use(_) => verdict(Class::Read, "read"),
        // `EXPLAIN ANALYZE` runs the statement it explains.
        Ast::Explain { analyze: true, statement: inner, .. } => statement(inner),
        Ast::Explain { .. } => verdict(Class::Read, "EXPLAIN"),
        Ast::Set(set) => set_statement(set, &upper),
        Ast::Delete(d) => filtered("DELETE", d.selection.as_ref()),
        Ast::Update(u) => filtered("UPDATE", u.selection.as_ref()),
        // Effects the client cannot see: a procedure's body, a prepared or dynamic statement.
        Ast::Call(_) => verdict(Class::Destructive, "CALL runs a procedure whose effect rdsdeck cannot see"),
        Ast::Execute { .. } | Ast::Prepare { .. } => {
            verdict(Class::Destructive, "a prepared statement: rdsdeck cannot see what it runs")
        }
        _ => {
            // Every statement that drops, renames, replaces or rewrites an object, or grants.
            for (head, reason) in [
                ("DROP ", "DROP"),
                ("TRUNCATE ", "TRUNCATE"),
                ("RENAME ", "RENAME"),
                ("ALTER ", "ALTER"),
                ("GRANT ", "GRANT"),
                ("REVOKE ", "REVOKE"),
                ("CREATE OR REPLACE ", "CREATE OR REPLACE replaces an object"),
                ("CREATE OR ALTER ", "CREATE OR ALTER replaces an object"),
                ("REPLACE ", "REPLACE deletes the rows it collides with"),
                ("DEALLOCATE ", "DEALLOCATE"),
            ] {
                if upper.starts_with(head) {
                    return verdict(Class::Destructive, reason);
                }
            }
            verdict(Class::Write, "changes the database")
        }
    }
}

/// `SET` of a session or user variable reads nothing and changes nothing shared; `SET GLOBAL`
/// / `PERSIST` (or `@@global.x`) change the server for everyone, `SET PASSWORD` an account.
fn set_statement(set: &sqlparser::ast::Set, upper: &str) -> Verdict {
    use sqlparser::ast::{ContextModifier, Set};
    let global = matches!(set, Set::SingleAssignment { scope: Some(ContextModifier::Global), .. })
        || upper.contains("@@GLOBAL.")
        || upper.starts_with("SET GLOBAL ")
        || upper.starts_with("SET PERSIST")
        || upper.contains(" GLOBAL.");
    if global {
        verdict(Class::Write, "SET GLOBAL changes the server for every session")
    } else if upper.contains(" PASSWORD") {
        verdict(Class::Write, "SET PASSWORD changes an account")
    } else {
        verdict(Class::Read, "SET (session)")
    }
}

/// A `DELETE`/`UPDATE` touches every row when its `WHERE` is absent, always true after folding
/// (literals, comparisons of literals, `x = x`, `NOT` of false, boolean combinations), or does
/// not depend on the row at all (`WHERE NOW() > '2000-01-01'`: every row or none).
fn filtered(what: &str, selection: Option<&Expr>) -> Verdict {
    let Some(cond) = selection else {
        return verdict(Class::Destructive, format!("{what} without WHERE"));
    };
    match fold::truth(cond) {
        fold::Truth::True => verdict(Class::Destructive, format!("{what} with a WHERE that is always true")),
        fold::Truth::False | fold::Truth::Null => verdict(Class::Write, what),
        fold::Truth::Unknown if !fold::reads_the_row(cond) => {
            verdict(Class::Destructive, format!("{what} with a WHERE that does not depend on the row (every row or none)"))
        }
        fold::Truth::Unknown => verdict(Class::Write, what),
    }
}

/// Constant folding of a condition, as MySQL evaluates it: numbers, strings compared without
/// case, `NULL` that makes a comparison unknown.
mod fold {
    use sqlparser::ast::{BinaryOperator as B, Expr, UnaryOperator as U, Value};
    use std::ops::ControlFlow;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Truth {
        True,
        False,
        Null,
        /// Depends on the row (or on something rdsdeck does not evaluate).
        Unknown,
    }

    #[derive(Debug, Clone, PartialEq)]
    enum V {
        Null,
        Num(f64),
        Str(String),
    }

    impl V {
        /// MySQL's number for a value: a string's leading number, else 0.
        fn num(&self) -> Option<f64> {
            match self {
                V::Null => None,
                V::Num(n) => Some(*n),
                V::Str(s) => Some(leading_number(s)),
            }
        }
        fn truth(&self) -> Truth {
            match self.num() {
                None => Truth::Null,
                Some(n) if n != 0.0 => Truth::True,
                Some(_) => Truth::False,
            }
        }
    }

    fn leading_number(s: &str) -> f64 {
        let t = s.trim_start();
        let mut end = 0;
        for (i, _) in t.char_indices().chain(std::iter::once((t.len(), ' '))) {
            if i > 0 && t[..i].parse::<f64>().is_ok() {
                end = i;
            }
        }
        t[..end].parse().unwrap_or(0.0)
    }

    fn from_truth(t: Truth) -> Option<V> {
        match t {
            Truth::True => Some(V::Num(1.0)),
            Truth::False => Some(V::Num(0.0)),
            Truth::Null => Some(V::Null),
            Truth::Unknown => None,
        }
    }

    /// The value of an expression that does not depend on the row, when rdsdeck can compute it.
    fn value(e: &Expr) -> Option<V> {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n.parse().ok().map(V::Num),
                Value::Boolean(b) => Some(V::Num(if *b { 1.0 } else { 0.0 })),
                Value::Null => Some(V::Null),
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) | Value::NationalStringLiteral(s) => {
                    Some(V::Str(s.clone()))
                }
                _ => None,
            },
            Expr::Nested(inner) => value(inner),
            Expr::UnaryOp { op: U::Minus, expr } => value(expr)?.num().map(|n| V::Num(-n)).or(Some(V::Null)),
            Expr::UnaryOp { op: U::Plus, expr } => value(expr),
            Expr::Cast { expr, .. } => value(expr),
            Expr::BinaryOp { left, op, right } => match op {
                B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo | B::MyIntegerDivide => {
                    let (Some(a), Some(b)) = (value(left)?.num(), value(right)?.num()) else { return Some(V::Null) };
                    Some(match op {
                        B::Plus => V::Num(a + b),
                        B::Minus => V::Num(a - b),
                        B::Multiply => V::Num(a * b),
                        _ if b == 0.0 => V::Null,
                        B::Divide => V::Num(a / b),
                        B::MyIntegerDivide => V::Num((a / b).trunc()),
                        _ => V::Num(a % b),
                    })
                }
                B::And | B::Or | B::Xor | B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq | B::Spaceship => from_truth(truth(e)),
                _ => None,
            },
            // Exactly the conditions `truth` decides by their own arm.
            Expr::UnaryOp { op: U::Not | U::BangNot, .. }
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::In { target: sqlparser::ast::InTarget::List(_), .. }
            | Expr::Between { .. }
            | Expr::Like { negated: false, .. } => from_truth(truth(e)),
            _ => None,
        }
    }

    fn compare(a: &V, b: &V) -> Option<std::cmp::Ordering> {
        match (a, b) {
            (V::Str(x), V::Str(y)) => Some(x.trim_end().to_lowercase().cmp(&y.trim_end().to_lowercase())),
            _ => a.num()?.partial_cmp(&b.num()?),
        }
    }

    fn not(t: Truth) -> Truth {
        match t {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            other => other,
        }
    }

    /// The same expression on both sides, and one that gives the same value twice.
    fn same(a: &Expr, b: &Expr) -> bool {
        strip(a).to_string() == strip(b).to_string() && !volatile(a)
    }

    /// Whether an expression can give another value each time it is read: a variable (`@x` may be
    /// assigned in the same statement) or a function such as `RAND()`.
    fn volatile(e: &Expr) -> bool {
        const FUNCTIONS: [&str; 8] = ["RAND", "UUID", "UUID_SHORT", "NOW", "SYSDATE", "SLEEP", "LAST_INSERT_ID", "ROW_COUNT"];
        sqlparser::ast::visit_expressions(e, |x| {
            let volatile = match x {
                Expr::Identifier(i) => i.value.starts_with('@'),
                Expr::Function(f) => FUNCTIONS.contains(&f.name.to_string().to_ascii_uppercase().as_str()),
                _ => false,
            };
            if volatile { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .is_break()
    }

    fn strip(e: &Expr) -> &Expr {
        match e {
            Expr::Nested(inner) => strip(inner),
            other => other,
        }
    }

    fn disjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        match strip(e) {
            Expr::BinaryOp { left, op: B::Or, right } => {
                disjuncts(left, out);
                disjuncts(right, out);
            }
            other => out.push(other),
        }
    }

    /// `p` and `NOT p`, `x IS NULL` and `x IS NOT NULL`, `a = b` and `a <> b`: one of the two
    /// holds for every row (or the row's value is NULL, where MySQL skips it either way).
    fn complements(a: &Expr, b: &Expr) -> bool {
        match (a, b) {
            (Expr::UnaryOp { op: U::Not, expr }, other) | (other, Expr::UnaryOp { op: U::Not, expr }) => same(strip(expr), other),
            (Expr::IsNull(x), Expr::IsNotNull(y)) | (Expr::IsNotNull(x), Expr::IsNull(y)) => same(x, y),
            (Expr::BinaryOp { left: l1, op: o1, right: r1 }, Expr::BinaryOp { left: l2, op: o2, right: r2 }) => {
                let opposite = matches!(
                    (o1, o2),
                    (B::Eq, B::NotEq) | (B::NotEq, B::Eq) | (B::Lt, B::GtEq) | (B::GtEq, B::Lt) | (B::Gt, B::LtEq) | (B::LtEq, B::Gt)
                );
                opposite && same(l1, l2) && same(r1, r2)
            }
            _ => false,
        }
    }

    /// Whether a condition holds for every row, for none, or depends on the row.
    pub fn truth(e: &Expr) -> Truth {
        match e {
            Expr::Nested(inner) => truth(inner),
            Expr::UnaryOp { op: U::Not | U::BangNot, expr } => not(truth(expr)),
            Expr::BinaryOp { left, op: B::And, right } => match (truth(left), truth(right)) {
                (Truth::False, _) | (_, Truth::False) => Truth::False,
                (Truth::True, Truth::True) => Truth::True,
                (Truth::Null, Truth::True | Truth::Null) | (Truth::True, Truth::Null) => Truth::Null,
                _ => Truth::Unknown,
            },
            Expr::BinaryOp { op: B::Or, .. } => {
                let mut parts = Vec::new();
                disjuncts(e, &mut parts);
                let truths: Vec<Truth> = parts.iter().map(|p| truth(p)).collect();
                if truths.contains(&Truth::True) {
                    return Truth::True;
                }
                let complementary = parts.iter().enumerate().any(|(i, a)| parts[i + 1..].iter().any(|b| complements(a, b)));
                if complementary {
                    Truth::True
                } else if truths.iter().all(|t| *t == Truth::False) {
                    Truth::False
                } else if truths.iter().all(|t| matches!(t, Truth::False | Truth::Null)) {
                    Truth::Null
                } else {
                    Truth::Unknown
                }
            }
            Expr::BinaryOp { left, op: B::Xor, right } => match (truth(left), truth(right)) {
                (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
                (Truth::Null, _) | (_, Truth::Null) => Truth::Null,
                (a, b) if a == b => Truth::False,
                _ => Truth::True,
            },
            Expr::BinaryOp { left, op, right } if matches!(op, B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq | B::Spaceship) => {
                if let (Some(a), Some(b)) = (value(left), value(right)) {
                    if *op == B::Spaceship {
                        return if (a == V::Null) != (b == V::Null) {
                            Truth::False
                        } else if a == V::Null || compare(&a, &b) == Some(std::cmp::Ordering::Equal) {
                            Truth::True
                        } else {
                            Truth::False
                        };
                    }
                    let Some(ord) = compare(&a, &b) else { return Truth::Null };
                    let holds = match op {
                        B::Eq => ord.is_eq(),
                        B::NotEq => ord.is_ne(),
                        B::Lt => ord.is_lt(),
                        B::LtEq => ord.is_le(),
                        B::Gt => ord.is_gt(),
                        _ => ord.is_ge(),
                    };
                    return if holds { Truth::True } else { Truth::False };
                }
                if same(left, right) {
                    return if matches!(op, B::Eq | B::LtEq | B::GtEq | B::Spaceship) { Truth::True } else { Truth::False };
                }
                Truth::Unknown
            }
            Expr::IsNull(x) | Expr::IsNotNull(x) => match value(x) {
                Some(v) => {
                    let null = v == V::Null;
                    if null == matches!(e, Expr::IsNull(_)) { Truth::True } else { Truth::False }
                }
                None => Truth::Unknown,
            },
            Expr::IsTrue(x) | Expr::IsNotTrue(x) | Expr::IsFalse(x) | Expr::IsNotFalse(x) => {
                let t = truth(x);
                if t == Truth::Unknown {
                    return Truth::Unknown;
                }
                let holds = match e {
                    Expr::IsTrue(_) => t == Truth::True,
                    Expr::IsNotTrue(_) => t != Truth::True,
                    Expr::IsFalse(_) => t == Truth::False,
                    _ => t != Truth::False,
                };
                if holds { Truth::True } else { Truth::False }
            }
            Expr::In { expr, target: sqlparser::ast::InTarget::List(list), negated, .. } => {
                if !negated && list.iter().any(|item| same(expr, item)) {
                    return Truth::True;
                }
                let Some(x) = value(expr) else { return Truth::Unknown };
                let items: Option<Vec<V>> = list.iter().map(value).collect();
                let Some(items) = items else { return Truth::Unknown };
                if x == V::Null {
                    return Truth::Null;
                }
                let found = items.iter().any(|i| compare(&x, i) == Some(std::cmp::Ordering::Equal));
                if found != *negated { Truth::True } else if items.contains(&V::Null) { Truth::Null } else { Truth::False }
            }
            Expr::Between { expr, negated, low, high } => {
                let (Some(x), Some(lo), Some(hi)) = (value(expr), value(low), value(high)) else {
                    return if !negated && same(expr, low) && same(expr, high) { Truth::True } else { Truth::Unknown };
                };
                match (compare(&x, &lo), compare(&x, &hi)) {
                    (Some(a), Some(b)) => {
                        let inside = a.is_ge() && b.is_le();
                        if inside != *negated { Truth::True } else { Truth::False }
                    }
                    _ => Truth::Null,
                }
            }
            Expr::Like { negated: false, expr, pattern, .. } => match value(pattern) {
                // `x LIKE '%'` matches every value that is not NULL.
                Some(V::Str(p)) if !p.is_empty() && p.chars().all(|c| c == '%') => {
                    if value(expr) == Some(V::Null) { Truth::Null } else { Truth::True }
                }
                _ => Truth::Unknown,
            },
            _ => value(e).map_or(Truth::Unknown, |v| v.truth()),
        }
    }

    /// Whether an expression names a column (a user or system variable, `@x`, is not one).
    pub fn reads_the_row(e: &Expr) -> bool {
        let found = sqlparser::ast::visit_expressions(e, |x| {
            let column = match x {
                Expr::Identifier(i) => !i.value.starts_with('@'),
                Expr::CompoundIdentifier(parts) => parts.first().is_some_and(|i| !i.value.starts_with('@')),
                _ => false,
            };
            if column { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        found.is_break()
    }
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
        for s in [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1 WHERE id = 2",
            "DELETE FROM t WHERE id = 2",
            "DELETE FROM t WHERE id = 2 OR 1 = 0",
            "DELETE FROM t WHERE 1 = 0",
            "DELETE FROM t WHERE NULL",
            "DELETE FROM t WHERE id IN (SELECT id FROM old)",
            "DELETE FROM t WHERE TRUE AND id = 2",
            "UPDATE t SET a = 1 WHERE a = b",
            "UPDATE t SET a = 1 WHERE a <> a OR id = 7",
            "CREATE TABLE x (a INT)",
            "SELECT * FROM t FOR UPDATE",
            "/* lock */ select * from t where id = 1 lock in share mode",
            "SET GLOBAL max_connections = 1",
            "SET @@global.max_connections = 1",
            "WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c",
        ] {
            assert_eq!(c(s), Class::Write, "{s}");
        }
        // Session variables are not writes.
        for s in ["SET @a = 1", "SET SESSION sql_mode = ''", "SET NAMES utf8mb4", "SELECT @x := 1"] {
            assert_eq!(c(s), Class::Read, "{s}");
        }
    }

    #[test]
    fn destructive() {
        for s in [
            "DROP TABLE t",
            "drop database node_db",
            "/* harmless */ DrOp   TABLE t",
            "TRUNCATE TABLE t",
            "DELETE FROM t",
            "UPDATE t SET a = 1",
            "DELETE FROM t WHERE 1=1",
            "ALTER TABLE t ADD c INT",
            "GRANT SELECT ON *.* TO x",
            "REVOKE SELECT ON *.* FROM x",
            // Statements whose effect the client cannot see.
            "CALL p()",
            "call /* x */ cleanup(1)",
            "PREPARE s FROM 'DROP TABLE t'",
            "EXECUTE s",
            // Drop, rename or replace an object.
            "RENAME TABLE t TO t_old",
            "CREATE OR REPLACE VIEW v AS SELECT 1",
            "REPLACE INTO t (id, a) VALUES (1, 2)",
            "DROP PROCEDURE p",
            "DROP FUNCTION f",
            // What the parser cannot read.
            "this is not sql",
            "/* x */ FLUSHX TABLES",
            // Always true, written other ways.
            "DELETE FROM t WHERE 2 > 1",
            "DELETE FROM t WHERE 'a' = 'A'",
            "DELETE FROM t WHERE NOT 0",
            "DELETE FROM t WHERE NOT (1 = 2)",
            "DELETE FROM t WHERE id = id",
            "DELETE FROM t WHERE t.id = (t.id)",
            "DELETE FROM t WHERE 1 + 1 = 2",
            "DELETE FROM t WHERE '1'",
            "DELETE FROM t WHERE 1 IN (1, 2)",
            "DELETE FROM t WHERE 5 BETWEEN 1 AND 9",
            "DELETE FROM t WHERE id IS NULL OR id IS NOT NULL",
            "DELETE FROM t WHERE a = 1 OR NOT a = 1",
            "DELETE FROM t WHERE a = 1 OR a <> 1",
            "DELETE FROM t WHERE email LIKE '%'",
            "DELETE FROM t WHERE id = 3 OR 1",
            "DELETE FROM t WHERE NULL IS NULL",
            "DELETE FROM t WHERE TRUE IS TRUE",
            "UPDATE t SET a = 1 WHERE 1 <=> 1",
            "UPDATE t SET a = 1 WHERE NOT FALSE AND (2 >= 2)",
            // A condition that does not read the row: every row or none.
            "DELETE FROM t WHERE NOW() > '2000-01-01'",
            "DELETE FROM t WHERE @flag = 1",
            "DELETE FROM t WHERE LENGTH('abc') = 3",
            // A write inside WITH, or run by EXPLAIN ANALYZE.
            "WITH c AS (SELECT 1) DELETE FROM t",
            "EXPLAIN ANALYZE DELETE FROM t",
        ] {
            assert_eq!(c(s), Class::Destructive, "{s}");
        }
        assert_eq!(classify("DELETE FROM t").reason, "DELETE without WHERE");
        assert_eq!(classify("DELETE FROM t WHERE 2 > 1").reason, "DELETE with a WHERE that is always true");
    }

    use proptest::prelude::*;

    /// Conditions true for every row, written many ways.
    fn always_true() -> impl Strategy<Value = String> {
        let base = prop::sample::select(vec![
            "1", "TRUE", "1=1", "'a'='a'", "2>1", "NOT 0", "NOT FALSE", "id = id", "1 IN (1, 2)", "3 BETWEEN 1 AND 5",
            "email LIKE '%'", "id IS NULL OR id IS NOT NULL", "10 / 2 = 5", "-1 < 0", "1 <> 2", "'x' <> 'y'", "NULL IS NULL",
        ])
        .prop_map(str::to_string);
        let never = prop::sample::select(vec!["0", "FALSE", "1=0", "1<>1", "NOT 1", "'a'='b'", "2<1", "1 IN (2, 3)", "NULL IS NOT NULL"])
            .prop_map(str::to_string);
        let row = prop::sample::select(vec!["id = 7", "email = 'x@y'", "a > 3", "name LIKE 'a%'"]).prop_map(str::to_string);
        base.prop_recursive(4, 24, 3, move |inner| {
            prop_oneof![
                inner.clone().prop_map(|t| format!("({t})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) AND ({b})")),
                (inner.clone(), row.clone()).prop_map(|(t, r)| format!("{r} OR {t}")),
                (inner.clone(), row.clone()).prop_map(|(t, r)| format!("({t}) OR {r}")),
                never.clone().prop_map(|f| format!("NOT ({f})")),
                (inner.clone(), never.clone()).prop_map(|(t, f)| format!("{f} OR {t}")),
                row.clone().prop_map(|r| format!("{r} OR NOT ({r})")),
                inner.clone().prop_map(|t| format!("({t}) IS TRUE")),
                inner.prop_map(|t| format!("/* c */ {t} -- x\n")),
            ]
        })
    }

    proptest! {
        #[test]
        fn an_always_true_where_is_no_filter(cond in always_true(), stmt in 0..2usize, upper in any::<bool>()) {
            let sql = if stmt == 0 { format!("DELETE FROM t WHERE {cond}") } else { format!("UPDATE t SET a = 1 WHERE {cond}") };
            let sql = if upper { sql.to_uppercase() } else { sql.to_lowercase() };
            prop_assert_eq!(classify(&sql).class, Class::Destructive, "{}", sql);
        }

        #[test]
        fn a_row_filter_and_a_true_condition_is_a_filter(cond in always_true(), id in 0..1000u32) {
            let sql = format!("DELETE FROM t WHERE id = {id} AND ({cond})");
            prop_assert_eq!(classify(&sql).class, Class::Write, "{}", sql);
        }
    }
}
