//! Helpers for host tests (feature `testing`): a throwaway database per test, on SQLite, or
//! on PostgreSQL in a fresh schema when `TEST_POSTGRES_URL` is set, and a fast configuration.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use crate::config::Config;
use crate::crypto::SecretKey;

/// Code a test runs inside the core at a chosen point, to force an interleaving of requests
/// (for example, to hold a session lookup until another request has revoked that session).
pub type Hook = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Where a test can hold a request (see [`crate::SigraBuilder::test_hooks`]).
#[derive(Clone, Default)]
pub struct Hooks {
    /// Runs after a session row has been read from the database, before the lookup caches,
    /// touches or rolls it.
    pub after_session_read: Option<Hook>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("after_session_read", &self.after_session_read.is_some())
            .finish()
    }
}

/// Which engine a test database runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh schema in the server named by `TEST_POSTGRES_URL`.
    Postgres,
}

impl Engine {
    /// SQLite always; PostgreSQL too when `TEST_POSTGRES_URL` is set.
    pub fn available() -> Vec<Engine> {
        let mut engines = vec![Engine::Sqlite];
        if std::env::var("TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
            engines.push(Engine::Postgres);
        }
        engines
    }
}

/// A database that exists for one test and is removed when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Directory(PathBuf),
    Schema { server: String, schema: String },
}

impl TestDatabase {
    /// Creates an empty database on `engine`.
    ///
    /// # Panics
    /// When the database cannot be created: a test cannot run without one.
    #[allow(clippy::expect_used)]
    pub async fn create(engine: Engine) -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(format!("sigra-test-{unique}"));
                std::fs::create_dir_all(&dir).expect("create a temporary directory");
                let url = format!("sqlite://{}", dir.join("test.db").display());
                Self {
                    url,
                    cleanup: Cleanup::Directory(dir),
                }
            }
            Engine::Postgres => {
                use sqlx::Connection as _;
                let server = std::env::var("TEST_POSTGRES_URL").expect("TEST_POSTGRES_URL is set");
                let schema = format!("t_{unique}");
                let mut conn = sqlx::PgConnection::connect(&server)
                    .await
                    .expect("connect to TEST_POSTGRES_URL");
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut conn)
                    .await
                    .expect("create a test schema");
                conn.close().await.ok();
                let separator = if server.contains('?') { '&' } else { '?' };
                let url = format!("{server}{separator}options[search_path]={schema}");
                Self {
                    url,
                    cleanup: Cleanup::Schema { server, schema },
                }
            }
        }
    }

    /// The URL to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                std::fs::remove_dir_all(dir).ok();
            }
            Cleanup::Schema { server, schema } => {
                // Drop runs inside the test's runtime, which must not be blocked on; a thread
                // with its own small runtime removes the schema.
                let (server, schema) = (server.clone(), schema.clone());
                let dropped = std::thread::spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    runtime.block_on(async move {
                        use sqlx::Connection as _;
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                            // A test that panicked left its pool open, and a connection of a
                            // rolled-back change may still hold locks in the schema (its
                            // rollback runs on the runtime this drop blocks): end those
                            // connections, or the drop would wait for them for ever.
                            sqlx::query(
                                "SELECT pg_terminate_backend(l.pid) FROM pg_locks l \
                                 JOIN pg_class c ON c.oid = l.relation \
                                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                                 WHERE n.nspname = $1 AND l.pid <> pg_backend_pid()",
                            )
                            .bind(&schema)
                            .execute(&mut conn)
                            .await
                            .ok();
                            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                                .execute(&mut conn)
                                .await
                                .ok();
                        }
                    });
                });
                dropped.join().ok();
            }
        }
    }
}

/// A development configuration for tests: the given database, a random secret, cheap Argon2
/// parameters so a suite of log-ins runs in seconds, and no background job runner (tests run
/// due jobs themselves). Everything else is the default.
///
/// # Panics
/// If the defaults stop validating, which the config tests would catch first.
pub fn config(database_url: &str) -> Config {
    config_with(database_url, &[])
}

/// [`config`] with some settings changed, as `SIGRA_*` variables.
///
/// # Panics
/// If the settings do not validate: a test asked for something impossible.
#[allow(clippy::expect_used)]
pub fn config_with(database_url: &str, overrides: &[(&str, &str)]) -> Config {
    let mut env: BTreeMap<String, String> = [
        ("DATABASE_URL", database_url.to_owned()),
        ("SIGRA_SECRET_KEY", SecretKey::generate_text()),
        ("SIGRA_PASSWORD_ARGON2_MEMORY_KIB", "1024".to_owned()),
        ("SIGRA_PASSWORD_ARGON2_ITERATIONS", "1".to_owned()),
        ("SIGRA_PASSWORD_HASHING_CONCURRENCY", "4".to_owned()),
        // Tests run due jobs themselves, at the moment they choose.
        ("SIGRA_JOBS_RUN_IN_PROCESS", "false".to_owned()),
        // Every test client is 127.0.0.1; the rate-limit tests set their own limit.
        ("SIGRA_RATE_LIMIT_AUTH_LIMIT", "100000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(
        overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Config::from_sources(None, &env, None).expect("test configuration is valid")
}
