//! The forced password change: while an account must choose a new password, every page it
//! asks for is redirected to the settings page, where the form is. Form posts and the JSON API
//! still answer, so the change itself and log-out work.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::Method;

use super::scope::Scope;

/// Where the password form is.
pub const PASSWORD_CHANGE_PAGE: &str = "/users/settings/password";

/// Axum middleware, placed inside session resolution.
pub async fn require_password_change(request: Request, next: Next) -> Response {
    let must_change = request
        .extensions()
        .get::<Scope>()
        .and_then(Scope::authenticated)
        .is_some_and(|a| a.user().must_change_password);
    let is_page = request.method() == Method::GET
        && !request.uri().path().starts_with("/api/")
        && request.uri().path() != PASSWORD_CHANGE_PAGE;
    if must_change && is_page {
        return Redirect::to(PASSWORD_CHANGE_PAGE).into_response();
    }
    next.run(request).await
}
