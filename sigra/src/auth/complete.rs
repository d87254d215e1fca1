//! The one log-in completion path. Every way of proving who you are (a password, a mailed
//! link, a passkey, and later a provider or a token) ends in `complete_log_in`, and a
//! second factor ends in `finish_log_in`: the browser's old session goes (no session
//! fixation), the password lock is cleared, a second factor is asked for where the account has
//! one, and a full session starts under a new token with its audit row, the new-address
//! notice and the log-in metric. A new log-in method only proves its factor and calls these.

use crate::audit::{Action, AuditEvent};
use crate::change::Change;
use crate::config::Capability;
use crate::error::Result;
use crate::http::pages;
use crate::mail::Message;
use crate::mfa::{self, TrustedBrowsers};
use crate::plumbing::Core;
use crate::sessions::{self, Authenticated, NewSession, SessionKind};
use crate::users::{self, EmailAddress, UserId};

crate::db::stored_enum! {
    /// How the first factor was proved; the name in audit rows and metrics.
    pub enum LoginMethod {
        /// Email and password.
        Password = "password",
        /// A single-use link mailed to the address.
        MagicLink = "magic_link",
        /// A user-verified passkey: both factors at once.
        Passkey = "passkey",
        /// A linked identity at a sign-in provider (OAuth 2 / OpenID Connect).
        OAuth = "oauth",
    }
}

impl LoginMethod {
    /// Whether the method already proves a second factor (a passkey is something you have,
    /// unlocked by something you know or are).
    fn is_multi_factor(self) -> bool {
        matches!(self, Self::Passkey)
    }
}

/// What an API client's proved first factor leads to.
#[cfg(feature = "jwt")]
pub(crate) enum ApiNextStep {
    /// The account has a second factor: a challenge must be answered first.
    SecondFactor,
    /// The log-in is recorded; tokens may be issued.
    Done,
}

/// A proved first factor, ready to become a session.
pub(crate) struct FirstFactor<'a> {
    /// Whose account.
    pub user: &'a UserId,
    /// Its address (for the new-address notice).
    pub email: &'a EmailAddress,
    /// How it was proved.
    pub method: LoginMethod,
    /// Standard or remember-me (what the pending session becomes, if one is needed).
    pub kind: SessionKind,
    /// The browser's current session, ended in the same change.
    pub replacing: Option<&'a Authenticated>,
    /// The browser's "trust this browser" cookie, which skips the second factor.
    pub trusted_browser: Option<&'a str>,
    /// What the success row adds (the passkey used, a hash upgrade, …).
    pub detail: AuditEvent,
}

impl Core {
    /// Turns a proved first factor into a session on `change`: a full one, or a pending one
    /// when the account has a second factor and neither the method nor a trusted-browser
    /// cookie covers it.
    pub(crate) async fn complete_log_in(
        &self,
        trusted: &TrustedBrowsers,
        change: &mut Change<'_>,
        factor: FirstFactor<'_>,
    ) -> Result<NewSession> {
        if let Some(previous) = factor.replacing {
            sessions::store::delete(change, &previous.session().id).await?;
        }
        users::store::clear_failed_logins(change, factor.user).await?;
        let capabilities = &self.config.capabilities;
        // A trusted browser is part of the second factors: switched off, it vouches for none.
        let trusted_browser = factor
            .trusted_browser
            .filter(|_| capabilities.has(Capability::SecondFactors));
        if !factor.method.is_multi_factor()
            && mfa::has_usable_second_factor_on(change, factor.user, capabilities).await?
            && !trusted
                .vouches_for(change, factor.user, trusted_browser)
                .await?
        {
            let event = AuditEvent::new(Action::MfaChallenge)
                .actor(factor.user)
                .meta("method", factor.method.as_str());
            change.audit(event).await?;
            return self
                .create_pending_session(change, factor.user, factor.kind, factor.method)
                .await;
        }
        let success = factor
            .detail
            .meta("method", factor.method.as_str())
            .meta("remember_me", factor.kind == SessionKind::RememberMe);
        self.finish_log_in(change, factor.user, factor.email, factor.kind, success)
            .await
    }

    /// Starts the full session of a finished log-in: `success` is its `auth.login.success`
    /// row (the caller adds what it knows: the method, the second factor).
    pub(crate) async fn finish_log_in(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
        kind: SessionKind,
        success: AuditEvent,
    ) -> Result<NewSession> {
        self.notice_new_ip(change, user, email).await?;
        let session = self.create_session(change, user, kind).await?;
        change.audit(success.actor(user)).await?;
        metrics::counter!("sigra_logins_total", "outcome" => "success").increment(1);
        Ok(session)
    }

    /// An API client's proved first factor: the same rules as [`Core::complete_log_in`]
    /// without a browser (no session to replace, no trusted browser). Says whether the second
    /// factor is due; when it is not, the log-in is recorded here and the caller issues the
    /// client's tokens on the same change.
    #[cfg(feature = "jwt")]
    pub(crate) async fn complete_api_log_in(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
        method: LoginMethod,
        detail: AuditEvent,
    ) -> Result<ApiNextStep> {
        users::store::clear_failed_logins(change, user).await?;
        if !method.is_multi_factor()
            && mfa::has_usable_second_factor_on(change, user, &self.config.capabilities).await?
        {
            let event = AuditEvent::new(Action::MfaChallenge)
                .actor(user)
                .meta("method", method.as_str())
                .meta("client", "api");
            change.audit(event).await?;
            return Ok(ApiNextStep::SecondFactor);
        }
        self.finish_api_log_in(change, user, email, detail.meta("method", method.as_str()))
            .await?;
        Ok(ApiNextStep::Done)
    }

    /// Records a finished API log-in: the new-address notice, `auth.login.success` (marked
    /// `client: api`) and the log-in metric.
    #[cfg(feature = "jwt")]
    pub(crate) async fn finish_api_log_in(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
        success: AuditEvent,
    ) -> Result<()> {
        self.notice_new_ip(change, user, email).await?;
        change
            .audit(success.meta("client", "api").actor(user))
            .await?;
        metrics::counter!("sigra_logins_total", "outcome" => "success").increment(1);
        Ok(())
    }

    /// On a log-in from an address none of the user's sessions came from, writes an audit row
    /// and mails the user (unless `notify.new_ip` is off). It never blocks the log-in, and a
    /// first log-in (no sessions yet) is not news.
    async fn notice_new_ip(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
    ) -> Result<()> {
        let Some(ip) = change.request().ip else {
            return Ok(());
        };
        let known = sessions::store::known_ips(change, user).await?;
        if known.is_empty() || known.iter().any(|k| k == &ip.to_string()) {
            return Ok(());
        }
        let location = self
            .geoip()
            .and_then(|geo| geo.locate(ip))
            .and_then(|l| l.label());
        let device = sessions::device::describe(change.request().user_agent.as_deref());
        let mut event = AuditEvent::new(Action::SuspiciousLogin)
            .target_user(user)
            .meta("device", device.clone());
        if let Some(location) = &location {
            event = event.meta("location", location.clone());
        }
        change.audit(event).await?;
        if self.config().notify_new_ip {
            let message = Message::NewSignIn {
                ip: ip.to_string(),
                location,
                device,
                at: change.now().to_string(),
                reset_url: self.url(pages::RESET_PASSWORD),
            };
            change.mail(email, message).await?;
        }
        Ok(())
    }
}
