//! The core's one error type. `Display` is always safe to show a user: it never says whether an
//! account exists and never carries internals; the `source` keeps the detail for the log.

use crate::password::PolicyViolation;
use crate::users::EmailError;

/// What went wrong in a core operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong email or password, an unknown email, or any other failed log-in: one answer for all.
    #[error("Invalid email or password.")]
    InvalidCredentials,
    /// The email address was not accepted; the reason reveals nothing about accounts.
    #[error("{0}")]
    InvalidEmail(EmailError),
    /// The new password breaks a rule of the password policy.
    #[error("{0}")]
    WeakPassword(PolicyViolation),
    /// A link token is unknown, used, expired, or for another purpose.
    #[error("That link is invalid or has expired.")]
    InvalidToken,
    /// A confirmation code is wrong, used up, or expired.
    #[error("That code is invalid or has expired.")]
    InvalidCode,
    /// The address is not confirmed and the configuration requires it.
    #[error("Confirm your email address first: use the link we sent you, or ask for a new one.")]
    Unconfirmed,
    /// The current password given to authorise a change is wrong.
    #[error("Your current password is not correct.")]
    WrongPassword,
    /// The new address is the one already in use.
    #[error("That is already your email address.")]
    SameEmail,
    /// The action needs the password re-entered on this session (sudo mode).
    #[error("Please confirm your password to continue.")]
    SudoRequired,
    /// Too many wrong second factors in a row: the second-factor step is locked for a while.
    #[error("Too many wrong codes. Try again later, or reset your password.")]
    MfaLocked,
    /// An authenticator app is already set up.
    #[error("Two-factor authentication is already on.")]
    AlreadyEnrolled,
    /// A passkey answer was refused: unknown, replayed, expired, for another site, or refused
    /// by the sign-count policy.
    #[error("That passkey could not be used. Try again, or log in another way.")]
    PasskeyRejected,
    /// The account holds as many passkeys as allowed.
    #[error("You already have {max} passkeys. Remove one to add another.")]
    TooManyPasskeys {
        /// The limit.
        max: u32,
    },
    /// A host lifecycle hook failed; the change was rolled back.
    #[error("Something went wrong on our side.")]
    Hook(#[source] crate::hooks::HookError),
    /// The request needs a signed-in user.
    #[error("You need to log in first.")]
    Unauthenticated,
    /// Too much work is queued (password hashing); the client should retry shortly.
    #[error("The server is busy. Please try again in a moment.")]
    Busy,
    /// The database failed.
    #[error("Something went wrong on our side.")]
    Database(#[source] sqlx::Error),
    /// Anything else that is our fault.
    #[error("Something went wrong on our side.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// `Result` with the core's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a database error.
    pub fn database(error: sqlx::Error) -> Self {
        Self::Database(error)
    }

    /// Whether the caller's input caused this (as opposed to a fault on our side).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            Self::Database(_) | Self::Internal(_) | Self::Hook(_) | Self::Busy
        )
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

/// An error and each of its sources on one line, for the log.
pub fn report(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
