//! Extractors: the session proof and the request context, for handlers and server functions.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts};
use http::header::USER_AGENT;
use http::request::Parts;

use crate::error::Error;
use crate::request::RequestContext;
use crate::sessions::{Authenticated, PendingMfa};

use super::error::AppError;
use super::scope::Scope;

fn from_scope(parts: &Parts) -> Option<Authenticated> {
    parts
        .extensions
        .get::<Scope>()
        .and_then(Scope::authenticated)
        .cloned()
}

/// Requires a signed-in browser session: 401 otherwise, and 403 `session_required` for a
/// bearer request (no token may do what needs a session, whatever its scopes). A route outside
/// the session layer has no scope and so refuses everyone.
impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        from_scope(parts).ok_or_else(|| {
            let bearer = parts
                .extensions
                .get::<Scope>()
                .is_some_and(Scope::is_bearer);
            AppError(if bearer {
                Error::SessionRequired
            } else {
                Error::Unauthenticated
            })
        })
    }
}

/// `Option<Authenticated>`: the user if there is one.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Authenticated {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(from_scope(parts))
    }
}

/// Requires a log-in waiting for its second factor: 401 otherwise.
impl<S: Send + Sync> FromRequestParts<S> for PendingMfa {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Scope>()
            .and_then(Scope::pending_mfa)
            .cloned()
            .ok_or(AppError(Error::Unauthenticated))
    }
}

/// `Option<PendingMfa>`.
impl<S: Send + Sync> OptionalFromRequestParts<S> for PendingMfa {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Scope>()
            .and_then(Scope::pending_mfa)
            .cloned())
    }
}

/// The peer address (the socket's, until a trusted proxy list says otherwise), user agent and
/// request id.
impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(context_of(&parts.extensions, &parts.headers))
    }
}

/// The request context from a request's extensions and headers.
pub(crate) fn context_of(
    extensions: &http::Extensions,
    headers: &http::HeaderMap,
) -> RequestContext {
    // The resolved client (trusted proxies applied), else the socket peer.
    let ip = extensions
        .get::<super::ClientIp>()
        .map(|c| c.0)
        .or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_canonical())
        });
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut context = RequestContext::new(ip, header(USER_AGENT.as_str()), header("x-request-id"));
    context.impersonator = extensions
        .get::<Scope>()
        .and_then(Scope::authenticated)
        .and_then(Authenticated::impersonator)
        .map(|impersonator| impersonator.user_id.clone());
    context
}
