//! Email confirmation, by link or by six-digit code (48 hours). Resends are limited per
//! address, wrong codes per code; every answer is the same whether or not the address has an
//! account. Whether an unconfirmed account may use the app is `confirmation.mode`.

use sqlx::AnyConnection;

use crate::audit::{Action, AuditEvent};
use crate::change::Change;
use crate::clock::Timestamp;
use crate::crypto::{PresentedToken, SigningKey};
use crate::error::{Error, Result};
use crate::http::MailedLink;
use crate::mail::Message;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::tokens::{self, CodeCheck, Purpose};
use crate::users::{self, EmailAddress, UserId};

/// Email confirmation by link or code: `sigra.confirmation()`.
#[derive(Clone, Copy)]
pub struct Confirmation<'a> {
    pub(crate) core: &'a Core,
    pub(crate) codes: &'a ConfirmationCodes,
}

/// The key of the six-digit confirmation codes' digests.
pub(crate) struct ConfirmationCodes(SigningKey);

/// Who asked for a confirmation mail: the account just created (its own registration), or a
/// guest who typed an address (the resend form), who is not known to be its owner.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AskedBy {
    NewAccount,
    Guest,
}

impl ConfirmationCodes {
    pub(crate) fn new(key: SigningKey) -> Self {
        Self(key)
    }

    fn key(&self) -> &SigningKey {
        &self.0
    }
}

impl Confirmation<'_> {
    /// Issues a confirmation link and code for `email` and queues the mail, as part of
    /// `change`.
    pub(crate) async fn send_confirmation(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
        asked_by: AskedBy,
    ) -> Result<()> {
        let now = change.now();
        let ttl = self.core.config().tokens.confirm_ttl;
        let token = tokens::issue(change, user, Purpose::ConfirmEmail, email, now, ttl).await?;
        let code = tokens::issue_code(change, self.codes.key(), user, email, now, ttl).await?;
        let message = Message::ConfirmEmail {
            url: self
                .core
                .mailed_link_url(MailedLink::Confirm, token.expose()),
            code,
            valid_for_minutes: crate::mail::minutes(ttl),
        };
        change.mail(email, message).await?;
        let event = AuditEvent::new(Action::ConfirmationSent);
        let event = match asked_by {
            AskedBy::NewAccount => event.actor(user),
            AskedBy::Guest => event.target_user(user),
        };
        change.audit(event).await
    }

    /// Sends a new confirmation mail if `email` belongs to an unconfirmed account and the
    /// per-address limit allows. The answer never says which.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    #[tracing::instrument(name = "confirmation.resend", skip_all, err(level = "debug"))]
    pub async fn resend_confirmation(&self, email: &str, request: &RequestContext) -> Result<()> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let mut change = self.core.begin_change(request).await?;
        let Some(account) =
            users::store::credentials(&mut change, users::store::Lookup::Email(&email)).await?
        else {
            return Ok(());
        };
        if account.confirmed_at.is_some()
            || self
                .core
                .over_mail_limit(&mut change, &account.id, Purpose::ConfirmEmail)
                .await?
        {
            return Ok(());
        }
        self.send_confirmation(&mut change, &account.id, &email, AskedBy::Guest)
            .await?;
        change.commit().await
    }

    /// Confirms the address a link was sent to.
    ///
    /// # Errors
    /// `InvalidToken` for an unknown, used, expired or foreign token; the database failed.
    #[tracing::instrument(name = "confirmation.verify", skip_all, err(level = "debug"))]
    pub async fn confirm_with_link(
        &self,
        token: &PresentedToken,
        request: &RequestContext,
    ) -> Result<()> {
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let redeemed = tokens::redeem(&mut change, Purpose::ConfirmEmail, token, now)
            .await?
            .ok_or(Error::InvalidToken)?;
        // A link sent to an address the account no longer has confirms nothing.
        let current = users::store::email_of(&mut change, &redeemed.user_id).await?;
        if current.as_ref().map(EmailAddress::as_str) != Some(redeemed.sent_to.as_str()) {
            return Err(Error::InvalidToken);
        }
        self.core
            .mark_confirmed(
                &mut change,
                &redeemed.user_id,
                confirmed_by(&redeemed.user_id, "link"),
            )
            .await?;
        change.commit().await
    }

    /// Confirms `email` with the six-digit code from the mail.
    ///
    /// # Errors
    /// `InvalidCode` for a wrong, used-up or expired code, or an address without a live code
    /// (indistinguishable); the database failed.
    #[tracing::instrument(name = "confirmation.verify", skip_all, err(level = "debug"))]
    pub async fn confirm_with_code(
        &self,
        email: &str,
        code: &str,
        request: &RequestContext,
    ) -> Result<()> {
        let email = EmailAddress::parse(email).map_err(|_| Error::InvalidCode)?;
        let code: String = code.chars().filter(char::is_ascii_digit).collect();
        if code.len() != 6 {
            return Err(Error::InvalidCode);
        }
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let Some(account) =
            users::store::credentials(&mut change, users::store::Lookup::Email(&email)).await?
        else {
            return Err(Error::InvalidCode);
        };
        let max = self.core.config().tokens.code_attempts;
        match tokens::check_code(&mut change, self.codes.key(), &account.id, &code, now, max)
            .await?
        {
            CodeCheck::Accepted => {
                self.core
                    .mark_confirmed(&mut change, &account.id, confirmed_by(&account.id, "code"))
                    .await?;
                change.commit().await
            }
            CodeCheck::Rejected => {
                // The attempt counter must survive the refusal.
                change.commit().await?;
                Err(Error::InvalidCode)
            }
        }
    }
}

/// The owner confirmed their address with a mailed link or code.
fn confirmed_by(user: &UserId, method: &'static str) -> AuditEvent {
    AuditEvent::new(Action::ConfirmationSuccess)
        .actor(user)
        .meta("method", method)
}

/// Confirming an address: the step the owner's link or code and an admin's action share.
impl Core {
    /// Marks `user`'s address confirmed as part of `change`, kills the confirmation links and
    /// codes still out, and records `event` (an `auth.confirmation_verify.success` by whoever
    /// confirmed it).
    pub(crate) async fn mark_confirmed(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        event: AuditEvent,
    ) -> Result<()> {
        let now = change.now();
        users::store::confirm(change, user, now).await?;
        tokens::revoke(
            change,
            user,
            &[Purpose::ConfirmEmail, Purpose::ConfirmCode],
            now,
        )
        .await?;
        change.audit(event).await
    }
}

/// The per-address mail limit, shared by every mailed link.
impl Core {
    /// Whether `user` already had `mail.per_email_limit` mails of this purpose in the window.
    pub(crate) async fn over_mail_limit(
        &self,
        conn: &mut AnyConnection,
        user: &UserId,
        purpose: Purpose,
    ) -> Result<bool> {
        let mail = &self.config().mail;
        let since = Timestamp::from_millis(
            self.now()
                .as_millis()
                .saturating_sub(crate::clock::millis_of(mail.per_email_window)),
        );
        Ok(tokens::issued_since(conn, user, purpose, since).await?
            >= i64::from(mail.per_email_limit))
    }
}
