//! Forced steps: while an account must choose a new password, or (with `mfa.required`) has no
//! second factor yet, every page it asks for is redirected to the page that does the step.
//! Form posts and the JSON API still answer, so the step itself (and sudo, and log-out) works.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::Method;

use crate::Sigra;

use super::error::AppError;
use super::scope::Scope;

use super::links::pages::{
    PASSWORD_CHANGE as PASSWORD_CHANGE_PAGE, SECURITY_SETTINGS as SECURITY_SETTINGS_PAGE,
    SUDO as SUDO_PAGE,
};

fn is_page(request: &Request, except: &[&str]) -> bool {
    let path = request.uri().path();
    request.method() == Method::GET && !path.starts_with("/api/") && !except.contains(&path)
}

/// Axum middleware, placed inside session resolution.
pub async fn require_password_change(request: Request, next: Next) -> Response {
    let must_change = request
        .extensions()
        .get::<Scope>()
        .and_then(Scope::authenticated)
        .is_some_and(|a| a.user().must_change_password);
    if must_change && is_page(&request, &[PASSWORD_CHANGE_PAGE]) {
        return Redirect::to(PASSWORD_CHANGE_PAGE).into_response();
    }
    next.run(request).await
}

/// Axum middleware, placed inside session resolution: with `mfa.required`, pages send an
/// account without a second factor to set one up. The database is asked only for signed-in
/// page loads while the option is on.
pub async fn require_mfa_enrolment(
    State(sigra): State<Sigra>,
    request: Request,
    next: Next,
) -> Response {
    let exempt = [SECURITY_SETTINGS_PAGE, SUDO_PAGE, PASSWORD_CHANGE_PAGE];
    let user = request
        .extensions()
        .get::<Scope>()
        .and_then(Scope::authenticated)
        .map(|a| a.user().id.clone());
    if let Some(user) = user.filter(|_| sigra.config().mfa.required && is_page(&request, &exempt)) {
        match sigra.mfa().has_second_factor(&user).await {
            Ok(true) => {}
            Ok(false) => return Redirect::to(SECURITY_SETTINGS_PAGE).into_response(),
            Err(error) => return AppError(error).into_response(),
        }
    }
    next.run(request).await
}
