//! Resolves the session once per request and leaves the answer in the request extensions,
//! where the extractors find it.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{HeaderMap, HeaderValue, SET_COOKIE};

use crate::api_tokens::ApiTokenAuth;
use crate::crypto::PresentedToken;
#[cfg(feature = "jwt")]
use crate::jwt::AccessTokenAuth;
use crate::sessions::{Authenticated, PendingMfa, SessionCheck};
use crate::users::User;
use crate::Sigra;

use super::cookies::{
    clear_impersonator_cookie, clear_session_cookie, find_cookie, host_cookie,
    renewed_session_cookie, IMPERSONATOR_COOKIE, SESSION_COOKIE,
};
use super::error::AppError;

/// Who is making this request. Only [`resolve_session`] builds one, from the session check;
/// the extractors read the proofs out of it. An impersonation is a `SignedIn` session whose
/// [`Authenticated::impersonator`] names the admin.
#[derive(Clone, Debug, Default)]
pub enum Scope {
    /// Nobody is signed in.
    #[default]
    Guest,
    /// A right first factor, waiting for the second.
    PendingSecondFactor(PendingMfa),
    /// A live session.
    SignedIn(Authenticated),
    /// A bearer request with a live personal API token.
    ApiToken(ApiTokenAuth),
    /// A bearer request with a valid JWT access token.
    #[cfg(feature = "jwt")]
    AccessToken(AccessTokenAuth),
}

impl Scope {
    /// The live session, if the request has one.
    pub fn authenticated(&self) -> Option<&Authenticated> {
        match self {
            Self::SignedIn(authenticated) => Some(authenticated),
            Self::Guest | Self::PendingSecondFactor(_) | Self::ApiToken(_) => None,
            #[cfg(feature = "jwt")]
            Self::AccessToken(_) => None,
        }
    }

    /// The user a live credential (session or bearer) speaks for.
    pub fn user(&self) -> Option<&User> {
        match self {
            Self::SignedIn(authenticated) => Some(authenticated.user()),
            Self::ApiToken(token) => Some(token.user()),
            #[cfg(feature = "jwt")]
            Self::AccessToken(token) => Some(token.user()),
            Self::Guest | Self::PendingSecondFactor(_) => None,
        }
    }

    /// Whether a bearer token authenticated the request.
    pub fn is_bearer(&self) -> bool {
        match self {
            Self::ApiToken(_) => true,
            #[cfg(feature = "jwt")]
            Self::AccessToken(_) => true,
            Self::Guest | Self::PendingSecondFactor(_) | Self::SignedIn(_) => false,
        }
    }

    /// The log-in waiting for its second factor, if that is what the request carries.
    pub fn pending_mfa(&self) -> Option<&PendingMfa> {
        match self {
            Self::PendingSecondFactor(pending) => Some(pending),
            Self::Guest | Self::SignedIn(_) | Self::ApiToken(_) => None,
            #[cfg(feature = "jwt")]
            Self::AccessToken(_) => None,
        }
    }
}

/// Axum middleware: checks the session cookie (timeouts included), stores the [`Scope`], hands
/// the browser a rolled token, and removes a cookie whose session has ended so the browser
/// stops sending it. A token that is merely unknown is left alone: it may be one just replaced
/// by a newer cookie (sudo, a rolled token) that a request still in flight would otherwise
/// clear.
pub async fn resolve_session(
    State(sigra): State<Sigra>,
    mut request: Request,
    next: Next,
) -> Response {
    if super::bearer::is_bearer_request(request.headers()) {
        let authenticated =
            super::bearer::authenticate(&sigra, request.headers(), request.extensions()).await;
        return match authenticated {
            Ok(scope) => {
                request.extensions_mut().insert(scope);
                next.run(request).await
            }
            Err(error) => AppError(error).into_response(),
        };
    }
    let presented = find_cookie(request.headers(), SESSION_COOKIE).map(PresentedToken::parse);
    let (mut scope, renewed, stale_cookie) = match presented {
        None => (Scope::Guest, None, false),
        Some(None) => (Scope::Guest, None, true),
        Some(Some(token)) => match sigra.sessions().authenticate_session(&token).await {
            Ok(SessionCheck::Active(authenticated, renewed)) => {
                (Scope::SignedIn(authenticated), renewed, false)
            }
            Ok(SessionCheck::PendingMfa(pending)) => {
                (Scope::PendingSecondFactor(pending), None, false)
            }
            Ok(SessionCheck::Expired(_)) => (Scope::Guest, None, true),
            Ok(SessionCheck::Unknown) => (Scope::Guest, None, false),
            Err(error) => return AppError(error).into_response(),
        },
    };
    // An impersonation that ran out (or was revoked) gives the browser back to the admin whose
    // own session it kept aside.
    let mut resumed = None;
    if matches!(scope, Scope::Guest) {
        let kept = find_cookie(request.headers(), IMPERSONATOR_COOKIE).map(str::to_owned);
        if let Some(kept) = kept {
            match resume(&sigra, &kept).await {
                Ok(Some((own, cookie))) => {
                    scope = Scope::SignedIn(own);
                    resumed = Some(cookie);
                }
                Ok(None) => resumed = Some(clear_session_cookie()),
                Err(error) => return AppError(error).into_response(),
            }
        }
    }
    request.extensions_mut().insert(scope);
    let mut response = next.run(request).await;
    if let Some(cookie) = resumed {
        let headers = response.headers_mut();
        if !sets_session_cookie(headers) {
            headers.append(SET_COOKIE, cookie);
        }
        headers.append(SET_COOKIE, clear_impersonator_cookie());
        return response;
    }
    // The handler's own cookie (a log-in, a log-out, sudo) wins over both.
    if !sets_session_cookie(response.headers()) {
        if let Some(renewed) = &renewed {
            response
                .headers_mut()
                .append(SET_COOKIE, renewed_session_cookie(renewed));
        } else if stale_cookie {
            response
                .headers_mut()
                .append(SET_COOKIE, clear_session_cookie());
        }
    }
    response
}

/// The admin's own session from the kept-aside token, and the `Set-Cookie` value that puts
/// it back in the session cookie.
async fn resume(sigra: &Sigra, kept: &str) -> crate::Result<Option<(Authenticated, HeaderValue)>> {
    let Some(token) = PresentedToken::parse(kept) else {
        return Ok(None);
    };
    let Some((own, rolled)) = sigra.admin().resume_own_session(&token).await? else {
        return Ok(None);
    };
    let cookie = match rolled {
        Some(rolled) => renewed_session_cookie(&rolled),
        None => {
            let info = own.session();
            let max_age = sigra.sessions().session_policy().cookie_max_age(
                info.kind,
                info.expires_at,
                sigra.now(),
            );
            host_cookie(SESSION_COOKIE, kept, max_age)
        }
    };
    Ok(Some((own, cookie)))
}

fn sets_session_cookie(headers: &HeaderMap) -> bool {
    let prefix = format!("{SESSION_COOKIE}=");
    headers
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(&prefix)))
}
