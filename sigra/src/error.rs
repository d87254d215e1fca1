//! The core's one error type. `Display` is always safe to show a user: it is the message of the
//! error's [`ErrorKind`] (one table, shared with the browser), never says whether an account
//! exists and never carries internals; the `source` keeps the detail for the log.

pub use sigra_errors::{ApiTokenProblem, ErrorKind, OrganizationProblem};

use crate::password::PolicyViolation;
use crate::users::EmailError;

/// What went wrong in a core operation.
#[derive(Debug)]
pub enum Error {
    /// Wrong email or password, an unknown email, or any other failed log-in: one answer for all.
    InvalidCredentials,
    /// The email address was not accepted; the reason reveals nothing about accounts.
    InvalidEmail(EmailError),
    /// The new password breaks a rule of the password policy.
    WeakPassword(PolicyViolation),
    /// A link token is unknown, used, expired, or for another purpose.
    InvalidToken,
    /// A confirmation code is wrong, used up, or expired.
    InvalidCode,
    /// The address is not confirmed and the configuration requires it.
    Unconfirmed,
    /// The current password given to authorise a change is wrong.
    WrongPassword,
    /// The new address is the one already in use.
    SameEmail,
    /// The action needs the password re-entered on this session (sudo mode).
    SudoRequired,
    /// Too many wrong second factors in a row: the second-factor step is locked for a while.
    MfaLocked,
    /// An authenticator app is already set up.
    AlreadyEnrolled,
    /// A passkey answer was refused: unknown, replayed, expired, for another site, or refused
    /// by the sign-count policy.
    PasskeyRejected,
    /// The account holds as many passkeys as allowed.
    TooManyPasskeys {
        /// The limit.
        max: u32,
    },
    /// No sign-in provider of that name is configured.
    UnknownProvider,
    /// A sign-in with a provider failed (the reason is in the audit row, not the answer).
    OAuthFailed,
    /// The provider answered that the sign-in was declined.
    OAuthCancelled,
    /// Removing this would leave the account with no way to sign in.
    LastSignInMethod,
    /// A password can be set only on an account without one.
    PasswordAlreadySet,
    /// A host lifecycle hook failed; the change was rolled back.
    Hook(crate::hooks::HookError),
    /// Too many attempts from this user or client address; `retry_after_seconds` says when
    /// to try again.
    RateLimited {
        /// Seconds until the window resets.
        retry_after_seconds: u64,
    },
    /// The request needs a signed-in user.
    Unauthenticated,
    /// A bearer, refresh or MFA token is missing, malformed, unknown, expired or revoked.
    TokenRejected,
    /// The token lacks these scopes (registered names, safe to show).
    InsufficientScope(Vec<String>),
    /// Only a signed-in browser session may do this; a token never can.
    SessionRequired,
    /// A new API token was refused.
    InvalidApiToken(ApiTokenProblem),
    /// A new API token asked for scopes that are not registered; they are well-formed names,
    /// so safe to show.
    UnregisteredScopes(Vec<String>),
    /// The thing asked for does not exist, or belongs to someone else.
    NotFound,
    /// An organization, membership or invitation change was refused.
    Organization(OrganizationProblem),
    /// The request body is not the JSON the endpoint takes.
    MalformedRequest,
    /// A state-changing request that may come from another site.
    CrossSiteRefused,
    /// The account must choose a new password before anything else.
    PasswordChangeRequired,
    /// The site requires a second factor and the account has none yet.
    MfaEnrolmentRequired,
    /// The account is scheduled for deletion: it can only be kept (or left to go).
    DeletionPending,
    /// The address typed to confirm a deletion is not the account's.
    ConfirmationMismatch,
    /// A deletion was cancelled less than a day ago.
    DeletionCooldown,
    /// An operator asked for an account at an address that has one (operator commands only).
    AddressTaken,
    /// The account is the only owner of an organization others belong to.
    SoleOwner,
    /// The signed-in user is not a platform admin.
    AdminOnly,
    /// A security change was attempted on an impersonation session.
    ForbiddenWhileImpersonating,
    /// The account cannot be impersonated (a platform admin, oneself, or being deleted).
    NotImpersonable,
    /// Removing the account's last second factor needs a current one.
    SecondFactorRequired,
    /// Too much work is queued (password hashing); the client should retry shortly.
    Busy,
    /// A service the core needs (the database, Redis) cannot be reached: down, restarting,
    /// out of connections. The client should retry shortly.
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
    /// The database failed.
    Database(sqlx::Error),
    /// Anything else that is our fault.
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

/// The message of the error's kind: always safe to show.
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind().fmt(f)
    }
}

/// The detail behind a server-side failure, for the log.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Hook(error) => Some(error),
            Self::Database(error) => Some(error),
            Self::Unavailable(error) => Some(error.as_ref()),
            Self::Internal(error) => Some(error.as_ref()),
            _ => None,
        }
    }
}

/// `Result` with the core's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a database error: one that says the database cannot be reached is
    /// `Unavailable`, anything else a fault.
    pub fn database(error: sqlx::Error) -> Self {
        if is_unreachable(&error) {
            Self::Unavailable(Box::new(error))
        } else {
            Self::Database(error)
        }
    }

    /// What a client may be told: the kind, whose message, status and code come from the one
    /// table in `sigra-errors`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidCredentials => ErrorKind::InvalidCredentials,
            Self::InvalidEmail(problem) => ErrorKind::InvalidEmail(*problem),
            Self::WeakPassword(problem) => ErrorKind::WeakPassword(*problem),
            Self::InvalidToken => ErrorKind::InvalidToken,
            Self::InvalidCode => ErrorKind::InvalidCode,
            Self::Unconfirmed => ErrorKind::Unconfirmed,
            Self::WrongPassword => ErrorKind::WrongPassword,
            Self::SameEmail => ErrorKind::SameEmail,
            Self::SudoRequired => ErrorKind::SudoRequired,
            Self::MfaLocked => ErrorKind::MfaLocked,
            Self::AlreadyEnrolled => ErrorKind::AlreadyEnrolled,
            Self::PasskeyRejected => ErrorKind::PasskeyRejected,
            Self::TooManyPasskeys { max } => ErrorKind::TooManyPasskeys { max: *max },
            Self::UnknownProvider => ErrorKind::UnknownProvider,
            Self::OAuthFailed => ErrorKind::OAuthFailed,
            Self::OAuthCancelled => ErrorKind::OAuthCancelled,
            Self::LastSignInMethod => ErrorKind::LastSignInMethod,
            Self::PasswordAlreadySet => ErrorKind::PasswordAlreadySet,
            Self::RateLimited {
                retry_after_seconds,
            } => ErrorKind::RateLimited {
                retry_after_seconds: *retry_after_seconds,
            },
            Self::Unauthenticated => ErrorKind::Unauthenticated,
            Self::TokenRejected => ErrorKind::TokenRejected,
            Self::InsufficientScope(_) => ErrorKind::InsufficientScope,
            Self::SessionRequired => ErrorKind::SessionRequired,
            Self::InvalidApiToken(problem) => ErrorKind::InvalidApiToken(*problem),
            Self::UnregisteredScopes(_) => ErrorKind::UnregisteredScopes,
            Self::NotFound => ErrorKind::NotFound,
            Self::Organization(problem) => ErrorKind::Organization(*problem),
            Self::MalformedRequest => ErrorKind::MalformedRequest,
            Self::CrossSiteRefused => ErrorKind::CrossSiteRefused,
            Self::PasswordChangeRequired => ErrorKind::PasswordChangeRequired,
            Self::MfaEnrolmentRequired => ErrorKind::MfaEnrolmentRequired,
            Self::DeletionPending => ErrorKind::DeletionPending,
            Self::ConfirmationMismatch => ErrorKind::ConfirmationMismatch,
            Self::DeletionCooldown => ErrorKind::DeletionCooldown,
            Self::AddressTaken => ErrorKind::AddressTaken,
            Self::SoleOwner => ErrorKind::SoleOwner,
            Self::AdminOnly => ErrorKind::AdminOnly,
            Self::ForbiddenWhileImpersonating => ErrorKind::ForbiddenWhileImpersonating,
            Self::NotImpersonable => ErrorKind::NotImpersonable,
            Self::SecondFactorRequired => ErrorKind::SecondFactorRequired,
            Self::Busy => ErrorKind::Busy,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Database(_) | Self::Internal(_) | Self::Hook(_) => ErrorKind::Internal,
        }
    }

    /// Whether the caller's input caused this (as opposed to a fault on our side).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            Self::Database(_)
                | Self::Internal(_)
                | Self::Hook(_)
                | Self::Busy
                | Self::Unavailable(_)
        )
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Self::database(error)
    }
}

/// Whether `error` says the database cannot be reached, rather than that a statement failed:
/// no connection in time, a socket that broke (also in the middle of the protocol, as when a
/// connection is cut during its handshake), or a server shutting down or starting up
/// (SQLSTATE class 08, and 57P01 to 57P03).
fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
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
