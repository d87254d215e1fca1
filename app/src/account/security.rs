//! Sessions and sudo: the user's sessions and security feed, revoking sessions (behind sudo),
//! and re-entering the password.

use leptos::prelude::*;

use super::SessionsView;
use crate::error::UiError;

/// The user's sessions and recent security events.
#[server(prefix = "/api/account", endpoint = "sessions")]
pub async fn list_sessions() -> Result<SessionsView, UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    let sessions = cx.sigra.sessions().list_sessions(current).await?;
    let events = cx.sigra.sessions().security_events(current, 20).await?;
    Ok(super::sessions_view(sessions, events))
}

/// Ends one of the user's sessions (needs sudo; without it, goes to the sudo page).
#[server(prefix = "/users/sessions", endpoint = "revoke")]
pub async fn revoke_session(id: String) -> Result<(), UiError> {
    use sigra::sessions::SessionId;

    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SESSIONS)?;
    cx.sigra
        .sessions()
        .revoke_session(&sudo, &SessionId::from_client(&id), &cx.request)
        .await?;
    // Back to the list, which shows the result (and refreshes itself when hydrated).
    leptos_axum::redirect(crate::paths::SESSIONS);
    Ok(())
}

/// Ends every other session of the user (needs sudo).
#[server(prefix = "/users/sessions", endpoint = "revoke-others")]
pub async fn revoke_other_sessions() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SESSIONS)?;
    cx.sigra
        .sessions()
        .revoke_other_sessions(&sudo, &cx.request)
        .await?;
    leptos_axum::redirect(crate::paths::SESSIONS);
    Ok(())
}

/// Re-enters the password, then goes back where the user was heading.
#[server(prefix = "/users", endpoint = "sudo")]
pub async fn enter_sudo(password: String, return_to: Option<String>) -> Result<(), UiError> {
    use sigra::password::Password;

    let cx = crate::ssr::context().await?;
    let owner = crate::ssr::require_owner(&cx, "sudo").await?;
    let renewed = cx
        .sigra
        .sessions()
        .enter_sudo(&owner, Password::new(password), &cx.request)
        .await?;
    crate::ssr::set_cookie(sigra::http::renewed_session_cookie(&renewed));
    crate::flash::ssr::set(crate::flash::Flash::SudoGranted);
    leptos_axum::redirect(&sigra::http::sanitize_return_to(
        return_to.as_deref().unwrap_or(crate::paths::SETTINGS),
    ));
    Ok(())
}
