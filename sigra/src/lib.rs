//! Sigra's hardened core: passwords, users, database sessions, the audit trail, and the Axum
//! layers and extractors that enforce them on every request.
//!
//! The host (pages, server functions, routes) calls the services on [`Sigra`]; where the core
//! needs host behaviour it defines a trait. Nothing here knows about Leptos.

pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod http;
pub mod password;
pub mod request;
pub mod sessions;
pub mod users;

#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

pub use error::{Error, Result};

use clock::{Clock, Timestamp};
use config::Config;
use config::SessionCacheMode;
use db::Backend;
use db::Db;
use password::{PasswordHasher, PasswordPolicy};
use sessions::SessionCache;

/// The core services, sharing one database, clock and configuration. Cheap to clone.
#[derive(Clone)]
pub struct Sigra {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    db: Db,
    clock: Arc<dyn Clock>,
    hasher: PasswordHasher,
    password_policy: PasswordPolicy,
    session_cache: Option<SessionCache>,
}

impl Sigra {
    /// Connects to the database, applies pending migrations and prepares the services.
    ///
    /// # Errors
    /// The database is unreachable or a migration failed.
    pub async fn start(config: Config, clock: Arc<dyn Clock>) -> Result<Self> {
        let db = Db::connect(&config.database).await?;
        db.migrate().await?;
        Self::with_db(config, db, clock)
    }

    /// Builds the services over an already migrated database.
    ///
    /// # Errors
    /// The password hasher could not be prepared.
    pub fn with_db(config: Config, db: Db, clock: Arc<dyn Clock>) -> Result<Self> {
        let hasher = PasswordHasher::new(&config.passwords)?;
        let password_policy = PasswordPolicy::new(&config.passwords, &config.app_name);
        let cache_sessions = match config.sessions.cache {
            SessionCacheMode::On => true,
            SessionCacheMode::Off => false,
            SessionCacheMode::Auto => db.backend() == Backend::Sqlite,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                db,
                clock,
                hasher,
                password_policy,
                session_cache: cache_sessions.then(SessionCache::default),
            }),
        })
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The password policy, for hosts that describe it in forms.
    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.inner.password_policy
    }

    fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    fn session_cache(&self) -> Option<&SessionCache> {
        self.inner.session_cache.as_ref()
    }
}

impl std::fmt::Debug for Sigra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sigra").finish_non_exhaustive()
    }
}
