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
    let address = registration.email.clone();
    cx.sigra.auth().register(registration, &cx.request).await?;
    super::check_email::ssr::remember(&cx.sigra, super::SentMail::Confirmation, &address);
    crate::flash::ssr::set(crate::flash::Flash::AccountReady);
    leptos_axum::redirect(crate::paths::CHECK_EMAIL);
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
    let session = match cx
        .sigra
        .auth()
        .log_in(log_in, cx.current.as_ref(), &cx.request)
        .await
    {
        Ok(session) => session,
        Err(sigra::Error::InvalidCredentials) => {
            return Err(crate::ssr::fail(failed_log_ins::one_more(&cx.sigra)))
        }
        Err(error) => return Err(error.into()),
    };
    let target = return_to
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or(crate::paths::AFTER_LOG_IN);
    start_session(&session, &sigra::http::sanitize_return_to(target));
    Ok(())
}

/// Mails a one-time log-in link; the answer never says whether the address has an account.
#[server(prefix = "/users/log-in", endpoint = "email-link")]
pub async fn request_magic_link(email: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    super::check_email::ssr::send_and_go(&cx, super::SentMail::LogInLink, &email).await
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
    start_session(&session, crate::paths::AFTER_LOG_IN);
    Ok(())
}

/// Hands the new session to the browser and sends it on: to `target`, or first to the
/// second-factor page (which sends it on to `target`).
#[cfg(feature = "ssr")]
fn start_session(session: &sigra::sessions::NewSession, target: &str) {
    crate::ssr::set_cookie(sigra::http::session_cookie(session));
    failed_log_ins::forget();
    super::check_email::ssr::forget();
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
    // The next person at this browser should not read which address a mail went to.
    super::check_email::ssr::forget();
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
    let switches = cx.switches();
    let organizations = match &cx.current {
        Some(current) if switches.organizations => {
            crate::organizations::ssr::organizations_of(&cx, current).await?
        }
        _ => crate::organizations::OrganizationsView::default(),
    };
    let admin = match &cx.current {
        Some(current) if switches.admin => match cx.sigra.admin().platform_admin(current).await {
            Ok(_) => true,
            Err(sigra::Error::AdminOnly | sigra::Error::ForbiddenWhileImpersonating) => false,
            Err(error) => return Err(error.into()),
        },
        _ => false,
    };
    let impersonating = cx
        .current
        .as_ref()
        .is_some_and(|current| current.impersonator().is_some());
    Ok(SessionSnapshot {
        email: user.map(|u| u.email.to_string()),
        display_name: user.and_then(|u| u.display_name.as_ref().map(ToString::to_string)),
        unconfirmed: user.is_some_and(|u| u.confirmed_at.is_none()),
        flash: crate::flash::ssr::take(),
        organizations,
        admin,
        impersonating,
    })
}

#[cfg(feature = "ssr")]
mod failed_log_ins {
    //! How many log-ins in a row failed in this browser, to point the user at their mail (a
    //! locked account is told so by mail) without the answer depending on the account.

    use std::time::Duration;

    use http::request::Parts;
    use leptos::prelude::*;
    use sigra::Sigra;

    use crate::error::UiError;

    const COOKIE: &str = "__Host-sigra_failed_log_ins";
    const LIFETIME: Duration = Duration::from_secs(15 * 60);
    /// From this failure on, the answer adds the hint.
    const HINT_FROM: u32 = 3;

    /// Counts one more failure and says what to tell the user.
    pub fn one_more(sigra: &Sigra) -> UiError {
        let so_far = use_context::<Parts>()
            .and_then(|parts| {
                sigra
                    .cookies()
                    .verified(&parts.headers, COOKIE)
                    .and_then(|count| count.parse::<u32>().ok())
            })
            .unwrap_or(0);
        let now = so_far.saturating_add(1);
        crate::ssr::set_cookie(sigra.cookies().signed(COOKIE, &now.to_string(), LIFETIME));
        if now >= HINT_FROM {
            UiError::InvalidCredentialsAgain
        } else {
            UiError::InvalidCredentials
        }
    }

    /// Starts the count again (a log-in succeeded).
    pub fn forget() {
        crate::ssr::set_cookie(sigra::http::HostCookies::removal(COOKIE));
    }
}
