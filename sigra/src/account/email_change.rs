//! Email change, confirm-then-switch: the new address is reserved while pending, a link goes
//! to it and a notice to the old one; confirming switches the address and ends every other
//! session. The answer to a request is the same whether or not the new address is free.

use super::Account;
use crate::audit::{Action, AuditEvent};
use crate::auth::ReauthPurpose;
use crate::clock::Timestamp;
use crate::crypto::PresentedToken;
use crate::error::{Error, Result};
use crate::http::MailedLink;
use crate::mail::Message;
use crate::password::Password;
use crate::request::RequestContext;
use crate::sessions::{self, AccountOwner, Authenticated};
use crate::tokens::{self, Purpose};
use crate::users::{self, EmailAddress};

impl Account<'_> {
    /// Asks to change the signed-in user's address to `new_email`, authorised by the current
    /// password.
    ///
    /// # Errors
    /// `WrongPassword`; a malformed address; `SameEmail`; the database failed.
    #[tracing::instrument(name = "account.email_change_request", skip_all, fields(user_id = %owner.user().id), err(level = "debug"))]
    pub async fn request_email_change(
        &self,
        owner: &AccountOwner,
        new_email: &str,
        current_password: Password,
        request: &RequestContext,
    ) -> Result<()> {
        let current = owner.authenticated();
        let new = EmailAddress::parse(new_email).map_err(Error::InvalidEmail)?;
        self.core
            .reauthenticate(
                current,
                &current_password,
                ReauthPurpose::EmailChange,
                request,
            )
            .await?;
        let (user, old) = (&current.user().id, &current.user().email);
        if &new == old {
            return Err(Error::SameEmail);
        }
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        // The same limits as the other mailed links: per account, and per address mailed (so
        // several accounts cannot take turns flooding one inbox).
        let window = self.core.config().mail.per_email_window;
        let since = Timestamp::from_millis(
            now.as_millis()
                .saturating_sub(crate::clock::millis_of(window)),
        );
        let limit = i64::from(self.core.config().mail.per_email_limit);
        if self
            .core
            .over_mail_limit(&mut change, user, Purpose::ChangeEmail)
            .await?
            || tokens::sent_to_since(&mut change, Purpose::ChangeEmail, &new, since).await? >= limit
        {
            drop(change);
            let event = AuditEvent::new(Action::EmailChangeRequest)
                .actor(user)
                .failed()
                .meta("reason", "rate_limited");
            self.core.audit_alone(event, request).await?;
            return Err(Error::RateLimited {
                retry_after_seconds: window.as_secs(),
            });
        }
        tokens::revoke(&mut change, user, &[Purpose::ChangeEmail], now).await?;
        let mut event = AuditEvent::new(Action::EmailChangeRequest).actor(user);
        if users::store::reserve_pending_email(&mut change, user, &new, now).await? {
            let ttl = self.core.config().tokens.email_change_ttl;
            let token =
                tokens::issue(&mut change, user, Purpose::ChangeEmail, &new, now, ttl).await?;
            let url = self
                .core
                .mailed_link_url(MailedLink::ConfirmEmailChange, token.expose());
            let new_text = new.as_str().to_owned();
            change
                .mail(
                    &new,
                    Message::ConfirmEmailChange {
                        url,
                        new_email: new_text.clone(),
                        valid_for_minutes: crate::mail::minutes(ttl),
                    },
                )
                .await?;
            change
                .mail(
                    old,
                    Message::EmailChangeRequested {
                        new_email: new_text,
                    },
                )
                .await?;
        } else {
            users::store::clear_pending_email(&mut change, user, now).await?;
            event = event.failed().meta("reason", "address_in_use");
        }
        change.audit(event).await?;
        change.commit().await
    }

    /// Confirms an email change with the link sent to the new address. When the browser is
    /// signed in as that user its session is kept; every other session ends.
    ///
    /// # Errors
    /// `InvalidToken` (unknown, used, expired, cancelled, or the address was taken meanwhile);
    /// the database or a hook failed.
    #[tracing::instrument(name = "account.email_change_confirm", skip_all, err(level = "debug"))]
    pub async fn confirm_email_change(
        &self,
        token: &PresentedToken,
        current: Option<&Authenticated>,
        request: &RequestContext,
    ) -> Result<()> {
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let redeemed = tokens::redeem(&mut change, Purpose::ChangeEmail, token, now)
            .await?
            .ok_or(Error::InvalidToken)?;
        let user = redeemed.user_id;
        let new = EmailAddress::parse(&redeemed.sent_to).map_err(|_| Error::InvalidToken)?;
        let old = users::store::email_of(&mut change, &user)
            .await?
            .ok_or(Error::InvalidToken)?;
        if !users::store::apply_email_change(&mut change, &user, &new, now).await? {
            return Err(Error::InvalidToken);
        }
        let keep = current
            .filter(|c| c.user().id == user)
            .map(|c| c.session().id.clone());
        let ended = sessions::store::delete_all_for_user(&mut change, &user, keep.as_ref()).await?;
        users::store::bump_token_epoch(&mut change, &user).await?;
        // Links mailed to the old address must not outlive it.
        tokens::revoke(&mut change, &user, tokens::ALL, now).await?;
        self.core
            .hooks()
            .on_email_change(&mut change, &user, &old, &new)
            .await
            .map_err(Error::Hook)?;
        let event = AuditEvent::new(Action::EmailChangeConfirm)
            .actor(&user)
            .meta("other_sessions_ended", ended);
        change.audit(event).await?;
        change
            .mail(
                &old,
                Message::EmailChanged {
                    new_email: new.as_str().to_owned(),
                },
            )
            .await?;
        change.commit().await
    }

    /// Cancels the signed-in user's pending email change.
    ///
    /// # Errors
    /// The database failed.
    pub async fn cancel_email_change(
        &self,
        owner: &AccountOwner,
        request: &RequestContext,
    ) -> Result<()> {
        let current = owner.authenticated();
        let user = &current.user().id;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        users::store::clear_pending_email(&mut change, user, now).await?;
        tokens::revoke(&mut change, user, &[Purpose::ChangeEmail], now).await?;
        change
            .audit(AuditEvent::new(Action::EmailChangeCancel).actor(user))
            .await?;
        change.commit().await
    }
}
