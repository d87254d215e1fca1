//! Password change with the current password, and the forced change.

use crate::audit::{self, Action, AuditEvent};
use crate::error::{Error, Result};
use crate::mail::Message;
use crate::password::Password;
use crate::request::RequestContext;
use crate::sessions::{self, Authenticated};
use crate::tokens::{self, Purpose};
use crate::users::{self, EmailAddress};
use crate::Sigra;

impl Sigra {
    /// Changes the signed-in user's password: the current one must be given; every other
    /// session ends, pending reset and log-in links die, and a notice is mailed.
    ///
    /// # Errors
    /// `WrongPassword`; `WeakPassword`; the database or a hook failed.
    #[tracing::instrument(name = "account.password_change", skip_all, fields(user_id = %current.user().id), err(level = "debug"))]
    pub async fn change_password(
        &self,
        current: &Authenticated,
        current_password: Password,
        new_password: Password,
        request: &RequestContext,
    ) -> Result<()> {
        let user = &current.user().id;
        if let Err(error) = self
            .verify_current_password(current, &current_password)
            .await
        {
            if matches!(error, Error::WrongPassword) {
                let event = AuditEvent::new(Action::PasswordChange)
                    .actor(user)
                    .failed()
                    .meta("reason", "wrong_password");
                let mut conn = self.db().acquire().await?;
                audit::record(&mut conn, self.now(), event, request).await?;
            }
            return Err(error);
        }
        let email = current.user().email.clone();
        let password = self.check_new_password(new_password, &email).await?;
        let hash = self.hasher().hash(&password).await?;

        let now = self.now();
        let mut tx = self.db().begin_write().await?;
        users::store::set_password(&mut tx, user, &hash, now).await?;
        self.forget_trusted_browsers_on(&mut tx, user).await?;
        let ended =
            sessions::store::delete_all_for_user(&mut tx, user, Some(&current.session().id))
                .await?;
        tokens::revoke(
            &mut tx,
            user,
            &[Purpose::ResetPassword, Purpose::MagicLink],
            now,
        )
        .await?;
        self.hooks()
            .on_password_change(&mut tx, user)
            .await
            .map_err(Error::Hook)?;
        let event = AuditEvent::new(Action::PasswordChange)
            .actor(user)
            .session(current.session().id.as_str())
            .meta("other_sessions_ended", ended)
            .meta("forced", current.user().must_change_password);
        audit::record(&mut tx, now, event, request).await?;
        let notice = Message::PasswordChanged {
            reset_url: self.url("/users/reset-password"),
        };
        self.queue_email(&mut tx, &email, notice).await?;
        tx.commit().await
    }

    /// Requires the owner of `email` to change their password before using any page (an
    /// operator action, from the command line or a future admin page). Returns whether such
    /// an account exists.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    pub async fn require_password_change(
        &self,
        email: &str,
        request: &RequestContext,
    ) -> Result<bool> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let now = self.now();
        let mut tx = self.db().begin_write().await?;
        let Some(user) = users::store::set_must_change_password(&mut tx, &email, true, now).await?
        else {
            return Ok(false);
        };
        let event = AuditEvent::new(Action::PasswordChangeRequired).target_user(&user);
        audit::record(&mut tx, now, event, request).await?;
        tx.commit().await?;
        Ok(true)
    }
}
