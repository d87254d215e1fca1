//! SQL for the `users` table. Functions take a connection so a write and its audit row can
//! share one transaction.

use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::password::PasswordHash;
use crate::tokens::Purpose;

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

/// Inserts an account without a password (created by a sign-in provider) unless the email is
/// taken; confirmed when the provider vouched for the address. Returns whether a row was
/// written.
pub(crate) async fn insert_without_password(
    conn: &mut AnyConnection,
    id: &UserId,
    email: &EmailAddress,
    confirmed: bool,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO users (id, email, password_hash, confirmed_at, created_at, updated_at) \
         VALUES ($1, $2, NULL, $3, $4, $4) ON CONFLICT (email) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(email.as_str())
    .bind(confirmed.then_some(now.as_millis()))
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
    Ok(sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?)
}

/// What log-in needs to know about an account.
#[derive(sqlx::FromRow)]
pub(crate) struct Credentials {
    pub id: UserId,
    /// Absent for accounts without a password.
    pub password_hash: Option<PasswordHash>,
    pub confirmed_at: Option<Timestamp>,
    /// The end of the current lock, if one was ever set.
    pub locked_until: Option<Timestamp>,
}

/// How to find an account.
pub(crate) enum Lookup<'a> {
    Email(&'a EmailAddress),
    Id(&'a UserId),
}

/// The credentials of an account, if it exists.
pub(crate) async fn credentials(
    conn: &mut AnyConnection,
    lookup: Lookup<'_>,
) -> Result<Option<Credentials>> {
    let (sql, value) = match lookup {
        Lookup::Email(email) => (
            "SELECT id, password_hash, confirmed_at, locked_until FROM users WHERE email = $1",
            email.as_str(),
        ),
        Lookup::Id(id) => (
            "SELECT id, password_hash, confirmed_at, locked_until FROM users WHERE id = $1",
            id.as_str(),
        ),
    };
    Ok(sqlx::query_as(sql).bind(value).fetch_optional(conn).await?)
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

/// The current email of an account.
pub(crate) async fn email_of(
    conn: &mut AnyConnection,
    id: &UserId,
) -> Result<Option<EmailAddress>> {
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(email.and_then(|e| EmailAddress::parse(&e).ok()))
}

/// Whether an address belongs to an account or is reserved by a pending email change whose
/// link is still live (a lapsed reservation holds nothing).
pub(crate) async fn address_in_use(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    now: Timestamp,
) -> Result<bool> {
    let holders: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users u WHERE u.email = $1 OR (u.pending_email = $1 AND EXISTS ( \
             SELECT 1 FROM user_tokens t WHERE t.user_id = u.id AND t.purpose = $2 \
             AND t.used_at IS NULL AND t.expires_at > $3))",
    )
    .bind(email.as_str())
    .bind(Purpose::ChangeEmail.as_str())
    .bind(now.as_millis())
    .fetch_one(conn)
    .await?;
    Ok(holders > 0)
}

/// Marks the address confirmed (a no-op if it already is).
pub(crate) async fn confirm(conn: &mut AnyConnection, id: &UserId, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE users SET confirmed_at = $1, updated_at = $1 WHERE id = $2 AND confirmed_at IS NULL")
        .bind(now.as_millis())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets a new password hash chosen by the user, clearing any forced change.
pub(crate) async fn set_password(
    conn: &mut AnyConnection,
    id: &UserId,
    hash: &PasswordHash,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = 0, updated_at = $2 \
         WHERE id = $3",
    )
    .bind(hash.as_str())
    .bind(now.as_millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the first password of an account that has none; false when it has one.
pub(crate) async fn set_first_password(
    conn: &mut AnyConnection,
    id: &UserId,
    hash: &PasswordHash,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2 \
         WHERE id = $3 AND password_hash IS NULL",
    )
    .bind(hash.as_str())
    .bind(now.as_millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Requires a password change at the next page; returns the account, if it exists.
pub(crate) async fn set_must_change_password(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    required: bool,
    now: Timestamp,
) -> Result<Option<UserId>> {
    Ok(sqlx::query_scalar(
        "UPDATE users SET must_change_password = $1, updated_at = $2 WHERE email = $3 RETURNING id",
    )
    .bind(i64::from(required))
    .bind(now.as_millis())
    .bind(email.as_str())
    .fetch_optional(conn)
    .await?)
}

/// Reserves `new` for a pending change; false when another account holds it or has a live
/// reservation of it. A reservation lives as long as its change link.
pub(crate) async fn reserve_pending_email(
    conn: &mut AnyConnection,
    id: &UserId,
    new: &EmailAddress,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET pending_email = $1, updated_at = $2 WHERE id = $3 \
         AND NOT EXISTS (SELECT 1 FROM users o WHERE o.id <> $3 AND (o.email = $1 OR \
             (o.pending_email = $1 AND EXISTS (SELECT 1 FROM user_tokens t WHERE t.user_id = o.id \
              AND t.purpose = $4 AND t.used_at IS NULL AND t.expires_at > $2))))",
    )
    .bind(new.as_str())
    .bind(now.as_millis())
    .bind(id.as_str())
    .bind(Purpose::ChangeEmail.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Clears a pending change.
pub(crate) async fn clear_pending_email(
    conn: &mut AnyConnection,
    id: &UserId,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE users SET pending_email = NULL, updated_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Switches to the pending address `new`, which counts as confirmed; false if the change was
/// cancelled or replaced meanwhile.
pub(crate) async fn apply_email_change(
    conn: &mut AnyConnection,
    id: &UserId,
    new: &EmailAddress,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET email = $1, pending_email = NULL, confirmed_at = $2, updated_at = $2 \
         WHERE id = $3 AND pending_email = $1",
    )
    .bind(new.as_str())
    .bind(now.as_millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Reserves one password attempt before any hashing: counts it, unless the account is locked
/// at `now` or already has `threshold` attempts counted. One conditional update, so racing
/// attempts cannot all slip under the threshold. Returns whether the attempt was reserved.
pub(crate) async fn reserve_attempt(
    conn: &mut AnyConnection,
    id: &UserId,
    now: Timestamp,
    threshold: u32,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET failed_login_attempts = failed_login_attempts + 1 \
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) AND failed_login_attempts < $3",
    )
    .bind(id.as_str())
    .bind(now.as_millis())
    .bind(i64::from(threshold))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The attempts counted since the last success or lock, and the locks in a row.
#[derive(sqlx::FromRow)]
pub(crate) struct FailedAttempts {
    #[sqlx(rename = "failed_login_attempts", try_from = "i64")]
    pub attempts: u32,
    #[sqlx(rename = "lockout_count", try_from = "i64")]
    pub locks_in_a_row: u32,
}

pub(crate) async fn failed_attempts(
    conn: &mut AnyConnection,
    id: &UserId,
) -> Result<FailedAttempts> {
    Ok(
        sqlx::query_as("SELECT failed_login_attempts, lockout_count FROM users WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(conn)
            .await?,
    )
}

/// Locks the account until `until` if it has reached `threshold` failures; only one of several
/// racing failures performs the lock. Returns whether this call locked it.
pub(crate) async fn lock(
    conn: &mut AnyConnection,
    id: &UserId,
    until: Timestamp,
    threshold: u32,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET failed_login_attempts = 0, locked_until = $1, lockout_count = lockout_count + 1 \
         WHERE id = $2 AND failed_login_attempts >= $3",
    )
    .bind(until.as_millis())
    .bind(id.as_str())
    .bind(i64::from(threshold))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A successful log-in: no failures, no lock, no locks in a row.
pub(crate) async fn clear_failed_logins(conn: &mut AnyConnection, id: &UserId) -> Result<()> {
    sqlx::query("UPDATE users SET failed_login_attempts = 0, lockout_count = 0, locked_until = NULL WHERE id = $1")
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// An account as a bearer check needs it: the user, and the epoch its JWTs must carry.
pub(crate) struct Account {
    pub user: super::User,
    // Read by JWT verification only.
    #[cfg_attr(not(feature = "jwt"), allow(dead_code))]
    pub token_epoch: i64,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: UserId,
    email: String,
    display_name: Option<String>,
    confirmed_at: Option<Timestamp>,
    created_at: Timestamp,
    pending_email: Option<String>,
    must_change_password: i64,
    deletion_scheduled_at: Option<Timestamp>,
    token_epoch: i64,
}

/// The account with this id, if it exists (and its stored email still parses).
pub(crate) async fn account(conn: &mut AnyConnection, id: &UserId) -> Result<Option<Account>> {
    let row = sqlx::query_as::<_, AccountRow>(
        "SELECT id, email, display_name, confirmed_at, created_at, pending_email, \
                must_change_password, deletion_scheduled_at, token_epoch \
         FROM users WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|row| {
        Some(Account {
            user: super::User {
                id: row.id,
                email: EmailAddress::parse(&row.email).ok()?,
                display_name: super::DisplayName::from_stored(row.display_name),
                confirmed_at: row.confirmed_at,
                created_at: row.created_at,
                pending_email: row.pending_email.and_then(|e| EmailAddress::parse(&e).ok()),
                must_change_password: row.must_change_password != 0,
                deletion_scheduled_at: row.deletion_scheduled_at,
            },
            token_epoch: row.token_epoch,
        })
    }))
}

/// The display name of the live account at `email`, if it has one.
pub(crate) async fn display_name_at(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<super::DisplayName>> {
    let name: Option<Option<String>> = sqlx::query_scalar(
        "SELECT display_name FROM users WHERE email = $1 AND deleted_at IS NULL",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?;
    Ok(super::DisplayName::from_stored(name.flatten()))
}

/// Sets the user's display name (`None` clears it).
pub(crate) async fn set_display_name(
    conn: &mut AnyConnection,
    id: &UserId,
    name: Option<&super::DisplayName>,
) -> Result<()> {
    sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
        .bind(name.map(super::DisplayName::as_str))
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves the user's token epoch on: every JWT issued before stops verifying, and every refresh
/// family issued before stops refreshing.
pub(crate) async fn bump_token_epoch(conn: &mut AnyConnection, id: &UserId) -> Result<()> {
    sqlx::query("UPDATE users SET token_epoch = token_epoch + 1 WHERE id = $1")
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
