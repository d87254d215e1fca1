//! SQL for the `jobs` table.

use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::db::{Backend, Known};
use crate::error::Result;
use crate::sessions::SessionKind;

use super::JobKind;

#[derive(sqlx::FromRow)]
pub(super) struct Claimed {
    pub id: String,
    pub kind: Known<JobKind>,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

pub(super) async fn insert(
    conn: &mut AnyConnection,
    id: &str,
    kind: JobKind,
    payload: &str,
    now: Timestamp,
    max_attempts: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at, max_attempts, created_at) VALUES ($1, $2, $3, $4, $5, $4)",
    )
    .bind(id)
    .bind(kind.as_str())
    .bind(payload)
    .bind(now.as_millis())
    .bind(max_attempts)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a job with a fixed id unless it exists.
pub(super) async fn insert_once(
    conn: &mut AnyConnection,
    id: &str,
    kind: JobKind,
    now: Timestamp,
    max_attempts: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at, max_attempts, created_at) VALUES ($1, $2, '', $3, $4, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind.as_str())
    .bind(now.as_millis())
    .bind(max_attempts)
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims the oldest due job. The lease conditions are repeated on the outer `UPDATE` so that a
/// runner that lost a race re-checks them against the committed row and claims nothing.
pub(super) async fn claim(
    conn: &mut AnyConnection,
    backend: Backend,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Claimed>> {
    let skip_locked = match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM jobs WHERE failed_at IS NULL AND run_at <= $3 \
                     AND (locked_until IS NULL OR locked_until <= $3) \
                     ORDER BY run_at, id LIMIT 1 {skip_locked}) \
           AND failed_at IS NULL AND (locked_until IS NULL OR locked_until <= $3) \
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    Ok(sqlx::query_as(&sql)
        .bind(worker)
        .bind(lease_until.as_millis())
        .bind(now.as_millis())
        .fetch_optional(conn)
        .await?)
}

pub(super) async fn due_count(conn: &mut AnyConnection, now: Timestamp) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE failed_at IS NULL AND run_at <= $1")
            .bind(now.as_millis())
            .fetch_one(conn)
            .await?,
    )
}

pub(super) async fn delete(conn: &mut AnyConnection, id: &str, worker: &str) -> Result<()> {
    sqlx::query("DELETE FROM jobs WHERE id = $1 AND locked_by = $2")
        .bind(id)
        .bind(worker)
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn reschedule(
    conn: &mut AnyConnection,
    id: &str,
    worker: &str,
    run_at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET run_at = $1, attempts = 0, locked_by = NULL, locked_until = NULL, last_error = NULL \
         WHERE id = $2 AND locked_by = $3",
    )
    .bind(run_at.as_millis())
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn retry_later(
    conn: &mut AnyConnection,
    id: &str,
    worker: &str,
    run_at: Timestamp,
    error: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET run_at = $1, locked_by = NULL, locked_until = NULL, last_error = $2 \
         WHERE id = $3 AND locked_by = $4",
    )
    .bind(run_at.as_millis())
    .bind(truncate(error))
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn give_up(
    conn: &mut AnyConnection,
    id: &str,
    worker: &str,
    now: Timestamp,
    error: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET failed_at = $1, locked_by = NULL, locked_until = NULL, last_error = $2 \
         WHERE id = $3 AND locked_by = $4",
    )
    .bind(now.as_millis())
    .bind(truncate(error))
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(())
}

/// The moments before which things are removed.
pub(super) struct Cutoffs {
    pub now: Timestamp,
    /// Standard sessions idle since before this have ended.
    pub idle: Timestamp,
    /// Dead tokens created before this go.
    pub tokens: Timestamp,
    /// Jobs that failed before this go.
    pub failed_jobs: Timestamp,
}

/// Deletes ended sessions, dead tokens and long-failed jobs; returns how many of each.
pub(super) async fn clean_up(
    conn: &mut AnyConnection,
    cutoffs: &Cutoffs,
) -> Result<(u64, u64, u64)> {
    let sessions = sqlx::query(
        "DELETE FROM user_sessions WHERE expires_at <= $1 OR (kind = $2 AND last_seen_at <= $3)",
    )
    .bind(cutoffs.now.as_millis())
    .bind(SessionKind::Standard.as_str())
    .bind(cutoffs.idle.as_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let tokens = sqlx::query(
        "DELETE FROM user_tokens WHERE (expires_at <= $1 OR used_at IS NOT NULL) AND created_at <= $2",
    )
    .bind(cutoffs.now.as_millis())
    .bind(cutoffs.tokens.as_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
        .bind(cutoffs.now.as_millis())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM rate_limits WHERE window_start <= $1")
        .bind(cutoffs.tokens.as_millis())
        .execute(&mut *conn)
        .await?;
    let jobs = sqlx::query("DELETE FROM jobs WHERE failed_at IS NOT NULL AND failed_at <= $1")
        .bind(cutoffs.failed_jobs.as_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok((sessions, tokens, jobs))
}

/// Errors are kept for operators; a bound keeps a runaway message from bloating the row.
fn truncate(error: &str) -> String {
    error.chars().take(2000).collect()
}
