//! Rate limits: fixed-window counters behind one trait, with three backends: in memory (one
//! process), in the database or in Redis (shared by every process). The HTTP layer that
//! applies them to guest auth form posts is in `sigra::http`.

mod memory;
mod redis;
mod store;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{millis_of, Clock, Timestamp};
use crate::config::{RateLimitBackend, RateLimitConfig};
use crate::db::Db;
use crate::error::Result;
use crate::mail::BoxFuture;

pub use memory::MemoryCounters;
pub use redis::RedisCounters;
pub use store::DatabaseCounters;

/// The answer to one request against a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go on.
    pub allowed: bool,
    /// The limit.
    pub limit: u32,
    /// Requests left in this window.
    pub remaining: u32,
    /// Time until the window resets.
    pub reset_after: Duration,
}

/// Counts hits per bucket per window.
pub trait Counters: Send + Sync + 'static {
    /// Adds one hit to `bucket` in the window from `window_start` to `window_end`; returns
    /// the hits in that window so far, this one included.
    fn hit<'a>(
        &'a self,
        bucket: &'a str,
        window_start: Timestamp,
        window_end: Timestamp,
    ) -> BoxFuture<'a, Result<u64>>;
}

/// A limit: `limit` hits per `window` per bucket.
#[derive(Clone)]
pub struct RateLimiter {
    counters: Arc<dyn Counters>,
    clock: Arc<dyn Clock>,
}

impl RateLimiter {
    /// A limiter over the configured backend.
    ///
    /// # Errors
    /// The Redis URL is unusable.
    pub fn new(config: &RateLimitConfig, db: &Db, clock: Arc<dyn Clock>) -> Result<Self> {
        let counters: Arc<dyn Counters> = match (config.backend, &config.redis) {
            (RateLimitBackend::Memory, _) => Arc::new(MemoryCounters::default()),
            (RateLimitBackend::Database, _) => Arc::new(DatabaseCounters::new(db.clone())),
            (RateLimitBackend::Redis, Some(redis)) => Arc::new(RedisCounters::new(redis)?),
            (RateLimitBackend::Redis, None) => {
                return Err(crate::error::Error::Internal(
                    "the Redis backend has no URL (the configuration check should refuse it)"
                        .into(),
                ))
            }
        };
        Ok(Self { counters, clock })
    }

    /// A limiter over explicit counters (tests of each backend).
    pub fn with_counters(counters: Arc<dyn Counters>, clock: Arc<dyn Clock>) -> Self {
        Self { counters, clock }
    }

    /// Counts one hit on `bucket` and says whether it is within `limit` per `window`.
    ///
    /// # Errors
    /// The shared backend (the database, Redis) failed or cannot be reached.
    pub async fn check(&self, bucket: &str, limit: u32, window: Duration) -> Result<Decision> {
        let now = self.clock.now().as_millis();
        let length = millis_of(window).max(1);
        let window_start = now - now.rem_euclid(length);
        let hits = self
            .counters
            .hit(
                bucket,
                Timestamp::from_millis(window_start),
                Timestamp::from_millis(window_start + length),
            )
            .await?;
        let reset_after =
            Duration::from_millis(u64::try_from(window_start + length - now).unwrap_or(0));
        let used = u32::try_from(hits).unwrap_or(u32::MAX);
        let decision = Decision {
            allowed: used <= limit,
            limit,
            remaining: limit.saturating_sub(used),
            reset_after,
        };
        if !decision.allowed {
            metrics::counter!("sigra_rate_limited_total").increment(1);
        }
        Ok(decision)
    }
}

/// The counted unit of a client address: the address for IPv4, its /64 for IPv6 (the smallest
/// block one customer usually holds).
pub fn client_bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        assert_eq!(client_bucket(a), client_bucket(b));
        assert_eq!(client_bucket("192.0.2.1".parse().expect("ip")), "192.0.2.1");
    }
}
