//! Magic-link log-in: a single-use link valid for 10 minutes, at most `mail.per_email_limit`
//! per window. Using it confirms the address (it proves the mailbox).

use crate::audit::{Action, AuditEvent};
use crate::crypto::PresentedToken;
use crate::error::{Error, Result};
use crate::mail::Message;
use crate::request::RequestContext;
use crate::sessions::{Authenticated, NewSession, SessionKind};
use crate::tokens::{self, Purpose};

use super::mailed_link::LinkKind;
use super::Auth;
use super::{FirstFactor, LoginMethod};
use crate::http::MailedLink;
use crate::users::{self, EmailAddress};

impl Auth<'_> {
    /// Mails a log-in link if `email` has an account and the limit allows; the answer is the
    /// same either way.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    #[tracing::instrument(name = "auth.magic_link_request", skip_all, err(level = "debug"))]
    pub async fn request_magic_link(&self, email: &str, request: &RequestContext) -> Result<()> {
        self.magic_links_on()?;
        let kind = LinkKind {
            purpose: Purpose::MagicLink,
            audit: Action::MagicLinkRequest,
            ttl: self.core.config().tokens.magic_link_ttl,
            link: MailedLink::MagicLink,
            message: |url, valid_for_minutes, _| Message::MagicLink {
                url,
                valid_for_minutes,
            },
        };
        self.mail_link(email, kind, request).await
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
        trusted_browser: Option<&str>,
        request: &RequestContext,
    ) -> Result<NewSession> {
        self.magic_links_on()?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let redeemed = tokens::redeem(&mut change, Purpose::MagicLink, token, now)
            .await?
            .ok_or(Error::InvalidToken)?;
        let current = users::store::email_of(&mut change, &redeemed.user_id).await?;
        if current.as_ref().map(EmailAddress::as_str) != Some(redeemed.sent_to.as_str()) {
            return Err(Error::InvalidToken);
        }
        let user = redeemed.user_id;
        let email = current.ok_or(Error::InvalidToken)?;
        users::store::confirm(&mut change, &user, now).await?;
        change
            .audit(AuditEvent::new(Action::MagicLinkSuccess).actor(&user))
            .await?;
        let factor = FirstFactor {
            user: &user,
            email: &email,
            method: LoginMethod::MagicLink,
            kind: SessionKind::Standard,
            replacing,
            trusted_browser,
            detail: AuditEvent::new(Action::LoginSuccess),
        };
        let session = self
            .core
            .complete_log_in(self.trusted, &mut change, factor)
            .await?;
        change.commit().await?;
        Ok(session)
    }

    /// Refuses while magic links are switched off: links mailed before then stop working too.
    fn magic_links_on(&self) -> Result<()> {
        if self
            .core
            .config()
            .capabilities
            .has(crate::config::Capability::MagicLinks)
        {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}
