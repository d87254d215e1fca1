//! The one error response. Status and message come from the error kind; internals go to the
//! log (with the request id, from the request span), never to the client.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;

use crate::error::{report, Error};

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

/// Axum middleware: logs the detail of server-side errors produced by [`AppError`].
pub async fn log_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(ErrorReport(detail)) = response.extensions().get::<ErrorReport>() {
        tracing::error!(error = %detail, status = response.status().as_u16(), "request failed");
    }
    response
}
