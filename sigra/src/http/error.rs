//! The one error response. Status and message come from the error kind; internals go to the
//! log (with the request id, from the request span), never to the client.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;

use crate::error::{report, Error, ErrorKind};

/// The core error, as an HTTP response.
#[derive(Debug)]
pub struct AppError(pub Error);

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

/// The full error chain of a server-side failure, carried to [`log_errors`].
#[derive(Clone, Debug)]
struct ErrorReport(String);

/// The kind of error a response carries, so [`log_errors`] can show a browser a page instead
/// of JSON.
#[derive(Clone, Copy, Debug)]
struct Refused(ErrorKind);

impl AppError {
    /// The status for this kind of error.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.kind().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// RFC 9457 problem details: `type`, `title` and `status`, plus the stable `error` code and its
/// `message` (the fixed wording of the kind), and the scopes a scope refusal is about.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let kind = self.0.kind();
        let mut body = serde_json::json!({
            "type": "about:blank",
            "title": kind.to_string(),
            "status": self.status().as_u16(),
            "error": kind.code(),
            "message": kind.to_string(),
        });
        let challenge = match &self.0 {
            Error::InsufficientScope(missing) => {
                body["missing_scopes"] = serde_json::json!(missing);
                Some(format!(
                    "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                    missing.join(" ")
                ))
            }
            Error::UnregisteredScopes(unknown) => {
                body["scopes"] = serde_json::json!(unknown);
                None
            }
            Error::TokenRejected => Some("Bearer error=\"invalid_token\"".to_owned()),
            Error::Unauthenticated => Some("Bearer".to_owned()),
            _ => None,
        };
        let mut response = (self.status(), Json(body)).into_response();
        response.extensions_mut().insert(Refused(kind));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/problem+json"),
        );
        if let Some(value) = challenge.and_then(|c| http::HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, value);
        }
        if !self.0.is_client_error() {
            response
                .extensions_mut()
                .insert(ErrorReport(report(&self.0)));
        }
        if let Some(seconds) = kind.retry_after() {
            if let Ok(value) = http::HeaderValue::from_str(&seconds.to_string()) {
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// Axum middleware: logs the detail of server-side errors produced by [`AppError`], and
/// answers a browser that wants a page (a page load, a form posted without JavaScript) with a
/// page saying what went wrong; the JSON stays for everyone else.
pub async fn log_errors(request: Request, next: Next) -> Response {
    let wants_page = super::rate_limit::wants_html(&request);
    let response = next.run(request).await;
    if let Some(ErrorReport(detail)) = response.extensions().get::<ErrorReport>() {
        tracing::error!(error = %detail, status = response.status().as_u16(), "request failed");
    }
    match response.extensions().get::<Refused>() {
        Some(Refused(kind)) if wants_page => error_page(*kind, response),
        _ => response,
    }
}

/// How the host's server functions encode an error (the hydrated page decodes that type).
#[derive(Clone, Copy)]
pub struct HostErrors {
    /// The body of a refusal of `kind`, in the host's encoding.
    pub encode: fn(ErrorKind) -> String,
}

/// Axum middleware for the host's routes: a refusal by one of the core's layers (a rate limit,
/// a required step, a database that cannot be reached while the session is read) reaches a
/// server-function caller in the host's own error encoding, so the hydrated page can read
/// it. The JSON API (`/api/v1/`, `/.well-known/`) keeps the core's problem details.
pub async fn encode_refusals(
    State(host): State<HostErrors>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let to_host = !super::rate_limit::wants_html(&request)
        && !path.starts_with("/api/v1/")
        && !path.starts_with("/.well-known/");
    let response = next.run(request).await;
    match response.extensions().get::<Refused>().copied() {
        Some(Refused(kind)) if to_host => {
            let (mut parts, _) = response.into_parts();
            parts.headers.remove(http::header::CONTENT_LENGTH);
            parts.headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            Response::from_parts(parts, axum::body::Body::from((host.encode)(kind)))
        }
        _ => response,
    }
}

/// A plain page saying what went wrong, with the original status and headers (`Retry-After`,
/// the request id).
fn error_page(kind: ErrorKind, response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    let message = kind.to_string();
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{message}</title></head><body><main><h1>{message}</h1>\
         <p><a href=\"/\">Home</a></p></main></body></html>"
    );
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}
