use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::Result;
use crate::mail::BoxFuture;

use super::Counters;

/// Counters in the `rate_limits` table: one atomic upsert per hit, so every process sees the
/// same count. Old windows are deleted by the periodic cleanup job.
#[derive(Clone, Debug)]
pub struct DatabaseCounters {
    db: Db,
}

impl DatabaseCounters {
    /// Counters in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl Counters for DatabaseCounters {
    fn hit<'a>(
        &'a self,
        bucket: &'a str,
        window_start: Timestamp,
        _window_end: Timestamp,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let mut conn = self.db.acquire().await?;
            let hits: i64 = sqlx::query_scalar(
                "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
                 ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 \
                 RETURNING hits",
            )
            .bind(bucket)
            .bind(window_start.as_millis())
            .fetch_one(&mut *conn)
            .await?;
            Ok(u64::try_from(hits).unwrap_or(u64::MAX))
        })
    }
}
