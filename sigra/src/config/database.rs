//! The database connection settings.

use super::sources::{Reader, Setting};

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "database.url", aliases: &["DATABASE_URL"] },
    Setting { key: "database.max_connections", aliases: &[] },
    Setting { key: "database.acquire_timeout", aliases: &[] },
];

/// Database connection settings. `Debug` hides a password in the URL.
#[derive(Clone)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://...`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a connection before it is told the service is
    /// unavailable (a database that is down or out of connections fails fast).
    pub acquire_timeout: std::time::Duration,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = match url::Url::parse(&self.url) {
            Ok(mut url) if url.password().is_some() => {
                // Setting a password on a URL that already has one cannot fail.
                let _ = url.set_password(Some("redacted"));
                url.to_string()
            }
            _ => self.url.clone(),
        };
        f.debug_struct("DatabaseConfig")
            .field("url", &url)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

impl DatabaseConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let database = Self {
            url: r.text("database.url", "sqlite://data/sigra.db"),
            max_connections: r.number("database.max_connections", 10),
            acquire_timeout: r.duration("database.acquire_timeout", "2s"),
        };
        if database.acquire_timeout.is_zero() || database.acquire_timeout.as_secs() > 60 {
            r.invalid(
                "database.acquire_timeout",
                "must be between a millisecond and a minute",
            );
        }
        if !(database.url.starts_with("sqlite:")
            || database.url.starts_with("postgres://")
            || database.url.starts_with("postgresql://"))
        {
            r.invalid("database.url", "should be a sqlite:// or postgres:// URL");
        }
        if database.max_connections == 0 {
            r.invalid("database.max_connections", "must be at least 1");
        }
        database
    }
}
