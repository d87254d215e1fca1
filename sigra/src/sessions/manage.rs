//! The user's own view of their sessions: the list with devices and places, revoking one or
//! all the others (both need sudo), and the feed of recent security events.

use crate::audit::{self, Action, AuditEvent};
use crate::clock::Timestamp;
use crate::db::Known;
use crate::error::Result;
use crate::geo::Location;
use crate::http::scopes::{SessionsRead, SessionsWrite};
use crate::http::Granted;
use crate::request::RequestContext;

use super::{device, store, Authenticated, SessionId, SessionKind, Sessions, Sudo};

/// One of the user's sessions, as the sessions page shows it.
#[derive(Clone, Debug)]
pub struct SessionSummary {
    /// Its public id (for revoking).
    pub id: SessionId,
    /// "Chrome 120 on macOS".
    pub device: String,
    /// The address it was created from.
    pub ip: Option<String>,
    /// "Lyon, FR", when GeoIP is configured.
    pub location: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// Its last recorded activity.
    pub last_active_at: Timestamp,
    /// Whether it survives browser restarts.
    pub remembered: bool,
    /// Whether a platform admin is working as the user in it (an impersonation).
    pub by_administrator: bool,
    /// Whether it is the session of this request.
    pub current: bool,
}

/// A security-relevant event on the account, for the user's own feed.
#[derive(Clone, Debug)]
pub struct SecurityEvent {
    /// The action (`None` for one this version does not know, written by a newer one).
    pub action: Option<Action>,
    /// Success or failure.
    pub succeeded: bool,
    /// When.
    pub at: Timestamp,
    /// From where.
    pub ip: Option<String>,
    /// With what.
    pub device: String,
}

impl Sessions<'_> {
    /// The signed-in user's sessions, most recently active first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list_sessions(&self, current: &Authenticated) -> Result<Vec<SessionSummary>> {
        self.sessions_of(&current.user().id, Some(&current.session().id))
            .await
    }

    /// The sessions of a caller allowed `sessions:read` (a session, or a token with the scope).
    ///
    /// # Errors
    /// The database failed.
    pub async fn list_sessions_granted(
        &self,
        granted: &Granted<SessionsRead>,
    ) -> Result<Vec<SessionSummary>> {
        let current = granted.caller().session().map(|s| &s.session().id);
        self.sessions_of(&granted.user().id, current).await
    }

    /// A token allowed `sessions:write` ends one of its user's browser sessions. A browser
    /// session calling this is refused with `SudoRequired`: it must use
    /// [`Sessions::revoke_session`], which takes the sudo proof. Returns whether such a
    /// session of theirs existed.
    ///
    /// # Errors
    /// `SudoRequired` for a session caller; the database failed.
    pub async fn revoke_session_granted(
        &self,
        granted: &Granted<SessionsWrite>,
        id: &SessionId,
        request: &RequestContext,
    ) -> Result<bool> {
        if granted.caller().session().is_some() {
            return Err(crate::error::Error::SudoRequired);
        }
        let user = &granted.user().id;
        let mut change = self.core.begin_change(request).await?;
        let revoked = store::delete_owned(&mut change, user, id).await?;
        if revoked {
            let event = AuditEvent::new(Action::SessionRevoke)
                .actor(user)
                .meta("revoked_session", id.as_str().to_owned())
                .meta("by", granted.caller().kind());
            change.audit(event).await?;
        }
        change.commit().await?;
        Ok(revoked)
    }

    async fn sessions_of(
        &self,
        user: &crate::users::UserId,
        current: Option<&SessionId>,
    ) -> Result<Vec<SessionSummary>> {
        let mut conn = self.core.db().acquire().await?;
        let rows = store::list_for_user(&mut conn, user).await?;
        Ok(rows
            .into_iter()
            .map(|row| SessionSummary {
                current: current.is_some_and(|c| row.id == c.as_str()),
                id: SessionId(row.id),
                device: device::describe(row.user_agent.as_deref()),
                ip: row.ip,
                location: Location {
                    city: row.geo_city,
                    country_code: row.geo_country,
                }
                .label(),
                created_at: row.created_at,
                last_active_at: row.last_seen_at,
                remembered: row.kind == Known(Some(SessionKind::RememberMe)),
                by_administrator: row.kind == Known(Some(SessionKind::Impersonation)),
            })
            .collect())
    }

    /// Ends one of the user's sessions; it is refused on its very next request. Returns
    /// whether such a session of theirs existed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revoke_session(
        &self,
        sudo: &Sudo,
        id: &SessionId,
        request: &RequestContext,
    ) -> Result<bool> {
        let user = &sudo.user().id;
        let mut change = self.core.begin_change(request).await?;
        let revoked = store::delete_owned(&mut change, user, id).await?;
        if revoked {
            let event = AuditEvent::new(Action::SessionRevoke)
                .actor(user)
                .session(sudo.session().id.as_str())
                .meta("revoked_session", id.as_str().to_owned());
            change.audit(event).await?;
        }
        change.commit().await?;
        Ok(revoked)
    }

    /// Ends every session of the user but this one, and forgets every trusted browser.
    /// Returns how many sessions ended.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revoke_other_sessions(
        &self,
        sudo: &Sudo,
        request: &RequestContext,
    ) -> Result<u64> {
        let user = &sudo.user().id;
        let mut change = self.core.begin_change(request).await?;
        let ended = store::delete_all_for_user(&mut change, user, Some(&sudo.session().id)).await?;
        // Signing out everywhere else also takes back every "trust this browser".
        crate::mfa::forget_trusted_browsers_on(&mut change, user).await?;
        // ... and every API client's JWTs and refresh families.
        crate::users::store::bump_token_epoch(&mut change, user).await?;
        let event = AuditEvent::new(Action::SessionRevokeOthers)
            .actor(user)
            .meta("ended", ended);
        change.audit(event).await?;
        change.commit().await?;
        Ok(ended)
    }

    /// The user's recent security events (their own actions and attempts on their account).
    ///
    /// # Errors
    /// The database failed.
    pub async fn security_events(
        &self,
        current: &Authenticated,
        limit: u32,
    ) -> Result<Vec<SecurityEvent>> {
        let mut conn = self.core.db().acquire().await?;
        let rows = audit::recent_for_user(&mut conn, &current.user().id, limit).await?;
        Ok(rows
            .into_iter()
            .map(|row| SecurityEvent {
                action: row.action.0,
                succeeded: row.outcome == "success",
                at: Timestamp::from_millis(row.occurred_at),
                ip: row.ip_address,
                device: device::describe(row.user_agent.as_deref()),
            })
            .collect())
    }
}
