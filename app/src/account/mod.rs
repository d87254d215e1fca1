//! The account's server functions, each a thin adapter over one core service, and the types
//! they send to the browser. Pages create their actions themselves, inside the router, so that
//! without JavaScript an error carried back in the URL reaches the form that caused it.

mod confirmation;
mod recovery;
mod session;
mod settings;

use serde::{Deserialize, Serialize};

use crate::error::PasswordProblem;
use crate::flash::Flash;

pub use confirmation::{
    confirm_with_code, confirm_with_link, resend_confirmation, ConfirmWithCode, ConfirmWithLink,
    ResendConfirmation,
};
pub use recovery::{
    request_password_reset, reset_link_status, reset_password, RequestPasswordReset, ResetPassword,
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
