//! Re-authentication: every check of a signed-in user's password outside log-in (sudo, the
//! password and email changes, account deletion, and later unlinking a provider or deleting an
//! organization) goes through `reauthenticate`. It obeys the log-in rules, so a stolen
//! session cookie is no better a guessing oracle than the log-in form: it is rate limited per
//! user and per client address, it refuses while the account is locked (with the answer a wrong
//! password gets), and each wrong password counts toward the same lockout and is audited.

use crate::audit::{Action, AuditEvent};
use crate::error::{Error, Result};
use crate::lockout::LockoutPolicy;
use crate::password::{Password, Verification};
use crate::plumbing::Core;
use crate::rate_limit::client_bucket;
use crate::request::RequestContext;
use crate::sessions::Authenticated;
use crate::users;

crate::db::stored_enum! {
    /// Why a password is being checked, as audit metadata names it.
    pub enum ReauthPurpose {
        /// The log-in form.
        LogIn = "log_in",
        /// Entering sudo mode.
        Sudo = "sudo",
        /// Authorising a new password.
        PasswordChange = "password_change",
        /// Authorising a new email address.
        EmailChange = "email_change",
        /// Authorising the deletion of the account.
        AccountDeletion = "account_deletion",
    }
}

impl Core {
    /// Checks the signed-in user's current password for `purpose`.
    ///
    /// # Errors
    /// `RateLimited` past the per-user or per-address limit (before any hashing);
    /// `WrongPassword` for a wrong password and while the account is locked (one answer);
    /// `Busy` when the hashing pool is full; the database failed.
    pub(crate) async fn reauthenticate(
        &self,
        current: &Authenticated,
        password: &Password,
        purpose: ReauthPurpose,
        request: &RequestContext,
    ) -> Result<()> {
        let user = &current.user().id;
        self.limit_reauthentication(current, request).await?;
        let max_bytes = self.password_policy().max_length().saturating_mul(4);
        if password.byte_len() > max_bytes {
            return Err(Error::WrongPassword);
        }
        let credentials = {
            let mut conn = self.db().acquire().await?;
            users::store::credentials(&mut conn, users::store::Lookup::Id(user)).await?
        };
        let hash = match credentials {
            Some(account) if LockoutPolicy::is_locked(account.locked_until, self.now()) => {
                self.hasher().verify_dummy(password).await?;
                let event = AuditEvent::new(Action::InvalidCredentials)
                    .target_user(user)
                    .meta("reason", "locked")
                    .meta("purpose", purpose.as_str());
                self.audit_alone(event, request).await?;
                return Err(Error::WrongPassword);
            }
            Some(users::store::Credentials {
                password_hash: Some(hash),
                ..
            }) => hash,
            _ => {
                self.hasher().verify_dummy(password).await?;
                return Err(Error::WrongPassword);
            }
        };
        if !self
            .reserve_password_attempt(user, &current.user().email, request)
            .await?
        {
            self.hasher().verify_dummy(password).await?;
            return Err(Error::WrongPassword);
        }
        match self.hasher().verify(password, &hash).await? {
            Verification::Match { .. } => self.release_password_attempt(user, request).await,
            Verification::Mismatch => {
                self.count_failure(user, &current.user().email, purpose, request)
                    .await?;
                Err(Error::WrongPassword)
            }
        }
    }

    /// `rate_limit.auth_limit` password checks per window per user and per client address, so
    /// neither one account nor one client can fill the hashing pool.
    async fn limit_reauthentication(
        &self,
        current: &Authenticated,
        request: &RequestContext,
    ) -> Result<()> {
        let config = &self.config().rate_limit;
        let mut buckets = vec![format!("reauth:user:{}", current.user().id)];
        if let Some(ip) = request.ip {
            buckets.push(format!("reauth:ip:{}", client_bucket(ip)));
        }
        for bucket in buckets {
            let decision = self
                .rate_limiter()
                .check(&bucket, config.auth_limit, config.auth_window)
                .await?;
            if !decision.allowed {
                return Err(Error::RateLimited {
                    retry_after_seconds: decision.reset_after.as_secs().max(1),
                });
            }
        }
        Ok(())
    }
}
