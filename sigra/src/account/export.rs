//! The personal data export: a versioned JSON document of everything the core holds about the
//! signed-in user, plus what the host adds (`LifecycleHooks::export_personal_data`). Secrets
//! never leave: no password hash, no TOTP secret, no backup code, no passkey key material, no
//! provider or API token; what they are is described instead.

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::Account;
use crate::audit::{Action, AuditEvent};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::request::RequestContext;
use crate::sessions::Sudo;
use crate::users::UserId;

/// The document's format; a change to its shape moves it on.
pub const EXPORT_SCHEMA_VERSION: u32 = 1;
/// Audit events included, newest first.
const MAX_AUDIT_EVENTS: i64 = 10_000;

/// Everything the core holds about one user.
#[derive(Debug, Serialize)]
pub struct PersonalData {
    /// The document's format.
    pub schema_version: u32,
    /// When it was made.
    pub exported_at: Timestamp,
    /// The account.
    pub account: AccountData,
    /// Its live sessions.
    pub sessions: Vec<SessionData>,
    /// Linked sign-in providers (without their tokens).
    pub linked_providers: Vec<IdentityData>,
    /// Second factors (metadata only).
    pub second_factors: SecondFactorData,
    /// Passkeys (metadata only).
    pub passkeys: Vec<PasskeyData>,
    /// Personal API tokens (without the tokens).
    pub api_tokens: Vec<ApiTokenData>,
    /// Audit events where the user is the actor, the effective user or the target.
    pub audit_events: Vec<AuditEventData>,
    /// What the host application holds, as its hook gives it.
    pub host: Map<String, Value>,
}

/// The account row, without its password hash.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AccountData {
    /// The id.
    pub id: String,
    /// The address.
    pub email: String,
    /// The name it goes by, if one was chosen.
    pub display_name: Option<String>,
    /// When it was confirmed.
    pub confirmed_at: Option<Timestamp>,
    /// An address asked for and not yet confirmed.
    pub pending_email: Option<String>,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the password last changed.
    pub password_changed_at: Option<Timestamp>,
    /// Whether the account has a password (never the password or its hash).
    #[sqlx(try_from = "i64")]
    pub has_password: Flag,
    /// When a deletion the user asked for will be carried out.
    pub deletion_scheduled_at: Option<Timestamp>,
}

/// A stored 0/1, read as a boolean.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl From<i64> for Flag {
    fn from(value: i64) -> Self {
        Self(value != 0)
    }
}

/// A session.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct SessionData {
    /// Its id.
    pub id: String,
    /// `standard`, `remember_me` or `mfa_pending`.
    pub kind: String,
    /// The address it came from.
    pub ip: Option<String>,
    /// The browser's user agent.
    pub user_agent: Option<String>,
    /// The city, when GeoIP knew it.
    pub geo_city: Option<String>,
    /// The country, when GeoIP knew it.
    pub geo_country: Option<String>,
    /// When it started.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_seen_at: Timestamp,
    /// When it ends at the latest.
    pub expires_at: Timestamp,
}

/// A linked provider identity.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct IdentityData {
    /// The provider's name.
    pub provider: String,
    /// The user's id at the provider.
    pub subject: String,
    /// The address the provider gave.
    pub email: Option<String>,
    /// Whether the provider said the address is verified.
    #[sqlx(try_from = "i64")]
    pub email_verified: Flag,
    /// The name the provider gave.
    pub name: Option<String>,
    /// The picture the provider gave.
    pub avatar_url: Option<String>,
    /// When it was linked.
    pub created_at: Timestamp,
    /// When it was last used to sign in.
    pub last_used_at: Option<Timestamp>,
}

/// Second factors: what exists, never a secret.
#[derive(Debug, Serialize)]
pub struct SecondFactorData {
    /// The authenticator app, when one is set up.
    pub authenticator_app: Option<AuthenticatorData>,
    /// Backup codes: how many are left, not the codes.
    pub backup_codes: BackupCodeData,
}

/// The authenticator app (TOTP).
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AuthenticatorData {
    /// When set-up started.
    pub created_at: Timestamp,
    /// When it was confirmed (turned on).
    pub confirmed_at: Option<Timestamp>,
}

/// Backup codes, counted.
#[derive(Debug, Serialize)]
pub struct BackupCodeData {
    /// Codes not used yet.
    pub remaining: i64,
    /// Always false: the codes are stored only as keyed digests and cannot be exported.
    pub exported: bool,
}

/// A passkey.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct PasskeyData {
    /// Its id.
    pub id: String,
    /// The name it was given.
    pub name: String,
    /// The authenticator model's AAGUID, when it said.
    pub aaguid: Option<String>,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
}

/// A personal API token, without the token.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct ApiTokenData {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its scopes, space-separated.
    pub scopes: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it expires, if it does.
    pub expires_at: Option<Timestamp>,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

/// An audit event.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AuditEventData {
    /// Its id.
    pub id: String,
    /// When.
    pub occurred_at: Timestamp,
    /// What (`auth.login.success`, …).
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// `user`, `system` or `anonymous`.
    pub actor_type: String,
    /// Who acted.
    pub actor_id: Option<String>,
    /// Whose account was used (differs from the actor while impersonating).
    pub effective_user_id: Option<String>,
    /// What it was about.
    pub target_type: Option<String>,
    /// Which one.
    pub target_id: Option<String>,
    /// From which address.
    pub ip_address: Option<String>,
    /// With which browser.
    pub user_agent: Option<String>,
    /// The event's details (stored as JSON text, exported as JSON).
    #[serde(serialize_with = "json_text")]
    pub metadata: String,
}

/// Stored JSON text as JSON (text that does not parse stays text).
fn json_text<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => value.serialize(serializer),
        Err(_) => serializer.serialize_str(text),
    }
}

impl Account<'_> {
    /// Everything the core and the host hold about the signed-in user (sudo required). Writes
    /// `account.data_export`.
    ///
    /// # Errors
    /// The database or the host's hook failed.
    pub async fn export_personal_data(
        &self,
        sudo: &Sudo,
        request: &RequestContext,
    ) -> Result<PersonalData> {
        let user = &sudo.user().id;
        let mut change = self.core.begin_change(request).await?;
        let data = PersonalData {
            schema_version: EXPORT_SCHEMA_VERSION,
            exported_at: change.now(),
            account: account(&mut change, user).await?,
            sessions: rows(
                &mut change,
                "SELECT id, kind, ip, user_agent, geo_city, geo_country, created_at, last_seen_at, \
                 expires_at FROM user_sessions WHERE user_id = $1 ORDER BY created_at, id",
                user,
            )
            .await?,
            linked_providers: rows(
                &mut change,
                "SELECT provider, subject, email, email_verified, name, avatar_url, created_at, \
                 last_used_at FROM user_identities WHERE user_id = $1 ORDER BY created_at, id",
                user,
            )
            .await?,
            second_factors: second_factors(&mut change, user).await?,
            passkeys: rows(
                &mut change,
                "SELECT id, name, aaguid, created_at, last_used_at FROM user_passkeys \
                 WHERE user_id = $1 ORDER BY created_at, id",
                user,
            )
            .await?,
            api_tokens: rows(
                &mut change,
                "SELECT id, name, scopes, created_at, expires_at, last_used_at, revoked_at \
                 FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id",
                user,
            )
            .await?,
            audit_events: audit_events(&mut change, user).await?,
            host: self
                .core
                .hooks()
                .export_personal_data(&mut change, user)
                .await
                .map_err(Error::Hook)?,
        };
        change
            .audit(AuditEvent::new(Action::AccountDataExport).actor(user))
            .await?;
        change.commit().await?;
        Ok(data)
    }
}

async fn account(conn: &mut AnyConnection, user: &UserId) -> Result<AccountData> {
    Ok(sqlx::query_as(
        "SELECT id, email, display_name, confirmed_at, pending_email, created_at, password_changed_at, \
         CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS has_password, deletion_scheduled_at \
         FROM users WHERE id = $1",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?)
}

/// Every row of `sql` for `user`.
async fn rows<T>(conn: &mut AnyConnection, sql: &str, user: &UserId) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    Ok(sqlx::query_as(sql)
        .bind(user.as_str())
        .fetch_all(conn)
        .await?)
}

async fn second_factors(conn: &mut AnyConnection, user: &UserId) -> Result<SecondFactorData> {
    let authenticator_app =
        sqlx::query_as("SELECT created_at, confirmed_at FROM user_totp WHERE user_id = $1")
            .bind(user.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    let remaining = sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_backup_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user.as_str())
    .fetch_one(conn)
    .await?;
    Ok(SecondFactorData {
        authenticator_app,
        backup_codes: BackupCodeData {
            remaining,
            exported: false,
        },
    })
}

async fn audit_events(conn: &mut AnyConnection, user: &UserId) -> Result<Vec<AuditEventData>> {
    Ok(sqlx::query_as(
        "SELECT id, occurred_at, action, outcome, actor_type, actor_id, effective_user_id, \
         target_type, target_id, ip_address, user_agent, metadata FROM audit_events \
         WHERE actor_id = $1 OR effective_user_id = $1 OR (target_type = 'user' AND target_id = $1) \
         ORDER BY occurred_at DESC, id DESC LIMIT $2",
    )
    .bind(user.as_str())
    .bind(MAX_AUDIT_EVENTS)
    .fetch_all(conn)
    .await?)
}
