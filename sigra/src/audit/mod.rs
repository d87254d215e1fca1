//! The audit trail. [`record`] is the one function that writes `audit_events` rows, and it takes
//! the caller's connection so a security change and its row commit together or not at all.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::request::RequestContext;
use crate::users::UserId;

/// The actions written so far. Names follow Sigra's (`area.action[.outcome]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// An account was created.
    RegisterSuccess,
    /// A registration was refused (the email is taken).
    RegisterFailure,
    /// A password log-in succeeded.
    LoginSuccess,
    /// A password log-in failed.
    LoginFailure,
    /// A user logged out.
    Logout,
    /// A session was created.
    SessionCreate,
    /// A confirmation mail was (re)sent.
    ConfirmationSent,
    /// An address was confirmed.
    ConfirmationSuccess,
    /// A magic link was asked for.
    MagicLinkRequest,
    /// A magic link logged someone in.
    MagicLinkSuccess,
    /// A password reset was asked for.
    PasswordResetRequest,
    /// A password was reset.
    PasswordResetComplete,
    /// A password was changed in settings.
    PasswordChange,
    /// A change of password was required of a user.
    PasswordChangeRequired,
    /// An email change was asked for.
    EmailChangeRequest,
    /// An email change was confirmed.
    EmailChangeConfirm,
    /// A pending email change was cancelled.
    EmailChangeCancel,
    /// Sessions were revoked as part of another change.
    SessionRevokeOthers,
    /// An account was locked after too many wrong passwords.
    Lockout,
    /// A log-in came from an address none of the user's sessions had used.
    SuspiciousLogin,
    /// A session was revoked by its user.
    SessionRevoke,
    /// A password re-entry unlocked sensitive actions.
    SudoEnter,
    /// A password re-entry for sudo failed.
    SudoFailure,
    /// A right first factor left a log-in waiting for its second factor.
    MfaChallenge,
    /// A second factor was checked (this action is only written for failures; a success is
    /// the log-in or change it authorised).
    MfaVerify,
    /// Too many wrong second factors locked the second-factor step.
    MfaLockout,
    /// A backup code was used to log in.
    BackupCodeUsed,
    /// An authenticator-app set-up was started.
    TotpSetupStart,
    /// A second factor was turned on.
    MfaEnable,
    /// A second factor was turned off.
    MfaDisable,
    /// New backup codes replaced the old ones.
    BackupCodesRegenerate,
    /// Every trusted browser was forgotten.
    TrustedBrowsersForget,
    /// A passkey was registered.
    PasskeyRegister,
    /// A passkey was renamed.
    PasskeyRename,
    /// A passkey was deleted.
    PasskeyDelete,
    /// A passkey's signature counter did not move forward (a possible clone).
    PasskeySignCountRegression,
}

impl Action {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegisterSuccess => "auth.register.success",
            Self::RegisterFailure => "auth.register.failure",
            Self::LoginSuccess => "auth.login.success",
            Self::LoginFailure => "auth.login.failure",
            Self::Logout => "auth.logout",
            Self::SessionCreate => "session.create",
            Self::ConfirmationSent => "auth.confirmation_sent",
            Self::ConfirmationSuccess => "auth.confirmation_verify.success",
            Self::MagicLinkRequest => "auth.magic_link_request",
            Self::MagicLinkSuccess => "auth.magic_link_verify.success",
            Self::PasswordResetRequest => "auth.password_reset_request",
            Self::PasswordResetComplete => "auth.password_reset_complete",
            Self::PasswordChange => "account.password_change",
            Self::PasswordChangeRequired => "account.password_change_required",
            Self::EmailChangeRequest => "account.email_change.request",
            Self::EmailChangeConfirm => "account.email_change.confirm",
            Self::EmailChangeCancel => "account.email_change.cancel",
            Self::SessionRevokeOthers => "session.revoke_others",
            Self::Lockout => "security.lockout",
            Self::SuspiciousLogin => "security.suspicious_login",
            Self::SessionRevoke => "session.delete",
            Self::SudoEnter => "session.sudo_enter",
            Self::SudoFailure => "session.sudo_failure",
            Self::MfaChallenge => "auth.mfa.challenge",
            Self::MfaVerify => "auth.mfa.verify",
            Self::MfaLockout => "security.mfa_lockout",
            Self::BackupCodeUsed => "mfa.backup_code.used",
            Self::TotpSetupStart => "mfa.totp.setup_start",
            Self::MfaEnable => "mfa.enable",
            Self::MfaDisable => "mfa.disable",
            Self::BackupCodesRegenerate => "mfa.backup_codes.regenerate",
            Self::TrustedBrowsersForget => "mfa.trusted_browsers.forget",
            Self::PasskeyRegister => "passkey.register",
            Self::PasskeyRename => "passkey.rename",
            Self::PasskeyDelete => "passkey.delete",
            Self::PasskeySignCountRegression => "security.passkey_sign_count_regression",
        }
    }

    fn outcome(self) -> &'static str {
        match self {
            Self::RegisterFailure
            | Self::LoginFailure
            | Self::SudoFailure
            | Self::SuspiciousLogin
            | Self::PasskeySignCountRegression => "failure",
            _ => "success",
        }
    }
}

/// Metadata keys that would smell of a secret. A row carrying one is refused outright.
const FORBIDDEN_KEY_PARTS: &[&str] = &["password", "token", "secret", "hash", "code", "key", "otp"];
/// Largest metadata object stored, in bytes of JSON.
const MAX_METADATA_BYTES: usize = 8 * 1024;

/// One audit row being built.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    action: Action,
    outcome: &'static str,
    actor: Option<UserId>,
    target: Option<(&'static str, String)>,
    session_id: Option<String>,
    metadata: Map<String, Value>,
}

impl AuditEvent {
    /// An event with no actor yet (an anonymous caller).
    pub fn new(action: Action) -> Self {
        Self {
            action,
            outcome: action.outcome(),
            actor: None,
            target: None,
            session_id: None,
            metadata: Map::new(),
        }
    }

    /// Marks the attempt as failed (the action is the same, the outcome differs).
    #[must_use]
    pub fn failed(mut self) -> Self {
        self.outcome = "failure";
        self
    }

    /// The user who acted.
    #[must_use]
    pub fn actor(mut self, user: &UserId) -> Self {
        self.actor = Some(user.clone());
        self
    }

    /// The user acted upon, when it is not (or not known to be) the actor.
    #[must_use]
    pub fn target_user(mut self, user: &UserId) -> Self {
        self.target = Some(("user", user.as_str().to_owned()));
        self
    }

    /// The session involved.
    #[must_use]
    pub fn session(mut self, session_id: &str) -> Self {
        self.session_id = Some(session_id.to_owned());
        self
    }

    /// A metadata field. Keys are fixed strings in our code, never user input.
    #[must_use]
    pub fn meta(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }

    fn checked_metadata(&self) -> Result<String> {
        if let Some(key) = self.metadata.keys().find(|k| {
            FORBIDDEN_KEY_PARTS
                .iter()
                .any(|part| k.to_lowercase().contains(part))
        }) {
            return Err(Error::Internal(
                format!("audit metadata key `{key}` is not allowed").into(),
            ));
        }
        let json = Value::Object(self.metadata.clone()).to_string();
        if json.len() > MAX_METADATA_BYTES {
            return Err(Error::Internal("audit metadata exceeds 8 KiB".into()));
        }
        Ok(json)
    }
}

/// Writes one audit row on `conn` (a transaction, when the change it records is one).
///
/// # Errors
/// The metadata breaks the rules above, or the database failed.
pub async fn record(
    conn: &mut AnyConnection,
    at: Timestamp,
    event: AuditEvent,
    request: &RequestContext,
) -> Result<()> {
    let metadata = event.checked_metadata()?;
    let actor_type = if event.actor.is_some() {
        "user"
    } else {
        "anonymous"
    };
    let (target_type, target_id) = event
        .target
        .clone()
        .map_or((None, None), |(t, id)| (Some(t), Some(id)));
    sqlx::query(
        "INSERT INTO audit_events (id, occurred_at, action, outcome, actor_type, actor_id, \
         effective_user_id, target_type, target_id, session_id, ip_address, user_agent, request_id, metadata) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(at.as_millis())
    .bind(event.action.as_str())
    .bind(event.outcome)
    .bind(actor_type)
    .bind(event.actor.as_ref().map(|a| a.as_str().to_owned()))
    .bind(target_type)
    .bind(target_id)
    .bind(event.session_id.clone())
    .bind(request.ip_text())
    .bind(request.user_agent.clone())
    .bind(request.request_id.clone())
    .bind(metadata)
    .execute(conn)
    .await?;
    tracing::info!(
        action = event.action.as_str(),
        outcome = event.outcome,
        actor_id = event.actor.as_ref().map(UserId::as_str),
        "audit"
    );
    Ok(())
}

/// An audit row as the user's security feed reads it.
pub struct FeedRow {
    /// The action name.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Unix milliseconds.
    pub occurred_at: i64,
    /// The client address.
    pub ip_address: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
}

/// The latest rows about `user`, as actor or target, newest first.
///
/// # Errors
/// The database failed.
pub async fn recent_for_user(
    conn: &mut AnyConnection,
    user: &UserId,
    limit: u32,
) -> Result<Vec<FeedRow>> {
    use sqlx::Row as _;
    let rows = sqlx::query(
        "SELECT action, outcome, occurred_at, ip_address, user_agent FROM audit_events \
         WHERE actor_id = $1 OR target_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2",
    )
    .bind(user.as_str())
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FeedRow {
            action: r.get(0),
            outcome: r.get(1),
            occurred_at: r.get(2),
            ip_address: r.get(3),
            user_agent: r.get(4),
        })
        .collect())
}

/// How many rows of `action` targeted `user` since `since` (for per-address limits).
///
/// # Errors
/// The database failed.
pub async fn count_since(
    conn: &mut AnyConnection,
    action: Action,
    user: &UserId,
    since: Timestamp,
) -> Result<i64> {
    use sqlx::Row as _;
    let row = sqlx::query("SELECT COUNT(*) FROM audit_events WHERE action = $1 AND target_id = $2 AND occurred_at > $3")
        .bind(action.as_str())
        .bind(user.as_str())
        .bind(since.as_millis())
        .fetch_one(conn)
        .await?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_metadata_is_refused() {
        for key in [
            "password",
            "session_token",
            "backup_code",
            "api_key",
            "password_hash",
        ] {
            let event = AuditEvent::new(Action::LoginSuccess).meta(key, "x");
            assert!(event.checked_metadata().is_err(), "{key}");
        }
        let fine = AuditEvent::new(Action::LoginFailure).meta("reason", "invalid_password");
        assert_eq!(
            fine.checked_metadata().expect("allowed"),
            r#"{"reason":"invalid_password"}"#
        );
    }

    #[test]
    fn oversized_metadata_is_refused() {
        let event = AuditEvent::new(Action::LoginSuccess).meta("reason", "x".repeat(9000));
        assert!(event.checked_metadata().is_err());
    }
}
