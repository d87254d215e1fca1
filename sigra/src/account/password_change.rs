//! Password change with the current password, and the forced change.

use super::Account;
use crate::audit::{Action, AuditEvent};
use crate::auth::ReauthPurpose;
use crate::change::Change;
use crate::error::{Error, Result};
use crate::http::pages;
use crate::mail::Message;
use crate::password::Password;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::sessions::{self, AccountOwner, RenewedToken, Sudo};
use crate::tokens::{self, Purpose};
use crate::users::{self, EmailAddress, UserId};

impl Account<'_> {
    /// Changes the signed-in user's password: the current one must be given; every other
    /// session ends, this one gets a new token (returned for the browser; the old cookie stops
    /// working), pending reset and log-in links die, and a notice is mailed.
    ///
    /// # Errors
    /// `WrongPassword`; `WeakPassword`; the database or a hook failed.
    #[tracing::instrument(name = "account.password_change", skip_all, fields(user_id = %owner.user().id), err(level = "debug"))]
    pub async fn change_password(
        &self,
        owner: &AccountOwner,
        current_password: Password,
        new_password: Password,
        request: &RequestContext,
    ) -> Result<RenewedToken> {
        let current = owner.authenticated();
        let user = &current.user().id;
        self.core
            .reauthenticate(
                current,
                &current_password,
                ReauthPurpose::PasswordChange,
                request,
            )
            .await?;
        let email = current.user().email.clone();
        let password = self.core.check_new_password(new_password, &email).await?;
        let hash = self.core.hasher().hash(&password).await?;

        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        users::store::set_password(&mut change, user, &hash, now).await?;
        crate::mfa::forget_trusted_browsers_on(&mut change, user).await?;
        users::store::bump_token_epoch(&mut change, user).await?;
        let ended =
            sessions::store::delete_all_for_user(&mut change, user, Some(&current.session().id))
                .await?;
        let renewed = self
            .core
            .renew_token(&mut change, current.session())
            .await?;
        tokens::revoke(
            &mut change,
            user,
            &[Purpose::ResetPassword, Purpose::MagicLink],
            now,
        )
        .await?;
        self.core
            .hooks()
            .on_password_change(&mut change, user)
            .await
            .map_err(Error::Hook)?;
        let event = AuditEvent::new(Action::PasswordChange)
            .actor(user)
            .session(current.session().id.as_str())
            .meta("other_sessions_ended", ended)
            .meta("forced", current.user().must_change_password);
        change.audit(event).await?;
        let notice = Message::PasswordChanged {
            reset_url: self.core.url(pages::RESET_PASSWORD),
        };
        change.mail(&email, notice).await?;
        change.commit().await?;
        Ok(renewed)
    }

    /// Sets a first password on an account that has none (one a sign-in provider created),
    /// under sudo: re-authentication there was by provider or passkey. Other sessions end and
    /// this one gets a new token, as on any password change, and a notice is mailed.
    ///
    /// # Errors
    /// `PasswordAlreadySet` when the account has one (change it instead); `WeakPassword`; the
    /// database or a hook failed.
    pub async fn set_password(
        &self,
        sudo: &Sudo,
        new_password: Password,
        request: &RequestContext,
    ) -> Result<RenewedToken> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let email = current.user().email.clone();
        let password = self.core.check_new_password(new_password, &email).await?;
        let hash = self.core.hasher().hash(&password).await?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        if !users::store::set_first_password(&mut change, user, &hash, now).await? {
            return Err(Error::PasswordAlreadySet);
        }
        let ended =
            sessions::store::delete_all_for_user(&mut change, user, Some(&current.session().id))
                .await?;
        let renewed = self
            .core
            .renew_token(&mut change, current.session())
            .await?;
        self.core
            .hooks()
            .on_password_change(&mut change, user)
            .await
            .map_err(Error::Hook)?;
        let event = AuditEvent::new(Action::PasswordSet)
            .actor(user)
            .session(current.session().id.as_str())
            .meta("other_sessions_ended", ended);
        change.audit(event).await?;
        let notice = Message::PasswordChanged {
            reset_url: self.core.url(pages::RESET_PASSWORD),
        };
        change.mail(&email, notice).await?;
        change.commit().await?;
        Ok(renewed)
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
        let mut change = self.core.begin_change(request).await?;
        let event = AuditEvent::new(Action::PasswordChangeRequired).by_system();
        let found = self
            .core
            .require_new_password(&mut change, &email, event)
            .await?;
        change.commit().await?;
        Ok(found.is_some())
    }
}

/// Requiring a new password: the step the operator's command and an admin's action share.
impl Core {
    /// Makes the owner of `email` choose a new password before using any page, as part of
    /// `change`, and records `event` (an `account.password_change_required` by whoever asked)
    /// with the account as target. The account's user, or `None` when there is none.
    pub(crate) async fn require_new_password(
        &self,
        change: &mut Change<'_>,
        email: &EmailAddress,
        event: AuditEvent,
    ) -> Result<Option<UserId>> {
        let now = change.now();
        let Some(user) = users::store::set_must_change_password(change, email, true, now).await?
        else {
            return Ok(None);
        };
        // A password no longer trusted must not keep any session or token alive: every
        // session ends, and the next log-in lands on the change form.
        let ended = sessions::store::delete_all_for_user(change, &user, None).await?;
        users::store::bump_token_epoch(change, &user).await?;
        let event = event.target_user(&user).meta("sessions_ended", ended);
        change.audit(event).await?;
        Ok(Some(user))
    }
}
