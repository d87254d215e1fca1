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
        match self.0 {
            Error::InvalidCredentials | Error::Unauthenticated => StatusCode::UNAUTHORIZED,
            Error::InvalidEmail(_)
            | Error::WeakPassword(_)
            | Error::SameEmail
            | Error::AlreadyEnrolled
            | Error::TooManyPasskeys { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::InvalidToken | Error::InvalidCode | Error::PasskeyRejected => {
                StatusCode::BAD_REQUEST
            }
            Error::Unconfirmed | Error::WrongPassword | Error::SudoRequired => {
                StatusCode::FORBIDDEN
            }
            Error::MfaLocked => StatusCode::TOO_MANY_REQUESTS,
            Error::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Error::Database(_) | Error::Internal(_) | Error::Hook(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn code(&self) -> &'static str {
        match self.0 {
            Error::InvalidCredentials => "invalid_credentials",
            Error::Unauthenticated => "unauthenticated",
            Error::InvalidEmail(_) => "invalid_email",
            Error::WeakPassword(_) => "weak_password",
            Error::InvalidToken => "invalid_token",
            Error::InvalidCode => "invalid_code",
            Error::Unconfirmed => "unconfirmed",
            Error::WrongPassword => "wrong_password",
            Error::SameEmail => "same_email",
            Error::SudoRequired => "sudo_required",
            Error::MfaLocked => "mfa_locked",
            Error::AlreadyEnrolled => "already_enrolled",
            Error::PasskeyRejected => "passkey_rejected",
            Error::TooManyPasskeys { .. } => "too_many_passkeys",
            Error::Busy => "busy",
            Error::Database(_) | Error::Internal(_) | Error::Hook(_) => "internal",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code(), "message": self.0.to_string() });
        let mut response = (self.status(), Json(body)).into_response();
        if !self.0.is_client_error() {
            response
                .extensions_mut()
                .insert(ErrorReport(report(&self.0)));
        }
        if matches!(self.0, Error::Busy) {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
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
