//! Log-in providers: the buttons, linked accounts (unlink under sudo), a first password for
//! an account without one, the identity waiting in this browser (prove the account to link
//! it, or give an address), and the ways sudo can be entered. The redirects to and from the
//! providers are routes of the server (`server/src/oauth.rs`).

use leptos::prelude::*;

use super::{AccountsView, PendingView, ProviderView, SudoWays};
use crate::error::UiError;

#[cfg(feature = "ssr")]
fn provider_views(sigra: &sigra::Sigra) -> Vec<ProviderView> {
    sigra
        .oauth()
        .providers()
        .into_iter()
        .map(|p| ProviderView {
            name: p.name,
            display_name: p.display_name,
            icon: p.icon,
            reauthenticates: p.reauthenticates,
        })
        .collect()
}

#[cfg(feature = "ssr")]
fn binding() -> Option<String> {
    crate::ssr::cookie(sigra::oauth::BINDING_COOKIE)
}

/// The configured providers, for the log-in buttons.
#[server(prefix = "/api/oauth", endpoint = "providers")]
pub async fn sign_in_providers() -> Result<Vec<ProviderView>, UiError> {
    let cx = crate::ssr::context().await?;
    Ok(provider_views(&cx.sigra))
}

/// The account's ways to log in, for `/users/settings/accounts`.
#[server(prefix = "/api/account", endpoint = "linked-accounts")]
pub async fn linked_accounts() -> Result<AccountsView, UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    let methods = cx.sigra.oauth().sign_in_methods(current).await?;
    let pending = cx
        .sigra
        .oauth()
        .pending(binding().as_deref(), Some(current))
        .await?
        .filter(|pending| pending.linkable)
        .map(|pending| pending.provider);
    Ok(AccountsView {
        password: methods.password,
        passkeys: methods.passkeys,
        identities: methods
            .identities
            .into_iter()
            .map(|identity| super::IdentityView {
                id: identity.id,
                provider: identity.provider,
                display_name: identity.display_name,
                email: identity.email,
                name: identity.name,
                linked_at: identity.created_at.to_string(),
                last_used_at: identity.last_used_at.map(|at| at.to_string()),
            })
            .collect(),
        providers: provider_views(&cx.sigra),
        sudo: cx.sigra.sessions().sudo(current).is_ok(),
        pending_link: pending,
    })
}

/// Unlinks a provider (needs sudo; refused for the last way to log in).
#[server(prefix = "/users/settings/accounts", endpoint = "unlink")]
pub async fn unlink_provider(id: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::ACCOUNTS_SETTINGS)?;
    cx.sigra.oauth().unlink(&sudo, &id, &cx.request).await?;
    crate::flash::ssr::set(crate::flash::Flash::ProviderUnlinked);
    leptos_axum::redirect(crate::paths::ACCOUNTS_SETTINGS);
    Ok(())
}

/// Sets a first password on an account without one (needs sudo).
#[server(prefix = "/users/settings/accounts", endpoint = "password")]
pub async fn set_first_password(new_password: String) -> Result<(), UiError> {
    use sigra::password::Password;

    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::ACCOUNTS_SETTINGS)?;
    let renewed = cx
        .sigra
        .account()
        .set_password(&sudo, Password::new(new_password), &cx.request)
        .await?;
    crate::ssr::set_cookie(sigra::http::renewed_session_cookie(&renewed));
    crate::flash::ssr::set(crate::flash::Flash::PasswordSet);
    leptos_axum::redirect(crate::paths::ACCOUNTS_SETTINGS);
    Ok(())
}

/// The provider identity waiting in this browser, if any.
#[server(prefix = "/api/oauth", endpoint = "pending")]
pub async fn pending_identity() -> Result<Option<PendingView>, UiError> {
    use sigra::oauth::PendingKind;

    let cx = crate::ssr::context().await?;
    let pending = cx
        .sigra
        .oauth()
        .pending(binding().as_deref(), cx.current.as_ref())
        .await?;
    Ok(pending.map(|pending| PendingView {
        needs_address: pending.kind == PendingKind::AddressNeeded,
        provider: pending.provider,
        email: pending.email,
        linkable: pending.linkable,
        signed_in: cx.current.is_some(),
    }))
}

/// Links the waiting identity to the account just proved in this browser.
#[server(prefix = "/users/oauth/link", endpoint = "confirm")]
pub async fn link_pending_identity() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let owner = crate::ssr::require_owner(&cx, "oauth_link").await?;
    cx.sigra
        .oauth()
        .confirm_pending_link(&owner, binding().as_deref(), &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::ProviderLinked);
    leptos_axum::redirect(crate::paths::ACCOUNTS_SETTINGS);
    Ok(())
}

/// Gives the address a provider did not: the account is created and works once the mailed
/// link confirms it.
#[server(prefix = "/users/oauth", endpoint = "email")]
pub async fn give_provider_address(email: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    cx.sigra
        .oauth()
        .complete_address(binding().as_deref(), &email, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::ProviderAddressSent);
    leptos_axum::redirect(crate::paths::CHECK_EMAIL);
    Ok(())
}

/// How the signed-in user can re-authenticate for sudo.
#[server(prefix = "/api/account", endpoint = "sudo-options")]
pub async fn sudo_options() -> Result<SudoWays, UiError> {
    let cx = crate::ssr::context().await?;
    if cx.current.is_none() {
        crate::flash::ssr::set(crate::flash::Flash::LogInRequired);
    }
    let current = cx.require_user()?;
    let methods = cx.sigra.oauth().sign_in_methods(current).await?;
    let linked: Vec<String> = methods
        .identities
        .iter()
        .map(|identity| identity.provider.clone())
        .collect();
    let switches = cx.switches();
    Ok(SudoWays {
        password: methods.password,
        passkey: switches.passkeys && methods.passkeys > 0,
        providers: provider_views(&cx.sigra)
            .into_iter()
            .filter(|p| switches.oauth && p.reauthenticates && linked.contains(&p.name))
            .collect(),
    })
}
