//! SQL for linked identities, authorizations in flight and identities waiting in a browser.

use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::crypto::TokenHash;
use crate::error::Result;
use crate::users::UserId;

crate::db::stored_enum! {
    /// What an authorization is for.
    pub enum Intent {
        /// Log in (or register) with the provider.
        LogIn = "log_in",
        /// Link the provider to the signed-in account (started under sudo).
        Link = "link",
        /// Re-authenticate the signed-in user for sudo.
        Sudo = "sudo",
    }
}

crate::db::stored_enum! {
    /// What a waiting identity waits for.
    pub enum PendingKind {
        /// The provider gave no address: the user types one, confirmed by mail.
        AddressNeeded = "address_needed",
        /// An account has the provider's verified address: its owner proves it, then links.
        ProveAccount = "prove_account",
    }
}

#[cfg(feature = "oauth")]
/// A new authorization in flight.
pub(super) struct NewTransaction<'a> {
    pub state_hash: &'a TokenHash,
    pub binding_hash: &'a TokenHash,
    pub provider: &'a str,
    pub intent: Intent,
    pub user_id: Option<&'a UserId>,
    pub session_id: Option<&'a str>,
    pub secrets_sealed: &'a str,
    pub return_to: &'a str,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

#[cfg(feature = "oauth")]
pub(super) async fn insert_transaction(
    conn: &mut AnyConnection,
    row: NewTransaction<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_transactions (state_hash, binding_hash, provider, intent, user_id, session_id, \
                                         secrets_sealed, return_to, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(row.state_hash.as_str())
    .bind(row.binding_hash.as_str())
    .bind(row.provider)
    .bind(row.intent.as_str())
    .bind(row.user_id.map(|u| u.as_str().to_owned()))
    .bind(row.session_id.map(str::to_owned))
    .bind(row.secrets_sealed)
    .bind(row.return_to)
    .bind(row.now.as_millis())
    .bind(row.expires_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(feature = "oauth")]
/// An authorization taken by its callback.
#[derive(sqlx::FromRow)]
pub(super) struct Transaction {
    pub binding_hash: String,
    pub intent: Intent,
    pub user_id: Option<UserId>,
    pub session_id: Option<String>,
    pub secrets_sealed: String,
    pub return_to: String,
    pub posted_sealed: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[cfg(feature = "oauth")]
/// Takes the authorization with this state for `provider`: once taken it is gone, so a
/// replayed callback finds nothing.
pub(super) async fn take_transaction(
    conn: &mut AnyConnection,
    state_hash: &TokenHash,
    provider: &str,
) -> Result<Option<Transaction>> {
    Ok(sqlx::query_as(
        "DELETE FROM oauth_transactions WHERE state_hash = $1 AND provider = $2 \
         RETURNING binding_hash, intent, user_id, session_id, secrets_sealed, return_to, posted_sealed, created_at, expires_at",
    )
    .bind(state_hash.as_str())
    .bind(provider)
    .fetch_optional(conn)
    .await?)
}

#[cfg(feature = "oauth")]
/// Leaves a posted answer (`form_post`) with its live authorization, once. Returns whether
/// one was waiting for it.
pub(super) async fn keep_posted_answer(
    conn: &mut AnyConnection,
    state_hash: &TokenHash,
    provider: &str,
    sealed: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE oauth_transactions SET posted_sealed = $1 \
         WHERE state_hash = $2 AND provider = $3 AND posted_sealed IS NULL AND expires_at > $4",
    )
    .bind(sealed)
    .bind(state_hash.as_str())
    .bind(provider)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A linked identity.
#[derive(Clone, Debug, sqlx::FromRow)]
// The token columns are read by the protocol half (`flow.rs`, feature `oauth`) only.
#[cfg_attr(not(feature = "oauth"), allow(dead_code))]
pub(super) struct IdentityRow {
    pub id: String,
    pub user_id: UserId,
    pub provider: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub access_token_sealed: Option<String>,
    pub refresh_token_sealed: Option<String>,
    pub key_id: Option<String>,
    pub token_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

const IDENTITY_COLUMNS: &str =
    "id, user_id, provider, email, name, access_token_sealed, refresh_token_sealed, key_id, \
     token_expires_at, created_at, last_used_at";

#[cfg(feature = "oauth")]
pub(super) async fn find_identity(
    conn: &mut AnyConnection,
    provider: &str,
    subject: &str,
) -> Result<Option<IdentityRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM user_identities WHERE provider = $1 AND subject = $2"
    ))
    .bind(provider)
    .bind(subject)
    .fetch_optional(conn)
    .await?)
}

pub(super) async fn identities_of(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<Vec<IdentityRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM user_identities WHERE user_id = $1 ORDER BY created_at, id"
    ))
    .bind(user.as_str())
    .fetch_all(conn)
    .await?)
}

/// What a provider said about a user, and the tokens it gave, sealed.
pub(super) struct IdentityData<'a> {
    pub provider: &'a str,
    pub subject: &'a str,
    pub issuer: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub name: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
    pub tokens: Option<&'a SealedTokens>,
}

/// Provider tokens sealed under one key.
#[derive(Clone, Debug)]
pub(super) struct SealedTokens {
    pub access: String,
    pub refresh: Option<String>,
    pub key_id: String,
    pub expires_at: Option<Timestamp>,
}

/// Inserts an identity; false when (provider, subject) is already linked.
pub(super) async fn insert_identity(
    conn: &mut AnyConnection,
    user: &UserId,
    data: &IdentityData<'_>,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO user_identities (id, user_id, provider, subject, issuer, email, email_verified, name, avatar_url, \
                                      access_token_sealed, refresh_token_sealed, key_id, token_expires_at, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) \
         ON CONFLICT (provider, subject) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(user.as_str())
    .bind(data.provider)
    .bind(data.subject)
    .bind(data.issuer.map(str::to_owned))
    .bind(data.email.map(str::to_owned))
    .bind(i64::from(data.email_verified))
    .bind(data.name.map(str::to_owned))
    .bind(data.avatar_url.map(str::to_owned))
    .bind(data.tokens.map(|t| t.access.clone()))
    .bind(data.tokens.and_then(|t| t.refresh.clone()))
    .bind(data.tokens.map(|t| t.key_id.clone()))
    .bind(data.tokens.and_then(|t| t.expires_at).map(Timestamp::as_millis))
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(feature = "oauth")]
/// Refreshes what the provider said at a log-in; a value it did not send never overwrites
/// one it sent before.
pub(super) async fn refresh_identity(
    conn: &mut AnyConnection,
    id: &str,
    data: &IdentityData<'_>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE user_identities SET email = COALESCE($1, email), name = COALESCE($2, name), \
                avatar_url = COALESCE($3, avatar_url), email_verified = $4, \
                access_token_sealed = COALESCE($5, access_token_sealed), \
                refresh_token_sealed = COALESCE($6, refresh_token_sealed), \
                key_id = COALESCE($7, key_id), token_expires_at = COALESCE($8, token_expires_at), \
                last_used_at = $9 \
         WHERE id = $10",
    )
    .bind(data.email.map(str::to_owned))
    .bind(data.name.map(str::to_owned))
    .bind(data.avatar_url.map(str::to_owned))
    .bind(i64::from(data.email_verified))
    .bind(data.tokens.map(|t| t.access.clone()))
    .bind(data.tokens.and_then(|t| t.refresh.clone()))
    .bind(data.tokens.map(|t| t.key_id.clone()))
    .bind(
        data.tokens
            .and_then(|t| t.expires_at)
            .map(Timestamp::as_millis),
    )
    .bind(now.as_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(feature = "oauth")]
/// Stores refreshed provider tokens.
pub(super) async fn store_tokens(
    conn: &mut AnyConnection,
    id: &str,
    tokens: &SealedTokens,
) -> Result<()> {
    sqlx::query(
        "UPDATE user_identities SET access_token_sealed = $1, refresh_token_sealed = COALESCE($2, refresh_token_sealed), \
                key_id = $3, token_expires_at = $4 WHERE id = $5",
    )
    .bind(&tokens.access)
    .bind(tokens.refresh.clone())
    .bind(&tokens.key_id)
    .bind(tokens.expires_at.map(Timestamp::as_millis))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Provider tokens sealed under a key other than `newest`.
#[derive(sqlx::FromRow)]
pub(super) struct SealedRow {
    pub id: String,
    pub user_id: UserId,
    pub provider: String,
    pub access_token_sealed: Option<String>,
    pub refresh_token_sealed: Option<String>,
    pub key_id: String,
}

pub(super) async fn sealed_under_older_keys(
    conn: &mut AnyConnection,
    newest: &str,
) -> Result<Vec<SealedRow>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, provider, access_token_sealed, refresh_token_sealed, key_id \
         FROM user_identities WHERE key_id IS NOT NULL AND key_id <> $1",
    )
    .bind(newest)
    .fetch_all(conn)
    .await?)
}

pub(super) async fn reseal(
    conn: &mut AnyConnection,
    id: &str,
    access: Option<&str>,
    refresh: Option<&str>,
    key_id: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE user_identities SET access_token_sealed = $1, refresh_token_sealed = $2, key_id = $3 WHERE id = $4",
    )
    .bind(access.map(str::to_owned))
    .bind(refresh.map(str::to_owned))
    .bind(key_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes one of `user`'s identities; returns its provider if it existed.
pub(super) async fn delete_identity(
    conn: &mut AnyConnection,
    user: &UserId,
    id: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "DELETE FROM user_identities WHERE id = $1 AND user_id = $2 RETURNING provider",
    )
    .bind(id)
    .bind(user.as_str())
    .fetch_optional(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct Ways {
    has_password: i64,
    passkeys: i64,
    identities: i64,
}

/// The ways `user` can sign in: a password, passkeys, linked identities.
pub(super) async fn sign_in_ways(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<(bool, i64, i64)> {
    let ways: Ways = sqlx::query_as(
        "SELECT (CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END) AS has_password, \
                (SELECT COUNT(*) FROM user_passkeys p WHERE p.user_id = u.id) AS passkeys, \
                (SELECT COUNT(*) FROM user_identities i WHERE i.user_id = u.id) AS identities \
         FROM users u WHERE u.id = $1",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?;
    Ok((ways.has_password != 0, ways.passkeys, ways.identities))
}

#[cfg(feature = "oauth")]
/// Keeps an identity waiting in this browser (replacing what waited there before).
#[allow(clippy::too_many_arguments)]
pub(super) async fn put_pending(
    conn: &mut AnyConnection,
    binding_hash: &TokenHash,
    kind: PendingKind,
    provider: &str,
    user: Option<&UserId>,
    session: Option<&str>,
    identity_sealed: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    sqlx::query("DELETE FROM oauth_pending WHERE binding_hash = $1")
        .bind(binding_hash.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO oauth_pending (binding_hash, kind, provider, user_id, session_id, identity_sealed, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(binding_hash.as_str())
    .bind(kind.as_str())
    .bind(provider)
    .bind(user.map(|u| u.as_str().to_owned()))
    .bind(session.map(str::to_owned))
    .bind(identity_sealed)
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The identity waiting in a browser.
#[derive(sqlx::FromRow)]
pub(super) struct Pending {
    pub kind: PendingKind,
    pub provider: String,
    pub user_id: Option<UserId>,
    pub session_id: Option<String>,
    pub identity_sealed: String,
    pub expires_at: Timestamp,
}

const PENDING_COLUMNS: &str = "kind, provider, user_id, session_id, identity_sealed, expires_at";

/// Looks at the identity waiting in a browser without taking it.
pub(super) async fn peek_pending(
    conn: &mut AnyConnection,
    binding_hash: &TokenHash,
    now: Timestamp,
) -> Result<Option<Pending>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PENDING_COLUMNS} FROM oauth_pending WHERE binding_hash = $1 AND expires_at > $2"
    ))
    .bind(binding_hash.as_str())
    .bind(now.as_millis())
    .fetch_optional(conn)
    .await?)
}

/// Takes the identity waiting in a browser: one use, however many race.
pub(super) async fn take_pending(
    conn: &mut AnyConnection,
    binding_hash: &TokenHash,
    kind: PendingKind,
) -> Result<Option<Pending>> {
    Ok(sqlx::query_as(&format!(
        "DELETE FROM oauth_pending WHERE binding_hash = $1 AND kind = $2 RETURNING {PENDING_COLUMNS}"
    ))
    .bind(binding_hash.as_str())
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await?)
}

#[cfg(feature = "oauth")]
/// Ends every credential of an unconfirmed account whose address a provider has just proved:
/// whoever set them never proved the mailbox (account pre-hijacking).
pub(super) async fn reset_unproved_credentials(
    conn: &mut AnyConnection,
    user: &UserId,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = NULL, updated_at = $2, mfa_trust_epoch = mfa_trust_epoch + 1 WHERE id = $1",
    )
    .bind(user.as_str())
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE user_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
        .bind(user.as_str())
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?;
    for table in [
        "user_sessions",
        "user_totp",
        "user_backup_codes",
        "user_passkeys",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
            .bind(user.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Deletes authorizations and waiting identities past their end.
pub(crate) async fn delete_expired(conn: &mut AnyConnection, now: Timestamp) -> Result<u64> {
    let mut deleted = 0;
    for sql in [
        "DELETE FROM oauth_transactions WHERE expires_at <= $1",
        "DELETE FROM oauth_pending WHERE expires_at <= $1",
    ] {
        deleted += sqlx::query(sql)
            .bind(now.as_millis())
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}
