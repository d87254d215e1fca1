//! Email confirmation, by link or by six-digit code (48 hours). Resends are limited per
//! address, wrong codes per code; every answer is the same whether or not the address has an
//! account. Whether an unconfirmed account may use the app is `confirmation.mode`.

use sqlx::AnyConnection;

use crate::audit::{self, Action, AuditEvent};
use crate::clock::Timestamp;
use crate::crypto::PresentedToken;
use crate::error::{Error, Result};
use crate::mail::Message;
use crate::request::RequestContext;
use crate::tokens::{self, CodeCheck, Purpose};
use crate::users::{self, EmailAddress, UserId};
use crate::Sigra;

impl Sigra {
    /// Issues a confirmation link and code for `email` and queues the mail, on `conn`.
    pub(crate) async fn send_confirmation(
        &self,
        conn: &mut AnyConnection,
        user: &UserId,
        email: &EmailAddress,
        request: &RequestContext,
    ) -> Result<()> {
        let now = self.now();
        let ttl = self.config().tokens.confirm_ttl;
        let token = tokens::issue(conn, user, Purpose::ConfirmEmail, email, now, ttl).await?;
        let code = tokens::issue_code(conn, self.code_key(), user, email, now, ttl).await?;
        let message = Message::ConfirmEmail {
            url: self.url(&format!("/users/confirm/{}", token.expose())),
            code,
            valid_for_minutes: crate::mail::minutes(ttl),
        };
        self.queue_email(conn, email, message).await?;
        audit::record(
            conn,
            now,
            AuditEvent::new(Action::ConfirmationSent).target_user(user),
            request,
        )
        .await
    }

    /// Sends a new confirmation mail if `email` belongs to an unconfirmed account and the
    /// per-address limit allows. The answer never says which.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    #[tracing::instrument(name = "confirmation.resend", skip_all, err(level = "debug"))]
    pub async fn resend_confirmation(&self, email: &str, request: &RequestContext) -> Result<()> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let mut tx = self.db().begin_write().await?;
        let Some(account) =
            users::store::credentials(&mut tx, users::store::Lookup::Email(&email)).await?
        else {
            return Ok(());
        };
        if account.confirmed
            || self
                .over_mail_limit(&mut tx, &account.id, Purpose::ConfirmEmail)
                .await?
        {
            return Ok(());
        }
        self.send_confirmation(&mut tx, &account.id, &email, request)
            .await?;
        tx.commit().await
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
        let now = self.now();
        let mut tx = self.db().begin_write().await?;
        let redeemed = tokens::redeem(&mut tx, Purpose::ConfirmEmail, token, now)
            .await?
            .ok_or(Error::InvalidToken)?;
        // A link sent to an address the account no longer has confirms nothing.
        let current = users::store::email_of(&mut tx, &redeemed.user_id).await?;
        if current.as_ref().map(EmailAddress::as_str) != Some(redeemed.sent_to.as_str()) {
            return Err(Error::InvalidToken);
        }
        self.mark_confirmed(&mut tx, &redeemed.user_id, now, "link", request)
            .await?;
        tx.commit().await
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
        let now = self.now();
        let mut tx = self.db().begin_write().await?;
        let Some(account) =
            users::store::credentials(&mut tx, users::store::Lookup::Email(&email)).await?
        else {
            return Err(Error::InvalidCode);
        };
        let max = self.config().tokens.code_attempts;
        match tokens::check_code(&mut tx, self.code_key(), &account.id, &code, now, max).await? {
            CodeCheck::Accepted => {
                self.mark_confirmed(&mut tx, &account.id, now, "code", request)
                    .await?;
                tx.commit().await
            }
            CodeCheck::Rejected => {
                // The attempt counter must survive the refusal.
                tx.commit().await?;
                Err(Error::InvalidCode)
            }
        }
    }

    async fn mark_confirmed(
        &self,
        conn: &mut AnyConnection,
        user: &UserId,
        now: Timestamp,
        method: &'static str,
        request: &RequestContext,
    ) -> Result<()> {
        users::store::confirm(conn, user, now).await?;
        tokens::revoke(
            conn,
            user,
            &[Purpose::ConfirmEmail, Purpose::ConfirmCode],
            now,
        )
        .await?;
        let event = AuditEvent::new(Action::ConfirmationSuccess)
            .actor(user)
            .meta("method", method);
        audit::record(conn, now, event, request).await
    }

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
