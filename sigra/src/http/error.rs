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

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let kind = self.0.kind();
        let body = serde_json::json!({ "error": kind.code(), "message": kind.to_string() });
        let mut response = (self.status(), Json(body)).into_response();
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
