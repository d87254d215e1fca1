//! One account as a platform admin sees it (status, second factors and passkeys as metadata,
//! linked providers, organizations, sessions, recent audit events), and what the admin may do
//! to it: end every session, lift the locks, turn off the second factors of an owner who lost
//! them. Each action needs the admin's own sudo, checks the grant again inside its change, and
//! is audited with the admin as actor and the account as target.

use crate::audit::{Action, AuditEvent};
use crate::change::Change;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::request::RequestContext;
use crate::sessions::Sudo;
use crate::users::{self, User, UserId};

use super::{grants, Admin, PlatformAdmin};

/// How many audit events the detail shows.
const RECENT_EVENTS: i64 = 20;

/// A passkey, without its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyInfo {
    /// The name its owner gave it.
    pub name: String,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it last signed in.
    pub last_used_at: Option<Timestamp>,
}

/// A session, as the sessions page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// Its public id (to end it).
    pub id: String,
    /// Its kind (`standard`, `remember_me`, `mfa_pending`, `impersonation`).
    pub kind: String,
    /// The browser's user agent.
    pub user_agent: Option<String>,
    /// The address it last came from.
    pub ip: Option<String>,
    /// "City, Country" when GeoIP knows.
    pub place: Option<String>,
    /// When it was last used.
    pub last_seen_at: Timestamp,
}

/// An audit event about the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventInfo {
    /// The action's name.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// When.
    pub occurred_at: Timestamp,
}

/// The detail page's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserDetail {
    /// The id.
    pub id: String,
    /// The address.
    pub email: String,
    /// When it registered.
    pub created_at: Timestamp,
    /// When the address was confirmed.
    pub confirmed_at: Option<Timestamp>,
    /// Until when it is locked (password or second factor), if it is now.
    pub locked_until: Option<Timestamp>,
    /// When it is to be deleted, if it is scheduled.
    pub deletion_scheduled_at: Option<Timestamp>,
    /// Whether it has an authenticator app.
    pub authenticator_app: bool,
    /// Backup codes left.
    pub backup_codes_left: i64,
    /// Its passkeys.
    pub passkeys: Vec<PasskeyInfo>,
    /// Linked providers (`google`, …).
    pub providers: Vec<String>,
    /// Its organizations as `(name, slug, role)`.
    pub organizations: Vec<(String, String, String)>,
    /// Its live sessions, most recently used first.
    pub sessions: Vec<SessionInfo>,
    /// The latest audit events where it is actor, effective user or target.
    pub recent_events: Vec<EventInfo>,
    /// Whether it holds a platform admin grant (and so cannot be impersonated).
    pub platform_admin: bool,
    /// The host's badges ([`super::extensions::AdminExtensions::badges`]).
    pub badges: Vec<String>,
    /// The host's sections ([`super::extensions::AdminExtensions::sections`]).
    pub sections: Vec<super::extensions::AdminSection>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    email: String,
    created_at: i64,
    confirmed_at: Option<i64>,
    locked_until: Option<i64>,
    mfa_locked_until: Option<i64>,
    deletion_scheduled_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct PasskeyRow {
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct OrgRow {
    name: String,
    slug: String,
    role: String,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    kind: String,
    user_agent: Option<String>,
    ip: Option<String>,
    geo_city: Option<String>,
    geo_country: Option<String>,
    last_seen_at: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    action: String,
    outcome: String,
    occurred_at: i64,
}

impl Admin<'_> {
    /// The account with `id` (deleted ones too).
    ///
    /// # Errors
    /// `NotFound` when no account has the id; the database failed.
    pub async fn user(&self, _admin: &PlatformAdmin, id: &UserId) -> Result<UserDetail> {
        let now = self.core.now();
        let mut conn = self.core.db().acquire().await?;
        let account: AccountRow = sqlx::query_as(
            "SELECT id, email, created_at, confirmed_at, locked_until, mfa_locked_until, \
             deletion_scheduled_at FROM users WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
        let platform_admin = grants::store::is_granted(&mut conn, id).await?;
        let badges = self
            .extensions
            .badges(&mut conn, id)
            .await
            .map_err(Error::Hook)?;
        let sections = self
            .extensions
            .sections(&mut conn, id)
            .await
            .map_err(Error::Hook)?;
        let authenticator_app: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL",
        )
        .bind(id.as_str())
        .fetch_one(&mut *conn)
        .await?;
        let backup_codes_left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_backup_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(id.as_str())
        .fetch_one(&mut *conn)
        .await?;
        let passkeys: Vec<PasskeyRow> = sqlx::query_as(
            "SELECT name, created_at, last_used_at FROM user_passkeys WHERE user_id = $1 \
             ORDER BY created_at",
        )
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let providers: Vec<String> = sqlx::query_scalar(
            "SELECT provider FROM user_identities WHERE user_id = $1 ORDER BY provider",
        )
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let organizations: Vec<OrgRow> = sqlx::query_as(
            "SELECT o.name, o.slug, m.role FROM organization_memberships m \
             JOIN organizations o ON o.id = m.organization_id \
             WHERE m.user_id = $1 AND o.deleted_at IS NULL ORDER BY o.name",
        )
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let sessions: Vec<SessionRow> = sqlx::query_as(
            "SELECT id, kind, user_agent, ip, geo_city, geo_country, last_seen_at FROM user_sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC",
        )
        .bind(id.as_str())
        .bind(now.as_millis())
        .fetch_all(&mut *conn)
        .await?;
        let events: Vec<EventRow> = sqlx::query_as(
            "SELECT action, outcome, occurred_at FROM audit_events \
             WHERE actor_id = $1 OR effective_user_id = $1 OR target_id = $1 \
             ORDER BY occurred_at DESC, id DESC LIMIT $2",
        )
        .bind(id.as_str())
        .bind(RECENT_EVENTS)
        .fetch_all(&mut *conn)
        .await?;
        let locked_until = [account.locked_until, account.mfa_locked_until]
            .into_iter()
            .flatten()
            .map(Timestamp::from_millis)
            .filter(|until| *until > now)
            .max();
        Ok(UserDetail {
            id: account.id,
            email: account.email,
            created_at: Timestamp::from_millis(account.created_at),
            confirmed_at: account.confirmed_at.map(Timestamp::from_millis),
            locked_until,
            deletion_scheduled_at: account.deletion_scheduled_at.map(Timestamp::from_millis),
            authenticator_app: authenticator_app > 0,
            backup_codes_left,
            passkeys: passkeys
                .into_iter()
                .map(|row| PasskeyInfo {
                    name: row.name,
                    created_at: Timestamp::from_millis(row.created_at),
                    last_used_at: row.last_used_at.map(Timestamp::from_millis),
                })
                .collect(),
            providers,
            organizations: organizations
                .into_iter()
                .map(|row| (row.name, row.slug, row.role))
                .collect(),
            sessions: sessions
                .into_iter()
                .map(|row| SessionInfo {
                    id: row.id,
                    place: match (row.geo_city, row.geo_country) {
                        (Some(city), Some(country)) => Some(format!("{city}, {country}")),
                        (None, Some(country)) => Some(country),
                        (city, None) => city,
                    },
                    kind: row.kind,
                    user_agent: row.user_agent,
                    ip: row.ip,
                    last_seen_at: Timestamp::from_millis(row.last_seen_at),
                })
                .collect(),
            recent_events: events
                .into_iter()
                .map(|row| EventInfo {
                    action: row.action,
                    outcome: row.outcome,
                    occurred_at: Timestamp::from_millis(row.occurred_at),
                })
                .collect(),
            platform_admin,
            badges,
            sections,
        })
    }

    /// Ends every session, access token and refresh family of the account; how many sessions
    /// ended. Audited as `session.revoke_all` by the admin.
    ///
    /// # Errors
    /// As [`Admin::unlock`].
    pub async fn revoke_sessions(
        &self,
        admin: &PlatformAdmin,
        sudo: &Sudo,
        user: &UserId,
        request: &RequestContext,
    ) -> Result<u64> {
        let (mut change, user) = self.acting_on(admin, sudo, user, request).await?;
        let event = by_admin(admin, Action::SessionRevokeAll);
        let ended = self
            .core
            .end_every_session(&mut change, &user.id, event)
            .await?;
        change.commit().await?;
        Ok(ended)
    }

    /// Ends one session of the account (its own id, from the detail's list). Audited as
    /// `session.delete` by the admin, with the account as target.
    ///
    /// # Errors
    /// `NotFound` when the account has no such session; otherwise as [`Admin::unlock`].
    pub async fn revoke_session(
        &self,
        admin: &PlatformAdmin,
        sudo: &Sudo,
        user: &UserId,
        session: &crate::sessions::SessionId,
        request: &RequestContext,
    ) -> Result<()> {
        let (mut change, user) = self.acting_on(admin, sudo, user, request).await?;
        if !crate::sessions::store::delete_owned(&mut change, &user.id, session).await? {
            return Err(Error::NotFound);
        }
        let event = by_admin(admin, Action::SessionRevoke)
            .target_user(&user.id)
            .meta("session", session.as_str().to_owned());
        change.audit(event).await?;
        change.commit().await
    }

    /// Lifts the account's password and second-factor locks. Audited as `account.unlock` by
    /// the admin.
    ///
    /// # Errors
    /// `SudoRequired` unless `sudo` is the admin's own; `AdminOnly` once the grant is gone;
    /// `NotFound` for an unknown or deleted account; the database failed.
    pub async fn unlock(
        &self,
        admin: &PlatformAdmin,
        sudo: &Sudo,
        user: &UserId,
        request: &RequestContext,
    ) -> Result<()> {
        let (mut change, user) = self.acting_on(admin, sudo, user, request).await?;
        let event = by_admin(admin, Action::AccountUnlock);
        self.core
            .unlock_account(&mut change, &user.id, event)
            .await?;
        change.commit().await
    }

    /// Turns off every second factor of an owner who lost them (they are mailed). Audited as
    /// `mfa.disable` by the admin.
    ///
    /// # Errors
    /// As [`Admin::unlock`].
    pub async fn turn_off_second_factors(
        &self,
        admin: &PlatformAdmin,
        sudo: &Sudo,
        user: &UserId,
        request: &RequestContext,
    ) -> Result<()> {
        let (mut change, user) = self.acting_on(admin, sudo, user, request).await?;
        let event = by_admin(admin, Action::MfaDisable).meta("authorised_by", "admin");
        self.core
            .turn_off_second_factors(&mut change, &user.id, &user.email, event)
            .await?;
        change.commit().await
    }

    /// Makes the account choose a new password before using any page: every session and token
    /// ends. Audited as `account.password_change_required` by the admin.
    ///
    /// # Errors
    /// As [`Admin::unlock`].
    pub async fn require_password_change(
        &self,
        admin: &PlatformAdmin,
        sudo: &Sudo,
        user: &UserId,
        request: &RequestContext,
    ) -> Result<()> {
        let (mut change, user) = self.acting_on(admin, sudo, user, request).await?;
        let event = by_admin(admin, Action::PasswordChangeRequired);
        self.core
            .require_new_password(&mut change, &user.email, event)
            .await?;
        change.commit().await
    }

    /// Marks the account's address confirmed (an owner who cannot receive the mail, checked
    /// another way). Audited as `auth.confirmation_verify.success` by the admin, `method:
    /// admin`; an address already confirmed is left as it is.
    ///
    /// # Errors
    /// As [`Admin::unlock`].
    pub async fn confirm_email(
        &self,
        admin: &PlatformAdmin,
        sudo: &Sudo,
        user: &UserId,
        request: &RequestContext,
    ) -> Result<()> {
        let (mut change, user) = self.acting_on(admin, sudo, user, request).await?;
        if user.confirmed_at.is_some() {
            return Ok(());
        }
        let event = by_admin(admin, Action::ConfirmationSuccess)
            .target_user(&user.id)
            .meta("method", "admin");
        self.core
            .mark_confirmed(&mut change, &user.id, event)
            .await?;
        change.commit().await
    }
}

impl<'a> Admin<'a> {
    /// The change for an admin action on `user`, after the checks every action makes.
    pub(super) async fn acting_on(
        &self,
        admin: &PlatformAdmin,
        sudo: &Sudo,
        user: &UserId,
        request: &'a RequestContext,
    ) -> Result<(Change<'a>, User)> {
        if sudo.user().id != admin.user.id || sudo.session().id != admin.session {
            return Err(Error::SudoRequired);
        }
        let mut change = self.core.begin_change(request).await?;
        if !grants::store::is_granted(&mut change, &admin.user.id).await? {
            return Err(Error::AdminOnly);
        }
        let account = users::store::account(&mut change, user)
            .await?
            .ok_or(Error::NotFound)?;
        Ok((change, account.user))
    }
}

/// An audit row with the admin as actor.
pub(super) fn by_admin(admin: &PlatformAdmin, action: Action) -> AuditEvent {
    AuditEvent::new(action)
        .actor(&admin.user.id)
        .session(admin.session.as_str())
        .meta("via", "admin")
}
