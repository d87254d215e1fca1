//! One-time tokens sent by mail: 32 random bytes in the link, SHA-256 in the database, bound to
//! one purpose, single use by a conditional `UPDATE … WHERE used_at IS NULL` whose row count
//! decides the winner. Six-digit confirmation codes are keyed with the server secret (HMAC), so
//! a copy of the database does not let anyone try the million codes offline.

use std::time::Duration;

use rand::Rng as _;
use sqlx::AnyConnection;
use subtle::ConstantTimeEq as _;

use crate::clock::Timestamp;
use crate::crypto::{IssuedToken, PresentedToken, SigningKey, TokenHash};
use crate::error::Result;
use crate::users::{EmailAddress, UserId};

crate::db::stored_enum! {
    /// What a token may be used for. A token of one purpose is unknown to every other flow.
    pub enum Purpose {
        /// The link that confirms a new account's address.
        ConfirmEmail = "confirm_email",
        /// The six-digit code that does the same.
        ConfirmCode = "confirm_code",
        /// A one-time log-in link.
        MagicLink = "magic_link",
        /// A password reset link.
        ResetPassword = "reset_password",
        /// The link that confirms a new address.
        ChangeEmail = "change_email",
    }
}

/// A token that was valid and is now used.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct Redeemed {
    pub user_id: UserId,
    /// The address the token was sent to (the new address, for an email change).
    pub sent_to: String,
}

/// Stores a new link token and returns it for the mail.
pub(crate) async fn issue(
    conn: &mut AnyConnection,
    user: &UserId,
    purpose: Purpose,
    sent_to: &EmailAddress,
    now: Timestamp,
    ttl: Duration,
) -> Result<IssuedToken> {
    let token = IssuedToken::generate();
    insert(
        conn,
        user,
        purpose,
        token.hash().as_str(),
        sent_to,
        now,
        ttl,
    )
    .await?;
    Ok(token)
}

/// Stores a new six-digit code (older unused codes of the user stop working) and returns it.
pub(crate) async fn issue_code(
    conn: &mut AnyConnection,
    key: &SigningKey,
    user: &UserId,
    sent_to: &EmailAddress,
    now: Timestamp,
    ttl: Duration,
) -> Result<String> {
    sqlx::query("UPDATE user_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
        .bind(now.as_millis())
        .bind(user.as_str())
        .bind(Purpose::ConfirmCode.as_str())
        .execute(&mut *conn)
        .await?;
    let code = six_digits();
    insert(
        conn,
        user,
        Purpose::ConfirmCode,
        &code_digest(key, user, &code),
        sent_to,
        now,
        ttl,
    )
    .await?;
    Ok(code)
}

async fn insert(
    conn: &mut AnyConnection,
    user: &UserId,
    purpose: Purpose,
    digest: &str,
    sent_to: &EmailAddress,
    now: Timestamp,
    ttl: Duration,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_tokens (id, user_id, purpose, token_hash, sent_to, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(user.as_str())
    .bind(purpose.as_str())
    .bind(digest)
    .bind(sent_to.as_str())
    .bind(now.as_millis())
    .bind(now.plus(ttl).as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Uses a link token: exactly one caller gets `Some`, however many race.
pub(crate) async fn redeem(
    conn: &mut AnyConnection,
    purpose: Purpose,
    token: &PresentedToken,
    now: Timestamp,
) -> Result<Option<Redeemed>> {
    redeem_digest(conn, purpose, &token.hash(), now).await
}

async fn redeem_digest(
    conn: &mut AnyConnection,
    purpose: Purpose,
    digest: &TokenHash,
    now: Timestamp,
) -> Result<Option<Redeemed>> {
    Ok(sqlx::query_as(
        "UPDATE user_tokens SET used_at = $1 \
         WHERE purpose = $2 AND token_hash = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING user_id, sent_to",
    )
    .bind(now.as_millis())
    .bind(purpose.as_str())
    .bind(digest.as_str())
    .fetch_optional(conn)
    .await?)
}

/// Whether a link token is currently valid, without using it (to show a form first).
pub(crate) async fn peek(
    conn: &mut AnyConnection,
    purpose: Purpose,
    token: &PresentedToken,
    now: Timestamp,
) -> Result<Option<Redeemed>> {
    Ok(sqlx::query_as(
        "SELECT user_id, sent_to FROM user_tokens \
         WHERE purpose = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(purpose.as_str())
    .bind(token.hash().as_str())
    .bind(now.as_millis())
    .fetch_optional(conn)
    .await?)
}

/// The result of entering a confirmation code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeCheck {
    /// Right; the code is used up.
    Accepted,
    /// Wrong, or no live code exists.
    Rejected,
}

#[derive(sqlx::FromRow)]
struct LiveCode {
    id: String,
    token_hash: String,
}

/// Checks a code against the user's live code, counting wrong attempts; after `max_attempts`
/// the code dies. The comparison is constant-time.
pub(crate) async fn check_code(
    conn: &mut AnyConnection,
    key: &SigningKey,
    user: &UserId,
    code: &str,
    now: Timestamp,
    max_attempts: u32,
) -> Result<CodeCheck> {
    let row = sqlx::query_as::<_, LiveCode>(
        "SELECT id, token_hash FROM user_tokens \
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user.as_str())
    .bind(Purpose::ConfirmCode.as_str())
    .bind(now.as_millis())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(LiveCode { id, token_hash }) = row else {
        return Ok(CodeCheck::Rejected);
    };
    let expected = code_digest(key, user, code);
    if bool::from(token_hash.as_bytes().ct_eq(expected.as_bytes())) {
        let used =
            sqlx::query("UPDATE user_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(now.as_millis())
                .bind(&id)
                .execute(&mut *conn)
                .await?;
        return Ok(if used.rows_affected() == 1 {
            CodeCheck::Accepted
        } else {
            CodeCheck::Rejected
        });
    }
    sqlx::query(
        "UPDATE user_tokens SET attempts = attempts + 1, \
                used_at = CASE WHEN attempts + 1 >= $1 THEN $2 ELSE used_at END \
         WHERE id = $3",
    )
    .bind(i64::from(max_attempts))
    .bind(now.as_millis())
    .bind(&id)
    .execute(&mut *conn)
    .await?;
    Ok(CodeCheck::Rejected)
}

/// How many tokens of these purposes were issued to `user` since `since` (the per-address
/// mail limit counts these).
pub(crate) async fn issued_since(
    conn: &mut AnyConnection,
    user: &UserId,
    purpose: Purpose,
    since: Timestamp,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_tokens WHERE user_id = $1 AND purpose = $2 AND created_at > $3",
    )
    .bind(user.as_str())
    .bind(purpose.as_str())
    .bind(since.as_millis())
    .fetch_one(conn)
    .await?)
}

/// Kills every live token of `user` with one of `purposes`.
pub(crate) async fn revoke(
    conn: &mut AnyConnection,
    user: &UserId,
    purposes: &[Purpose],
    now: Timestamp,
) -> Result<()> {
    for purpose in purposes {
        sqlx::query("UPDATE user_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now.as_millis())
            .bind(user.as_str())
            .bind(purpose.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Every purpose, for revoking all of a user's tokens.
pub(crate) const ALL: &[Purpose] = &[
    Purpose::ConfirmEmail,
    Purpose::ConfirmCode,
    Purpose::MagicLink,
    Purpose::ResetPassword,
    Purpose::ChangeEmail,
];

fn code_digest(key: &SigningKey, user: &UserId, code: &str) -> String {
    key.tag(&format!("{}:{code}", user.as_str()))
}

/// A uniform six-digit code (rejection sampling, so no digit is favoured).
fn six_digits() -> String {
    let mut rng = rand::rngs::OsRng;
    loop {
        let value: u32 = rng.gen();
        // 4,294,000,000 is the largest multiple of a million below 2^32.
        if value < 4_294_000_000 {
            return format!("{:06}", value % 1_000_000);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..200).map(|_| six_digits()).collect();
        assert!(codes.len() > 190);
        assert!(codes
            .iter()
            .all(|c| c.len() == 6 && c.chars().all(|d| d.is_ascii_digit())));
    }

    #[test]
    fn code_digests_depend_on_the_user_and_the_key() {
        let key = crate::crypto::SecretKey::parse(&crate::crypto::SecretKey::generate_text())
            .expect("key")
            .derive("confirmation-code");
        let other = crate::crypto::SecretKey::parse(&crate::crypto::SecretKey::generate_text())
            .expect("key")
            .derive("confirmation-code");
        let (a, b) = (
            UserId::from_stored("a".into()),
            UserId::from_stored("b".into()),
        );
        assert_ne!(
            code_digest(&key, &a, "123456"),
            code_digest(&key, &b, "123456")
        );
        assert_ne!(
            code_digest(&key, &a, "123456"),
            code_digest(&other, &a, "123456")
        );
        assert_eq!(
            code_digest(&key, &a, "123456"),
            code_digest(&key, &a, "123456")
        );
    }
}
