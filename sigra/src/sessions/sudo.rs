//! Sudo mode: re-entering the password unlocks sensitive actions on this session for
//! `sudo.timeout` (5 minutes). Functions that need it take a [`Sudo`], which only
//! [`Sigra::sudo`] builds, so forgetting the check does not compile. Sudo belongs to one
//! session, is never carried by "remember me" (only a password entered on the session grants
//! it), and a new session starts without it.

use crate::audit::{self, Action, AuditEvent};
use crate::error::{Error, Result};
use crate::password::Password;
use crate::request::RequestContext;
use crate::Sigra;

use super::{store, Authenticated, SessionId};

/// Proof that the password was re-entered on this session within the sudo window.
#[derive(Debug)]
pub struct Sudo {
    session: SessionId,
}

impl Sudo {
    /// The session it was granted on.
    pub fn session(&self) -> &SessionId {
        &self.session
    }
}

impl Sigra {
    /// The sudo proof for this session, if the password was re-entered recently enough.
    ///
    /// # Errors
    /// `SudoRequired` otherwise.
    pub fn sudo(&self, current: &Authenticated) -> Result<Sudo> {
        let session = current.session();
        let fresh = session.sudo_at.is_some_and(|at| {
            self.now().since(at) < self.config().sudo_timeout && self.now() >= at
        });
        if fresh {
            Ok(Sudo {
                session: session.id.clone(),
            })
        } else {
            Err(Error::SudoRequired)
        }
    }

    /// Re-enters the password to unlock sensitive actions on this session.
    ///
    /// # Errors
    /// `WrongPassword` (counted toward the account lockout); the database failed.
    #[tracing::instrument(name = "session.sudo", skip_all, fields(user_id = %current.user().id), err(level = "debug"))]
    pub async fn enter_sudo(
        &self,
        current: &Authenticated,
        password: Password,
        request: &RequestContext,
    ) -> Result<()> {
        let user = &current.user().id;
        if let Err(error) = self.verify_current_password(current, &password).await {
            if matches!(error, Error::WrongPassword) {
                self.count_failure(user, &current.user().email, request)
                    .await?;
                let mut conn = self.db().acquire().await?;
                audit::record(
                    &mut conn,
                    self.now(),
                    AuditEvent::new(Action::SudoFailure).actor(user),
                    request,
                )
                .await?;
            }
            return Err(error);
        }
        let now = self.now();
        let mut tx = self.db().begin_write().await?;
        store::set_sudo(&mut tx, &current.session().id, now).await?;
        let event = AuditEvent::new(Action::SudoEnter)
            .actor(user)
            .session(current.session().id.as_str());
        audit::record(&mut tx, now, event, request).await?;
        tx.commit().await
    }
}
