//! Log-in and log-out. Every failed log-in gets the same error after the same work: unknown
//! emails are verified against a dummy hash, so neither the answer nor its timing says whether
//! an account exists. Every way of logging in finishes through [`complete`]; every password
//! check outside log-in goes through [`reauth`].

mod complete;
mod magic_link;
mod mailed_link;
mod reauth;
mod reset;

#[cfg(feature = "jwt")]
pub(crate) use complete::ApiNextStep;
pub(crate) use complete::FirstFactor;
pub use complete::LoginMethod;
pub use reauth::ReauthPurpose;

use crate::audit::{Action, AuditEvent};
use crate::change::Change;
use crate::config::ConfirmationMode;
use crate::confirmation::ConfirmationCodes;
use crate::error::{Error, Result};
use crate::http::pages;
use crate::lockout::{AfterFailure, LockoutPolicy};
use crate::mail::Message;
use crate::mfa::TrustedBrowsers;
use crate::password::{Password, Verification};
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::sessions::{self, Authenticated, NewSession, SessionKind};
use crate::users::{self, EmailAddress, UserId};

/// Registration, log-in and log-out, magic links and password reset: `sigra.auth()`.
#[derive(Clone, Copy)]
pub struct Auth<'a> {
    pub(crate) core: &'a Core,
    pub(crate) trusted: &'a TrustedBrowsers,
    pub(crate) codes: &'a ConfirmationCodes,
}

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

impl Auth<'_> {
    /// Checks the credentials and, when they match, starts a session under a new token. A
    /// session the browser already had is ended first (no session fixation). When the account
    /// has a second factor and the browser is not trusted, the new session is pending
    /// ([`NewSession::needs_second_factor`]) until [`crate::mfa::Mfa::complete_mfa`].
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
        let ProvedPassword {
            user: user_id,
            email,
            upgraded,
        } = self
            .core
            .check_password_log_in(&log_in.email, &log_in.password, request)
            .await?;
        let mut change = self.core.begin_change(request).await?;
        if let Some(hash) = &upgraded {
            let now = change.now();
            users::store::replace_password_hash(&mut change, &user_id, hash, now).await?;
        }
        let factor = FirstFactor {
            user: &user_id,
            email: &email,
            method: LoginMethod::Password,
            kind: if log_in.remember_me {
                SessionKind::RememberMe
            } else {
                SessionKind::Standard
            },
            replacing,
            trusted_browser: log_in.trusted_browser.as_deref(),
            detail: AuditEvent::new(Action::LoginSuccess)
                .meta("algorithm_upgraded", upgraded.is_some()),
        };
        let session = self
            .core
            .complete_log_in(self.trusted, &mut change, factor)
            .await?;
        change.commit().await?;
        Ok(session)
    }
}

/// A password log-in's checked first factor: whose account, and its hash upgraded to the
/// current parameters when they changed (to store with the log-in).
pub(crate) struct ProvedPassword {
    pub user: UserId,
    pub email: EmailAddress,
    pub upgraded: Option<crate::password::PasswordHash>,
}

impl Core {
    /// Checks an email and password as the log-in form does, for every way a password logs
    /// in (the browser form, the API's token log-in): oversized input refused before hashing,
    /// the lock checked and an attempt reserved before the real hash, a dummy hash for unknown
    /// emails, failures counted and audited as `auth.login.failure`, one error for all.
    ///
    /// # Errors
    /// `InvalidCredentials` for every failure; `Unconfirmed` (only after the right password)
    /// when confirmation blocks log-in; `Busy`; the database failed.
    pub(crate) async fn check_password_log_in(
        &self,
        email_text: &str,
        password: &Password,
        request: &RequestContext,
    ) -> Result<ProvedPassword> {
        // Oversized input is refused before any hashing work (an Argon2 DoS guard). No stored
        // password can be this long, so the answer is the truthful one.
        let max_bytes = self.password_policy().max_length().saturating_mul(4);
        let email = match EmailAddress::parse(email_text) {
            Ok(email) if password.byte_len() <= max_bytes => email,
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
                self.hasher().verify_dummy(password).await?;
                return self
                    .refuse(LoginMethod::Password, Some(&account.id), "locked", request)
                    .await;
            }
            Some(users::store::Credentials {
                id,
                password_hash: Some(_),
                ..
            }) if !self.reserve_password_attempt(&id, &email, request).await? => {
                self.hasher().verify_dummy(password).await?;
                return self
                    .refuse(LoginMethod::Password, Some(&id), "locked", request)
                    .await;
            }
            Some(users::store::Credentials {
                id,
                password_hash: Some(hash),
                confirmed_at,
                ..
            }) => match self.hasher().verify(password, &hash).await? {
                Verification::Match { rehash } => (id, rehash, confirmed_at.is_some()),
                Verification::Mismatch => {
                    self.count_failure(&id, &email, ReauthPurpose::LogIn, request)
                        .await?;
                    return self
                        .refuse(
                            LoginMethod::Password,
                            Some(&id),
                            "invalid_password",
                            request,
                        )
                        .await;
                }
            },
            Some(users::store::Credentials {
                id,
                password_hash: None,
                ..
            }) => {
                self.hasher().verify_dummy(password).await?;
                return self
                    .refuse(LoginMethod::Password, Some(&id), "no_password", request)
                    .await;
            }
            None => {
                self.hasher().verify_dummy(password).await?;
                return self
                    .refuse(LoginMethod::Password, None, "unknown_email", request)
                    .await;
            }
        };
        tracing::Span::current().record("user_id", user_id.as_str());
        if !confirmed && self.config().confirmation == ConfirmationMode::Block {
            // Told only after the right password: it reveals nothing to someone guessing.
            self.release_password_attempt(&user_id, request).await?;
            self.refuse::<()>(
                LoginMethod::Password,
                Some(&user_id),
                "unconfirmed",
                request,
            )
            .await
            .ok();
            return Err(Error::Unconfirmed);
        }

        let upgraded = if rehash {
            Some(self.hasher().rehash_verified(password).await?)
        } else {
            None
        };
        Ok(ProvedPassword {
            user: user_id,
            email,
            upgraded,
        })
    }
}

/// Shared steps owned by log-in: counting a wrong password and refusing a log-in.
impl Core {
    /// Reserves one password attempt on `user` before any hashing (see
    /// `users::store::reserve_attempt`): a burst of parallel guesses evaluates at most the
    /// lockout threshold, and a right guess arriving while the lock is being set is refused.
    /// When the attempt is refused because the count is full but no lock is set (the attempts
    /// that filled it are still being checked, or their process died), the lock is set here.
    pub(crate) async fn reserve_password_attempt(
        &self,
        user: &UserId,
        email: &EmailAddress,
        request: &RequestContext,
    ) -> Result<bool> {
        let mut change = self.begin_change(request).await?;
        let threshold = self.config().lockout.threshold;
        let now = change.now();
        let reserved = users::store::reserve_attempt(&mut change, user, now, threshold).await?;
        if !reserved {
            self.lock_if_due(&mut change, user, email).await?;
        }
        change.commit().await?;
        Ok(reserved)
    }

    /// Gives a reserved attempt back after a right password that does not end in a log-in
    /// (re-authentication, an unconfirmed account): a right password resets the count, as a
    /// log-in does.
    pub(crate) async fn release_password_attempt(
        &self,
        user: &UserId,
        request: &RequestContext,
    ) -> Result<()> {
        let mut change = self.begin_change(request).await?;
        users::store::clear_failed_logins(&mut change, user).await?;
        change.commit().await
    }

    /// Records a wrong password on a reserved attempt: its `security.invalid_credentials` row,
    /// and at the threshold the lock, its audit row and the owner's notice, all together.
    /// Returns the failures in a row.
    pub(crate) async fn count_failure(
        &self,
        user: &UserId,
        email: &EmailAddress,
        purpose: ReauthPurpose,
        request: &RequestContext,
    ) -> Result<u32> {
        let mut change = self.begin_change(request).await?;
        let failures = users::store::failed_attempts(&mut change, user)
            .await?
            .attempts;
        change
            .audit(
                AuditEvent::new(Action::InvalidCredentials)
                    .target_user(user)
                    .meta("attempts", failures)
                    .meta("purpose", purpose.as_str()),
            )
            .await?;
        self.lock_if_due(&mut change, user, email).await?;
        change.commit().await?;
        Ok(failures)
    }

    /// Locks the account when its counted attempts reached the threshold; of several racing
    /// callers only one performs the lock (and writes its row and mail).
    async fn lock_if_due(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
    ) -> Result<()> {
        let policy = self.config().lockout;
        let users::store::FailedAttempts {
            attempts: failures,
            locks_in_a_row: locks,
        } = users::store::failed_attempts(change, user).await?;
        let AfterFailure::Locked { until, duration } =
            policy.after_failure(failures.saturating_sub(1), locks, change.now())
        else {
            return Ok(());
        };
        if users::store::lock(change, user, until, policy.threshold).await? {
            let event = AuditEvent::new(Action::Lockout)
                .target_user(user)
                .meta("minutes", crate::mail::minutes(duration))
                .meta("locks_in_a_row", locks + 1);
            change.audit(event).await?;
            let message = Message::AccountLocked {
                minutes: crate::mail::minutes(duration),
                reset_url: self.url(pages::RESET_PASSWORD),
            };
            change.mail(email, message).await?;
            metrics::counter!("sigra_lockouts_total").increment(1);
        }
        Ok(())
    }

    /// Records a failed log-in and returns the one error every failure of `method` gets. The
    /// reason is kept in the audit row, never in the response.
    pub(crate) async fn refuse<T>(
        &self,
        method: LoginMethod,
        user: Option<&UserId>,
        reason: &'static str,
        request: &RequestContext,
    ) -> Result<T> {
        metrics::counter!("sigra_logins_total", "outcome" => "failure").increment(1);
        let mut event = AuditEvent::new(Action::LoginFailure).meta("reason", reason);
        if let Some(user) = user {
            event = event.target_user(user);
        }
        self.audit_alone(event.meta("method", method.as_str()), request)
            .await?;
        Err(match method {
            LoginMethod::Passkey => Error::PasskeyRejected,
            LoginMethod::Password | LoginMethod::MagicLink => Error::InvalidCredentials,
            LoginMethod::OAuth => Error::OAuthFailed,
        })
    }
}

impl Auth<'_> {
    /// Ends the current session: its row is deleted, so the cookie is dead everywhere at once.
    ///
    /// # Errors
    /// The database failed.
    #[tracing::instrument(name = "auth.logout", skip_all, fields(user_id = %current.user().id))]
    pub async fn log_out(&self, current: &Authenticated, request: &RequestContext) -> Result<()> {
        let mut change = self.core.begin_change(request).await?;
        sessions::store::delete(&mut change, &current.session().id).await?;
        let event = AuditEvent::new(Action::Logout)
            .actor(&current.user().id)
            .session(current.session().id.as_str());
        change.audit(event).await?;
        change.commit().await
    }
}
