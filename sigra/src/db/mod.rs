//! Storage: one sqlx `Any` pool chosen at run time from the URL (SQLite by default, PostgreSQL
//! when several processes share state), and one set of migrations embedded in the binary.

pub mod paging;
mod stored;
mod write_watch;

use std::ops::{Deref, DerefMut};
use std::str::FromStr as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection as _, Executor as _, Transaction};

use crate::config::DatabaseConfig;
use crate::error::{Error, Result};

use write_watch::WriteWatch;

pub(crate) use stored::stored_enum;

pub use stored::{Json, Known, UnknownName};

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Which engine is behind the pool; SQL is shared, but a few statements differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (one process).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The connection pool, with the engine it talks to, and a count of committed writes.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    writes: Arc<AtomicU64>,
    /// PostgreSQL only: the channel every write transaction notifies as it commits, so other
    /// processes learn of the write (see `write_watch`).
    notify: Option<Arc<str>>,
    /// How this process learns of other processes' commits: on SQLite always (the file's data
    /// version), on PostgreSQL when it caches (see `write_watch`).
    write_watch: Option<WriteWatch>,
    /// Where the write watch connects (its `Debug` hides the password).
    config: DatabaseConfig,
}

/// Where the data stands: this process's committed writes, and the commits of every other
/// process (SQLite: the file's data version; PostgreSQL: the notifications seen). Equal
/// generations mean nothing was written in between, by anyone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Generation {
    pub ours: u64,
    pub others: u64,
}

/// A write transaction: commit it, or it rolls back when dropped. Every change to users or
/// sessions goes through one, so its commit can tell caches, in this process and in others,
/// that data changed.
#[derive(Debug)]
pub struct WriteTx {
    tx: Transaction<'static, sqlx::Any>,
    writes: Arc<AtomicU64>,
    notify: Option<Arc<str>>,
}

impl WriteTx {
    /// Commits, then counts the write.
    ///
    /// # Errors
    /// The commit failed (nothing was written).
    pub async fn commit(mut self) -> Result<()> {
        if let Some(channel) = &self.notify {
            // Delivered to the listeners only if, and when, the transaction commits.
            let notify = format!("NOTIFY {}", quote_identifier(channel));
            sqlx::query(&notify)
                .execute(&mut *self.tx)
                .await
                .map_err(Error::database)?;
        }
        self.tx.commit().await.map_err(Error::database)?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Db {
    /// Connects, creating the SQLite file and its folder on first run.
    ///
    /// # Errors
    /// The database is unreachable or the URL is malformed.
    pub async fn connect(config: &DatabaseConfig) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if config.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let mut url = config.url.clone();
        if backend == Backend::Sqlite {
            url = prepare_sqlite_url(&url)?;
        }
        let options = AnyConnectOptions::from_str(&url).map_err(Error::database)?;
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            // A ping before every checkout doubles the round trips of a session check; a broken
            // connection fails its query instead and the pool replaces it.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Foreign keys are off by default in SQLite; a busy writer makes others
                        // wait instead of failing at once.
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(Error::database)?;
        if backend == Backend::Sqlite {
            // WAL lets readers proceed while one writer commits; the mode is stored in the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(Error::database)?;
        }
        let (write_watch, notify) = match backend {
            Backend::Sqlite => (
                Some(WriteWatch::file(
                    AnyConnection::connect_with(&options)
                        .await
                        .map_err(Error::database)?,
                )),
                None,
            ),
            Backend::Postgres => {
                // One channel per schema, so deployments sharing a database stay apart.
                let schema: String = sqlx::query_scalar("SELECT CAST(current_schema() AS TEXT)")
                    .fetch_one(&pool)
                    .await
                    .map_err(Error::database)?;
                (None, Some(Arc::from(format!("sigra_writes.{schema}"))))
            }
        };
        Ok(Self {
            pool,
            backend,
            writes: Arc::new(AtomicU64::new(0)),
            notify,
            write_watch,
            config: config.clone(),
        })
    }

    /// PostgreSQL: starts counting other processes' commits, so that [`Db::generation`]
    /// covers them and a cache keyed on it stays exact. Without it, a PostgreSQL generation
    /// sees only this process's writes. Does nothing on SQLite, where the file says it.
    #[must_use]
    pub(crate) fn watching_other_writers(mut self) -> Self {
        if let Some(channel) = &self.notify {
            self.write_watch = Some(WriteWatch::notifications(
                self.config.url.clone(),
                Arc::clone(channel),
                self.config.acquire_timeout,
            ));
        }
        self
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// A migration failed or the database is unreachable.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| Error::Internal(Box::new(e)))
    }

    /// The migrations this binary knows that the database has not applied, as
    /// `version_description`, in order. Applies nothing.
    ///
    /// # Errors
    /// The database is unreachable.
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        // Before the first migration the bookkeeping table does not exist: nothing is applied.
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .or_else(|error| match &error {
                    // PostgreSQL's undefined_table, SQLite's "no such table".
                    sqlx::Error::Database(db)
                        if db.code().as_deref() == Some("42P01")
                            || db.message().contains("no such table") =>
                    {
                        Ok(Vec::new())
                    }
                    _ => Err(Error::database(error)),
                })?;
        Ok(MIGRATOR
            .iter()
            .filter(|migration| !applied.contains(&migration.version))
            .map(|migration| {
                format!(
                    "{:04}_{}",
                    migration.version,
                    migration.description.replace(' ', "_")
                )
            })
            .collect())
    }

    /// The database server's clock, in unix milliseconds (the doctor compares it with ours).
    ///
    /// # Errors
    /// The database is unreachable.
    pub(crate) async fn clock_millis(&self) -> Result<i64> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS BIGINT)",
            Backend::Postgres => {
                "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
            }
        };
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    /// The pool, for tests that inspect or arrange rows directly.
    #[cfg(feature = "testing")]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// How many write transactions this process has committed. A value read before a query
    /// and unchanged after it means no write of ours landed in between.
    pub fn write_generation(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// This process's write generation together with where the other processes stand (see
    /// `write_watch`), so their commits count too.
    pub(crate) async fn generation(&self) -> Generation {
        let ours = self.write_generation();
        let others = match &self.write_watch {
            Some(watch) => watch.others().await,
            None => 0,
        };
        Generation { ours, others }
    }

    /// Whether [`Db::generation`] moves with other processes' commits too (always on SQLite;
    /// on PostgreSQL while the write watch runs, which it does when sessions are cached).
    pub(crate) fn sees_other_writers(&self) -> bool {
        self.write_watch.is_some()
    }

    /// The engine behind the pool.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two transactions that read then write cannot deadlock.
    ///
    /// # Errors
    /// No connection could be had.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        Ok(WriteTx {
            tx: tx.map_err(Error::database)?,
            writes: Arc::clone(&self.writes),
            notify: self.notify.clone(),
        })
    }

    /// A pooled connection, for reads and for writes that touch neither users nor sessions
    /// (audit rows) or only refresh a session's last-seen time.
    ///
    /// # Errors
    /// No connection could be had.
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        self.pool.acquire().await.map_err(Error::database)
    }

    /// Whether the database answers, for `/ready`.
    pub async fn ping(&self) -> bool {
        match self.pool.acquire().await {
            Ok(mut conn) => conn.ping().await.is_ok(),
            Err(_) => false,
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `name` as a quoted SQL identifier.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Makes sure the SQLite file can be created: its folder exists and `mode=rwc` is set.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| Error::Internal(Box::new(e)))?;
        }
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}
