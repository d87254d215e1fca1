//! Who may call an API route, as types. [`Caller`] is any live credential (a session, an API
//! token, an access token); [`Granted<S>`] is a caller whose token carries every scope `S`
//! names (a session is its own user and needs none). A route that changes credentials takes
//! `Authenticated` or `Sudo` instead, which a bearer request can never produce.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::api_tokens::ApiTokenAuth;
use crate::error::Error;
#[cfg(feature = "jwt")]
use crate::jwt::AccessTokenAuth;
use crate::sessions::Authenticated;
use crate::users::User;

use super::error::AppError;
use super::scope::Scope;

/// Scopes a route requires, named once on a marker type (see [`crate::required_scopes!`]).
pub trait RequiredScopes: Send + Sync + 'static {
    /// Every scope needed.
    const SCOPES: &'static [&'static str];
}

/// Declares a marker type for [`Granted`]: `required_scopes!(pub BillingRead = ["billing:read"]);`
#[macro_export]
macro_rules! required_scopes {
    ($(#[$meta:meta])* $vis:vis $name:ident = [$($scope:literal),+ $(,)?]) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name;

        impl $crate::http::RequiredScopes for $name {
            const SCOPES: &'static [&'static str] = &[$($scope),+];
        }
    };
}

/// The built-in scopes, as markers for [`Granted`].
pub mod scopes {
    crate::required_scopes!(
        /// `profile:read`
        pub ProfileRead = ["profile:read"]
    );
    crate::required_scopes!(
        /// `profile:write`
        pub ProfileWrite = ["profile:write"]
    );
    crate::required_scopes!(
        /// `sessions:read`
        pub SessionsRead = ["sessions:read"]
    );
    crate::required_scopes!(
        /// `sessions:write`
        pub SessionsWrite = ["sessions:write"]
    );
    crate::required_scopes!(
        /// `api_tokens:read`
        pub ApiTokensRead = ["api_tokens:read"]
    );
    crate::required_scopes!(
        /// `api_tokens:write`
        pub ApiTokensWrite = ["api_tokens:write"]
    );
    crate::required_scopes!(
        /// `mfa:read`
        pub MfaRead = ["mfa:read"]
    );
}

/// Any live credential.
#[derive(Clone, Debug)]
pub enum Caller {
    /// A signed-in browser session.
    Session(Authenticated),
    /// A personal API token.
    ApiToken(ApiTokenAuth),
    /// A JWT access token.
    #[cfg(feature = "jwt")]
    AccessToken(AccessTokenAuth),
}

impl Caller {
    /// The user it speaks for.
    pub fn user(&self) -> &User {
        match self {
            Self::Session(session) => session.user(),
            Self::ApiToken(token) => token.user(),
            #[cfg(feature = "jwt")]
            Self::AccessToken(token) => token.user(),
        }
    }

    /// The session, when a browser session made the request.
    pub fn session(&self) -> Option<&Authenticated> {
        match self {
            Self::Session(session) => Some(session),
            Self::ApiToken(_) => None,
            #[cfg(feature = "jwt")]
            Self::AccessToken(_) => None,
        }
    }

    /// Which kind of credential it is, for responses and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Session(_) => "session",
            Self::ApiToken(_) => "api_token",
            #[cfg(feature = "jwt")]
            Self::AccessToken(_) => "access_token",
        }
    }

    fn missing(&self, required: &[&'static str]) -> Vec<&'static str> {
        match self {
            Self::Session(_) => Vec::new(),
            Self::ApiToken(token) => token.scopes().missing(required),
            #[cfg(feature = "jwt")]
            Self::AccessToken(token) => token.scopes().missing(required),
        }
    }
}

fn caller_of(parts: &Parts) -> Result<Caller, AppError> {
    match parts.extensions.get::<Scope>() {
        Some(Scope::SignedIn(session)) => Ok(Caller::Session(session.clone())),
        Some(Scope::ApiToken(token)) => Ok(Caller::ApiToken(token.clone())),
        #[cfg(feature = "jwt")]
        Some(Scope::AccessToken(token)) => Ok(Caller::AccessToken(token.clone())),
        Some(Scope::Guest | Scope::PendingSecondFactor(_)) | None => {
            Err(AppError(Error::Unauthenticated))
        }
    }
}

/// Requires a live credential of any kind: 401 (with `WWW-Authenticate: Bearer`) otherwise.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        caller_of(parts)
    }
}

/// A caller allowed the scopes of `R`: 401 without a credential, 403 naming the missing scopes
/// for a token without them.
#[derive(Debug)]
pub struct Granted<R: RequiredScopes> {
    caller: Caller,
    scopes: PhantomData<R>,
}

impl<R: RequiredScopes> Granted<R> {
    /// The caller.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The user it speaks for.
    pub fn user(&self) -> &User {
        self.caller.user()
    }
}

impl<S: Send + Sync, R: RequiredScopes> FromRequestParts<S> for Granted<R> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let caller = caller_of(parts)?;
        let missing = caller.missing(R::SCOPES);
        if !missing.is_empty() {
            return Err(AppError(Error::InsufficientScope(
                missing.into_iter().map(str::to_owned).collect(),
            )));
        }
        Ok(Self {
            caller,
            scopes: PhantomData,
        })
    }
}
