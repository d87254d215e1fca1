//! Resolves the session once per request and leaves the answer in the request extensions,
//! where the extractors find it.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::SET_COOKIE;

use crate::crypto::PresentedToken;
use crate::sessions::{Authenticated, PendingMfa, SessionCheck};
use crate::Sigra;

use super::cookies::{clear_session_cookie, find_cookie, SESSION_COOKIE};
use super::error::AppError;

/// Who is making this request: a live session, a log-in waiting for its second factor, or
/// nobody.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    authenticated: Option<Authenticated>,
    pending: Option<PendingMfa>,
}

impl Scope {
    /// The live session, if the request has one.
    pub fn authenticated(&self) -> Option<&Authenticated> {
        self.authenticated.as_ref()
    }

    /// The log-in waiting for its second factor, if that is what the request carries.
    pub fn pending_mfa(&self) -> Option<&PendingMfa> {
        self.pending.as_ref()
    }
}

/// Axum middleware: checks the session cookie (timeouts included), stores the [`Scope`], and
/// removes a cookie whose session is gone so the browser stops sending it.
pub async fn resolve_session(
    State(sigra): State<Sigra>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = find_cookie(request.headers(), SESSION_COOKIE).map(PresentedToken::parse);
    let (scope, stale_cookie) = match presented {
        None => (Scope::default(), false),
        Some(None) => (Scope::default(), true),
        Some(Some(token)) => match sigra.authenticate_session(&token).await {
            Ok(SessionCheck::Active(authenticated)) => (
                Scope {
                    authenticated: Some(authenticated),
                    pending: None,
                },
                false,
            ),
            Ok(SessionCheck::PendingMfa(pending)) => (
                Scope {
                    authenticated: None,
                    pending: Some(pending),
                },
                false,
            ),
            Ok(SessionCheck::Expired(_) | SessionCheck::Unknown) => (Scope::default(), true),
            Err(error) => return AppError(error).into_response(),
        },
    };
    request.extensions_mut().insert(scope);
    let mut response = next.run(request).await;
    if stale_cookie && !sets_session_cookie(&response) {
        response
            .headers_mut()
            .append(SET_COOKIE, clear_session_cookie());
    }
    response
}

fn sets_session_cookie(response: &Response) -> bool {
    let prefix = format!("{SESSION_COOKIE}=");
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(&prefix)))
}
