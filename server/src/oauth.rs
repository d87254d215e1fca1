//! The sign-in provider routes, thin adapters over `sigra.oauth()`:
//!
//! - `GET /auth/:provider` starts a log-in (the buttons on the log-in and register pages);
//! - `POST /auth/:provider` starts linking (under sudo) or re-authenticating for sudo, from a
//!   same-site form;
//! - `GET /auth/:provider/callback` finishes, in the browser that started (its binding cookie);
//! - `POST /auth/:provider/callback` takes a `form_post` answer (Apple), exempt from the
//!   cross-site refusal, keeps it with its authorization and sends the browser to the GET.
//!
//! Failures land on a page that names the failure by a fixed code; nothing the provider wrote
//! reaches a page.

use axum::extract::{Form, Path, Query};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use sigra::error::Error;
use sigra::http::{find_cookie, pages, renewed_session_cookie, session_cookie, AppError};
use sigra::mfa::TRUSTED_BROWSER_COOKIE;
use sigra::oauth::{binding_cookie, Answer, Finished, StartFor, BINDING_COOKIE};
use sigra::request::RequestContext;
use sigra::sessions::Authenticated;
use sigra::Sigra;

use app::flash::Flash;
use app::paths;

/// The routes, with the core they call.
pub fn routes<S: Clone + Send + Sync + 'static>(sigra: Sigra) -> Router<S> {
    Router::new()
        .route(
            "/auth/{provider}",
            get(start_log_in).post(start_for_account),
        )
        .route(
            "/auth/{provider}/callback",
            get(callback).post(posted_callback),
        )
        .layer(Extension(sigra))
}

#[derive(Deserialize)]
struct Start {
    return_to: Option<String>,
}

async fn start_log_in(
    Extension(sigra): Extension<Sigra>,
    Path(provider): Path<String>,
    Query(start): Query<Start>,
    headers: HeaderMap,
    request: RequestContext,
) -> Response {
    let return_to = start
        .return_to
        .unwrap_or_else(|| paths::AFTER_LOG_IN.to_owned());
    let started = sigra
        .oauth()
        .start(
            &provider,
            StartFor::LogIn,
            find_cookie(&headers, BINDING_COOKIE),
            &return_to,
            &request,
        )
        .await;
    to_provider(started)
}

#[derive(Deserialize)]
struct StartForAccount {
    intent: String,
    return_to: Option<String>,
}

async fn start_for_account(
    Extension(sigra): Extension<Sigra>,
    Path(provider): Path<String>,
    current: Option<Authenticated>,
    headers: HeaderMap,
    request: RequestContext,
    Form(form): Form<StartForAccount>,
) -> Response {
    let binding = find_cookie(&headers, BINDING_COOKIE);
    let Some(current) = current else {
        return see_other(&paths::with_return_to(
            paths::LOG_IN,
            paths::ACCOUNTS_SETTINGS,
        ));
    };
    let started = match form.intent.as_str() {
        "link" => {
            let sudo = match sigra.sessions().sudo(&current) {
                Ok(sudo) => sudo,
                Err(Error::ForbiddenWhileImpersonating) => {
                    return failure(Error::ForbiddenWhileImpersonating)
                }
                Err(_) => {
                    return see_other(&paths::with_return_to(
                        paths::SUDO,
                        paths::ACCOUNTS_SETTINGS,
                    ))
                }
            };
            sigra
                .oauth()
                .start(
                    &provider,
                    StartFor::Link(&sudo),
                    binding,
                    form.return_to
                        .as_deref()
                        .unwrap_or(paths::ACCOUNTS_SETTINGS),
                    &request,
                )
                .await
        }
        "sudo" => {
            let owner = match sigra
                .sessions()
                .account_owner(&current, "oauth_sudo", &request)
                .await
            {
                Ok(owner) => owner,
                Err(error) => return failure(error),
            };
            sigra
                .oauth()
                .start(
                    &provider,
                    StartFor::Sudo(&owner),
                    binding,
                    form.return_to.as_deref().unwrap_or(paths::SETTINGS),
                    &request,
                )
                .await
        }
        _ => Err(Error::OAuthFailed),
    };
    to_provider(started)
}

fn to_provider(started: sigra::Result<sigra::oauth::Authorization>) -> Response {
    match started {
        Ok(authorization) => {
            let mut response = see_other(&authorization.url);
            if let Some(binding) = &authorization.binding {
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, binding_cookie(binding));
            }
            response
        }
        Err(error) => failure(error),
    }
}

async fn callback(
    Extension(sigra): Extension<Sigra>,
    Path(provider): Path<String>,
    Query(answer): Query<Answer>,
    current: Option<Authenticated>,
    headers: HeaderMap,
    request: RequestContext,
) -> Response {
    let finished = sigra
        .oauth()
        .finish(
            &provider,
            answer,
            find_cookie(&headers, BINDING_COOKIE),
            current.as_ref(),
            find_cookie(&headers, TRUSTED_BROWSER_COOKIE),
            &request,
        )
        .await;
    let mut response = match finished {
        Ok(finished) => finish(&sigra, finished),
        Err(error) => failure(error),
    };
    // The callback's address held the code: it must not travel on in a Referer.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn posted_callback(
    Extension(sigra): Extension<Sigra>,
    Path(provider): Path<String>,
    request: RequestContext,
    Form(answer): Form<Answer>,
) -> Response {
    match sigra
        .oauth()
        .keep_posted_answer(&provider, answer, &request)
        .await
    {
        Ok(state) => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("state", &state);
            see_other(&format!("/auth/{provider}/callback?{}", query.finish()))
        }
        Err(error) => failure(error),
    }
}

fn finish(sigra: &Sigra, finished: Finished) -> Response {
    match finished {
        Finished::Session {
            session, return_to, ..
        } => {
            let (target, flash) = if session.needs_second_factor() {
                (
                    paths::with_return_to(paths::MFA, &return_to),
                    Flash::SecondFactorNeeded,
                )
            } else {
                (return_to, Flash::LoggedIn)
            };
            let mut response = see_other(&target);
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, session_cookie(&session));
            headers.append(header::SET_COOKIE, app::flash::ssr::cookie(sigra, flash));
            response
        }
        Finished::Linked { return_to } => {
            with_flash(sigra, see_other(&return_to), Flash::ProviderLinked)
        }
        Finished::SudoGranted { return_to, renewed } => {
            let mut response = with_flash(sigra, see_other(&return_to), Flash::SudoGranted);
            response
                .headers_mut()
                .append(header::SET_COOKIE, renewed_session_cookie(&renewed));
            response
        }
        Finished::ProveAccount => see_other(pages::OAUTH_LINK),
        Finished::AddressNeeded => see_other(pages::OAUTH_EMAIL),
    }
}

fn with_flash(sigra: &Sigra, mut response: Response, flash: Flash) -> Response {
    response
        .headers_mut()
        .append(header::SET_COOKIE, app::flash::ssr::cookie(sigra, flash));
    response
}

/// An unknown provider is a 404 and a limited client a 429, as anywhere; every other failure
/// lands on the failure page, which words its fixed code.
fn failure(error: Error) -> Response {
    match error {
        Error::UnknownProvider | Error::RateLimited { .. } => AppError(error).into_response(),
        error => {
            if !error.is_client_error() {
                tracing::error!(error = %sigra::error::report(&error), "provider sign-in failed");
            }
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("code", error.kind().code());
            see_other(&format!("{}?{}", pages::OAUTH_ERROR, query.finish()))
        }
    }
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
