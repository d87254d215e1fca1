//! The error every server function returns. It carries no free text: each variant's wording
//! is fixed (for the core's kinds, by the one table in `sigra-errors`), so a crafted link (without JavaScript, errors travel in the URL) cannot put
//! words of an attacker's choosing on the page, and nothing here can carry a database message
//! or say whether an account exists.

use std::fmt;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
pub use sigra_errors::{
    ApiTokenProblem, EmailProblem, ErrorKind, OrganizationProblem, PasswordProblem,
};

/// What the user is told when a server function fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum UiError {
    /// The email address was refused.
    #[error("{0}")]
    InvalidEmail(EmailProblem),
    /// A display name too long or on more than one line.
    #[error("A display name is at most 60 characters, on one line.")]
    InvalidDisplayName,
    /// The new password breaks a rule.
    #[error("{0}")]
    WeakPassword(PasswordProblem),
    /// A mailed link is unknown, used, or expired.
    #[error("{}", ErrorKind::InvalidToken)]
    InvalidToken,
    /// A confirmation code is wrong, used up, or expired.
    #[error("{}", ErrorKind::InvalidCode)]
    InvalidCode,
    /// Log-in refused until the address is confirmed.
    #[error("{}", ErrorKind::Unconfirmed)]
    Unconfirmed,
    /// The current password given to authorise a change is wrong.
    #[error("{}", ErrorKind::WrongPassword)]
    WrongPassword,
    /// The new address is the one already in use.
    #[error("{}", ErrorKind::SameEmail)]
    SameEmail,
    /// The action needs the password re-entered first (sudo mode).
    #[error("{}", ErrorKind::SudoRequired)]
    SudoRequired,
    /// Too many wrong second factors: the step is locked for a while.
    #[error("{}", ErrorKind::MfaLocked)]
    MfaLocked,
    /// An authenticator app is already set up.
    #[error("{}", ErrorKind::AlreadyEnrolled)]
    AlreadyEnrolled,
    /// A passkey answer was refused.
    #[error("{}", ErrorKind::PasskeyRejected)]
    PasskeyRejected,
    /// The account holds as many passkeys as allowed.
    #[error("{}", ErrorKind::TooManyPasskeys { max: *max })]
    TooManyPasskeys {
        /// The limit.
        max: u32,
    },
    /// No log-in provider of that name is configured.
    #[error("{}", ErrorKind::UnknownProvider)]
    UnknownProvider,
    /// A log-in with a provider failed.
    #[error("{}", ErrorKind::OAuthFailed)]
    OAuthFailed,
    /// The log-in was declined at the provider.
    #[error("{}", ErrorKind::OAuthCancelled)]
    OAuthCancelled,
    /// Removing this would leave the account with no way to log in.
    #[error("{}", ErrorKind::LastSignInMethod)]
    LastSignInMethod,
    /// The account already has a password.
    #[error("{}", ErrorKind::PasswordAlreadySet)]
    PasswordAlreadySet,
    /// The browser has no WebAuthn (or JavaScript is off).
    #[error("This browser cannot use passkeys. Use an up-to-date browser with JavaScript on, or log in another way.")]
    PasskeysUnsupported,
    /// The authenticator already holds a passkey for this account.
    #[error("This device already has a passkey for your account. Use it to log in, or add a passkey on another device.")]
    PasskeyAlreadyOnDevice,
    /// The user closed the passkey prompt, or no passkey answered.
    #[error("No passkey was used. Try again when you are ready.")]
    PasskeyCancelled,
    /// Too many attempts from this address; wait and retry.
    #[error("{}", ErrorKind::RateLimited { retry_after_seconds: *retry_after_seconds })]
    RateLimited {
        /// Seconds to wait.
        retry_after_seconds: u64,
    },
    /// A field was missing or malformed in the submission itself.
    #[error("The form was incomplete. Please fill it in and try again.")]
    IncompleteForm,
    /// Any failed log-in.
    #[error("{}", ErrorKind::InvalidCredentials)]
    InvalidCredentials,
    /// A failed log-in after several in a row from this browser. It depends only on what this
    /// browser did, never on the account, so it reveals no more than the first answer.
    #[error(
        "{} If you have an account, check your email: we write to you when something needs your \
         attention. You can also reset your password.",
        ErrorKind::InvalidCredentials
    )]
    InvalidCredentialsAgain,
    /// The action needs a signed-in user.
    #[error("{}", ErrorKind::Unauthenticated)]
    Unauthenticated,
    /// A new password must be chosen before anything else.
    #[error("{}", ErrorKind::PasswordChangeRequired)]
    PasswordChangeRequired,
    /// A second factor must be set up before anything else.
    #[error("{}", ErrorKind::MfaEnrolmentRequired)]
    MfaEnrolmentRequired,
    /// The account is scheduled for deletion; it can only be kept.
    #[error("{}", ErrorKind::DeletionPending)]
    DeletionPending,
    /// The address typed to confirm a deletion is not the account's.
    #[error("{}", ErrorKind::ConfirmationMismatch)]
    ConfirmationMismatch,
    /// A deletion was cancelled less than a day ago.
    #[error("{}", ErrorKind::DeletionCooldown)]
    DeletionCooldown,
    /// An operator command's refusal; no page shows it.
    #[error("{}", ErrorKind::AddressTaken)]
    AddressTaken,
    /// The account is the only owner of an organization others belong to.
    #[error("{}", ErrorKind::SoleOwner)]
    SoleOwner,
    /// The page is for platform admins.
    #[error("{}", ErrorKind::AdminOnly)]
    AdminOnly,
    /// A security change on an impersonation session.
    #[error("{}", ErrorKind::ForbiddenWhileImpersonating)]
    ForbiddenWhileImpersonating,
    /// The account cannot be impersonated.
    #[error("{}", ErrorKind::NotImpersonable)]
    NotImpersonable,
    /// Removing the last second factor needs a current one.
    #[error("{}", ErrorKind::SecondFactorRequired)]
    SecondFactorRequired,
    /// The server is shedding load; try again.
    #[error("{}", ErrorKind::Busy)]
    Busy,
    /// The database cannot be reached; try again shortly.
    #[error("{}", ErrorKind::Unavailable)]
    Unavailable,
    /// A token was refused.
    #[error("{}", ErrorKind::TokenRejected)]
    TokenRejected,
    /// A token lacks a scope.
    #[error("{}", ErrorKind::InsufficientScope)]
    InsufficientScope,
    /// Only a browser session may do this.
    #[error("{}", ErrorKind::SessionRequired)]
    SessionRequired,
    /// A new API token was refused.
    #[error("{0}")]
    InvalidApiToken(ApiTokenProblem),
    /// A new API token asked for unknown scopes.
    #[error("{}", ErrorKind::UnregisteredScopes)]
    UnregisteredScopes,
    /// Not found (or not the user's).
    #[error("{}", ErrorKind::NotFound)]
    NotFound,
    /// An organization, membership or invitation change was refused.
    #[error("{0}")]
    Organization(OrganizationProblem),
    /// A request body the endpoint could not read.
    #[error("{}", ErrorKind::MalformedRequest)]
    MalformedRequest,
    /// A request that may come from another site.
    #[error("{}", ErrorKind::CrossSiteRefused)]
    CrossSiteRefused,
    /// Our fault; the request id finds the details in the log.
    #[error("{}{}", ErrorKind::Internal, quote(.request_id))]
    Server {
        /// The `x-request-id` of the failed request.
        request_id: Option<RequestId>,
    },
    /// The request never reached the server or its answer was unreadable.
    #[error("Could not reach the server. Check your connection and try again.")]
    Network,
}

fn quote(request_id: &Option<RequestId>) -> String {
    request_id
        .as_ref()
        .map(|id| format!(" If it keeps happening, quote request {id}."))
        .unwrap_or_default()
}

impl UiError {
    /// The wording of a core error kind; a fault on our side shows only the request id.
    pub fn from_kind(kind: ErrorKind, request_id: Option<RequestId>) -> Self {
        match kind {
            ErrorKind::InvalidCredentials => Self::InvalidCredentials,
            ErrorKind::Unauthenticated => Self::Unauthenticated,
            ErrorKind::PasswordChangeRequired => Self::PasswordChangeRequired,
            ErrorKind::MfaEnrolmentRequired => Self::MfaEnrolmentRequired,
            ErrorKind::DeletionPending => Self::DeletionPending,
            ErrorKind::ConfirmationMismatch => Self::ConfirmationMismatch,
            ErrorKind::DeletionCooldown => Self::DeletionCooldown,
            ErrorKind::AddressTaken => Self::AddressTaken,
            ErrorKind::SoleOwner => Self::SoleOwner,
            ErrorKind::AdminOnly => Self::AdminOnly,
            ErrorKind::ForbiddenWhileImpersonating => Self::ForbiddenWhileImpersonating,
            ErrorKind::NotImpersonable => Self::NotImpersonable,
            ErrorKind::SecondFactorRequired => Self::SecondFactorRequired,
            ErrorKind::TokenRejected => Self::TokenRejected,
            ErrorKind::InsufficientScope => Self::InsufficientScope,
            ErrorKind::SessionRequired => Self::SessionRequired,
            ErrorKind::InvalidApiToken(problem) => Self::InvalidApiToken(problem),
            ErrorKind::UnregisteredScopes => Self::UnregisteredScopes,
            ErrorKind::NotFound => Self::NotFound,
            ErrorKind::Organization(problem) => Self::Organization(problem),
            ErrorKind::MalformedRequest => Self::MalformedRequest,
            ErrorKind::CrossSiteRefused => Self::CrossSiteRefused,
            ErrorKind::InvalidEmail(problem) => Self::InvalidEmail(problem),
            ErrorKind::WeakPassword(problem) => Self::WeakPassword(problem),
            ErrorKind::InvalidToken => Self::InvalidToken,
            ErrorKind::InvalidCode => Self::InvalidCode,
            ErrorKind::Unconfirmed => Self::Unconfirmed,
            ErrorKind::WrongPassword => Self::WrongPassword,
            ErrorKind::SameEmail => Self::SameEmail,
            ErrorKind::SudoRequired => Self::SudoRequired,
            ErrorKind::MfaLocked => Self::MfaLocked,
            ErrorKind::AlreadyEnrolled => Self::AlreadyEnrolled,
            ErrorKind::PasskeyRejected => Self::PasskeyRejected,
            ErrorKind::TooManyPasskeys { max } => Self::TooManyPasskeys { max },
            ErrorKind::UnknownProvider => Self::UnknownProvider,
            ErrorKind::OAuthFailed => Self::OAuthFailed,
            ErrorKind::OAuthCancelled => Self::OAuthCancelled,
            ErrorKind::LastSignInMethod => Self::LastSignInMethod,
            ErrorKind::PasswordAlreadySet => Self::PasswordAlreadySet,
            ErrorKind::RateLimited {
                retry_after_seconds,
            } => Self::RateLimited {
                retry_after_seconds,
            },
            ErrorKind::Busy => Self::Busy,
            ErrorKind::Unavailable => Self::Unavailable,
            ErrorKind::Internal => Self::Server { request_id },
        }
    }

    /// A refusal by one of the core's layers (a rate limit, a required step, a database out of
    /// reach), in this type's own encoding, for the hydrated page.
    pub fn refusal_json(kind: ErrorKind) -> String {
        serde_json::to_string(&Self::from_kind(kind, None)).unwrap_or_default()
    }
}

/// A request id as shown to users: hexadecimal digits and dashes only, so it cannot carry
/// words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct RequestId(String);

impl TryFrom<String> for RequestId {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let valid = !text.is_empty()
            && text.len() <= 64
            && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        valid.then_some(Self(text)).ok_or("not a request id")
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromServerFnError for UiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_)
            | ServerFnErrorErr::Response(_)
            | ServerFnErrorErr::Deserialization(_) => Self::Network,
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::IncompleteForm,
            _ => Self::Server { request_id: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_cannot_carry_words() {
        assert!(RequestId::try_from("0192f3a4-7b1c-7d2e-8f90-a1b2c3d4e5f6".to_owned()).is_ok());
        assert!(RequestId::try_from("call 555-0100 to unlock".to_owned()).is_err());
        assert!(RequestId::try_from(String::new()).is_err());
        let forged = r#"{"Server":{"request_id":"call us now"}}"#;
        assert!(serde_json::from_str::<UiError>(forged).is_err());
    }
}
