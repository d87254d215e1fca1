//! The one table of what can go wrong in words a user may read. Each kind has its message, its
//! HTTP status and a stable code, defined once here and read by both sides: the core's JSON
//! error response (`sigra::http::AppError`) and the host's server-function error, which the
//! browser (wasm) displays. Nothing here carries free text: every message is fixed, so no
//! caller can put an attacker's words on a page, and none says whether an account exists.

use serde::{Deserialize, Serialize};

/// A failure a client can be told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ErrorKind {
    /// Any failed log-in: one answer for a wrong password, an unknown email or a locked account.
    #[error("Invalid email or password.")]
    InvalidCredentials,
    /// The email address was refused.
    #[error("{0}")]
    InvalidEmail(EmailProblem),
    /// The new password breaks a rule of the password policy.
    #[error("{0}")]
    WeakPassword(PasswordProblem),
    /// A mailed link is unknown, used, expired, or for another purpose.
    #[error("That link is invalid or has expired. Ask for a new one.")]
    InvalidToken,
    /// A code is wrong, used up, or expired.
    #[error("That code is invalid or has expired.")]
    InvalidCode,
    /// The address is not confirmed and the configuration requires it.
    #[error("Confirm your email address first: use the link we sent you, or ask for a new one.")]
    Unconfirmed,
    /// The current password given to authorise a change is wrong (or the account is locked).
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
    /// No log-in provider of that name is configured.
    #[error("That log-in provider is not available.")]
    UnknownProvider,
    /// A log-in with a provider failed: a bad or replayed answer, a refused token, an address
    /// that belongs to another account. One answer for every such failure.
    #[error(
        "Logging in with that provider did not work. Try again, or use another way to log in."
    )]
    OAuthFailed,
    /// The provider answered that the user (or the provider) declined.
    #[error("Logging in with that provider was cancelled. Nothing was changed.")]
    OAuthCancelled,
    /// Removing this would leave the account with no way to log in.
    #[error(
        "This is your only way to log in. Add a password, a passkey or another provider first."
    )]
    LastSignInMethod,
    /// A password can be set only on an account without one; this one has one.
    #[error("This account already has a password. Change it instead.")]
    PasswordAlreadySet,
    /// Too many attempts from this user or address; wait and retry.
    #[error("Too many attempts. Please wait {retry_after_seconds} seconds and try again.")]
    RateLimited {
        /// Seconds to wait.
        retry_after_seconds: u64,
    },
    /// The request needs a signed-in user.
    #[error("You need to log in first.")]
    Unauthenticated,
    /// The account must choose a new password before anything else.
    #[error("Choose a new password before you continue.")]
    PasswordChangeRequired,
    /// The site requires a second factor and the account has none yet.
    #[error("Set up two-factor authentication before you continue.")]
    MfaEnrolmentRequired,
    /// The account is scheduled for deletion: keeping it is the only thing it can do.
    #[error("Your account is scheduled for deletion. Keep it to continue.")]
    DeletionPending,
    /// The address typed to confirm a deletion is not the account's.
    #[error("Type your email address exactly as shown to confirm.")]
    ConfirmationMismatch,
    /// The page or action is for the site's administrators (platform admins) only.
    #[error("This is for the site's administrators only.")]
    AdminOnly,
    /// A security change was attempted on an impersonation session.
    #[error("You can't change account security settings while impersonating.")]
    ForbiddenWhileImpersonating,
    /// The account cannot be impersonated: a platform admin, the admin's own, or one being
    /// deleted.
    #[error("This account can't be impersonated.")]
    NotImpersonable,
    /// The account is the only owner of an organization others belong to.
    #[error("You are the only owner of an organization others belong to. Make another member an owner, or delete the organization, first.")]
    SoleOwner,
    /// An operator tried to create an account for an address that has one. Only operator
    /// commands can see this: every guest-facing form answers the same for any address.
    #[error("That address already has an account.")]
    AddressTaken,
    /// A deletion was cancelled less than a day ago; a new request must wait.
    #[error("You kept your account less than a day ago. You can ask to delete it again 24 hours after that.")]
    DeletionCooldown,
    /// The change would remove the account's last second factor: a current one must confirm it.
    #[error("Confirm with your passkey to remove your last second factor.")]
    SecondFactorRequired,
    /// Too much work is queued (password hashing); the client should retry shortly.
    #[error("The server is busy. Please try again in a moment.")]
    Busy,
    /// A service the server needs (the database) cannot be reached; retry shortly.
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    /// A bearer token (API token, access token, refresh token, MFA token) is missing,
    /// malformed, unknown, expired or revoked. One answer for all, so nothing is learnt.
    #[error("The token is missing, invalid, expired or revoked.")]
    TokenRejected,
    /// The token is valid but lacks a scope the request needs (the response names them).
    #[error("The token does not carry a scope this request needs.")]
    InsufficientScope,
    /// The request needs a signed-in browser session: no token may do it, whatever its scopes.
    #[error("This needs a signed-in session; a token cannot do it.")]
    SessionRequired,
    /// A new API token was refused.
    #[error("{0}")]
    InvalidApiToken(ApiTokenProblem),
    /// A new API token asked for scopes that are not registered (the response names them).
    #[error("Some of the requested scopes do not exist.")]
    UnregisteredScopes,
    /// The request body is not the JSON this endpoint takes.
    #[error("The request body must be JSON in the form this endpoint takes.")]
    MalformedRequest,
    /// A state-changing request that may come from another site (a cross-site form or script).
    #[error("Cross-site request refused.")]
    CrossSiteRefused,
    /// The thing asked for does not exist (or is not the caller's).
    #[error("That was not found.")]
    NotFound,
    /// An organization, membership or invitation change was refused.
    #[error("{0}")]
    Organization(OrganizationProblem),
    /// Our fault; the detail is in the log under the request id.
    #[error("Something went wrong on our side.")]
    Internal,
}

impl ErrorKind {
    /// The HTTP status code.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidCredentials | Self::Unauthenticated | Self::TokenRejected => 401,
            Self::InsufficientScope | Self::SessionRequired | Self::CrossSiteRefused => 403,
            Self::MalformedRequest => 400,
            Self::InvalidApiToken(_) | Self::UnregisteredScopes => 422,
            Self::NotFound => 404,
            Self::Organization(problem) => problem.status(),
            Self::InvalidEmail(_)
            | Self::WeakPassword(_)
            | Self::SameEmail
            | Self::TooManyPasskeys { .. } => 422,
            Self::AlreadyEnrolled => 409,
            Self::InvalidToken
            | Self::InvalidCode
            | Self::PasskeyRejected
            | Self::OAuthFailed
            | Self::OAuthCancelled => 400,
            Self::UnknownProvider => 404,
            Self::LastSignInMethod
            | Self::PasswordAlreadySet
            | Self::DeletionCooldown
            | Self::AddressTaken
            | Self::SoleOwner => 409,
            Self::AdminOnly | Self::ForbiddenWhileImpersonating => 403,
            Self::NotImpersonable => 409,
            Self::ConfirmationMismatch => 422,
            Self::Unconfirmed
            | Self::WrongPassword
            | Self::SudoRequired
            | Self::PasswordChangeRequired
            | Self::MfaEnrolmentRequired
            | Self::DeletionPending
            | Self::SecondFactorRequired => 403,
            Self::MfaLocked | Self::RateLimited { .. } => 429,
            Self::Busy | Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The stable machine-readable code, for JSON clients.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidEmail(_) => "invalid_email",
            Self::WeakPassword(_) => "weak_password",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCode => "invalid_code",
            Self::Unconfirmed => "unconfirmed",
            Self::WrongPassword => "wrong_password",
            Self::SameEmail => "same_email",
            Self::SudoRequired => "sudo_required",
            Self::MfaLocked => "mfa_locked",
            Self::AlreadyEnrolled => "already_enrolled",
            Self::PasskeyRejected => "passkey_rejected",
            Self::TooManyPasskeys { .. } => "too_many_passkeys",
            Self::UnknownProvider => "unknown_provider",
            Self::OAuthFailed => "oauth_failed",
            Self::OAuthCancelled => "oauth_cancelled",
            Self::LastSignInMethod => "last_sign_in_method",
            Self::PasswordAlreadySet => "password_already_set",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unauthenticated => "unauthenticated",
            Self::PasswordChangeRequired => "password_change_required",
            Self::MfaEnrolmentRequired => "mfa_enrolment_required",
            Self::DeletionPending => "account_deletion_pending",
            Self::ConfirmationMismatch => "confirmation_mismatch",
            Self::DeletionCooldown => "deletion_cooldown",
            Self::AddressTaken => "address_taken",
            Self::SoleOwner => "sole_owner",
            Self::AdminOnly => "admin_only",
            Self::ForbiddenWhileImpersonating => "forbidden_while_impersonating",
            Self::NotImpersonable => "not_impersonable",
            Self::SecondFactorRequired => "second_factor_required",
            Self::Busy => "busy",
            Self::Unavailable => "unavailable",
            Self::TokenRejected => "token_rejected",
            Self::InsufficientScope => "insufficient_scope",
            Self::SessionRequired => "session_required",
            Self::InvalidApiToken(_) => "invalid_api_token",
            Self::UnregisteredScopes => "unregistered_scopes",
            Self::NotFound => "not_found",
            Self::Organization(problem) => problem.code(),
            Self::MalformedRequest => "malformed_request",
            Self::CrossSiteRefused => "cross_site_refused",
            Self::Internal => "internal",
        }
    }

    /// Seconds a client should wait before retrying, where the kind says.
    pub fn retry_after(self) -> Option<u64> {
        match self {
            Self::RateLimited {
                retry_after_seconds,
            } => Some(retry_after_seconds),
            Self::Busy => Some(1),
            Self::Unavailable => Some(5),
            _ => None,
        }
    }
}

/// Why an email address was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum EmailProblem {
    /// Nothing was entered.
    #[error("Enter your email address.")]
    Missing,
    /// Longer than an address can be (254 characters).
    #[error("That email address is too long.")]
    TooLong,
    /// Not of the form name@example.com.
    #[error("Enter an email address like name@example.com.")]
    Malformed,
}

/// Which rule of the password policy a new password broke. Each message says exactly which,
/// and reveals nothing about other accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PasswordProblem {
    /// Fewer characters than the minimum.
    #[error("Password must be at least {min} characters long.")]
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// More characters than the maximum.
    #[error("Password must be at most {max} characters long.")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// On the list of commonly used passwords.
    #[error("This password is one of the most commonly used. Choose something less predictable.")]
    Common,
    /// The user's own email address, or built from it.
    #[error("Password must not be your email address or built from it.")]
    BasedOnEmail,
    /// The name of this site, or built from it.
    #[error("Password must not be built from the name of this site.")]
    BasedOnAppName,
    /// Easy to guess: a repeat, a sequence, a keyboard pattern or a dictionary word with simple
    /// changes (the strength estimate counts fewer than 10^8 guesses).
    #[error("This password is easy to guess (a repeat, a sequence, a keyboard pattern or a common word with small changes). Add a few unrelated words.")]
    Guessable,
    /// Known from a data breach (the optional breached-password check).
    #[error("This password has appeared in a data breach. Choose a different one.")]
    Breached,
}

/// Why a new API token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiTokenProblem {
    /// No name was given.
    #[error("Give the token a name.")]
    NameRequired,
    /// The name is longer than 255 characters.
    #[error("The name must be at most 255 characters long.")]
    NameTooLong,
    /// No scope was chosen.
    #[error("Choose at least one scope.")]
    ScopesRequired,
    /// A scope is not of the form `resource:action` (or `*`).
    #[error("Scopes look like resource:action, in lowercase letters and underscores.")]
    InvalidScopeFormat,
    /// This site requires every token to expire.
    #[error("Choose when the token expires.")]
    ExpiryRequired,
    /// The expiry is further away than this site allows.
    #[error("Tokens may last at most {max_days} days here.")]
    ExpiryTooLong {
        /// The longest lifetime, in days.
        max_days: u64,
    },
    /// The expiry is not in the future.
    #[error("The expiry must be in the future.")]
    ExpiryInPast,
}

/// Why an organization, membership or invitation change was refused. None of these says
/// anything about an organization the caller is not a member of: that is `NotFound`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum OrganizationProblem {
    /// No name was given.
    #[error("Give the organization a name.")]
    NameRequired,
    /// The name is longer than allowed.
    #[error("The name must be at most {max} characters long.")]
    NameTooLong {
        /// The longest name, in characters.
        max: usize,
    },
    /// The slug is not of the allowed form.
    #[error(
        "The address name must be 3 to 63 lowercase letters, digits and dashes, start with a \
         letter and end with a letter or digit."
    )]
    SlugInvalid,
    /// The slug is kept for the site's own pages.
    #[error("That address name is reserved. Choose another.")]
    SlugReserved,
    /// Another organization uses the slug (or did until lately).
    #[error("That address name is taken. Choose another.")]
    SlugTaken,
    /// The text typed to confirm a deletion or a slug change is not the organization's.
    #[error("What you typed does not match. Type it exactly as shown to confirm.")]
    ConfirmationMismatch,
    /// The caller's role does not allow this.
    #[error("Your role in this organization does not allow that.")]
    NotAllowed,
    /// No role of that name exists.
    #[error("That role does not exist.")]
    UnknownRole,
    /// The change would leave the organization without an owner.
    #[error("An organization needs an owner. Make another member owner first.")]
    LastOwner,
    /// The person is already a member.
    #[error("That person is already a member of this organization.")]
    AlreadyMember,
    /// The invitation was accepted, revoked or has expired.
    #[error("This invitation is no longer valid. Ask for a new one.")]
    InvitationNotPending,
    /// The invited address already has an account, which must log in to accept.
    #[error("An account with this email address exists. Log in to accept the invitation.")]
    AccountExists,
    /// The invitation was sent to another address than the signed-in account's.
    #[error(
        "This invitation was sent to another email address. Log in with that address to accept it."
    )]
    InvitationForAnotherAddress,
}

impl OrganizationProblem {
    /// The HTTP status code.
    pub fn status(self) -> u16 {
        match self {
            Self::NameRequired
            | Self::NameTooLong { .. }
            | Self::SlugInvalid
            | Self::SlugReserved
            | Self::ConfirmationMismatch
            | Self::UnknownRole => 422,
            Self::SlugTaken | Self::LastOwner | Self::AlreadyMember | Self::AccountExists => 409,
            Self::NotAllowed | Self::InvitationForAnotherAddress => 403,
            Self::InvitationNotPending => 410,
        }
    }

    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NameRequired => "organization_name_required",
            Self::NameTooLong { .. } => "organization_name_too_long",
            Self::SlugInvalid => "slug_invalid",
            Self::SlugReserved => "slug_reserved",
            Self::SlugTaken => "slug_taken",
            Self::ConfirmationMismatch => "confirmation_mismatch",
            Self::NotAllowed => "role_not_allowed",
            Self::UnknownRole => "unknown_role",
            Self::LastOwner => "last_owner",
            Self::AlreadyMember => "already_member",
            Self::InvitationNotPending => "invitation_not_pending",
            Self::AccountExists => "account_exists",
            Self::InvitationForAnotherAddress => "invitation_for_another_address",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_keeps_its_wire_name_and_refuses_invented_ones() {
        let json = serde_json::to_string(&ErrorKind::MfaLocked).expect("encode");
        assert_eq!(json, r#""MfaLocked""#);
        assert!(serde_json::from_str::<ErrorKind>(r#"{"Internal":"call 555"}"#).is_err());
    }
}
