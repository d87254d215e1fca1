//! Second factors: TOTP (RFC 6238) with backup codes, the log-in challenge at `/users/mfa`,
//! "trust this browser", and the second-factor lockout.
//!
//! A right password (or magic link) on an account with a second factor starts a *pending*
//! session ([`crate::sessions::PendingMfa`]) that can do nothing but finish here; finishing
//! replaces it with a full session under a new token. Setting up, regenerating and disabling
//! take a [`Sudo`] proof. Wrong codes at the challenge and in settings share one counter:
//! `mfa.lockout_threshold` in a row lock the second-factor step for `mfa.lockout_duration`,
//! doubling with each lock in a row up to `mfa.lockout_max_duration`.

pub mod backup_codes;
mod keyring;
mod store;
pub mod totp;
mod trusted;

use sqlx::AnyConnection;

pub use backup_codes::BackupCodes;
pub(crate) use keyring::Keyring;
pub(crate) use trusted::TrustedBrowsers;
pub use trusted::TRUSTED_BROWSER_COOKIE;

use crate::audit::{Action, AuditEvent};
use crate::change::Change;
use crate::crypto::{random_bytes, SigningKey};
use crate::error::{Error, Result};
use crate::http::pages;
use crate::lockout::LockoutPolicy;
use crate::mail::{minutes, Message};
#[cfg(feature = "passkeys")]
use crate::passkeys::Passkeys;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::sessions::{self, Authenticated, NewSession, PendingMfa, SessionKind, Sudo};
use crate::users::{EmailAddress, UserId};

/// A second factor as the user typed it.
#[derive(Clone, PartialEq, Eq)]
pub enum SecondFactor {
    /// Six digits from an authenticator app.
    Totp(String),
    /// One of the backup codes.
    BackupCode(String),
    /// A passkey's answer to the ceremony started by [`crate::passkeys::Passkeys::start_passkey_second_factor`].
    #[cfg(feature = "passkeys")]
    Passkey {
        /// The ceremony id.
        ceremony: String,
        /// The browser's `PublicKeyCredential`, as JSON.
        response: String,
    },
}

impl SecondFactor {
    /// The capability this kind of factor belongs to.
    pub fn capability(&self) -> crate::config::Capability {
        match self {
            Self::Totp(_) | Self::BackupCode(_) => crate::config::Capability::SecondFactors,
            #[cfg(feature = "passkeys")]
            Self::Passkey { .. } => crate::config::Capability::Passkeys,
        }
    }

    /// Reads one input field: six digits (spaces ignored) are an app code, anything else a
    /// backup code.
    pub fn parse(input: &str) -> Self {
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() == usize::from(totp::DIGITS) && compact.bytes().all(|b| b.is_ascii_digit())
        {
            Self::Totp(compact)
        } else {
            Self::BackupCode(input.to_owned())
        }
    }

    pub(crate) fn method(&self) -> &'static str {
        match self {
            Self::Totp(_) => "totp",
            Self::BackupCode(_) => "backup_code",
            #[cfg(feature = "passkeys")]
            Self::Passkey { .. } => "passkey",
        }
    }
}

impl std::fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecondFactor::{}([redacted])", self.method())
    }
}

/// An authenticator-app set-up waiting for its first code.
#[derive(Clone)]
pub struct TotpSetup {
    /// The secret in base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetup([redacted])")
    }
}

/// The account's second factors, as the security settings page shows them.
#[derive(Clone, Debug)]
pub struct MfaOverview {
    /// Whether an authenticator app is set up.
    pub totp_enabled: bool,
    /// Unused backup codes.
    pub backup_codes_left: u32,
    /// A set-up in progress (only revealed under sudo: it shows the secret).
    pub pending_setup: Option<TotpSetup>,
    /// Whether the configuration requires a second factor.
    pub required: bool,
}

/// An account's second factors, as the JSON API reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MfaStatus {
    /// Whether an authenticator app is set up.
    pub totp_enabled: bool,
    /// Unused backup codes.
    pub backup_codes_left: u32,
    /// Passkeys registered.
    pub passkeys: u32,
    /// Whether this site requires a second factor.
    pub required: bool,
}

/// An account's second factors: two-factor authentication is on when it has either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondFactors {
    /// Whether an authenticator app is set up.
    pub app: bool,
    /// Passkeys registered (each also a second factor).
    pub passkeys: u32,
}

/// Which second factors a pending log-in can finish with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondFactorOptions {
    /// An authenticator app (and its backup codes).
    pub totp: bool,
    /// A passkey.
    pub passkey: bool,
}

/// A finished second-factor step.
#[derive(Debug)]
pub struct MfaLogIn {
    /// The full session that replaced the pending one.
    pub session: NewSession,
    /// The "trust this browser" cookie value, when asked for.
    pub trusted_browser: Option<String>,
    /// Backup codes left, when one was just used.
    pub backup_codes_left: Option<u32>,
}

/// Second factors: `sigra.mfa()`.
#[derive(Clone, Copy)]
pub struct Mfa<'a> {
    pub(crate) core: &'a Core,
    pub(crate) secrets: &'a MfaSecrets,
    pub(crate) trusted: &'a TrustedBrowsers,
    #[cfg(feature = "passkeys")]
    pub(crate) relying_party: &'a webauthn_rs::Webauthn,
}

/// The keys only second factors use: the keyring that seals TOTP secrets, and the key of the
/// backup-code digests.
pub(crate) struct MfaSecrets {
    keyring: Keyring,
    backup_code_key: SigningKey,
}

impl MfaSecrets {
    pub(crate) fn new(keyring: Keyring, backup_code_key: SigningKey) -> Self {
        Self {
            keyring,
            backup_code_key,
        }
    }
}

/// Whether `user` has a second factor of a kind switched on, which a log-in must then ask
/// for, on `conn`.
pub(crate) async fn has_usable_second_factor_on(
    conn: &mut AnyConnection,
    user: &UserId,
    capabilities: &crate::config::Capabilities,
) -> Result<bool> {
    Ok(store::usable_second_factor_count(conn, user, capabilities).await? > 0)
}

/// How many passkeys `user` has, on `conn`.
#[cfg(feature = "passkeys")]
pub(crate) async fn passkey_count_on(conn: &mut AnyConnection, user: &UserId) -> Result<u32> {
    store::passkey_count(conn, user).await
}

/// How many second factors `user` has (an app counts once, each passkey once), on `conn`.
#[cfg(feature = "passkeys")]
pub(crate) async fn second_factor_count_on(conn: &mut AnyConnection, user: &UserId) -> Result<i64> {
    store::second_factor_count(conn, user).await
}

/// Lifts the second-factor lock of `user` and its growth, as part of another change (an
/// operator's unlock).
pub(crate) async fn clear_lock_on(conn: &mut AnyConnection, user: &UserId) -> Result<()> {
    store::clear_failures(conn, user).await
}

/// Removes every second factor of `user` (the authenticator app with its backup codes, and
/// each passkey) and forgets trusted browsers, as part of another change (an operator helping
/// an owner who lost them). How many second factors went.
pub(crate) async fn remove_every_second_factor(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<i64> {
    let removed = store::second_factor_count(conn, user).await?;
    store::delete_totp(conn, user).await?;
    store::delete_passkeys(conn, user).await?;
    store::bump_trust_epoch(conn, user).await?;
    Ok(removed)
}

/// Forgets every trusted browser of `user` as part of another change (a new password).
pub(crate) async fn forget_trusted_browsers_on(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<()> {
    store::bump_trust_epoch(conn, user).await
}

impl<'a> Mfa<'a> {
    #[cfg(feature = "passkeys")]
    fn passkeys(&self) -> Passkeys<'a> {
        Passkeys {
            core: self.core,
            relying_party: self.relying_party,
            trusted: self.trusted,
        }
    }

    /// Finishes a log-in with its second factor: the pending session is replaced by a full
    /// one under a new token. Wrong factors count toward the second-factor lock; the lock
    /// ends the pending session too.
    ///
    /// # Errors
    /// `InvalidCode` for a wrong, replayed or used code; `MfaLocked` while locked (or when
    /// this failure locked it); `Unauthenticated` when the pending session is gone.
    #[tracing::instrument(name = "auth.mfa", skip_all, fields(user_id = %pending.user().id), err(level = "debug"))]
    pub async fn complete_mfa(
        &self,
        pending: &PendingMfa,
        factor: SecondFactor,
        trust_browser: bool,
        request: &RequestContext,
    ) -> Result<MfaLogIn> {
        let user = &pending.user().id;
        let email = &pending.user().email;
        let mut change = self.core.begin_change(request).await?;

        if let Err(error) = self.check_factor(&mut change, user, email, &factor).await {
            if matches!(error, Error::MfaLocked) {
                sessions::store::delete(&mut change, &pending.session().id).await?;
            }
            change.commit().await?;
            return Err(error);
        }
        // Only one completion per pending session, however many race.
        if !sessions::store::delete(&mut change, &pending.session().id).await? {
            return Err(Error::Unauthenticated);
        }
        let backup_codes_left = match factor {
            SecondFactor::BackupCode(_) => Some(
                self.record_backup_code_use(&mut change, user, email)
                    .await?,
            ),
            SecondFactor::Totp(_) => None,
            #[cfg(feature = "passkeys")]
            SecondFactor::Passkey { .. } => None,
        };
        let trust_browser = trust_browser
            && self
                .core
                .config()
                .capabilities
                .has(crate::config::Capability::SecondFactors);
        let kind = pending.upgrade_to();
        let mut success = AuditEvent::new(Action::LoginSuccess);
        if let Some(first_factor) = pending.first_factor() {
            success = success.meta("method", first_factor.as_str());
        }
        let success = success
            .meta("second_factor", factor.method())
            .meta("trust_browser", trust_browser)
            .meta("remember_me", kind == SessionKind::RememberMe);
        let session = self
            .core
            .finish_log_in(&mut change, user, email, kind, success)
            .await?;
        let trusted_browser = if trust_browser {
            Some(self.trusted.issue(&mut change, user).await?)
        } else {
            None
        };
        change.commit().await?;
        Ok(MfaLogIn {
            session,
            trusted_browser,
            backup_codes_left,
        })
    }

    /// After a log-in used a backup code: its audit row and the owner's notice. Returns how
    /// many are left.
    pub(crate) async fn record_backup_code_use(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
    ) -> Result<u32> {
        let left = store::backup_codes_left(change, user).await?;
        let event = AuditEvent::new(Action::BackupCodeUsed)
            .actor(user)
            .meta("remaining", left);
        change.audit(event).await?;
        change
            .mail(email, Message::BackupCodeUsed { remaining: left })
            .await?;
        Ok(left)
    }

    /// Whether the user has a second factor of a kind switched on (an authenticator app or a
    /// passkey): one a log-in asks for, so one that meets `mfa.required`. Asked only where it
    /// matters (settings, and pages under `mfa.required`), not on every session check.
    ///
    /// # Errors
    /// The database failed.
    pub async fn has_second_factor(&self, user: &UserId) -> Result<bool> {
        let mut conn = self.core.db().acquire().await?;
        has_usable_second_factor_on(&mut conn, user, &self.core.config().capabilities).await
    }

    /// Which second factors the account has, for pages that say what "on" means.
    ///
    /// # Errors
    /// The database failed.
    pub async fn second_factors(&self, user: &UserId) -> Result<SecondFactors> {
        let mut conn = self.core.db().acquire().await?;
        let app = store::totp(&mut conn, user)
            .await?
            .is_some_and(|row| row.confirmed());
        Ok(SecondFactors {
            app,
            passkeys: store::passkey_count(&mut conn, user).await?,
        })
    }

    /// The second factors of a caller allowed `mfa:read` (never their secrets).
    ///
    /// # Errors
    /// The database failed.
    pub async fn status_granted(
        &self,
        granted: &crate::http::Granted<crate::http::scopes::MfaRead>,
    ) -> Result<MfaStatus> {
        let user = &granted.user().id;
        let mut conn = self.core.db().acquire().await?;
        let totp_enabled = store::totp(&mut conn, user)
            .await?
            .is_some_and(|row| row.confirmed());
        Ok(MfaStatus {
            totp_enabled,
            backup_codes_left: store::backup_codes_left(&mut conn, user).await?,
            passkeys: store::passkey_count(&mut conn, user).await?,
            required: self.core.config().mfa.required,
        })
    }

    /// Which second factors the pending log-in's account has.
    ///
    /// # Errors
    /// The database failed.
    pub async fn second_factor_options(&self, pending: &PendingMfa) -> Result<SecondFactorOptions> {
        let user = &pending.user().id;
        let mut conn = self.core.db().acquire().await?;
        let totp = store::totp(&mut conn, user)
            .await?
            .is_some_and(|row| row.confirmed());
        Ok(SecondFactorOptions {
            totp,
            passkey: store::passkey_count(&mut conn, user).await? > 0,
        })
    }

    /// Gives up on a pending log-in: its session ends.
    ///
    /// # Errors
    /// The database failed.
    pub async fn cancel_mfa(&self, pending: &PendingMfa, request: &RequestContext) -> Result<()> {
        let mut change = self.core.begin_change(request).await?;
        sessions::store::delete(&mut change, &pending.session().id).await?;
        let event = AuditEvent::new(Action::Logout)
            .actor(&pending.user().id)
            .meta("pending_second_factor", true);
        change.audit(event).await?;
        change.commit().await
    }

    /// What the security settings page shows. The secret of a set-up in progress is revealed
    /// only with `sudo`.
    ///
    /// # Errors
    /// The database failed, or a stored secret does not open.
    pub async fn mfa_overview(
        &self,
        current: &Authenticated,
        sudo: Option<&Sudo>,
    ) -> Result<MfaOverview> {
        let user = &current.user().id;
        let mut conn = self.core.db().acquire().await?;
        let row = store::totp(&mut conn, user).await?;
        let totp_enabled = row.as_ref().is_some_and(|r| r.confirmed());
        let pending_setup = match (&row, sudo) {
            (Some(row), Some(_)) if !row.confirmed() => {
                let secret = self
                    .secrets
                    .keyring
                    .open(user, &row.secret_sealed, &row.key_id)?;
                Some(self.describe_setup(&secret, &current.user().email)?)
            }
            _ => None,
        };
        let backup_codes_left = store::backup_codes_left(&mut conn, user).await?;
        Ok(MfaOverview {
            totp_enabled,
            backup_codes_left,
            pending_setup,
            required: self.core.config().mfa.required,
        })
    }

    /// Starts setting up an authenticator app: a new secret, waiting for its first code
    /// (replacing a set-up left unfinished).
    ///
    /// # Errors
    /// `AlreadyEnrolled` when an app is set up; the database failed.
    pub async fn start_totp_setup(
        &self,
        sudo: &Sudo,
        request: &RequestContext,
    ) -> Result<TotpSetup> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let secret = zeroize::Zeroizing::new(random_bytes::<{ totp::SECRET_BYTES }>());
        let (sealed, key_id) = self.secrets.keyring.seal(user, secret.as_slice())?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        if !store::start_enrolment(&mut change, user, &sealed, &key_id, now).await? {
            return Err(Error::AlreadyEnrolled);
        }
        change
            .audit(AuditEvent::new(Action::MfaEnrollStart).actor(user))
            .await?;
        change.commit().await?;
        self.describe_setup(secret.as_slice(), &current.user().email)
    }

    /// Finishes the set-up with a code from the app: TOTP is on, and the first backup codes
    /// are returned (to show once).
    ///
    /// # Errors
    /// `InvalidCode` for a wrong code or no set-up in progress; `AlreadyEnrolled`.
    pub async fn confirm_totp_setup(
        &self,
        sudo: &Sudo,
        code: &str,
        request: &RequestContext,
    ) -> Result<BackupCodes> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let row = store::totp(&mut change, user)
            .await?
            .ok_or(Error::InvalidCode)?;
        if row.confirmed() {
            return Err(Error::AlreadyEnrolled);
        }
        let secret = self
            .secrets
            .keyring
            .open(user, &row.secret_sealed, &row.key_id)?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let step = totp::matching_step(&secret, &code, now, None).ok_or(Error::InvalidCode)?;
        if !store::confirm(&mut change, user, step, now).await? {
            return Err(Error::InvalidCode);
        }
        let codes = self.replace_backup_codes(&mut change, user).await?;
        change
            .audit(
                AuditEvent::new(Action::MfaEnrollSuccess)
                    .actor(user)
                    .meta("method", "totp"),
            )
            .await?;
        change
            .mail(&current.user().email, Message::MfaEnabled)
            .await?;
        change.commit().await?;
        Ok(codes)
    }

    /// A new set of backup codes (the old ones stop working), authorised by an app code.
    ///
    /// # Errors
    /// `InvalidCode` (counted toward the lock), `MfaLocked`, or TOTP is not on.
    pub async fn regenerate_backup_codes(
        &self,
        sudo: &Sudo,
        code: &str,
        request: &RequestContext,
    ) -> Result<BackupCodes> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let factor = match SecondFactor::parse(code) {
            factor @ SecondFactor::Totp(_) => factor,
            SecondFactor::BackupCode(_) => return Err(Error::InvalidCode),
            #[cfg(feature = "passkeys")]
            SecondFactor::Passkey { .. } => return Err(Error::InvalidCode),
        };
        let mut change = self.authorised_by(current, &factor, request).await?;
        let codes = self.replace_backup_codes(&mut change, user).await?;
        change
            .audit(AuditEvent::new(Action::BackupCodesRegenerate).actor(user))
            .await?;
        let message = Message::BackupCodesRegenerated {
            reset_url: self.core.url(pages::RESET_PASSWORD),
        };
        change.mail(&current.user().email, message).await?;
        change.commit().await?;
        Ok(codes)
    }

    /// Turns TOTP off (its backup codes go too), authorised by a current app or backup code.
    /// Trusted browsers are forgotten and the owner is told by mail.
    ///
    /// # Errors
    /// `InvalidCode` (counted toward the lock), `MfaLocked`.
    pub async fn disable_totp(
        &self,
        sudo: &Sudo,
        factor: SecondFactor,
        request: &RequestContext,
    ) -> Result<()> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let mut change = self.authorised_by(current, &factor, request).await?;
        store::delete_totp(&mut change, user).await?;
        store::bump_trust_epoch(&mut change, user).await?;
        let event = AuditEvent::new(Action::MfaDisable)
            .actor(user)
            .meta("authorised_by", factor.method());
        change.audit(event).await?;
        let message = Message::MfaDisabled {
            reset_url: self.core.url(pages::RESET_PASSWORD),
        };
        change.mail(&current.user().email, message).await?;
        change.commit().await
    }

    /// Forgets every browser the user chose to trust.
    ///
    /// # Errors
    /// The database failed.
    pub async fn forget_trusted_browsers(
        &self,
        sudo: &Sudo,
        request: &RequestContext,
    ) -> Result<()> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let mut change = self.core.begin_change(request).await?;
        store::bump_trust_epoch(&mut change, user).await?;
        change
            .audit(AuditEvent::new(Action::TrustRevokeAll).actor(user))
            .await?;
        change.commit().await
    }

    /// The change for a settings change, once `factor` checks out. A wrong factor is
    /// counted (committed) and refused.
    async fn authorised_by<'r>(
        &'r self,
        current: &Authenticated,
        factor: &SecondFactor,
        request: &'r RequestContext,
    ) -> Result<Change<'r>> {
        let mut change = self.core.begin_change(request).await?;
        let checked = self
            .check_factor(
                &mut change,
                &current.user().id,
                &current.user().email,
                factor,
            )
            .await;
        match checked {
            Ok(()) => Ok(change),
            Err(error) => {
                change.commit().await?;
                Err(error)
            }
        }
    }

    /// Checks a second factor as part of `change` and uses it up (a TOTP step, a backup
    /// code). On a wrong one the failure is counted, and at the threshold the step locks (audit
    /// row and mail included); the caller commits either way. The browser's second-factor step,
    /// the settings changes and the API's MFA exchange all check here.
    pub(crate) async fn check_factor(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
        factor: &SecondFactor,
    ) -> Result<()> {
        // A factor of a capability switched off proves nothing (and costs no attempt).
        if !self.core.config().capabilities.has(factor.capability()) {
            return Err(Error::InvalidCode);
        }
        let now = change.now();
        let state = store::state(change, user).await?;
        if state.locked_until.is_some_and(|until| until > now) {
            return Err(Error::MfaLocked);
        }
        if self.factor_matches(change, user, factor).await? {
            store::clear_failures(change, user).await?;
            return Ok(());
        }
        let event = AuditEvent::new(Action::MfaVerify)
            .actor(user)
            .meta("method", factor.method());
        change.audit(event).await?;
        let config = &self.core.config().mfa;
        let failures = store::count_failure(change, user).await?;
        if failures < config.lockout_threshold {
            return Err(Error::InvalidCode);
        }
        // Locks grow like the password lock, so a password holder gets a handful of guesses
        // a day rather than a few every quarter hour.
        let growth = LockoutPolicy {
            threshold: config.lockout_threshold,
            duration: config.lockout_duration,
            max_duration: config.lockout_max_duration,
        };
        let duration = growth.lock_duration(state.locks_in_a_row);
        if store::lock(change, user, now.plus(duration), config.lockout_threshold).await? {
            let event = AuditEvent::new(Action::MfaLockout)
                .target_user(user)
                .meta("minutes", minutes(duration))
                .meta("locks_in_a_row", state.locks_in_a_row + 1);
            change.audit(event).await?;
            let message = Message::MfaLocked {
                minutes: minutes(duration),
                reset_url: self.core.url(pages::RESET_PASSWORD),
            };
            change.mail(email, message).await?;
            metrics::counter!("sigra_lockouts_total").increment(1);
        }
        Err(Error::MfaLocked)
    }

    async fn factor_matches(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        factor: &SecondFactor,
    ) -> Result<bool> {
        let now = change.now();
        match factor {
            SecondFactor::Totp(code) => {
                let Some(row) = store::totp(change, user)
                    .await?
                    .filter(|row| row.confirmed())
                else {
                    return Ok(false);
                };
                let secret = self
                    .secrets
                    .keyring
                    .open(user, &row.secret_sealed, &row.key_id)?;
                match totp::matching_step(&secret, code, now, row.last_used_step()) {
                    // The conditional update is the replay guard when two requests race.
                    Some(step) => store::use_step(change, user, step).await,
                    None => Ok(false),
                }
            }
            SecondFactor::BackupCode(input) => {
                match backup_codes::digest_of_input(&self.secrets.backup_code_key, user, input) {
                    Some(digest) => store::use_backup_code(change, user, &digest, now).await,
                    None => Ok(false),
                }
            }
            #[cfg(feature = "passkeys")]
            SecondFactor::Passkey { ceremony, response } => {
                self.passkeys()
                    .second_factor_matches(change, user, ceremony, response)
                    .await
            }
        }
    }

    async fn replace_backup_codes(
        &self,
        conn: &mut AnyConnection,
        user: &UserId,
    ) -> Result<BackupCodes> {
        let (codes, digests) = backup_codes::generate(&self.secrets.backup_code_key, user);
        store::replace_backup_codes(conn, user, &digests, self.core.now()).await?;
        Ok(codes)
    }

    fn describe_setup(&self, secret: &[u8], email: &EmailAddress) -> Result<TotpSetup> {
        let failed = || Error::Internal("could not describe the TOTP secret".into());
        let uri = totp::provisioning_uri(secret, email.as_str(), &self.core.config().app_name)
            .ok_or_else(failed)?;
        Ok(TotpSetup {
            secret: totp::base32(secret),
            qr_svg: totp::qr_svg(&uri).ok_or_else(failed)?,
            uri,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SecondFactor;

    #[test]
    fn six_digits_are_an_app_code_and_anything_else_a_backup_code() {
        assert!(matches!(SecondFactor::parse("123456"), SecondFactor::Totp(c) if c == "123456"));
        assert!(matches!(SecondFactor::parse(" 123 456 "), SecondFactor::Totp(c) if c == "123456"));
        assert!(matches!(
            SecondFactor::parse("abcde-12345"),
            SecondFactor::BackupCode(_)
        ));
        assert!(matches!(
            SecondFactor::parse("12345"),
            SecondFactor::BackupCode(_)
        ));
        assert!(!format!("{:?}", SecondFactor::parse("123456")).contains("123456"));
    }
}
