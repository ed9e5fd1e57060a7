//! The core connector against the sandbox database: a fresh token per
//! physical connection, and cancelling a running query with KILL QUERY from
//! a second connection (what the SQL shell's cancel does).

mod common;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use common::Sandbox;
use mysql_async::prelude::Queryable;
use rdsdeck::db::connect::{Auth, ConnectSpec, Connector};
use std::time::{Duration, Instant};

fn connector(sb: &Sandbox, user: &str) -> Connector {
    let creds = Credentials::new(sb.var("AWS_ACCESS_KEY_ID"), sb.var("AWS_SECRET_ACCESS_KEY"), None, None, "test");
    Connector::new(
        ConnectSpec {
            host: "localhost".into(),
            port: sb.var("RDSDECK_SANDBOX_DB_PORT").parse().unwrap(),
            user: user.into(),
            database: Some("node_db".into()),
            region: "us-east-1".into(),
            ca: Some(sb.var("RDSDECK_SANDBOX_DB_CA").into()),
            timeout: Duration::from_secs(10),
            tls_name: None,
        },
        Auth::Iam(SharedCredentialsProvider::new(creds)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_query_stops_a_slow_select_within_a_second() {
    let sb = Sandbox::start();
    let c = connector(&sb, "node_app");
    let mut conn = c.connect().await.expect("connect");
    let info = c.session_info(&mut conn, "direct").await;
    assert!(info.tls_version.starts_with("TLSv1."), "{info:?}");
    assert!(!info.tls_cipher.is_empty(), "{info:?}");
    let id = conn.id();
    let c = connector(&sb, "node_app");
    let started = Instant::now();
    let slow = tokio::spawn(async move {
        let r: Result<Vec<i64>, _> = conn.query("SELECT SLEEP(30)").await;
        (r, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pool = rdsdeck::db::pool::Pool::new(std::sync::Arc::new(c), 2, 1, Duration::from_secs(60));
    pool.kill_query(id).await.expect("kill query from a second connection");
    let (result, took) = slow.await.unwrap();
    // MariaDB ends an interrupted SLEEP early (result 1) or with an error; either way, now.
    assert!(took < Duration::from_millis(1300), "the query ran on for {took:?}: {result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_gets_a_fresh_token() {
    let sb = Sandbox::start();
    let c = connector(&sb, "node_user");
    for _ in 0..3 {
        let mut conn = c.connect().await.expect("connect");
        let who: Option<String> = conn.query_first("SELECT CURRENT_USER()").await.unwrap();
        assert_eq!(who.as_deref(), Some("node_user@%"));
        conn.disconnect().await.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let log = std::fs::read_to_string(sb.var("RDSDECK_SANDBOX_DB_AUTH_LOG")).unwrap();
    let dates: std::collections::BTreeSet<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["user"] == "node_user" && e["token_valid"] == true)
        .map(|e| e["token"]["date"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(dates.len(), 3, "three connections, three tokens signed at different seconds: {dates:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_signs_a_token_for_each_new_connection_and_reuses_idle_ones() {
    use rdsdeck::db::pool::{Pool, PoolStats};
    let sb = Sandbox::start();
    let pool = Pool::new(std::sync::Arc::new(connector(&sb, "node_app")), 4, 2, Duration::from_millis(1500));
    // Three at once: three physical connections, three logins.
    let (a, b, c) = tokio::join!(pool.get(), pool.get(), pool.get());
    let (mut a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let ids: std::collections::BTreeSet<u32> = [a.id(), b.id(), c.id()].into();
    assert_eq!(ids.len(), 3);
    let who: Option<String> = a.query_first("SELECT CURRENT_USER()").await.unwrap();
    assert_eq!(who.as_deref(), Some("node_app@%"));
    drop((a, b, c));
    assert_eq!(pool.stats(), PoolStats { opened: 3, reused: 0, discarded: 0 });
    // Two were kept idle: reused after a ping, no new login.
    let (x, y) = tokio::join!(pool.get(), pool.get());
    assert!(ids.contains(&x.unwrap().id()) && ids.contains(&y.unwrap().id()));
    assert_eq!(pool.stats(), PoolStats { opened: 3, reused: 2, discarded: 0 });
    // Past the idle timeout: dropped, and the new connection signs a new token.
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let z = pool.get().await.unwrap();
    assert!(!ids.contains(&z.id()));
    let s = pool.stats();
    assert_eq!((s.opened, s.reused), (4, 2));
    assert!(s.discarded >= 1, "{s:?}");
    drop(z);
    pool.close().await;
    let log = std::fs::read_to_string(sb.var("RDSDECK_SANDBOX_DB_AUTH_LOG")).unwrap();
    let logins: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["user"] == "node_app")
        .collect();
    assert_eq!(logins.len(), 4, "one login per physical connection: {logins:?}");
    assert!(logins.iter().all(|e| e["token_valid"] == true));
    let first = logins[0]["token"]["date"].as_str().unwrap().to_string();
    let last = logins[3]["token"]["date"].as_str().unwrap().to_string();
    assert!(last > first, "the later connection was signed later: {first} then {last}");
}
