//! Deleting the account, and keeping one that is scheduled for deletion. Asking needs sudo,
//! the password (where the account has one) and the address typed back; every session ends,
//! this one too. While the deletion waits, `/users/reactivation` is the only page the account
//! can use.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::UiError;

/// What the deletion page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionView {
    /// The address to type back.
    pub email: String,
    /// Whether the password must be given too (an account without one confirmed with its
    /// passkey or provider when it entered sudo).
    pub has_password: bool,
    /// Whether sudo is active, so the form can be used.
    pub sudo: bool,
    /// Days the account waits before it is deleted (0: at once).
    pub grace_days: u64,
    /// Organizations that need another owner (or deleting) first.
    pub sole_owner_of: Vec<String>,
}

/// What the reactivation page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactivationView {
    /// The signed-in address.
    pub email: String,
    /// When the account will be deleted (RFC 3339, UTC), if it is scheduled.
    pub delete_at: Option<String>,
}

/// The deletion page's data.
#[server(prefix = "/api/account", endpoint = "deletion")]
pub async fn deletion_overview() -> Result<DeletionView, UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    Ok(DeletionView {
        email: current.user().email.to_string(),
        has_password: cx.sigra.account().has_password(current).await?,
        sudo: cx.sigra.sessions().sudo(current).is_ok(),
        sole_owner_of: cx
            .sigra
            .account()
            .organizations_blocking_deletion(current)
            .await?,
        grace_days: cx
            .sigra
            .config()
            .deletion
            .grace_period
            .as_secs()
            .div_ceil(86_400),
    })
}

/// Asks for the account to be deleted (needs sudo; without it, goes to the sudo page). Every
/// session ends, so the browser lands on the log-in page with a message.
#[server(prefix = "/users/settings", endpoint = "delete")]
pub async fn delete_account(
    confirm_email: String,
    current_password: Option<String>,
) -> Result<(), UiError> {
    use sigra::account::{DeletionConfirmation, DeletionScheduled};
    use sigra::password::Password;

    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::DELETE_ACCOUNT)?;
    let confirmation = DeletionConfirmation {
        password: current_password
            .filter(|p| !p.is_empty())
            .map(Password::new),
        typed_email: confirm_email,
    };
    let done = cx
        .sigra
        .account()
        .schedule_deletion(&sudo, confirmation, &cx.request)
        .await?;
    crate::ssr::set_cookie(sigra::http::clear_session_cookie());
    crate::flash::ssr::set(match done {
        DeletionScheduled::At(_) => crate::flash::Flash::DeletionScheduled,
        DeletionScheduled::Done => crate::flash::Flash::AccountDeleted,
    });
    leptos_axum::redirect(crate::paths::LOG_IN);
    Ok(())
}

/// The reactivation page's data.
#[server(prefix = "/api/account", endpoint = "reactivation")]
pub async fn reactivation_overview() -> Result<ReactivationView, UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    Ok(ReactivationView {
        email: current.user().email.to_string(),
        delete_at: current
            .user()
            .deletion_scheduled_at
            .map(|at| at.to_string()),
    })
}

/// Keeps an account scheduled for deletion.
#[server(prefix = "/users/reactivation", endpoint = "keep")]
pub async fn keep_account() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    // Nothing to cancel: kept already (a second click), or deleted meanwhile (the next page
    // then asks for a log-in).
    if cx
        .sigra
        .account()
        .cancel_deletion(current, &cx.request)
        .await?
    {
        crate::flash::ssr::set(crate::flash::Flash::AccountKept);
    }
    leptos_axum::redirect(crate::paths::SETTINGS);
    Ok(())
}
