//! Storage on each engine: migrations apply, apply again harmlessly, and write transactions
//! are counted for the session cache.

#![allow(clippy::expect_used)]

use sigra::config::DatabaseConfig;
use sigra::db::Db;
use sigra::testing::{Engine, TestDatabase};
use sqlx::Row as _;

#[tokio::test]
async fn migrations_apply_once_and_rerun_harmlessly() {
    for engine in Engine::available() {
        let database = TestDatabase::create(engine).await;
        let config = DatabaseConfig {
            url: database.url().to_owned(),
            max_connections: 2,
            acquire_timeout: std::time::Duration::from_secs(2),
        };
        let db = Db::connect(&config).await.expect("connect");
        db.migrate().await.expect("first run");
        db.migrate().await.expect("second run is a no-op");
        for table in ["users", "user_sessions", "audit_events"] {
            let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(db.pool())
                .await
                .expect("table exists");
            assert_eq!(row.get::<i64, _>(0), 0, "{table} on {engine:?}");
        }

        let before = db.write_generation();
        let tx = db.begin_write().await.expect("begin");
        drop(tx);
        assert_eq!(
            db.write_generation(),
            before,
            "a rolled-back transaction changes nothing"
        );
        db.begin_write()
            .await
            .expect("begin")
            .commit()
            .await
            .expect("commit");
        assert_eq!(db.write_generation(), before + 1);
        db.close().await;
    }
}

#[tokio::test]
async fn sqlite_runs_in_wal_with_foreign_keys_on_every_pooled_connection() {
    let database = TestDatabase::create(Engine::Sqlite).await;
    let config = DatabaseConfig {
        url: database.url().to_owned(),
        max_connections: 3,
        acquire_timeout: std::time::Duration::from_secs(2),
    };
    let db = Db::connect(&config).await.expect("connect");
    db.migrate().await.expect("migrate");
    // Every connection the pool hands out, held at once so none is reused.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(db.pool().acquire().await.expect("a pooled connection"));
    }
    for conn in &mut held {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .expect("journal mode");
        assert_eq!(mode.to_lowercase(), "wal");
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut **conn)
            .await
            .expect("foreign keys");
        assert_eq!(foreign_keys, 1, "foreign keys are enforced");
        let dangling = sqlx::query(
            "INSERT INTO user_sessions (id, user_id, token_hash, kind, created_at, last_seen_at, \
             expires_at) VALUES ('s', 'no such user', 'h', 'standard', 0, 0, 0)",
        )
        .execute(&mut **conn)
        .await;
        assert!(dangling.is_err(), "a row naming no user is refused");
    }
    drop(held);
    db.close().await;
}
