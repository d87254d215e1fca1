//! Impersonation: a platform admin working as another user, to see the site as they do.
//!
//! Starting needs the admin's own sudo and is refused for platform admins, for the admin's own
//! account and for an account being deleted. It makes a real session of the user (kind
//! `impersonation`: 15 minutes idle, 30 in all) that remembers the admin and the admin's
//! session; the admin's own session gets a new token, which the browser keeps aside (the HTTP
//! layer's impersonator cookie) until the impersonation ends. On that session every security
//! change is refused ([`crate::sessions::AccountOwner`]), and every audit row names the admin
//! as actor and the user as effective user.
//!
//! Stopping deletes the impersonation and goes back to the admin's session with a new token,
//! when the browser still holds it and it is still alive; otherwise the admin signs in again.
//! An impersonation that ran out is audited by the session check that finds it, and the next
//! request goes back to the admin's session the same way ([`Admin::resume_own_session`]).

use crate::audit::{Action, AuditEvent};
use crate::crypto::PresentedToken;
use crate::error::{Error, Result};
use crate::request::RequestContext;
use crate::sessions::{
    store, Authenticated, Impersonator, NewSession, RenewedToken, SessionCheck, Sessions, Sudo,
};
use crate::users::UserId;

use super::accounts::by_admin;
use super::{grants, Admin, PlatformAdmin};

/// An impersonation just started.
#[derive(Debug)]
pub struct Impersonation {
    /// The user's new session, for the session cookie.
    pub session: NewSession,
    /// The admin's own session's new token, for the browser to keep aside until the end.
    pub admin_session: RenewedToken,
}

/// How an impersonation ended.
#[derive(Debug)]
pub enum ImpersonationEnd {
    /// The admin's own session goes on, with a new token for the cookie.
    Restored(RenewedToken),
    /// The admin's own session has ended too (or the browser no longer holds it): sign in
    /// again.
    LogInAgain,
}

impl Admin<'_> {
    /// Starts working as `user`. Audited as `admin.impersonation.start` (and the new session's
    /// `session.create`) with the admin as actor and the user as effective user; a refusal as
    /// `admin.impersonation.denied` with its `reason`.
    ///
    /// # Errors
    /// `NotImpersonable` for a platform admin, the admin's own account or one scheduled for
    /// deletion; `SudoRequired` unless `sudo` is the admin's own; `AdminOnly` once the grant
    /// is gone; `NotFound` for an unknown or deleted account; the database failed.
    pub async fn start_impersonation(
        &self,
        admin: &PlatformAdmin,
        sudo: &Sudo,
        user: &UserId,
        request: &RequestContext,
    ) -> Result<Impersonation> {
        let (mut change, target) = self.acting_on(admin, sudo, user, request).await?;
        let refusal = if target.id == admin.user.id {
            Some("own_account")
        } else if grants::store::is_granted(&mut change, &target.id).await? {
            Some("platform_admin")
        } else if target.deletion_scheduled_at.is_some() {
            Some("deletion_scheduled")
        } else {
            None
        };
        if let Some(reason) = refusal {
            let event = by_admin(admin, Action::ImpersonationDenied)
                .target_user(&target.id)
                .meta("reason", reason);
            change.audit(event).await?;
            change.commit().await?;
            return Err(Error::NotImpersonable);
        }
        let impersonator = Impersonator {
            user_id: admin.user.id.clone(),
            session_id: admin.session.clone(),
        };
        let session = self
            .core
            .create_impersonation_session(&mut change, &target.id, &impersonator)
            .await?;
        // Starting is a privilege change for the admin's session too: its cookie is replaced.
        let admin_session = self.core.renew_token(&mut change, sudo.session()).await?;
        let event = by_admin(admin, Action::ImpersonationStart)
            .effective_user(&target.id)
            .target_user(&target.id)
            .meta("impersonation", session.id.as_str().to_owned());
        change.audit(event).await?;
        change.commit().await?;
        Ok(Impersonation {
            session,
            admin_session,
        })
    }

    /// Ends the impersonation `current` rides on, and goes back to the admin's own session if
    /// `admin_token` (the token the browser kept aside) is still that session's. Audited as
    /// `admin.impersonation.stop`.
    ///
    /// # Errors
    /// `NotFound` when `current` is not an impersonation; the database failed.
    pub async fn stop_impersonation(
        &self,
        current: &Authenticated,
        admin_token: Option<&PresentedToken>,
        request: &RequestContext,
    ) -> Result<ImpersonationEnd> {
        let Some(impersonator) = current.impersonator() else {
            return Err(Error::NotFound);
        };
        // A token the session check rolled here is replaced below anyway.
        let own = match admin_token {
            Some(token) => self.resume_own_session(token).await?.map(|(own, _)| own),
            None => None,
        }
        .filter(|own| {
            own.session().id == impersonator.session_id && own.user().id == impersonator.user_id
        });
        let mut change = self.core.begin_change(request).await?;
        store::delete(&mut change, &current.session().id).await?;
        let restored = match &own {
            Some(own) => Some(self.core.renew_token(&mut change, own.session()).await?),
            None => None,
        };
        let event = AuditEvent::new(Action::ImpersonationStop)
            .actor(&impersonator.user_id)
            .effective_user(&current.user().id)
            .target_user(&current.user().id)
            .session(current.session().id.as_str())
            .meta("restored", restored.is_some());
        change.audit(event).await?;
        change.commit().await?;
        Ok(restored.map_or(ImpersonationEnd::LogInAgain, ImpersonationEnd::Restored))
    }

    /// The live session the token the browser kept aside belongs to (never itself an
    /// impersonation), and its rolled token when it was due: how the browser goes back to the
    /// admin's own session after an impersonation ends without a stop (it ran out, or was
    /// revoked). The token is not otherwise replaced here, so requests racing each other all
    /// put back the same one. `None` when that session has ended too.
    ///
    /// # Errors
    /// The database failed.
    pub async fn resume_own_session(
        &self,
        admin_token: &PresentedToken,
    ) -> Result<Option<(Authenticated, Option<RenewedToken>)>> {
        let sessions = Sessions { core: self.core };
        Ok(match sessions.authenticate_session(admin_token).await? {
            SessionCheck::Active(own, rolled) if own.impersonator().is_none() => {
                Some((own, rolled))
            }
            _ => None,
        })
    }
}
