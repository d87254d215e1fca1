//! SQL for TOTP credentials, backup codes and the second-factor lock.

use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::config::{Capabilities, Capability};
use crate::error::Result;
use crate::users::UserId;

/// A stored TOTP credential.
#[derive(sqlx::FromRow)]
pub(super) struct TotpRow {
    pub secret_sealed: String,
    pub key_id: String,
    pub confirmed_at: Option<Timestamp>,
    /// Stored as a signed integer; steps count 30-second periods since 1970.
    last_used_step: Option<i64>,
}

impl TotpRow {
    pub fn confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }

    pub fn last_used_step(&self) -> Option<u64> {
        self.last_used_step
            .and_then(|step| u64::try_from(step).ok())
    }
}

pub(super) async fn totp(conn: &mut AnyConnection, user: &UserId) -> Result<Option<TotpRow>> {
    Ok(sqlx::query_as(
        "SELECT secret_sealed, key_id, confirmed_at, last_used_step FROM user_totp WHERE user_id = $1",
    )
    .bind(user.as_str())
    .fetch_optional(conn)
    .await?)
}

/// Stores a new unconfirmed secret, replacing an unconfirmed one; false if a confirmed
/// credential exists.
pub(super) async fn start_enrolment(
    conn: &mut AnyConnection,
    user: &UserId,
    sealed: &str,
    key_id: &str,
    now: Timestamp,
) -> Result<bool> {
    sqlx::query("DELETE FROM user_totp WHERE user_id = $1 AND confirmed_at IS NULL")
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query(
        "INSERT INTO user_totp (user_id, secret_sealed, key_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user.as_str())
    .bind(sealed)
    .bind(key_id)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the credential confirmed and records the step its first code used.
pub(super) async fn confirm(
    conn: &mut AnyConnection,
    user: &UserId,
    step: u64,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE user_totp SET confirmed_at = $1, last_used_step = $2 WHERE user_id = $3 AND confirmed_at IS NULL",
    )
    .bind(now.as_millis())
    .bind(i64::try_from(step).unwrap_or(i64::MAX))
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that `step` was used; false if it (or a later one) already was: a replay.
pub(super) async fn use_step(conn: &mut AnyConnection, user: &UserId, step: u64) -> Result<bool> {
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let done = sqlx::query(
        "UPDATE user_totp SET last_used_step = $1 \
         WHERE user_id = $2 AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < $1)",
    )
    .bind(step)
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delete_totp(conn: &mut AnyConnection, user: &UserId) -> Result<()> {
    sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM user_backup_codes WHERE user_id = $1")
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// A sealed secret with the key that sealed it.
#[derive(sqlx::FromRow)]
pub(super) struct SealedSecret {
    pub user_id: UserId,
    pub secret_sealed: String,
    pub key_id: String,
}

/// Every sealed secret with its key id, for re-sealing with a new key.
pub(super) async fn all_secrets(conn: &mut AnyConnection) -> Result<Vec<SealedSecret>> {
    Ok(
        sqlx::query_as("SELECT user_id, secret_sealed, key_id FROM user_totp")
            .fetch_all(conn)
            .await?,
    )
}

pub(super) async fn reseal(
    conn: &mut AnyConnection,
    user: &str,
    sealed: &str,
    key_id: &str,
) -> Result<()> {
    sqlx::query("UPDATE user_totp SET secret_sealed = $1, key_id = $2 WHERE user_id = $3")
        .bind(sealed)
        .bind(key_id)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the user's backup codes.
pub(super) async fn replace_backup_codes(
    conn: &mut AnyConnection,
    user: &UserId,
    digests: &[String],
    now: Timestamp,
) -> Result<()> {
    sqlx::query("DELETE FROM user_backup_codes WHERE user_id = $1")
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    for digest in digests {
        sqlx::query("INSERT INTO user_backup_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(user.as_str())
            .bind(digest)
            .bind(now.as_millis())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Uses a backup code: exactly one of several racing uses wins.
pub(super) async fn use_backup_code(
    conn: &mut AnyConnection,
    user: &UserId,
    digest: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE user_backup_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now.as_millis())
    .bind(user.as_str())
    .bind(digest)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn backup_codes_left(conn: &mut AnyConnection, user: &UserId) -> Result<u32> {
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_backup_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?;
    Ok(u32::try_from(left).unwrap_or(0))
}

/// The second-factor lock and the trust epoch.
#[derive(sqlx::FromRow)]
pub(super) struct MfaState {
    #[sqlx(rename = "mfa_locked_until")]
    pub locked_until: Option<Timestamp>,
    #[sqlx(rename = "mfa_trust_epoch")]
    pub trust_epoch: i64,
    /// Locks since the last right second factor.
    #[sqlx(rename = "mfa_lockout_count", try_from = "i64")]
    pub locks_in_a_row: u32,
}

pub(super) async fn state(conn: &mut AnyConnection, user: &UserId) -> Result<MfaState> {
    Ok(sqlx::query_as(
        "SELECT mfa_locked_until, mfa_trust_epoch, mfa_lockout_count FROM users WHERE id = $1",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?)
}

/// Counts a wrong second factor; returns the failures in a row.
pub(super) async fn count_failure(conn: &mut AnyConnection, user: &UserId) -> Result<u32> {
    let failures: i64 = sqlx::query_scalar(
        "UPDATE users SET mfa_failed_attempts = mfa_failed_attempts + 1 WHERE id = $1 RETURNING mfa_failed_attempts",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?;
    Ok(u32::try_from(failures).unwrap_or(u32::MAX))
}

/// Locks the second-factor step if the threshold is reached; true if this call locked it.
pub(super) async fn lock(
    conn: &mut AnyConnection,
    user: &UserId,
    until: Timestamp,
    threshold: u32,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET mfa_failed_attempts = 0, mfa_locked_until = $1, mfa_lockout_count = mfa_lockout_count + 1 \
         WHERE id = $2 AND mfa_failed_attempts >= $3",
    )
    .bind(until.as_millis())
    .bind(user.as_str())
    .bind(i64::from(threshold))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn clear_failures(conn: &mut AnyConnection, user: &UserId) -> Result<()> {
    sqlx::query(
        "UPDATE users SET mfa_failed_attempts = 0, mfa_locked_until = NULL, mfa_lockout_count = 0 WHERE id = $1",
    )
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn bump_trust_epoch(conn: &mut AnyConnection, user: &UserId) -> Result<()> {
    sqlx::query("UPDATE users SET mfa_trust_epoch = mfa_trust_epoch + 1 WHERE id = $1")
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// How many second factors of the kinds switched on `user` could answer a log-in's second step
/// with: an authenticator app counts once, each passkey once.
pub(crate) async fn usable_second_factor_count(
    conn: &mut AnyConnection,
    user: &UserId,
    capabilities: &Capabilities,
) -> Result<i64> {
    let (apps, passkeys): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL), \
                (SELECT COUNT(*) FROM user_passkeys WHERE user_id = $1)",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?;
    let counted = |on: bool, count: i64| if on { count } else { 0 };
    Ok(counted(capabilities.has(Capability::SecondFactors), apps)
        + counted(capabilities.has(Capability::Passkeys), passkeys))
}

/// How many second factors `user` has: an authenticator app counts once, each passkey once.
pub(crate) async fn second_factor_count(conn: &mut AnyConnection, user: &UserId) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL) \
              + (SELECT COUNT(*) FROM user_passkeys WHERE user_id = $1)",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?)
}

/// How many passkeys `user` has (each is a second factor).
pub(super) async fn passkey_count(conn: &mut AnyConnection, user: &UserId) -> Result<u32> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_passkeys WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_one(conn)
        .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// Deletes every passkey of `user`.
pub(super) async fn delete_passkeys(conn: &mut AnyConnection, user: &UserId) -> Result<()> {
    sqlx::query("DELETE FROM user_passkeys WHERE user_id = $1")
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
