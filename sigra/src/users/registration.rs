//! Registration. A taken email gets exactly the response a new one gets, after the same work
//! (one Argon2 hash), so the form cannot be used to discover accounts.

use crate::audit::{self, Action, AuditEvent};
use crate::error::{Error, Result};
use crate::password::Password;
use crate::request::RequestContext;
use crate::Sigra;

use super::{store, EmailAddress, UserId};

/// What the registration form submits.
#[derive(Debug)]
pub struct Registration {
    /// The email as typed.
    pub email: String,
    /// The chosen password.
    pub password: Password,
}

impl Sigra {
    /// Creates an account unless the email is taken; either way the result is `Ok(())`.
    ///
    /// # Errors
    /// The email is malformed or the password breaks the policy (both say nothing about
    /// existing accounts); the hashing pool is busy; the database failed.
    #[tracing::instrument(name = "auth.register", skip_all, err(level = "debug"))]
    pub async fn register(
        &self,
        registration: Registration,
        request: &RequestContext,
    ) -> Result<()> {
        let email = EmailAddress::parse(&registration.email).map_err(Error::InvalidEmail)?;
        let password = self
            .password_policy()
            .check(registration.password, &email)
            .map_err(Error::WeakPassword)?;
        let hash = self.hasher().hash(&password).await?;

        let now = self.now();
        let id = UserId::generate();
        let mut tx = self.db().begin_write().await?;
        let event = if store::insert_if_new(&mut tx, &id, &email, &hash, now).await? {
            AuditEvent::new(Action::RegisterSuccess)
                .actor(&id)
                .meta("method", "password")
        } else {
            let mut event = AuditEvent::new(Action::RegisterFailure).meta("reason", "email_taken");
            if let Some(existing) = store::find_id_by_email(&mut tx, &email).await? {
                event = event.target_user(&existing);
            }
            event
        };
        audit::record(&mut tx, now, event, request).await?;
        tx.commit().await?;
        Ok(())
    }
}
