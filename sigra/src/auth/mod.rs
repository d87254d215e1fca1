//! Password log-in and log-out. Every failed log-in gets the same error after the same work:
//! unknown emails are verified against a dummy hash, so neither the answer nor its timing says
//! whether an account exists.

mod magic_link;
mod mailed_link;
mod reset;

use crate::audit::{self, Action, AuditEvent};
use crate::config::ConfirmationMode;
use crate::error::{Error, Result};
use crate::lockout::{AfterFailure, LockoutPolicy};
use crate::mail::Message;
use crate::password::{Password, Verification};
use crate::request::RequestContext;
use crate::sessions::{self, Authenticated, NewSession, SessionKind};
use crate::users::{self, EmailAddress, UserId};
use crate::Sigra;

/// What the log-in form submits.
pub struct LogIn {
    /// The email as typed.
    pub email: String,
    /// The password as typed.
    pub password: Password,
    /// Whether to keep the session across browser restarts.
    pub remember_me: bool,
    /// The browser's "trust this browser" cookie, if it has one (skips the second factor).
    pub trusted_browser: Option<String>,
}

/// The password and the trust cookie (which skips the second factor) stay out of logs.
impl std::fmt::Debug for LogIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogIn")
            .field("email", &self.email)
            .field("password", &self.password)
            .field("remember_me", &self.remember_me)
            .field(
                "trusted_browser",
                &self.trusted_browser.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl Sigra {
    /// Checks the credentials and, when they match, starts a session under a new token. A
    /// session the browser already had is ended first (no session fixation). When the account
    /// has a second factor and the browser is not trusted, the new session is pending
    /// ([`NewSession::needs_second_factor`]) until [`Sigra::complete_mfa`].
    ///
    /// # Errors
    /// `InvalidCredentials` for every kind of failed log-in; `Busy` when the hashing pool is
    /// full; a database error.
    #[tracing::instrument(name = "auth.login", skip_all, fields(user_id), err(level = "debug"))]
    pub async fn log_in(
        &self,
        log_in: LogIn,
        replacing: Option<&Authenticated>,
        request: &RequestContext,
    ) -> Result<NewSession> {
        // Oversized input is refused before any hashing work (an Argon2 DoS guard). No stored
        // password can be this long, so the answer is the truthful one.
        let max_bytes = self.password_policy().max_length().saturating_mul(4);
        let email = match EmailAddress::parse(&log_in.email) {
            Ok(email) if log_in.password.byte_len() <= max_bytes => email,
            _ => return Err(Error::InvalidCredentials),
        };

        let found = {
            let mut conn = self.db().acquire().await?;
            users::store::credentials(&mut conn, users::store::Lookup::Email(&email)).await?
        };
        let (user_id, rehash, confirmed) = match found {
            // Checked before the real hash, so a locked account cannot be used to test
            // passwords; the dummy verify keeps the answer and its timing the same.
            Some(account) if LockoutPolicy::is_locked(account.locked_until, self.now()) => {
                self.hasher().verify_dummy(&log_in.password).await?;
                return self.refuse(Some(&account.id), "locked", request).await;
            }
            Some(users::store::Credentials {
                id,
                password_hash: Some(hash),
                confirmed,
                ..
            }) => match self.hasher().verify(&log_in.password, &hash).await? {
                Verification::Match { rehash } => (id, rehash, confirmed),
                Verification::Mismatch => {
                    self.count_failure(&id, &email, request).await?;
                    return self.refuse(Some(&id), "invalid_password", request).await;
                }
            },
            Some(users::store::Credentials {
                id,
                password_hash: None,
                ..
            }) => {
                self.hasher().verify_dummy(&log_in.password).await?;
                return self.refuse(Some(&id), "no_password", request).await;
            }
            None => {
                self.hasher().verify_dummy(&log_in.password).await?;
                return self.refuse(None, "unknown_email", request).await;
            }
        };
        tracing::Span::current().record("user_id", user_id.as_str());
        if !confirmed && self.config().confirmation == ConfirmationMode::Block {
            // Told only after the right password: it reveals nothing to someone guessing.
            self.refuse(Some(&user_id), "unconfirmed", request)
                .await
                .ok();
            return Err(Error::Unconfirmed);
        }

        let upgraded = if rehash {
            Some(self.hasher().rehash_verified(&log_in.password).await?)
        } else {
            None
        };
        let kind = if log_in.remember_me {
            SessionKind::RememberMe
        } else {
            SessionKind::Standard
        };
        let now = self.now();
        let mut tx = self.db().begin_write().await?;
        users::store::clear_failed_logins(&mut tx, &user_id).await?;
        if let Some(hash) = &upgraded {
            users::store::replace_password_hash(&mut tx, &user_id, hash, now).await?;
        }
        let session = self
            .begin_session(
                &mut tx,
                &user_id,
                &email,
                replacing,
                kind,
                log_in.trusted_browser.as_deref(),
                request,
            )
            .await?;
        if !session.needs_second_factor() {
            let event = AuditEvent::new(Action::LoginSuccess)
                .actor(&user_id)
                .meta("method", "password")
                .meta("algorithm_upgraded", upgraded.is_some())
                .meta("remember_me", log_in.remember_me);
            audit::record(&mut tx, now, event, request).await?;
            metrics::counter!("sigra_logins_total", "outcome" => "success").increment(1);
        }
        tx.commit().await?;
        Ok(session)
    }

    /// On a log-in from an address none of the user's sessions came from, writes an audit row
    /// and mails the user (unless `notify.new_ip` is off). It never blocks the log-in, and a
    /// first log-in (no sessions yet) is not news.
    pub(crate) async fn notice_new_ip(
        &self,
        conn: &mut sqlx::AnyConnection,
        user: &UserId,
        email: &EmailAddress,
        request: &RequestContext,
    ) -> Result<()> {
        let Some(ip) = request.ip else { return Ok(()) };
        let known = sessions::store::known_ips(conn, user).await?;
        if known.is_empty() || known.iter().any(|k| k == &ip.to_string()) {
            return Ok(());
        }
        let now = self.now();
        let location = self
            .geoip()
            .and_then(|geo| geo.locate(ip))
            .and_then(|l| l.label());
        let device = sessions::device::describe(request.user_agent.as_deref());
        let mut event = AuditEvent::new(Action::SuspiciousLogin)
            .target_user(user)
            .meta("device", device.clone());
        if let Some(location) = &location {
            event = event.meta("location", location.clone());
        }
        audit::record(conn, now, event, request).await?;
        if self.config().notify_new_ip {
            let message = Message::NewSignIn {
                ip: ip.to_string(),
                location,
                device,
                at: now.to_string(),
                reset_url: self.url("/users/reset-password"),
            };
            self.queue_email(conn, email, message).await?;
        }
        Ok(())
    }

    /// Counts a wrong password against the account, locking it at the threshold: the lock, its
    /// audit row and the owner's notice commit together.
    pub(crate) async fn count_failure(
        &self,
        user: &UserId,
        email: &EmailAddress,
        request: &RequestContext,
    ) -> Result<()> {
        let policy = self.config().lockout;
        let now = self.now();
        let mut tx = self.db().begin_write().await?;
        let (failures, locks) = users::store::count_failed_login(&mut tx, user).await?;
        if let AfterFailure::Locked { until, duration } =
            policy.after_failure(failures.saturating_sub(1), locks, now)
        {
            if users::store::lock(&mut tx, user, until, policy.threshold).await? {
                let event = AuditEvent::new(Action::Lockout)
                    .target_user(user)
                    .meta("minutes", crate::mail::minutes(duration))
                    .meta("locks_in_a_row", locks + 1);
                audit::record(&mut tx, now, event, request).await?;
                let message = Message::AccountLocked {
                    minutes: crate::mail::minutes(duration),
                    reset_url: self.url("/users/reset-password"),
                };
                self.queue_email(&mut tx, email, message).await?;
                metrics::counter!("sigra_lockouts_total").increment(1);
            }
        }
        tx.commit().await
    }

    /// Records a failed log-in and returns the one error every failure gets. The reason is
    /// kept in the audit row, never in the response.
    async fn refuse(
        &self,
        user: Option<&UserId>,
        reason: &'static str,
        request: &RequestContext,
    ) -> Result<NewSession> {
        metrics::counter!("sigra_logins_total", "outcome" => "failure").increment(1);
        let mut event = AuditEvent::new(Action::LoginFailure).meta("reason", reason);
        if let Some(user) = user {
            event = event.target_user(user);
        }
        let mut conn = self.db().acquire().await?;
        audit::record(&mut conn, self.now(), event, request).await?;
        Err(Error::InvalidCredentials)
    }

    /// Ends the current session: its row is deleted, so the cookie is dead everywhere at once.
    ///
    /// # Errors
    /// The database failed.
    #[tracing::instrument(name = "auth.logout", skip_all, fields(user_id = %current.user().id))]
    pub async fn log_out(&self, current: &Authenticated, request: &RequestContext) -> Result<()> {
        let mut tx = self.db().begin_write().await?;
        sessions::store::delete(&mut tx, &current.session().id).await?;
        let event = AuditEvent::new(Action::Logout)
            .actor(&current.user().id)
            .session(current.session().id.as_str());
        audit::record(&mut tx, self.now(), event, request).await?;
        tx.commit().await?;
        Ok(())
    }
}
