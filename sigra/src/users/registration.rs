//! Registration. A taken email gets exactly the response a new one gets, after the same work
//! (one Argon2 hash), so the form cannot be used to discover accounts; the owner of the taken
//! address is told by mail instead.

use crate::audit::{self, Action, AuditEvent};
use crate::auth::Auth;
use crate::change::Change;
use crate::clock::Timestamp;
use crate::confirmation::{AskedBy, Confirmation};
use crate::error::{Error, Result};
use crate::http::pages;
use crate::mail::Message;
use crate::password::Password;
use crate::request::RequestContext;

use super::{store, EmailAddress, UserId};

/// What the registration form submits.
#[derive(Debug)]
pub struct Registration {
    /// The email as typed.
    pub email: String,
    /// The chosen password.
    pub password: Password,
}

impl Auth<'_> {
    /// Creates an account and mails a confirmation link and code, unless the email is taken;
    /// either way the result is `Ok(())`.
    ///
    /// # Errors
    /// The email is malformed or the password breaks the policy (both say nothing about
    /// existing accounts); the hashing pool is busy; the database or a host hook failed.
    #[tracing::instrument(name = "auth.register", skip_all, err(level = "debug"))]
    pub async fn register(
        &self,
        registration: Registration,
        request: &RequestContext,
    ) -> Result<()> {
        let email = EmailAddress::parse(&registration.email).map_err(Error::InvalidEmail)?;
        let password = self
            .core
            .check_new_password(registration.password, &email)
            .await?;
        let hash = self.core.hasher().hash(&password).await?;

        let id = UserId::generate();
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let created = !store::address_in_use(&mut change, &email, now).await?
            && store::insert_if_new(&mut change, &id, &email, &hash, now).await?;
        if created {
            self.core
                .hooks()
                .on_register(&mut change, &id, &email)
                .await
                .map_err(Error::Hook)?;
            self.core
                .create_personal_organization(&mut change, &id, &email)
                .await?;
            let event = AuditEvent::new(Action::RegisterSuccess)
                .actor(&id)
                .meta("method", "password");
            change.audit(event).await?;
            let confirmation = Confirmation {
                core: self.core,
                codes: self.codes,
            };
            confirmation
                .send_confirmation(&mut change, &id, &email, AskedBy::NewAccount)
                .await?;
        } else {
            let mut event = AuditEvent::new(Action::RegisterFailure).meta("reason", "email_taken");
            let existing = store::find_id_by_email(&mut change, &email).await?;
            if let Some(existing) = &existing {
                event = event.target_user(existing);
            }
            change.audit(event).await?;
            if let Some(existing) = existing {
                self.tell_owner_of_attempt(&mut change, &existing, &email)
                    .await?;
            }
        }
        change.commit().await?;
        Ok(())
    }

    /// Mails the owner of a taken address that someone tried to register with it, at most
    /// `mail.per_email_limit` times per window.
    async fn tell_owner_of_attempt(
        &self,
        change: &mut Change<'_>,
        owner: &UserId,
        email: &EmailAddress,
    ) -> Result<()> {
        let now = change.now();
        let since = Timestamp::from_millis(now.as_millis().saturating_sub(
            crate::clock::millis_of(self.core.config().mail.per_email_window),
        ));
        let recent = audit::count_since(change, Action::RegisterFailure, owner, since).await?;
        if recent > i64::from(self.core.config().mail.per_email_limit) {
            return Ok(());
        }
        let message = Message::RegistrationAttempt {
            log_in_url: self.core.url(pages::LOG_IN),
            reset_url: self.core.url(pages::RESET_PASSWORD),
        };
        change.mail(email, message).await
    }
}
