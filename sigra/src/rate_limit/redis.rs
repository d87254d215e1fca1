use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use crate::clock::Timestamp;
use crate::config::RedisConfig;
use crate::error::{Error, Result};
use crate::mail::BoxFuture;

use super::Counters;

/// How long a Redis connection attempt or command may take: a Redis that does not answer
/// makes the limited request fail fast (503), like a database that does not.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Counters in Redis, for deployments that run it anyway: one `INCR` per hit, the key
/// expiring after its window, so every process sees the same count and nothing needs
/// cleaning up. The connection is made at the first hit and kept (it reconnects by itself).
pub struct RedisCounters {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    prefix: String,
}

impl RedisCounters {
    /// Counters at the configured server, under the configured key prefix.
    ///
    /// # Errors
    /// The URL is not a Redis URL.
    pub fn new(config: &RedisConfig) -> Result<Self> {
        Ok(Self {
            client: redis::Client::open(config.url.expose())
                .map_err(|e| Error::Internal(Box::new(e)))?,
            connection: OnceCell::new(),
            prefix: config.key_prefix.clone(),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager> {
        let connection = self
            .connection
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(TIMEOUT)
                    .set_response_timeout(TIMEOUT)
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await
            .map_err(unavailable)?;
        Ok(connection.clone())
    }
}

fn unavailable(error: redis::RedisError) -> Error {
    Error::Unavailable(Box::new(error))
}

impl Counters for RedisCounters {
    fn hit<'a>(
        &'a self,
        bucket: &'a str,
        window_start: Timestamp,
        window_end: Timestamp,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let key = format!("{}:rate:{bucket}:{}", self.prefix, window_start.as_millis());
            // The window comes from this process's clock, but the expiry is a span Redis
            // measures on its own: an absolute end time would delete the count at once on a
            // Redis server whose clock is ahead. A window's length after its last hit always
            // outlasts the window, and the key's name keeps windows apart.
            let length = window_end.as_millis() - window_start.as_millis();
            let (hits,): (u64,) = redis::pipe()
                .atomic()
                .incr(&key, 1)
                .pexpire(&key, length)
                .ignore()
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            Ok(hits)
        })
    }
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounters")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}
