//! SQL for TOTP credentials, backup codes and the second-factor lock.

use sqlx::{AnyConnection, Row as _};

use crate::clock::Timestamp;
use crate::error::Result;
use crate::users::UserId;

/// A stored TOTP credential.
pub(super) struct TotpRow {
    pub secret_sealed: String,
    pub key_id: String,
    pub confirmed: bool,
    pub last_used_step: Option<u64>,
}

pub(super) async fn totp(conn: &mut AnyConnection, user: &UserId) -> Result<Option<TotpRow>> {
    let row = sqlx::query("SELECT secret_sealed, key_id, confirmed_at, last_used_step FROM user_totp WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        None => None,
        Some(row) => {
            let confirmed_at: Option<i64> = row.try_get(2)?;
            let last: Option<i64> = row.try_get(3)?;
            Some(TotpRow {
                secret_sealed: row.try_get(0)?,
                key_id: row.try_get(1)?,
                confirmed: confirmed_at.is_some(),
                last_used_step: last.and_then(|s| u64::try_from(s).ok()),
            })
        }
    })
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

/// Every sealed secret with its key id, for re-sealing with a new key.
pub(super) async fn all_secrets(conn: &mut AnyConnection) -> Result<Vec<(String, String, String)>> {
    let rows = sqlx::query("SELECT user_id, secret_sealed, key_id FROM user_totp")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(Into::into)
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
    let row = sqlx::query(
        "SELECT COUNT(*) FROM user_backup_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?;
    Ok(u32::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
}

/// The second-factor lock, the trust epoch, and the failures so far.
pub(super) struct MfaState {
    pub locked_until: Option<Timestamp>,
    pub trust_epoch: i64,
}

pub(super) async fn state(conn: &mut AnyConnection, user: &UserId) -> Result<MfaState> {
    let row = sqlx::query("SELECT mfa_locked_until, mfa_trust_epoch FROM users WHERE id = $1")
        .bind(user.as_str())
        .fetch_one(conn)
        .await?;
    let locked: Option<i64> = row.try_get(0)?;
    Ok(MfaState {
        locked_until: locked.map(Timestamp::from_millis),
        trust_epoch: row.try_get(1)?,
    })
}

/// Counts a wrong second factor; returns the failures in a row.
pub(super) async fn count_failure(conn: &mut AnyConnection, user: &UserId) -> Result<u32> {
    let row = sqlx::query("UPDATE users SET mfa_failed_attempts = mfa_failed_attempts + 1 WHERE id = $1 RETURNING mfa_failed_attempts")
        .bind(user.as_str())
        .fetch_one(conn)
        .await?;
    Ok(u32::try_from(row.try_get::<i64, _>(0)?).unwrap_or(u32::MAX))
}

/// Locks the second-factor step if the threshold is reached; true if this call locked it.
pub(super) async fn lock(
    conn: &mut AnyConnection,
    user: &UserId,
    until: Timestamp,
    threshold: u32,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET mfa_failed_attempts = 0, mfa_locked_until = $1 WHERE id = $2 AND mfa_failed_attempts >= $3",
    )
    .bind(until.as_millis())
    .bind(user.as_str())
    .bind(i64::from(threshold))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn clear_failures(conn: &mut AnyConnection, user: &UserId) -> Result<()> {
    sqlx::query("UPDATE users SET mfa_failed_attempts = 0, mfa_locked_until = NULL WHERE id = $1")
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

/// Whether the user has a second factor: a confirmed TOTP or a passkey.
pub(crate) async fn has_second_factor(conn: &mut AnyConnection, user: &UserId) -> Result<bool> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL) \
              + (SELECT COUNT(*) FROM user_passkeys WHERE user_id = $1)",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}
