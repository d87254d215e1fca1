//! Sudo mode: re-entering the password unlocks sensitive actions on this session for
//! `sudo.timeout` (5 minutes). Functions that need it take a [`Sudo`], which only
//! [`Sessions::sudo`] builds, so forgetting the check does not compile. Sudo belongs to one
//! session, is never carried by "remember me" (only a password entered on the session grants
//! it), and a new session starts without it.
//!
//! With the proof, revoking another session compiles:
//!
//! ```no_run
//! # use sigra::{request::RequestContext, sessions::{Authenticated, SessionId}, Sigra};
//! # async fn revoke(sigra: &Sigra, session: &Authenticated, id: &SessionId, request: &RequestContext) -> sigra::error::Result<bool> {
//! let sudo = sigra.sessions().sudo(session)?;
//! sigra.sessions().revoke_session(&sudo, id, request).await
//! # }
//! ```
//!
//! Passing the session instead does not:
//!
//! ```compile_fail
//! # use sigra::{request::RequestContext, sessions::{Authenticated, SessionId}, Sigra};
//! # async fn revoke(sigra: &Sigra, session: &Authenticated, id: &SessionId, request: &RequestContext) -> sigra::error::Result<bool> {
//! sigra.sessions().revoke_session(session, id, request).await
//! # }
//! ```
//!
//! Nor does making the proof by hand:
//!
//! ```compile_fail
//! # use sigra::{request::RequestContext, sessions::{Authenticated, SessionId, Sudo}, Sigra};
//! # async fn revoke(sigra: &Sigra, session: &Authenticated, id: &SessionId, request: &RequestContext) -> sigra::error::Result<bool> {
//! let sudo = Sudo { current: session.clone() };
//! sigra.sessions().revoke_session(&sudo, id, request).await
//! # }
//! ```

use crate::audit::{Action, AuditEvent};
use crate::auth::ReauthPurpose;
use crate::change::Change;
use crate::error::{Error, Result};
use crate::password::Password;
use crate::plumbing::Core;
use crate::request::RequestContext;

use super::{store, AccountOwner, Authenticated, RenewedToken, SessionInfo, Sessions};
use crate::users::User;

/// Proof that the password was re-entered on this session within the sudo window. It carries
/// the session it was granted on, so a service that takes `&Sudo` needs nothing else to know
/// who is acting.
#[derive(Clone, Debug)]
pub struct Sudo {
    current: Authenticated,
}

impl Sudo {
    /// The signed-in user.
    pub fn user(&self) -> &User {
        self.current.user()
    }

    /// The session it was granted on.
    pub fn session(&self) -> &SessionInfo {
        self.current.session()
    }

    /// The session proof it was granted on.
    pub fn authenticated(&self) -> &Authenticated {
        &self.current
    }
}

impl Sessions<'_> {
    /// The sudo proof for this session, if the password was re-entered recently enough.
    ///
    /// # Errors
    /// `SudoRequired` otherwise; `ForbiddenWhileImpersonating` on an impersonation.
    pub fn sudo(&self, current: &Authenticated) -> Result<Sudo> {
        // Never during an impersonation, whatever the session row says: every change that
        // needs sudo is one an impersonating admin may not make.
        if current.impersonator().is_some() {
            return Err(Error::ForbiddenWhileImpersonating);
        }
        let now = self.core.now();
        let fresh = current
            .session()
            .sudo_at
            .is_some_and(|at| now.since(at) < self.core.config().sudo_timeout && now >= at);
        if fresh {
            Ok(Sudo {
                current: current.clone(),
            })
        } else {
            Err(Error::SudoRequired)
        }
    }

    /// Re-enters the password to unlock sensitive actions on this session. The session gets a
    /// new token (re-authentication is a privilege change): the browser must take the returned
    /// one, and the old cookie stops working.
    ///
    /// # Errors
    /// `WrongPassword` (counted toward the account lockout); `RateLimited`; the database
    /// failed.
    #[tracing::instrument(name = "session.sudo", skip_all, fields(user_id = %owner.user().id), err(level = "debug"))]
    pub async fn enter_sudo(
        &self,
        owner: &AccountOwner,
        password: Password,
        request: &RequestContext,
    ) -> Result<RenewedToken> {
        let current = owner.authenticated();
        self.core
            .reauthenticate(current, &password, ReauthPurpose::Sudo, request)
            .await?;
        let mut change = self.core.begin_change(request).await?;
        let renewed = self
            .core
            .grant_sudo(&mut change, current, "password", None)
            .await?;
        change.commit().await?;
        Ok(renewed)
    }
}

/// Opening sudo: the one step every way of re-authenticating (password, passkey, provider)
/// ends in, owned here.
impl Core {
    /// Opens sudo on `current`'s session as part of `change`, with its audit row naming how
    /// the user re-authenticated (and with which provider). The session gets a new token
    /// (returned for the cookie), as on every privilege change.
    pub(crate) async fn grant_sudo(
        &self,
        change: &mut Change<'_>,
        current: &Authenticated,
        method: &'static str,
        provider: Option<&str>,
    ) -> Result<RenewedToken> {
        let now = change.now();
        store::set_sudo(change, &current.session().id, now).await?;
        let renewed = self.renew_token(change, current.session()).await?;
        let mut event = AuditEvent::new(Action::SudoEnter)
            .actor(&current.user().id)
            .session(current.session().id.as_str())
            .meta("method", method);
        if let Some(provider) = provider {
            event = event.meta("provider", provider.to_owned());
        }
        change.audit(event).await?;
        Ok(renewed)
    }
}
