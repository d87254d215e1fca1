//! Magic-link log-in: a single-use link valid for 10 minutes, at most `mail.per_email_limit`
//! per window. Using it confirms the address (it proves the mailbox).

use crate::audit::{self, Action, AuditEvent};
use crate::crypto::PresentedToken;
use crate::error::{Error, Result};
use crate::mail::Message;
use crate::request::RequestContext;
use crate::sessions::{Authenticated, NewSession, SessionKind};
use crate::tokens::{self, Purpose};
use crate::users::{self, EmailAddress};
use crate::Sigra;

impl Sigra {
    /// Mails a log-in link if `email` has an account and the limit allows; the answer is the
    /// same either way.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    #[tracing::instrument(name = "auth.magic_link_request", skip_all, err(level = "debug"))]
    pub async fn request_magic_link(&self, email: &str, request: &RequestContext) -> Result<()> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let now = self.now();
        let mut tx = self.db().begin_write().await?;
        let account = users::store::find_credentials(&mut tx, &email).await?;
        let mut event = AuditEvent::new(Action::MagicLinkRequest);
        if let Some(account) = &account {
            event = event.target_user(&account.id);
            if self
                .over_mail_limit(&mut tx, &account.id, Purpose::MagicLink)
                .await?
            {
                event = event.meta("sent", false).meta("reason", "rate_limited");
            } else {
                let ttl = self.config().tokens.magic_link_ttl;
                let token =
                    tokens::issue(&mut tx, &account.id, Purpose::MagicLink, &email, now, ttl)
                        .await?;
                let url = self.url(&format!("/users/log-in/{}", token.expose()));
                self.queue_email(
                    &mut tx,
                    &email,
                    Message::MagicLink {
                        url,
                        valid_for_minutes: crate::mail::minutes(ttl),
                    },
                )
                .await?;
                event = event.meta("sent", true);
            }
        }
        audit::record(&mut tx, now, event, request).await?;
        tx.commit().await
    }

    /// Logs in with a magic link: uses the token, confirms the address, and starts a session
    /// under a new token.
    ///
    /// # Errors
    /// `InvalidToken` for an unknown, used, expired or foreign token; the database failed.
    #[tracing::instrument(name = "auth.magic_link_verify", skip_all, err(level = "debug"))]
    pub async fn log_in_with_link(
        &self,
        token: &PresentedToken,
        replacing: Option<&Authenticated>,
        request: &RequestContext,
    ) -> Result<NewSession> {
        let now = self.now();
        let mut tx = self.db().begin_write().await?;
        let redeemed = tokens::redeem(&mut tx, Purpose::MagicLink, token, now)
            .await?
            .ok_or(Error::InvalidToken)?;
        let current = users::store::email_of(&mut tx, &redeemed.user_id).await?;
        if current.as_ref().map(EmailAddress::as_str) != Some(redeemed.sent_to.as_str()) {
            return Err(Error::InvalidToken);
        }
        let user = redeemed.user_id;
        users::store::confirm(&mut tx, &user, now).await?;
        audit::record(
            &mut tx,
            now,
            AuditEvent::new(Action::MagicLinkSuccess).actor(&user),
            request,
        )
        .await?;
        let session = self
            .replace_session(&mut tx, &user, replacing, SessionKind::Standard, request)
            .await?;
        tx.commit().await?;
        Ok(session)
    }
}
