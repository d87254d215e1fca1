//! Starting and stopping an impersonation: thin adapters over `sigra.admin()`. The browser
//! keeps the admin's own session aside in the impersonator cookie while the session cookie
//! holds the impersonation's.

use leptos::prelude::*;

use crate::error::UiError;

/// Starts working as the account `id` (needs the admin's sudo); the admin lands on the
/// account's settings as its owner would see them.
#[server(prefix = "/api/admin", endpoint = "impersonate")]
pub async fn admin_impersonate(id: String) -> Result<(), UiError> {
    let (cx, admin, sudo, user) = super::ssr::acting_on(&id).await?;
    let started = cx
        .sigra
        .admin()
        .start_impersonation(&admin, &sudo, &user, &cx.request)
        .await?;
    crate::ssr::set_cookie(sigra::http::impersonator_cookie(&started.admin_session));
    crate::ssr::set_cookie(sigra::http::session_cookie(&started.session));
    crate::flash::ssr::set(crate::flash::Flash::ImpersonationStarted);
    leptos_axum::redirect(crate::paths::SETTINGS);
    Ok(())
}

/// Ends the impersonation and goes back to the admin's own session (at the account's page in
/// the admin area), or to the log-in page when that session has ended too.
#[server(prefix = "/api/impersonation", endpoint = "stop")]
pub async fn stop_impersonation() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    ssr::stop(&cx, current).await
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use sigra::admin::ImpersonationEnd;
    use sigra::crypto::PresentedToken;
    use sigra::sessions::Authenticated;

    use crate::error::UiError;
    use crate::flash::{self, Flash};
    use crate::ssr::{cookie, set_cookie, ServerContext};

    /// Stops the impersonation `current` rides on (also what logging out of one does).
    ///
    /// # Errors
    /// `NotFound` when `current` is not an impersonation; the database failed.
    pub async fn stop(cx: &ServerContext, current: &Authenticated) -> Result<(), UiError> {
        let kept = cookie(sigra::http::IMPERSONATOR_COOKIE)
            .as_deref()
            .and_then(PresentedToken::parse);
        let end = cx
            .sigra
            .admin()
            .stop_impersonation(current, kept.as_ref(), &cx.request)
            .await?;
        set_cookie(sigra::http::clear_impersonator_cookie());
        match end {
            ImpersonationEnd::Restored(renewed) => {
                set_cookie(sigra::http::renewed_session_cookie(&renewed));
                flash::ssr::set(Flash::ImpersonationStopped);
                leptos_axum::redirect(&crate::paths::admin_user(current.user().id.as_str()));
            }
            ImpersonationEnd::LogInAgain => {
                set_cookie(sigra::http::clear_session_cookie());
                flash::ssr::set(Flash::ImpersonationEnded);
                leptos_axum::redirect(crate::paths::LOG_IN);
            }
        }
        Ok(())
    }
}
