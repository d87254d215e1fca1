//! Request rate limits, where their counters live, and which proxies are believed.

use std::str::FromStr;
use std::time::Duration;

use super::sources::{Reader, Setting};
use super::{Expected, SecretText};

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "rate_limit.backend", aliases: &[] },
    Setting { key: "rate_limit.auth_limit", aliases: &[] },
    Setting { key: "rate_limit.auth_window", aliases: &[] },
    Setting { key: "http.trusted_proxies", aliases: &[] },
    Setting { key: "redis.url", aliases: &[] },
    Setting { key: "redis.key_prefix", aliases: &[] },
];

/// Where rate-limit counters live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitBackend {
    /// In this process's memory: right for one process.
    Memory,
    /// In the database, shared by every process.
    Database,
    /// In Redis (`redis.url`), shared by every process.
    Redis,
}

impl FromStr for RateLimitBackend {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "memory" => Ok(Self::Memory),
            "database" => Ok(Self::Database),
            "redis" => Ok(Self::Redis),
            _ => Err(Expected("memory, database or redis")),
        }
    }
}

/// The `rate_limit.backend` setting: a backend, or `auto` to choose by database.
enum BackendChoice {
    Auto,
    Fixed(RateLimitBackend),
}

impl FromStr for BackendChoice {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "auto" => Ok(Self::Auto),
            named => named
                .parse()
                .map(Self::Fixed)
                .map_err(|_| Expected("auto, memory, database or redis")),
        }
    }
}

/// Request rate limits.
#[derive(Clone, Debug)]
pub struct RateLimitConfig {
    /// Where counters live (`auto`: memory for SQLite, the database for PostgreSQL).
    pub backend: RateLimitBackend,
    /// Guest auth form posts allowed per client address per window.
    pub auth_limit: u32,
    /// The window of that limit.
    pub auth_window: Duration,
    /// Proxies whose `X-Forwarded-For` is believed. Empty: the socket peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The Redis server, for the Redis backend.
    pub redis: Option<RedisConfig>,
}

/// Where the Redis backend keeps its counters. `Debug` hides the URL (it may hold a password).
#[derive(Clone, Debug)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port/db` (or `rediss://` for TLS).
    pub url: SecretText,
    /// The prefix of every key, so several applications (or test runs) can share a server.
    pub key_prefix: String,
}

impl RateLimitConfig {
    pub(super) fn read(r: &mut Reader, database_url: &str) -> Self {
        let backend = match r.parse("rate_limit.backend", BackendChoice::Auto) {
            BackendChoice::Fixed(backend) => backend,
            // One SQLite file means one process; PostgreSQL may serve several.
            BackendChoice::Auto if database_url.starts_with("sqlite:") => RateLimitBackend::Memory,
            BackendChoice::Auto => RateLimitBackend::Database,
        };
        let proxies_text = r.text("http.trusted_proxies", "");
        let mut trusted_proxies = Vec::new();
        for item in proxies_text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let parsed = item
                .parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
            match parsed {
                Ok(net) => trusted_proxies.push(net),
                Err(_) => r.invalid(
                    "http.trusted_proxies",
                    format!("has {item:?}, which is not an address or CIDR range"),
                ),
            }
        }
        let redis_url = r.text("redis.url", "");
        let key_prefix = r.text("redis.key_prefix", "sigra");
        let redis = (!redis_url.is_empty()).then(|| RedisConfig {
            url: SecretText(redis_url.clone()),
            key_prefix,
        });
        if backend == RateLimitBackend::Redis && redis.is_none() {
            let setting = r.origin("rate_limit.backend");
            r.invalid("redis.url", format!("is required when {setting} is redis"));
        }
        let is_redis_url = redis_url.starts_with("redis://") || redis_url.starts_with("rediss://");
        if !redis_url.is_empty() && !is_redis_url {
            r.invalid("redis.url", "should be a redis:// or rediss:// URL");
        }
        Self {
            backend,
            auth_limit: r.number("rate_limit.auth_limit", 10),
            auth_window: r.duration("rate_limit.auth_window", "1m"),
            trusted_proxies,
            redis,
        }
    }
}
