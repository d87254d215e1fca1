//! Registration, log-in (password or mailed link), log-out and the header's session state.

use leptos::prelude::*;

use super::SessionSnapshot;
use crate::error::UiError;

/// Creates an account. The answer is the same whether or not the email was already taken.
#[server(prefix = "/users", endpoint = "register")]
pub async fn register(email: String, password: String) -> Result<(), UiError> {
    use sigra::password::Password;
    use sigra::users::Registration;

    let cx = crate::ssr::context().await?;
    let registration = Registration {
        email,
        password: Password::new(password),
    };
    cx.sigra.auth().register(registration, &cx.request).await?;
    crate::flash::ssr::set(crate::flash::Flash::AccountReady);
    leptos_axum::redirect(crate::paths::LOG_IN);
    Ok(())
}

/// Logs in with email and password and sets the session cookie.
#[server(prefix = "/users", endpoint = "log-in")]
pub async fn log_in(
    email: String,
    password: String,
    remember_me: Option<String>,
    return_to: Option<String>,
) -> Result<(), UiError> {
    use sigra::auth::LogIn;
    use sigra::password::Password;

    let cx = crate::ssr::context().await?;
    let log_in = LogIn {
        email,
        password: Password::new(password),
        remember_me: remember_me.is_some(),
        trusted_browser: crate::ssr::cookie(sigra::mfa::TRUSTED_BROWSER_COOKIE),
    };
    let session = cx
        .sigra
        .auth()
        .log_in(log_in, cx.current.as_ref(), &cx.request)
        .await?;
    let target = return_to
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or(crate::paths::SETTINGS);
    start_session(&session, &sigra::http::sanitize_return_to(target));
    Ok(())
}

/// Mails a one-time log-in link; the answer never says whether the address has an account.
#[server(prefix = "/users/log-in", endpoint = "email-link")]
pub async fn request_magic_link(email: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    cx.sigra
        .auth()
        .request_magic_link(&email, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::MagicLinkSent);
    leptos_axum::redirect(crate::paths::CHECK_EMAIL);
    Ok(())
}

/// Logs in with the mailed link opened in this browser.
#[server(prefix = "/users/log-in", endpoint = "link")]
pub async fn log_in_with_link() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let token = crate::ssr::link_token()
        .map_err(|e| crate::ssr::back_to_form::<LogInWithLink>(crate::paths::LOG_IN_LINK, e))?;
    let trusted_browser = crate::ssr::cookie(sigra::mfa::TRUSTED_BROWSER_COOKIE);
    let session = cx
        .sigra
        .auth()
        .log_in_with_link(
            &token,
            cx.current.as_ref(),
            trusted_browser.as_deref(),
            &cx.request,
        )
        .await
        .map_err(|e| {
            crate::ssr::back_to_form::<LogInWithLink>(crate::paths::LOG_IN_LINK, e.into())
        })?;
    crate::ssr::clear_link_token();
    start_session(&session, crate::paths::SETTINGS);
    Ok(())
}

/// Hands the new session to the browser and sends it on: to `target`, or first to the
/// second-factor page (which sends it on to `target`).
#[cfg(feature = "ssr")]
fn start_session(session: &sigra::sessions::NewSession, target: &str) {
    crate::ssr::set_cookie(sigra::http::session_cookie(session));
    if session.needs_second_factor() {
        crate::flash::ssr::set(crate::flash::Flash::SecondFactorNeeded);
        leptos_axum::redirect(&crate::paths::with_return_to(crate::paths::MFA, target));
    } else {
        crate::flash::ssr::set(crate::flash::Flash::LoggedIn);
        leptos_axum::redirect(target);
    }
}

/// Ends the current session and clears the cookie.
#[server(prefix = "/users", endpoint = "log-out")]
pub async fn log_out() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    if let Some(current) = &cx.current {
        // Logging out of an impersonation stops it (and goes back to the admin's session).
        if current.impersonator().is_some() {
            return crate::admin::stop_impersonation_of(&cx, current).await;
        }
        cx.sigra.auth().log_out(current, &cx.request).await?;
    }
    crate::ssr::set_cookie(sigra::http::clear_session_cookie());
    crate::flash::ssr::set(crate::flash::Flash::LoggedOut);
    leptos_axum::redirect(crate::paths::HOME);
    Ok(())
}

/// The address of the live session's account, if the request carries one (the guest-only
/// pages send such a visitor on; the confirmation page does not ask for it again).
#[server(prefix = "/api/session", endpoint = "signed-in-as")]
pub async fn signed_in_as() -> Result<Option<String>, UiError> {
    let cx = crate::ssr::context().await?;
    Ok(cx
        .current
        .as_ref()
        .map(|current| current.user().email.to_string()))
}

/// The header's view of the session, and the pending flash message.
#[server(prefix = "/api/session", endpoint = "state")]
pub async fn session_state() -> Result<SessionSnapshot, UiError> {
    let cx = crate::ssr::context().await?;
    let user = cx.current.as_ref().map(|current| current.user());
    let organizations = match &cx.current {
        Some(current) => crate::organizations::ssr::organizations_of(&cx, current).await?,
        None => crate::organizations::OrganizationsView::default(),
    };
    let admin = match &cx.current {
        Some(current) => match cx.sigra.admin().platform_admin(current).await {
            Ok(_) => true,
            Err(sigra::Error::AdminOnly | sigra::Error::ForbiddenWhileImpersonating) => false,
            Err(error) => return Err(error.into()),
        },
        None => false,
    };
    let impersonating = cx
        .current
        .as_ref()
        .is_some_and(|current| current.impersonator().is_some());
    Ok(SessionSnapshot {
        email: user.map(|u| u.email.to_string()),
        unconfirmed: user.is_some_and(|u| u.confirmed_at.is_none()),
        flash: crate::flash::ssr::take(),
        organizations,
        admin,
        impersonating,
    })
}
