//! Read-only mode is a property of the connection, enforced by the server:
//! every connection opened read-only runs `SET SESSION TRANSACTION READ ONLY`
//! first. A corpus of writes — plain, hidden in a stored function called from
//! SELECT, DDL, account changes, locking reads — runs as the IAM admin (who may
//! do everything) on a read-only connection, and nothing lands, whatever the
//! client's classifier would have said.

mod common;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use common::{Sandbox, run};
use rdsdeck::db::connect::{Auth, ConnectSpec, Connector};
use rdsdeck::db::rows::Discard;

fn connector(sb: &Sandbox, read_only: bool) -> Connector {
    let creds = Credentials::new(sb.var("AWS_ACCESS_KEY_ID"), sb.var("AWS_SECRET_ACCESS_KEY"), None, None, "test");
    Connector::new(
        ConnectSpec { read_only, ..sb.instance_spec("dbadmin") },
        Auth::Iam(SharedCredentialsProvider::new(creds)),
    )
}

/// Collects the first column of every row.
#[derive(Default)]
struct Col(Vec<String>);

impl rdsdeck::db::rows::Sink for Col {
    fn start(&mut self, _: &[String]) -> std::io::Result<()> {
        Ok(())
    }
    fn row(&mut self, row: Vec<rdsdeck::db::rows::Cell>) -> std::io::Result<()> {
        self.0.push(row.first().map(|c| c.display(200)).unwrap_or_default());
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the database holds that a write would change.
async fn state(c: &Connector) -> Vec<String> {
    let mut conn = c.connect_wire().await.expect("a writable connection");
    let mut out = Vec::new();
    for q in [
        "SELECT COUNT(*) FROM node_db.users",
        "SELECT GROUP_CONCAT(email ORDER BY id) FROM node_db.users",
        "SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'node_db'",
        "SELECT GROUP_CONCAT(user ORDER BY user) FROM mysql.user",
        "SELECT COUNT(*) FROM information_schema.user_privileges WHERE grantee LIKE '%node_app%'",
    ] {
        let mut col = Col::default();
        conn.run(q, &mut col).await.unwrap_or_else(|e| panic!("{q}: {e:?}"));
        out.extend(col.0);
    }
    conn.close().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_write_lands_on_a_read_only_connection() {
    let sb = Sandbox::start();
    let writable = connector(&sb, false);
    // A stored function that writes, callable from a plain SELECT (the classifier sees a read).
    let mut conn = writable.connect_wire().await.expect("connect");
    conn.run(
        "CREATE FUNCTION node_db.sneaky() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO node_db.users (email) VALUES ('sneaky@x'); RETURN 1; END",
        &mut Discard,
    )
    .await
    .expect("create the function");
    conn.close().await;
    let before = state(&writable).await;

    let ro = connector(&sb, true);
    let corpus = [
        "INSERT INTO node_db.users (email) VALUES ('ro@x')",
        "UPDATE node_db.users SET email = CONCAT(email, '!') WHERE 1 = 1",
        "DELETE FROM node_db.users WHERE id > 0",
        "REPLACE INTO node_db.users (id, email) VALUES (1, 'replaced@x')",
        "SELECT node_db.sneaky()",
        "/* looks harmless */ SELECT node_db.sneaky() AS x",
        "SELECT * FROM node_db.users WHERE id = 1 FOR UPDATE",
        "CREATE TABLE node_db.ro_probe (i INT)",
        "DROP TABLE node_db.orders",
        "TRUNCATE TABLE node_db.users",
        "RENAME TABLE node_db.orders TO node_db.orders_gone",
        "CREATE USER ro_user",
        "GRANT ALL ON *.* TO node_app",
        "SET PASSWORD FOR node_app = PASSWORD('x')",
    ];
    let mut landed = Vec::new();
    for sql in corpus {
        // A fresh read-only connection per statement: one refusal cannot shadow the next.
        let mut conn = ro.connect_wire().await.expect("a read-only connection");
        match conn.run(sql, &mut Discard).await {
            Ok(_) => landed.push(sql),
            Err(e) => {
                let e = ro.explain_wire(&e);
                assert!(e.code.is_some(), "{sql}: refused by the server, not the client: {e}");
            }
        }
        conn.close().await;
    }
    // Reads still work.
    let mut conn = ro.connect_wire().await.unwrap();
    let mut col = Col::default();
    conn.run("SELECT @@tx_read_only", &mut col).await.unwrap();
    assert_eq!(col.0, vec!["1"], "the session is read-only");
    conn.close().await;
    assert_eq!(state(&writable).await, before, "something landed; statements that ran: {landed:?}");
    assert!(!landed.iter().any(|s| s.contains("sneaky") || s.contains("INSERT")), "{landed:?}");

    // The real binary: a write the classifier cannot see is refused by the server, with advice.
    let out = run(sb.cmd().args(["--read-only", "sql", "--ca", sb.var("RDSDECK_SANDBOX_DB_CA"), "--host", sb.var("RDSDECK_SANDBOX_INSTANCE_ENDPOINT"), "--user", "dbadmin", "-D", "node_db", "-e", "SELECT node_db.sneaky()"]));
    assert_eq!(out.code(), Some(1), "{}", out.dump());
    assert!(out.stderr.contains("1792") && out.stderr.contains("read-only mode"), "{}", out.dump());
    assert_eq!(state(&writable).await, before);

    // What that run wrote is private: the state folder 0700, the log 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = sb.home().state_home().join("rdsdeck");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("rdsdeck.log")), 0o600);
}
