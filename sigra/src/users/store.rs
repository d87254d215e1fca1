//! SQL for the `users` table. Functions take a connection so a write and its audit row can
//! share one transaction.

use sqlx::{AnyConnection, Row as _};

use crate::clock::Timestamp;
use crate::error::Result;
use crate::password::PasswordHash;

use super::{EmailAddress, UserId};

/// Inserts a user unless the email is taken. Returns whether a row was written.
pub(crate) async fn insert_if_new(
    conn: &mut AnyConnection,
    id: &UserId,
    email: &EmailAddress,
    hash: &PasswordHash,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO users (id, email, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (email) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(email.as_str())
    .bind(hash.as_str())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The id of the account with this email, if any.
pub(crate) async fn find_id_by_email(
    conn: &mut AnyConnection,
    email: &EmailAddress,
) -> Result<Option<UserId>> {
    let row = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| UserId::from_stored(r.get(0))))
}

/// The id and password hash of the account with this email, if any. The hash is absent for
/// accounts without a password.
pub(crate) async fn find_credentials(
    conn: &mut AnyConnection,
    email: &EmailAddress,
) -> Result<Option<(UserId, Option<PasswordHash>)>> {
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| {
        let hash: Option<String> = r.get(1);
        (
            UserId::from_stored(r.get(0)),
            hash.map(PasswordHash::from_stored),
        )
    }))
}

/// Replaces a password hash with a fresh one of the same password (parameter upgrade).
pub(crate) async fn replace_password_hash(
    conn: &mut AnyConnection,
    id: &UserId,
    hash: &PasswordHash,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash.as_str())
        .bind(now.as_millis())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
