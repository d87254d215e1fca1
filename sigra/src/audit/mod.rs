//! The audit trail. [`record`] is the one function that writes `audit_events` rows, and it takes
//! the caller's connection so a security change and its row commit together or not at all.
//! [`chain`] seals the rows into a tamper-evident chain after they commit.

pub mod chain;

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::db::Known;
use crate::error::{Error, Result};
use crate::organizations::OrganizationId;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::users::UserId;

crate::db::stored_enum! {
    /// Every action the core writes: the audit event catalogue. Names follow Sigra's
    /// (`area.action[.outcome]`); the README lists each with when it is written, by whom and
    /// with which metadata keys. Stored as text; [`Action::from_str`] reads it back.
    pub enum Action {
        /// An account was created. Actor: the new user. Metadata: `method`.
        RegisterSuccess = "auth.register.success",
        /// A registration was refused (the email is taken). Target: the owner. `reason`.
        RegisterFailure = "auth.register.failure",
        /// A log-in finished and a full session started. Actor: the user. `method`, and
        /// `second_factor`, `remember_me`, `algorithm_upgraded`, `credential` where they apply.
        LoginSuccess = "auth.login.success",
        /// A log-in was refused. Target: the account when known. `reason`, `method`.
        LoginFailure = "auth.login.failure",
        /// A wrong password for a known account, at log-in or re-authentication. Target: the
        /// account. `attempts` (failures in a row), `purpose`.
        InvalidCredentials = "security.invalid_credentials",
        /// A user logged out (or gave up a pending log-in). Actor: the user.
        Logout = "auth.logout",
        /// A session was created. Actor: the user. `kind`.
        SessionCreate = "session.create",
        /// A confirmation mail was (re)sent. Actor or target: the user.
        ConfirmationSent = "auth.confirmation_sent",
        /// An address was confirmed. Actor: the user. `method`.
        ConfirmationSuccess = "auth.confirmation_verify.success",
        /// A magic link was asked for. Target: the account when known. `sent`, `reason`.
        MagicLinkRequest = "auth.magic_link_request",
        /// A magic link was used (the log-in itself is `auth.login.success`). Actor: the user.
        MagicLinkSuccess = "auth.magic_link_verify.success",
        /// A password reset was asked for. Target: the account when known. `sent`, `reason`.
        PasswordResetRequest = "auth.password_reset_request",
        /// A password was reset with a mailed link. Actor: the user. `sessions_ended`.
        PasswordResetComplete = "auth.password_reset_complete",
        /// A password was changed in settings (or refused). Actor: the user.
        PasswordChange = "account.password_change",
        /// An operator required a password change. Actor: system. Target: the user.
        PasswordChangeRequired = "account.password_change_required",
        /// An email change was asked for. Actor: the user. `reason` when refused.
        EmailChangeRequest = "account.email_change.request",
        /// An email change was confirmed. Actor: the user. `other_sessions_ended`.
        EmailChangeConfirm = "account.email_change.confirm",
        /// A pending email change was cancelled. Actor: the user.
        EmailChangeCancel = "account.email_change.cancel",
        /// The account's display name was set or cleared. Actor: the user. `cleared`.
        DisplayNameChange = "account.display_name.change",
        /// Every other session of the user was ended. Actor: the user. `ended`.
        SessionRevokeOthers = "session.revoke_others",
        /// Too many wrong passwords locked the account. Target: the account. `minutes`,
        /// `locks_in_a_row`.
        Lockout = "security.lockout",
        /// A log-in came from an address none of the user's sessions had used. Target: the user.
        /// `device`, `location`.
        SuspiciousLogin = "security.suspicious_login",
        /// One session was ended by its user. Actor: the user.
        SessionRevoke = "session.delete",
        /// Re-authentication unlocked sensitive actions on a session. Actor: the user. `method`.
        SudoEnter = "session.sudo_enter",
        /// A right first factor left a log-in waiting for its second factor. Actor: the user.
        /// `method`.
        MfaChallenge = "auth.mfa_challenge",
        /// A wrong second factor (only failures are written; a success is the log-in or change it
        /// authorised). Actor: the user. `method`.
        MfaVerify = "mfa.verify",
        /// Too many wrong second factors locked the second-factor step. Target: the user.
        /// `minutes`.
        MfaLockout = "mfa.lockout",
        /// A backup code was used to log in. Actor: the user. `remaining`.
        BackupCodeUsed = "mfa.backup_code_used",
        /// An authenticator-app set-up was started. Actor: the user.
        MfaEnrollStart = "mfa.enroll.start",
        /// A second factor was turned on. Actor: the user. `method`.
        MfaEnrollSuccess = "mfa.enroll.success",
        /// A second factor was turned off. Actor: the user. `authorised_by`.
        MfaDisable = "mfa.disable",
        /// New backup codes replaced the old ones. Actor: the user.
        BackupCodesRegenerate = "mfa.backup_codes_regenerate",
        /// Every trusted browser was forgotten. Actor: the user.
        TrustRevokeAll = "mfa.trust.revoke_all",
        /// Authenticator-app secrets were re-sealed under the newest key. Actor: system. `moved`.
        MfaKeysRotate = "mfa.keys_rotate",
        /// A passkey was registered. Actor: the user. `credential`, `name`.
        PasskeyRegister = "passkey.register.success",
        /// A passkey was renamed. Actor: the user. `credential`.
        PasskeyRename = "passkey.rename",
        /// A passkey was deleted. Actor: the user. `credential`.
        PasskeyDelete = "passkey.delete",
        /// A passkey's signature counter did not move forward (a possible clone). Target: the
        /// user. `credential`, `stored`, `presented`, `policy`.
        PasskeySignCountRegression = "passkey.sign_count_regression",
        /// A sign-in with a provider was started. Actor: the user when signed in. `provider`,
        /// `intent` (`log_in`, `link`, `sudo`).
        OAuthAuthorize = "oauth.authorize",
        /// A provider's answer was refused. Target: the account when known. `provider`,
        /// `reason`.
        OAuthCallbackFailure = "oauth.callback.failure",
        /// A provider created an account. Actor: the new user. `provider`, `email_verified`.
        OAuthRegister = "oauth.register",
        /// A provider proved a linked identity (the log-in itself is `auth.login.success`).
        /// Actor: the user. `provider`.
        OAuthLogin = "oauth.login",
        /// A provider identity was linked to an account. Actor: the user. `provider`, and
        /// `reset_unconfirmed` when an unconfirmed account's credentials gave way to it.
        OAuthLink = "oauth.link",
        /// A provider identity was unlinked. Actor: the user. `provider`.
        OAuthUnlink = "oauth.unlink",
        /// A password was set on an account that had none. Actor: the user.
        PasswordSet = "account.password_set",
        /// A personal API token was created. Actor: the user. `token`, `name`, `scopes`,
        /// `expires_at`.
        ApiTokenCreate = "api.token_create",
        /// An API token was revoked. Actor: the user. `token`, `by` (`session` or `itself`).
        ApiTokenRevoke = "api.token_revoke",
        /// Every API token of the user was revoked. Actor: the user. `count`.
        ApiTokenRevokeAll = "api.token_revoke_all",
        /// A presented API token was refused. Target: its owner when known. `reason` (`invalid`,
        /// `revoked`, `expired`).
        ApiTokenVerifyFailure = "api.token_verify.failure",
        /// A refresh token was exchanged for a new pair. Actor: the user. `family`.
        JwtRefresh = "api.jwt_refresh",
        /// A superseded refresh token was presented again: its family was revoked. Target: the
        /// user. `family`.
        JwtRefreshReuse = "api.jwt_refresh_reuse",
        /// An API client gave up its refresh family (log-out). Actor: the user. `family`.
        JwtRevoke = "api.jwt_revoke",
        /// A new JWT signing key was made and the current one set to retire. Actor: system.
        /// `kid`, `retiring`.
        JwtKeysRotate = "api.jwt_keys_rotate",
        /// An organization was created; its creator is its owner. Actor: the creator (system
        /// for the personal-organization backfill). Target: the organization. `name`, `slug`,
        /// `personal`.
        OrgCreate = "organization.create",
        /// An organization's settings changed. Actor: an owner or admin. Target: the
        /// organization. `name` and `members_need_second_factor`, each when it changed.
        OrgUpdate = "organization.update",
        /// An organization's slug changed; the old one redirects for a while. Actor: an owner.
        /// Target: the organization. `from`, `to`, `redirect_until`.
        OrgSlugChange = "organization.slug_change",
        /// An organization was deleted (soft). Actor: an owner. Target: the organization.
        /// `name`, `slug`, `invitations_revoked`.
        OrgDelete = "organization.delete",
        /// A user joined an organization. Actor: who added them (themselves, accepting an
        /// invitation). Target: the user. `organization`, `role`, `via` (`direct`,
        /// `invitation`, `creation`), `invitation` where there was one.
        OrgMemberAdd = "organization.member_add",
        /// A member was removed. Actor: an owner or admin. Target: the member. `organization`,
        /// `role`, `sessions_cleared` (sessions that were working in the organization).
        OrgMemberRemove = "organization.member_remove",
        /// A member's role changed. Actor: an owner or admin. Target: the member.
        /// `organization`, `from`, `to`.
        OrgMemberRoleChange = "organization.member_role_change",
        /// Someone was invited by mail. Actor: an owner or admin. Target: the organization.
        /// `invitation`, `email`, `role`, `replaced` (a pending invitation it revoked).
        OrgInvite = "organization.invite",
        /// A pending invitation was revoked. Actor: an owner or admin. Target: the
        /// organization. `invitation`.
        OrgInvitationRevoke = "organization.invitation_revoke",
        /// The account asked to be deleted: every session and token ended, and the deletion
        /// waits for its grace period. Actor: the user. `execute_at`.
        AccountDeletionSchedule = "account.deletion.schedule",
        /// A scheduled deletion was cancelled by signing in and keeping the account. Actor: the
        /// user.
        AccountDeletionCancel = "account.deletion.cancel",
        /// A deletion was carried out. Actor: system. Target: the user (the id stays in the
        /// trail). `strategy`.
        AccountDeletionExecute = "account.deletion.execute",
        /// The user downloaded everything the site holds about them. Actor: the user.
        AccountDataExport = "account.data_export",
        /// An operator created an account. Actor: system. Target: the user. `first_sign_in`
        /// (`given`: the operator gave the password; `mailed_link`: the owner chooses it).
        AccountCreate = "account.create",
        /// An operator lifted the password and second-factor locks. Actor: system. Target: the
        /// user.
        AccountUnlock = "account.unlock",
        /// An operator ended every session of the user. Actor: system. Target: the user.
        /// `ended`.
        SessionRevokeAll = "session.revoke_all",
        /// An operator made a confirmed account a platform admin. Actor: system. Target: the
        /// user.
        AdminGrant = "admin.grant",
        /// An operator took a platform admin's grant away. Actor: system. Target: the user.
        AdminRevoke = "admin.revoke",
        /// The periodic cleanup deleted rows older than `audit.retention_days`. Actor: system.
        /// `deleted`, `before` (the cutoff, ms since the epoch).
        AuditPrune = "admin.audit.prune",
        /// A platform admin started a session as another user. Actor: the admin. Effective
        /// user and target: the user. `session` is the admin's own; `impersonation` the new one.
        ImpersonationStart = "admin.impersonation.start",
        /// The admin ended an impersonation. Actor: the admin. Effective user: the user.
        /// `restored` (whether the admin's own session took over again).
        ImpersonationStop = "admin.impersonation.stop",
        /// An impersonation ran out (15 minutes idle, 30 in all). Actor: the admin. Effective
        /// user: the user. `reason` (`idle`, `absolute`).
        ImpersonationTimeout = "admin.impersonation.timeout_expire",
        /// An impersonation was refused, or a security change attempted while impersonating.
        /// Actor: the admin. `reason`, and `attempted` for a refused change.
        ImpersonationDenied = "admin.impersonation.denied",
    }
}

impl Action {
    fn outcome(self) -> &'static str {
        match self {
            Self::RegisterFailure
            | Self::LoginFailure
            | Self::InvalidCredentials
            | Self::MfaVerify
            | Self::SuspiciousLogin
            | Self::PasskeySignCountRegression
            | Self::OAuthCallbackFailure
            | Self::ApiTokenVerifyFailure
            | Self::JwtRefreshReuse
            | Self::ImpersonationDenied => "failure",
            _ => "success",
        }
    }
}

/// Who acted: a signed-in user, the operator's command line, or nobody known (a guest).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Actor {
    Guest,
    User(UserId),
    System,
}

impl Actor {
    fn kind(&self) -> &'static str {
        match self {
            Self::Guest => "anonymous",
            Self::User(_) => "user",
            Self::System => "system",
        }
    }

    fn id(&self) -> Option<&UserId> {
        match self {
            Self::User(id) => Some(id),
            Self::Guest | Self::System => None,
        }
    }
}

/// Metadata keys that would smell of a secret. A row carrying one is refused outright.
const FORBIDDEN_KEY_PARTS: &[&str] = &["password", "token", "secret", "hash", "code", "key", "otp"];
/// Largest metadata object stored, in bytes of JSON.
const MAX_METADATA_BYTES: usize = 8 * 1024;

/// The action of a row: one of the core's catalogue, or a host's own.
#[derive(Clone, Debug, PartialEq, Eq)]
enum EventAction {
    Core(Action),
    Host(HostAction),
}

impl EventAction {
    fn as_str(&self) -> &str {
        match self {
            Self::Core(action) => action.as_str(),
            Self::Host(action) => &action.0,
        }
    }
}

/// The prefixes of the core's actions. A host's actions may use none of them, so a host row
/// can never pass for one the core wrote.
pub const CORE_PREFIXES: [&str; 10] = [
    "auth.",
    "session.",
    "mfa.",
    "oauth.",
    "api.",
    "account.",
    "passkey.",
    "admin.",
    "organization.",
    "security.",
];

/// Longest host action name.
const MAX_HOST_ACTION_CHARS: usize = 64;

/// The name of an action a host records about its own features (`project.create`,
/// `billing.invoice_paid`): two or more dot-separated parts of lowercase letters, digits and
/// underscores, at most 64 characters, outside the core's prefixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostAction(String);

impl HostAction {
    /// Checks a host's action name.
    ///
    /// # Errors
    /// `Internal` (a programming error in the host) for a malformed name or one under a
    /// core prefix.
    pub fn new(name: &str) -> Result<Self> {
        let well_formed = name.len() <= MAX_HOST_ACTION_CHARS
            && name.split('.').count() >= 2
            && name.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            });
        if !well_formed {
            return Err(Error::Internal(
                format!("`{name}` is not an audit action name (area.action, lowercase)").into(),
            ));
        }
        if CORE_PREFIXES.iter().any(|prefix| name.starts_with(prefix)) {
            return Err(Error::Internal(
                format!("`{name}` uses a prefix the core's audit actions keep").into(),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One audit row being built.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    action: EventAction,
    outcome: &'static str,
    actor: Actor,
    effective_user: Option<UserId>,
    target: Option<(&'static str, String)>,
    session_id: Option<String>,
    metadata: Map<String, Value>,
}

impl AuditEvent {
    /// An event with no actor yet (a guest, unless [`AuditEvent::actor`] or
    /// [`AuditEvent::by_system`] says who).
    pub fn new(action: Action) -> Self {
        Self {
            action: EventAction::Core(action),
            outcome: action.outcome(),
            actor: Actor::Guest,
            effective_user: None,
            target: None,
            session_id: None,
            metadata: Map::new(),
        }
    }

    /// A row about a host's own action (written with [`crate::Sigra::record_host_event`]),
    /// a success unless [`AuditEvent::failed`] says otherwise.
    pub fn host(action: HostAction) -> Self {
        Self {
            action: EventAction::Host(action),
            outcome: "success",
            actor: Actor::Guest,
            effective_user: None,
            target: None,
            session_id: None,
            metadata: Map::new(),
        }
    }

    fn is_host(&self) -> bool {
        matches!(self.action, EventAction::Host(_))
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
        self.actor = Actor::User(user.clone());
        self
    }

    /// The user whose account the actor was working in, when that is not the actor: the
    /// impersonated user. Rows written on an impersonation's own requests get it from the
    /// request ([`RequestContext::impersonator`]); this is for the rows about one written
    /// elsewhere (its start, its timeout).
    #[must_use]
    pub fn effective_user(mut self, user: &UserId) -> Self {
        self.effective_user = Some(user.clone());
        self
    }

    /// The operator acted, from the command line.
    #[must_use]
    pub fn by_system(mut self) -> Self {
        self.actor = Actor::System;
        self
    }

    /// The user acted upon, when it is not (or not known to be) the actor.
    #[must_use]
    pub fn target_user(mut self, user: &UserId) -> Self {
        self.target = Some(("user", user.as_str().to_owned()));
        self
    }

    /// The organization acted upon.
    #[must_use]
    pub fn target_organization(mut self, organization: &OrganizationId) -> Self {
        self.target = Some(("organization", organization.as_str().to_owned()));
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

/// Writes one audit row on `conn`: the one function that writes `audit_events`. Services
/// reach it through [`crate::change::Change::audit`] (rows that belong to a change) or
/// [`Sigra::audit_alone`] (a refusal that changes nothing else).
///
/// # Errors
/// The metadata breaks the rules above, or the database failed.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    at: Timestamp,
    event: AuditEvent,
    request: &RequestContext,
) -> Result<()> {
    let metadata = event.checked_metadata()?;
    // On an impersonation's requests the person acting is the admin, working in the user's
    // account: every row says so, whichever service wrote it.
    let (actor_type, actor_id, effective_user) = match (&request.impersonator, &event.actor) {
        (Some(admin), Actor::User(user)) if admin != user => {
            ("admin", Some(admin.clone()), Some(user.clone()))
        }
        _ => (
            event.actor.kind(),
            event.actor.id().cloned(),
            event.effective_user.clone(),
        ),
    };
    let effective_user = effective_user
        .or_else(|| actor_id.clone())
        .map(|u| u.as_str().to_owned());
    let actor_id = actor_id.map(|a| a.as_str().to_owned());
    let (target_type, target_id) = event
        .target
        .clone()
        .map_or((None, None), |(t, id)| (Some(t), Some(id)));
    // The organization the event belongs to, for the explorer's organization filter: the
    // target when it is one, else the one a membership event names.
    let organization_id = match (&target_type, &target_id) {
        (Some("organization"), Some(id)) => Some(id.clone()),
        _ => event
            .metadata
            .get("organization")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    sqlx::query(
        "INSERT INTO audit_events (id, occurred_at, action, outcome, actor_type, actor_id, \
         effective_user_id, target_type, target_id, session_id, ip_address, user_agent, request_id, \
         metadata, organization_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(at.as_millis())
    .bind(event.action.as_str())
    .bind(event.outcome)
    .bind(actor_type)
    .bind(actor_id.clone())
    .bind(effective_user)
    .bind(target_type)
    .bind(target_id)
    .bind(event.session_id.clone())
    .bind(request.ip_text())
    .bind(request.user_agent.clone())
    .bind(request.request_id.clone())
    .bind(metadata)
    .bind(organization_id)
    .execute(conn)
    .await?;
    tracing::info!(
        action = event.action.as_str(),
        outcome = event.outcome,
        actor_type,
        actor_id,
        "audit"
    );
    Ok(())
}

/// Records a host's own row (built with [`AuditEvent::host`]) on `conn`, the host's own
/// transaction, so its change and its row commit together. Rows written during an
/// impersonation name the admin as actor, as the core's do.
///
/// # Errors
/// `Internal` for a row with one of the core's actions (only the core writes those), or
/// metadata that breaks the rules; the database failed.
pub async fn record_host_event(
    sigra: &crate::Sigra,
    conn: &mut AnyConnection,
    event: AuditEvent,
    request: &RequestContext,
) -> Result<()> {
    if !event.is_host() {
        return Err(Error::Internal(
            "only the core writes its own audit actions".into(),
        ));
    }
    record(conn, sigra.now(), event, request).await
}

impl Core {
    /// Records an event that belongs to no change (a refused attempt), on its own connection.
    pub(crate) async fn audit_alone(
        &self,
        event: AuditEvent,
        request: &RequestContext,
    ) -> Result<()> {
        let mut conn = self.db().acquire().await?;
        record(&mut conn, self.now(), event, request).await
    }
}

/// An audit row as the user's security feed reads it.
#[derive(Debug, sqlx::FromRow)]
pub struct FeedRow {
    /// The action; `None` for a name this version does not know (rows from a newer one).
    pub action: Known<Action>,
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
    Ok(sqlx::query_as::<_, FeedRow>(
        "SELECT action, outcome, occurred_at, ip_address, user_agent FROM audit_events \
         WHERE actor_id = $1 OR target_id = $1 OR effective_user_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2",
    )
    .bind(user.as_str())
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
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
    let row = sqlx::query_as::<_, Count>(
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = $1 AND target_id = $2 AND occurred_at > $3",
    )
    .bind(action.as_str())
    .bind(user.as_str())
    .bind(since.as_millis())
    .fetch_one(conn)
    .await?;
    Ok(row.n)
}

/// Rows deleted per statement by the retention cleanup, so one run never holds a long lock.
const PRUNE_BATCH: i64 = 10_000;

/// Deletes the audit rows that happened before `before`, in batches, and records how many went
/// with a row of its own (which, being new, stays). Only sealed rows go, as a prefix of the
/// chain whose anchor moves past them, so what is left still verifies. How many were deleted.
///
/// # Errors
/// The database failed (the batches deleted until then stay deleted).
pub(crate) async fn prune(core: &Core, before: Timestamp) -> Result<u64> {
    chain::AuditChain { core }.seal().await?;
    let mut deleted = 0;
    loop {
        let mut tx = core.db().begin_write().await?;
        sqlx::query("UPDATE audit_chain SET anchor_seq = anchor_seq WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let batch = chain::prune_prefix(&mut tx, before.as_millis(), PRUNE_BATCH).await?;
        tx.commit().await?;
        deleted += batch;
        if batch < u64::try_from(PRUNE_BATCH).unwrap_or(u64::MAX) {
            break;
        }
    }
    if deleted > 0 {
        let event = AuditEvent::new(Action::AuditPrune)
            .by_system()
            .meta("deleted", deleted)
            .meta("before", before.as_millis());
        let request = RequestContext::command("cleanup");
        let mut change = core.begin_change(&request).await?;
        change.audit(event).await?;
        change.commit().await?;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_actions_are_well_formed_and_outside_every_core_prefix() {
        for name in [
            "project.create",
            "billing.invoice_paid",
            "a.b.c",
            "v2.thing",
        ] {
            assert!(HostAction::new(name).is_ok(), "{name}");
        }
        for name in [
            "auth.login.success",
            "admin.impersonation.start",
            "organization.create",
            "security.anything",
            "project",
            "Project.create",
            "project..create",
            "project.create ",
            ".create",
            &format!("project.{}", "x".repeat(64)),
        ] {
            assert!(HostAction::new(name).is_err(), "{name}");
        }
        // Every action of the core's catalogue is under a reserved prefix, so no host name
        // can ever equal one.
        for action in Action::ALL {
            assert!(
                CORE_PREFIXES
                    .iter()
                    .any(|prefix| action.as_str().starts_with(prefix)),
                "{}",
                action.as_str()
            );
        }
    }

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
    fn every_action_reads_back_from_its_stored_name() {
        let mut names = std::collections::HashSet::new();
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>().ok(), Some(*action));
            assert!(names.insert(action.as_str()), "{action} is listed twice");
        }
        assert!("auth.unknown".parse::<Action>().is_err());
    }

    #[test]
    fn oversized_metadata_is_refused() {
        let event = AuditEvent::new(Action::LoginSuccess).meta("reason", "x".repeat(9000));
        assert!(event.checked_metadata().is_err());
    }
}
