//! Password reset: a single-use link valid for one hour. Choosing the new password ends every
//! session and token of the account and sends a notice; it does not log anyone in, so a
//! second factor (when there is one) is still asked for at the next log-in.

use crate::audit::{Action, AuditEvent};
use crate::crypto::PresentedToken;
use crate::error::{Error, Result};
use crate::mail::Message;
use crate::password::Password;
use crate::request::RequestContext;
use crate::sessions;
use crate::tokens::{self, Purpose};

use super::mailed_link::LinkKind;
use super::Auth;
use crate::http::pages;
use crate::http::MailedLink;
use crate::users::{self, EmailAddress};

impl Auth<'_> {
    /// Mails a reset link if `email` has an account and the limit allows; the answer is the
    /// same either way.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    #[tracing::instrument(name = "auth.password_reset_request", skip_all, err(level = "debug"))]
    pub async fn request_password_reset(
        &self,
        email: &str,
        request: &RequestContext,
    ) -> Result<()> {
        let kind = LinkKind {
            purpose: Purpose::ResetPassword,
            audit: Action::PasswordResetRequest,
            ttl: self.core.config().tokens.reset_ttl,
            link: MailedLink::ResetPassword,
            message: |url, valid_for_minutes, signs_in_with| Message::ResetPassword {
                url,
                valid_for_minutes,
                signs_in_with,
            },
        };
        self.mail_link(email, kind, request).await
    }

    /// Whether a reset link is still usable, so the page can say so before asking for a
    /// new password.
    ///
    /// # Errors
    /// `InvalidToken`; the database failed.
    pub async fn check_reset_token(&self, token: &PresentedToken) -> Result<()> {
        let mut conn = self.core.db().acquire().await?;
        tokens::peek(&mut conn, Purpose::ResetPassword, token, self.core.now())
            .await?
            .map(|_| ())
            .ok_or(Error::InvalidToken)
    }

    /// Sets a new password with a reset link. One use wins, however many race.
    ///
    /// # Errors
    /// `InvalidToken`; `WeakPassword` (the link stays usable); the database or a hook failed.
    #[tracing::instrument(name = "auth.password_reset", skip_all, err(level = "debug"))]
    pub async fn reset_password(
        &self,
        token: &PresentedToken,
        password: Password,
        request: &RequestContext,
    ) -> Result<()> {
        let target = {
            let mut conn = self.core.db().acquire().await?;
            tokens::peek(&mut conn, Purpose::ResetPassword, token, self.core.now())
                .await?
                .ok_or(Error::InvalidToken)?
        };
        let email = EmailAddress::parse(&target.sent_to).map_err(|_| Error::InvalidToken)?;
        let password = self.core.check_new_password(password, &email).await?;
        let hash = self.core.hasher().hash(&password).await?;

        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let redeemed = tokens::redeem(&mut change, Purpose::ResetPassword, token, now)
            .await?
            .ok_or(Error::InvalidToken)?;
        let user = redeemed.user_id;
        if users::store::email_of(&mut change, &user).await?.as_ref() != Some(&email) {
            return Err(Error::InvalidToken);
        }
        users::store::set_password(&mut change, &user, &hash, now).await?;
        // The link proved the mailbox, and the owner must not stay locked out of the
        // password they just chose.
        users::store::confirm(&mut change, &user, now).await?;
        users::store::clear_failed_logins(&mut change, &user).await?;
        let ended = sessions::store::delete_all_for_user(&mut change, &user, None).await?;
        crate::mfa::forget_trusted_browsers_on(&mut change, &user).await?;
        users::store::bump_token_epoch(&mut change, &user).await?;
        tokens::revoke(&mut change, &user, tokens::ALL, now).await?;
        self.core
            .hooks()
            .on_password_change(&mut change, &user)
            .await
            .map_err(Error::Hook)?;
        let event = AuditEvent::new(Action::PasswordResetComplete)
            .actor(&user)
            .meta("sessions_ended", ended);
        change.audit(event).await?;
        let notice = Message::PasswordChanged {
            reset_url: self.core.url(pages::RESET_PASSWORD),
        };
        change.mail(&email, notice).await?;
        change.commit().await
    }
}
