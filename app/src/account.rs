//! Sign-up, log-in, log-out and the account overview: the server functions, each a thin adapter
//! over the core. Pages create their actions themselves, inside the router, so that without
//! JavaScript an error carried back in the URL reaches the form that caused it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::UiError;
use crate::flash::Flash;

/// Who the browser is signed in as, plus any message waiting for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    /// The signed-in user's email, if any.
    pub email: Option<String>,
    /// A message carried across the last redirect.
    pub flash: Option<Flash>,
}

/// The settings page's view of the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountDetails {
    /// The normalised email address.
    pub email: String,
    /// When the account was created (RFC 3339, UTC).
    pub member_since: String,
    /// When this session started (RFC 3339, UTC).
    pub signed_in_at: String,
    /// Whether this session survives a browser restart.
    pub remembered: bool,
    /// When this session ends at the latest (RFC 3339, UTC).
    pub session_ends_by: String,
}

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
    cx.sigra.register(registration, &cx.request).await?;
    crate::flash::ssr::set(Flash::AccountReady);
    leptos_axum::redirect("/users/log-in");
    Ok(())
}

/// Logs in with email and password and sets the session cookie.
#[server(prefix = "/users", endpoint = "log-in")]
pub async fn log_in(
    email: String,
    password: String,
    remember_me: Option<String>,
) -> Result<(), UiError> {
    use sigra::auth::LogIn;
    use sigra::password::Password;

    let cx = crate::ssr::context().await?;
    let log_in = LogIn {
        email,
        password: Password::new(password),
        remember_me: remember_me.is_some(),
    };
    let session = cx
        .sigra
        .log_in(log_in, cx.current.as_ref(), &cx.request)
        .await?;
    crate::ssr::set_cookie(sigra::http::session_cookie(&session));
    crate::flash::ssr::set(Flash::LoggedIn);
    leptos_axum::redirect("/users/settings");
    Ok(())
}

/// Ends the current session and clears the cookie.
#[server(prefix = "/users", endpoint = "log-out")]
pub async fn log_out() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    if let Some(current) = &cx.current {
        cx.sigra.log_out(current, &cx.request).await?;
    }
    crate::ssr::set_cookie(sigra::http::clear_session_cookie());
    crate::flash::ssr::set(Flash::LoggedOut);
    leptos_axum::redirect("/");
    Ok(())
}

/// The header's view of the session, and the pending flash message.
#[server(prefix = "/api/session", endpoint = "state")]
pub async fn session_state() -> Result<SessionSnapshot, UiError> {
    let cx = crate::ssr::context().await?;
    Ok(SessionSnapshot {
        email: cx.current.map(|current| current.user().email.to_string()),
        flash: crate::flash::ssr::take(),
    })
}

/// The account shown on the settings page.
#[server(prefix = "/api/account", endpoint = "overview")]
pub async fn account_overview() -> Result<AccountDetails, UiError> {
    use sigra::sessions::SessionKind;

    let cx = crate::ssr::context().await?;
    if cx.current.is_none() {
        crate::flash::ssr::set(Flash::LogInRequired);
    }
    let current = cx.require_user()?;
    let (user, session) = (current.user(), current.session());
    Ok(AccountDetails {
        email: user.email.to_string(),
        member_since: user.created_at.to_string(),
        signed_in_at: session.created_at.to_string(),
        remembered: session.kind == SessionKind::RememberMe,
        session_ends_by: session.expires_at.to_string(),
    })
}

/// What the registration form should tell people about passwords.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordLimits {
    /// Fewest characters.
    pub min_length: usize,
    /// Most characters.
    pub max_length: usize,
}

/// The configured password length bounds.
#[server(prefix = "/api/account", endpoint = "password-rules")]
pub async fn password_rules() -> Result<PasswordLimits, UiError> {
    let cx = crate::ssr::context().await?;
    let policy = cx.sigra.password_policy();
    Ok(PasswordLimits {
        min_length: policy.min_length(),
        max_length: policy.max_length(),
    })
}
