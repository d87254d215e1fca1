//! Asking for a mailed link (magic log-in, password reset): the same answer and audit row
//! whether or not the address has an account, and at most `mail.per_email_limit` mails of one
//! kind per address per window.

use std::time::Duration;

use super::Auth;
use crate::audit::{Action, AuditEvent};
use crate::error::{Error, Result};
use crate::http::MailedLink;
use crate::mail::{minutes, Link, Message};
use crate::request::RequestContext;
use crate::tokens::{self, Purpose};
use crate::users::{self, EmailAddress};

/// One kind of mailed link.
pub(super) struct LinkKind {
    pub purpose: Purpose,
    pub audit: Action,
    pub ttl: Duration,
    /// Where the mailed link lands.
    pub link: MailedLink,
    /// The message carrying the link, its lifetime in minutes, and the providers an account
    /// without a password signs in with.
    pub message: fn(Link, u64, Vec<String>) -> Message,
}

impl Auth<'_> {
    pub(super) async fn mail_link(
        &self,
        email: &str,
        kind: LinkKind,
        request: &RequestContext,
    ) -> Result<()> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let account =
            users::store::credentials(&mut change, users::store::Lookup::Email(&email)).await?;
        let mut event = AuditEvent::new(kind.audit);
        if let Some(account) = &account {
            event = event.target_user(&account.id);
            if self
                .core
                .over_mail_limit(&mut change, &account.id, kind.purpose)
                .await?
            {
                event = event.meta("sent", false).meta("reason", "rate_limited");
            } else {
                let token = tokens::issue(
                    &mut change,
                    &account.id,
                    kind.purpose,
                    &email,
                    now,
                    kind.ttl,
                )
                .await?;
                let url = self.core.mailed_link_url(kind.link, token.expose());
                let signs_in_with = if account.password_hash.is_none() {
                    crate::oauth::provider_names_of(&mut change, self.core.config(), &account.id)
                        .await?
                } else {
                    Vec::new()
                };
                change
                    .mail(
                        &email,
                        (kind.message)(url, minutes(kind.ttl), signs_in_with),
                    )
                    .await?;
                event = event.meta("sent", true);
            }
        }
        change.audit(event).await?;
        change.commit().await
    }
}
