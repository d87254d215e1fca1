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

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let kind = self.0.kind();
        let body = serde_json::json!({ "error": kind.code(), "message": kind.to_string() });
        let mut response = (self.status(), Json(body)).into_response();
        response.extensions_mut().insert(Refused(kind));
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
/// it. The JSON API (`/api/v1/`) keeps the core's `{"error", "message"}`.
pub async fn encode_refusals(
    State(host): State<HostErrors>,
    request: Request,
    next: Next,
) -> Response {
    let to_host =
        !super::rate_limit::wants_html(&request) && !request.uri().path().starts_with("/api/v1/");
    let response = next.run(request).await;
    match response.extensions().get::<Refused>().copied() {
        Some(Refused(kind)) if to_host => {
            let (mut parts, _) = response.into_parts();
            parts.headers.remove(http::header::CONTENT_LENGTH);
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
