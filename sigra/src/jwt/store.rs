//! SQL for refresh-token families, their tokens, and the API log-in's second-factor step.

use sqlx::AnyConnection;

use crate::auth::LoginMethod;
use crate::clock::Timestamp;
use crate::crypto::TokenHash;
use crate::db::Known;
use crate::error::Result;
use crate::users::UserId;

pub(crate) struct NewFamily<'a> {
    pub id: &'a str,
    pub user: &'a UserId,
    pub scopes: &'a str,
    pub epoch: i64,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

pub(crate) async fn insert_family(conn: &mut AnyConnection, family: NewFamily<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO jwt_refresh_families (id, user_id, scopes, token_epoch, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(family.id)
    .bind(family.user.as_str())
    .bind(family.scopes)
    .bind(family.epoch)
    .bind(family.now.as_millis())
    .bind(family.expires_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_token(
    conn: &mut AnyConnection,
    family: &str,
    hash: &TokenHash,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jwt_refresh_tokens (id, family_id, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(family)
    .bind(hash.as_str())
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Supersedes the token with this digest if nobody has: the one winner of racing refreshes.
pub(crate) async fn supersede(
    conn: &mut AnyConnection,
    hash: &TokenHash,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jwt_refresh_tokens SET superseded_at = $2 WHERE token_hash = $1 AND superseded_at IS NULL",
    )
    .bind(hash.as_str())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A refresh token with its family.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RefreshRow {
    pub family_id: String,
    pub user_id: UserId,
    pub scopes: String,
    pub token_epoch: i64,
    pub family_expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    pub superseded_at: Option<Timestamp>,
}

pub(crate) async fn find(conn: &mut AnyConnection, hash: &TokenHash) -> Result<Option<RefreshRow>> {
    Ok(sqlx::query_as(
        "SELECT t.family_id, f.user_id, f.scopes, f.token_epoch, f.expires_at AS family_expires_at, \
                f.revoked_at, t.expires_at, t.superseded_at \
         FROM jwt_refresh_tokens t JOIN jwt_refresh_families f ON f.id = t.family_id \
         WHERE t.token_hash = $1",
    )
    .bind(hash.as_str())
    .fetch_optional(conn)
    .await?)
}

/// Revokes a family; whether this call did it (so its audit row is written once).
pub(crate) async fn revoke_family(
    conn: &mut AnyConnection,
    family: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jwt_refresh_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(family)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) struct NewChallenge<'a> {
    pub user: &'a UserId,
    pub hash: &'a TokenHash,
    pub first_factor: LoginMethod,
    pub scopes: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

pub(crate) async fn insert_challenge(
    conn: &mut AnyConnection,
    challenge: NewChallenge<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_mfa_challenges (id, user_id, token_hash, first_factor, scopes, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(challenge.user.as_str())
    .bind(challenge.hash.as_str())
    .bind(challenge.first_factor.as_str())
    .bind(challenge.scopes)
    .bind(challenge.now.as_millis())
    .bind(challenge.expires_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// A live challenge.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ChallengeRow {
    pub id: String,
    pub user_id: UserId,
    pub first_factor: Known<LoginMethod>,
    pub scopes: String,
}

pub(crate) async fn live_challenge(
    conn: &mut AnyConnection,
    hash: &TokenHash,
    now: Timestamp,
) -> Result<Option<ChallengeRow>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, first_factor, scopes FROM api_mfa_challenges \
         WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(hash.as_str())
    .bind(now.as_millis())
    .fetch_optional(conn)
    .await?)
}

/// Deletes a challenge; whether this call took it (one completion however many race).
pub(crate) async fn take_challenge(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM api_mfa_challenges WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the user's challenges (a lock ends them, like a pending session).
pub(crate) async fn drop_challenges(conn: &mut AnyConnection, user: &UserId) -> Result<()> {
    sqlx::query("DELETE FROM api_mfa_challenges WHERE user_id = $1")
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
