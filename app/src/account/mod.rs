//! The account's server functions, each a thin adapter over one core service, and the types
//! they send to the browser. Pages create their actions themselves, inside the router, so that
//! without JavaScript an error carried back in the URL reaches the form that caused it.

mod confirmation;
mod mfa;
mod passkeys;
mod recovery;
mod security;
mod session;
mod settings;

use serde::{Deserialize, Serialize};

use crate::error::PasswordProblem;
use crate::flash::Flash;

pub use confirmation::{
    confirm_with_code, confirm_with_link, resend_confirmation, ConfirmWithCode, ConfirmWithLink,
    ResendConfirmation,
};
pub use mfa::{
    cancel_second_factor, confirm_totp_setup, disable_totp, forget_trusted_browsers, mfa_challenge,
    regenerate_backup_codes, security_overview, start_totp_setup, verify_second_factor,
    CancelSecondFactor, ConfirmTotpSetup, DisableTotp, ForgetTrustedBrowsers,
    RegenerateBackupCodes, StartTotpSetup, VerifySecondFactor,
};
pub use passkeys::{
    delete_passkey, finish_passkey_registration, list_passkeys, log_in_with_passkey,
    rename_passkey, start_passkey_log_in, start_passkey_registration, start_passkey_second_factor,
    verify_passkey_second_factor, DeletePasskey, RenamePasskey,
};
pub use recovery::{
    request_password_reset, reset_link_status, reset_password, RequestPasswordReset, ResetPassword,
};
pub use security::{
    enter_sudo, list_sessions, revoke_other_sessions, revoke_session, EnterSudo,
    RevokeOtherSessions, RevokeSession,
};
pub use session::{
    log_in, log_in_with_link, log_out, register, request_magic_link, session_state, LogIn,
    LogInWithLink, LogOut, Register, RequestMagicLink,
};
pub use settings::{
    account_overview, assess_password, cancel_email_change, change_password, confirm_email_change,
    password_rules, request_email_change, CancelEmailChange, ChangePassword, ConfirmEmailChange,
    RequestEmailChange,
};

/// Who the browser is signed in as, plus any message waiting for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    /// The signed-in user's email, if any.
    pub email: Option<String>,
    /// Whether that address still needs confirming.
    pub unconfirmed: bool,
    /// A message carried across the last redirect.
    pub flash: Option<Flash>,
}

/// What the second-factor page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaChallengeView {
    /// How many days "trust this browser" lasts.
    pub trust_days: u64,
    /// Whether an authenticator app code (or backup code) can finish the log-in.
    pub totp: bool,
    /// Whether a passkey can.
    pub passkey: bool,
}

/// A started passkey ceremony, for the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChallengeView {
    /// The ceremony id, sent back with the answer.
    pub ceremony: String,
    /// The `publicKey` options as JSON (binary fields in base64url).
    pub options: String,
}

/// One of the user's passkeys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was added (RFC 3339, UTC).
    pub created_at: String,
    /// When it was last used (RFC 3339, UTC).
    pub last_used_at: Option<String>,
}

/// The security settings page's view of the account's second factors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityView {
    /// Whether an authenticator app is set up.
    pub totp_enabled: bool,
    /// Unused backup codes.
    pub backup_codes_left: u32,
    /// A set-up in progress (only under sudo).
    pub setup: Option<TotpSetupView>,
    /// Backup codes just issued, shown this once.
    pub new_backup_codes: Option<Vec<String>>,
    /// Whether this site requires a second factor.
    pub required: bool,
    /// Whether the password was re-entered recently (changes are open).
    pub sudo: bool,
}

/// An authenticator-app set-up waiting for its first code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetupView {
    /// The secret in base32, to type by hand.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The QR code (SVG made on the server from the URI; no user input in it).
    pub qr_svg: String,
}

/// The settings page's view of the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountDetails {
    /// The normalised email address.
    pub email: String,
    /// Whether it is confirmed.
    pub confirmed: bool,
    /// An address waiting for confirmation in an email change.
    pub pending_email: Option<String>,
    /// Whether a new password must be chosen before anything else.
    pub must_change_password: bool,
    /// Whether a second factor is set up.
    pub mfa_enabled: bool,
    /// When the account was created (RFC 3339, UTC).
    pub member_since: String,
    /// When this session started (RFC 3339, UTC).
    pub signed_in_at: String,
    /// Whether this session survives a browser restart.
    pub remembered: bool,
    /// When this session ends at the latest (RFC 3339, UTC).
    pub session_ends_by: String,
}

/// What forms should tell people about passwords.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordLimits {
    /// Fewest characters.
    pub min_length: usize,
    /// Most characters.
    pub max_length: usize,
}

/// The live meter's reading of a password being typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReading {
    /// 0 to 4 bars.
    pub score: u8,
    /// Weak, fair or strong.
    pub label: StrengthWord,
    /// The first rule broken, which the server will refuse on submit.
    pub problem: Option<PasswordProblem>,
}

/// The meter's word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StrengthWord {
    /// Easy to guess.
    Weak,
    /// Acceptable.
    Fair,
    /// Good.
    Strong,
}

/// The sessions page's data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionsView {
    /// The user's sessions, most recently active first.
    pub sessions: Vec<SessionRow>,
    /// Recent security events on the account.
    pub events: Vec<EventRow>,
}

/// One session on the sessions page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    /// Its public id.
    pub id: String,
    /// "Chrome 120 on macOS".
    pub device: String,
    /// The address it came from.
    pub ip: Option<String>,
    /// "Lyon, FR".
    pub location: Option<String>,
    /// Last activity (RFC 3339, UTC).
    pub last_active: String,
    /// Whether it is this browser's.
    pub current: bool,
    /// Whether it survives browser restarts.
    pub remembered: bool,
}

/// One line of the security feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    /// What happened, in words.
    pub label: String,
    /// Whether it was a failed attempt.
    pub failed: bool,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// From where and with what.
    pub source: String,
}

#[cfg(feature = "ssr")]
fn sessions_view(
    sessions: Vec<sigra::sessions::SessionSummary>,
    events: Vec<sigra::sessions::SecurityEvent>,
) -> SessionsView {
    SessionsView {
        sessions: sessions
            .into_iter()
            .map(|s| SessionRow {
                id: s.id.to_string(),
                device: s.device,
                ip: s.ip,
                location: s.location,
                last_active: s.last_active_at.to_string(),
                current: s.current,
                remembered: s.remembered,
            })
            .collect(),
        events: events
            .into_iter()
            .map(|e| EventRow {
                label: event_label(&e.action, e.succeeded).to_owned(),
                failed: !e.succeeded,
                at: e.at.to_string(),
                source: match e.ip {
                    Some(ip) => format!("{ip} · {}", e.device),
                    None => e.device,
                },
            })
            .collect(),
    }
}

/// Words for the audit actions a user sees about themselves.
#[cfg(feature = "ssr")]
fn event_label(action: &str, succeeded: bool) -> &'static str {
    match (action, succeeded) {
        ("auth.login.success", _) => "Signed in",
        ("auth.login.failure", _) => "Failed sign-in attempt",
        ("auth.logout", _) => "Signed out",
        ("auth.magic_link_verify.success", _) => "Signed in with an email link",
        ("auth.magic_link_request", _) => "Email sign-in link requested",
        ("auth.register.success", _) => "Account created",
        ("auth.register.failure", _) => "Someone tried to register with your address",
        ("auth.confirmation_sent", _) => "Confirmation email sent",
        ("auth.confirmation_verify.success", _) => "Email address confirmed",
        ("auth.password_reset_request", _) => "Password reset requested",
        ("auth.password_reset_complete", _) => "Password reset",
        ("account.password_change", true) => "Password changed",
        ("account.password_change", false) => "Failed password change",
        ("account.password_change_required", _) => "Password change required",
        ("account.email_change.request", _) => "Email change requested",
        ("account.email_change.confirm", _) => "Email address changed",
        ("account.email_change.cancel", _) => "Email change cancelled",
        ("security.lockout", _) => "Account locked after failed sign-ins",
        ("security.suspicious_login", _) => "Sign-in from a new address",
        ("session.create", _) => "New session",
        ("session.delete", _) => "Session ended",
        ("session.revoke_others", _) => "Signed out of other sessions",
        ("session.sudo_enter", _) => "Password confirmed",
        ("session.sudo_failure", _) => "Failed password confirmation",
        ("auth.mfa.challenge", _) => "Password accepted, code asked for",
        ("auth.mfa.verify", _) => "Wrong two-factor code",
        ("security.mfa_lockout", _) => "Two-factor step locked after wrong codes",
        ("mfa.backup_code.used", _) => "Backup code used",
        ("mfa.totp.setup_start", _) => "Authenticator set-up started",
        ("mfa.enable", _) => "Two-factor authentication turned on",
        ("mfa.disable", _) => "Two-factor authentication turned off",
        ("mfa.backup_codes.regenerate", _) => "New backup codes made",
        ("mfa.trusted_browsers.forget", _) => "Trusted browsers forgotten",
        ("passkey.register", _) => "Passkey added",
        ("passkey.rename", _) => "Passkey renamed",
        ("passkey.delete", _) => "Passkey removed",
        ("security.passkey_sign_count_regression", _) => {
            "Passkey counter went backwards (possible copy)"
        }
        _ => "Account activity",
    }
}
