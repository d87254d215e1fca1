//! Required steps: while an account is scheduled for deletion, must choose a new password, or
//! (with `mfa.required`) has no second factor yet, it can do nothing but that step. Page loads are sent to the step's
//! page; server functions and the JSON API answer 403 with the step's error code (in the
//! host's encoding for server functions, see `encode_refusals`; a browser posting a form
//! without JavaScript is sent to the step's page instead). The calls the step
//! itself needs (its forms, log-out, the header's session state) are read from the host's
//! server functions, like the guest limit's paths, so a renamed endpoint stays allowed.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::Method;

use crate::error::Error;
use crate::users::User;
use crate::Sigra;

use super::error::AppError;
use super::links::pages;
use super::rate_limit::wants_html;
use super::scope::Scope;

/// A step an account must take before anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequiredStep {
    /// The account is scheduled for deletion: keeping it (or signing out) is all it can do.
    Reactivation,
    /// An operator required a new password.
    PasswordChange,
    /// The site requires a second factor and the account has none.
    MfaEnrolment,
}

impl RequiredStep {
    /// The page where the step is taken.
    pub fn page(self) -> &'static str {
        match self {
            Self::Reactivation => pages::REACTIVATION,
            Self::PasswordChange => pages::PASSWORD_CHANGE,
            Self::MfaEnrolment => pages::SECURITY_SETTINGS,
        }
    }

    fn error(self) -> Error {
        match self {
            Self::Reactivation => Error::DeletionPending,
            Self::PasswordChange => Error::PasswordChangeRequired,
            Self::MfaEnrolment => Error::MfaEnrolmentRequired,
        }
    }

    /// Pages that stay open during the step besides its own.
    fn other_pages(self) -> &'static [&'static str] {
        match self {
            Self::Reactivation | Self::PasswordChange => &[],
            // Changes to second factors need sudo, and a required new password comes first.
            Self::MfaEnrolment => &[pages::SUDO, pages::PASSWORD_CHANGE],
        }
    }
}

/// A sign-in provider's routes (`/auth/:provider` and its callback): an account without a
/// password enters sudo through its provider, which setting up a required second factor needs.
fn is_provider_route(path: &str) -> bool {
    path.strip_prefix("/auth/")
        .map(|rest| rest.strip_suffix("/callback").unwrap_or(rest))
        .is_some_and(|provider| !provider.is_empty() && !provider.contains('/'))
}

/// The state of [`enforce_required_steps`].
#[derive(Clone)]
pub struct RequiredSteps {
    /// The core (its configuration, and the second-factor lookup).
    pub sigra: Sigra,
    /// The server-function paths keeping an account scheduled for deletion needs.
    pub reactivation_calls: Arc<[&'static str]>,
    /// The server-function paths the password change needs.
    pub password_change_calls: Arc<[&'static str]>,
    /// The server-function paths setting up a second factor needs.
    pub mfa_enrolment_calls: Arc<[&'static str]>,
}

/// What a request is, for the step rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    /// A page load.
    Page,
    /// The JSON API.
    Api,
    /// A server function (or any other non-page request).
    Call,
}

impl Asked {
    fn of(request: &Request) -> Self {
        let path = request.uri().path();
        if path.starts_with("/api/v1/") {
            Self::Api
        } else if request.method() == Method::GET && !path.starts_with("/api/") {
            Self::Page
        } else {
            Self::Call
        }
    }
}

impl RequiredSteps {
    fn allows(&self, step: RequiredStep, asked: Asked, path: &str) -> bool {
        match asked {
            Asked::Page => {
                step.page() == path
                    || step.other_pages().contains(&path)
                    || (step == RequiredStep::MfaEnrolment && is_provider_route(path))
            }
            Asked::Call => match step {
                RequiredStep::Reactivation => self.reactivation_calls.contains(&path),
                RequiredStep::PasswordChange => self.password_change_calls.contains(&path),
                RequiredStep::MfaEnrolment => {
                    self.mfa_enrolment_calls.contains(&path) || is_provider_route(path)
                }
            },
            Asked::Api => false,
        }
    }

    /// The step that stands between `current` and this request, if any. The database is asked
    /// (for second factors) only while `mfa.required` is on and the request is not the step's.
    async fn step_before(
        &self,
        user: &User,
        asked: Asked,
        path: &str,
    ) -> Result<Option<RequiredStep>, Error> {
        if user.deletion_scheduled_at.is_some() {
            let step = RequiredStep::Reactivation;
            return Ok((!self.allows(step, asked, path)).then_some(step));
        }
        if user.must_change_password {
            let step = RequiredStep::PasswordChange;
            return Ok((!self.allows(step, asked, path)).then_some(step));
        }
        let step = RequiredStep::MfaEnrolment;
        if !self.sigra.config().mfa.required || self.allows(step, asked, path) {
            return Ok(None);
        }
        let enrolled = self.sigra.mfa().has_second_factor(&user.id).await?;
        Ok((!enrolled).then_some(step))
    }
}

/// Axum middleware, placed inside session resolution. A bearer request (an API token or an
/// access token) is refused like a JSON API call, whatever it asks for: a token has no page
/// to take the step on.
pub async fn enforce_required_steps(
    State(steps): State<RequiredSteps>,
    request: Request,
    next: Next,
) -> Response {
    let Some(scope) = request.extensions().get::<Scope>() else {
        return next.run(request).await;
    };
    let (Some(user), bearer) = (scope.user().cloned(), scope.is_bearer()) else {
        return next.run(request).await;
    };
    // The steps are the owner's to take; an admin working as the user is shown the account as
    // it is (and could take none of them: each is a security change).
    if scope
        .authenticated()
        .is_some_and(|current| current.impersonator().is_some())
    {
        return next.run(request).await;
    }
    let asked = if bearer {
        Asked::Api
    } else {
        Asked::of(&request)
    };
    let step = match steps.step_before(&user, asked, request.uri().path()).await {
        Ok(None) => return next.run(request).await,
        Ok(Some(step)) => step,
        Err(error) => return AppError(error).into_response(),
    };
    match asked {
        Asked::Page => Redirect::to(step.page()).into_response(),
        Asked::Call if wants_html(&request) => Redirect::to(step.page()).into_response(),
        Asked::Api | Asked::Call => AppError(step.error()).into_response(),
    }
}
