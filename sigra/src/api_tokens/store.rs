//! SQL for the `api_tokens` table.

use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::crypto::TokenHash;
use crate::db::paging::Cursor;
use crate::error::Result;
use crate::users::UserId;

pub(crate) struct NewRow<'a> {
    pub id: &'a str,
    pub user_id: &'a UserId,
    pub token_hash: &'a TokenHash,
    pub name: &'a str,
    pub scopes: &'a str,
    pub now: Timestamp,
    pub expires_at: Option<Timestamp>,
}

pub(crate) async fn insert(conn: &mut AnyConnection, row: NewRow<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, token_hash, name, scopes, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.id)
    .bind(row.user_id.as_str())
    .bind(row.token_hash.as_str())
    .bind(row.name)
    .bind(row.scopes)
    .bind(row.now.as_millis())
    .bind(row.expires_at.map(Timestamp::as_millis))
    .execute(conn)
    .await?;
    Ok(())
}

/// A token row as lists and checks read it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    pub scopes: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, user_id, name, scopes, created_at, expires_at, last_used_at, revoked_at";

pub(crate) async fn find_by_hash(
    conn: &mut AnyConnection,
    hash: &TokenHash,
) -> Result<Option<TokenRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1"
    ))
    .bind(hash.as_str())
    .fetch_optional(conn)
    .await?)
}

pub(crate) async fn find_owned(
    conn: &mut AnyConnection,
    user: &UserId,
    id: &str,
) -> Result<Option<TokenRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user.as_str())
    .fetch_optional(conn)
    .await?)
}

/// The user's unrevoked tokens after `after`, newest first, at most `limit`.
pub(crate) async fn list_unrevoked(
    conn: &mut AnyConnection,
    user: &UserId,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Vec<TokenRow>> {
    let (at, id) = after.map_or((i64::MAX, String::new()), |c| {
        (c.created_at.as_millis(), c.id.clone())
    });
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL \
         AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind(user.as_str())
    .bind(at)
    .bind(if after.is_some() { id } else { "~".to_owned() })
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?)
}

/// Records a use, at most once per `interval` (a conditional update, so a busy token costs a
/// write only now and then).
pub(crate) async fn touch(
    conn: &mut AnyConnection,
    id: &str,
    now: Timestamp,
    not_since: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at <= $3)",
    )
    .bind(id)
    .bind(now.as_millis())
    .bind(not_since.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes one of the user's tokens; whether it was live.
pub(crate) async fn revoke(
    conn: &mut AnyConnection,
    user: &UserId,
    id: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(user.as_str())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every live token of the user; how many.
pub(crate) async fn revoke_all(
    conn: &mut AnyConnection,
    user: &UserId,
    now: Timestamp,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user.as_str())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
