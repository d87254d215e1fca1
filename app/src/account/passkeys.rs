//! Passkeys: the settings list (add under sudo, rename, delete), passwordless log-in, the
//! passkey as a second factor and for sudo. The browser side of each ceremony is in
//! `crate::webauthn`. Compiled with the `passkeys` feature only.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::UiError;

/// A started passkey ceremony, for the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChallengeView {
    /// The ceremony id, sent back with the answer.
    pub ceremony: String,
    /// The `publicKey` options as JSON (binary fields in base64url).
    pub options: String,
}

/// One of the user's passkeys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was added (RFC 3339, UTC).
    pub created_at: String,
    /// When it was last used (RFC 3339, UTC).
    pub last_used_at: Option<String>,
    /// Whether it is the account's last second factor (removing it needs a passkey's answer).
    pub last_second_factor: bool,
}

#[cfg(feature = "ssr")]
fn challenge_view(challenge: sigra::passkeys::PasskeyChallenge) -> PasskeyChallengeView {
    PasskeyChallengeView {
        ceremony: challenge.ceremony,
        options: challenge.options,
    }
}

/// The security page's passkeys section: the user's passkeys, and whether changes are open
/// (sudo).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeysView {
    /// Whether the password was re-entered recently.
    pub sudo: bool,
    /// The passkeys, oldest first.
    pub passkeys: Vec<PasskeyRow>,
}

/// The user's passkeys.
#[server(prefix = "/api/account", endpoint = "passkeys")]
pub async fn list_passkeys() -> Result<PasskeysView, UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    let passkeys = cx.sigra.passkeys().list(current).await?;
    Ok(PasskeysView {
        sudo: cx.sigra.sessions().sudo(current).is_ok(),
        passkeys: passkeys
            .into_iter()
            .map(|passkey| PasskeyRow {
                id: passkey.id,
                name: passkey.name,
                created_at: passkey.created_at.to_string(),
                last_used_at: passkey.last_used_at.map(|at| at.to_string()),
                last_second_factor: passkey.last_second_factor,
            })
            .collect(),
    })
}

/// Starts adding a passkey (needs sudo).
#[server(prefix = "/users/settings/security", endpoint = "passkey-start")]
pub async fn start_passkey_registration() -> Result<PasskeyChallengeView, UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    let challenge = cx
        .sigra
        .passkeys()
        .start_passkey_registration(&sudo)
        .await?;
    Ok(challenge_view(challenge))
}

/// Finishes adding a passkey with the browser's answer.
#[server(prefix = "/users/settings/security", endpoint = "passkey-finish")]
pub async fn finish_passkey_registration(
    ceremony: String,
    response: String,
    name: Option<String>,
) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    cx.sigra
        .passkeys()
        .finish_passkey_registration(&sudo, &ceremony, &response, name.as_deref(), &cx.request)
        .await?;
    Ok(())
}

/// Renames a passkey (needs sudo).
#[server(prefix = "/users/settings/security", endpoint = "passkey-rename")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    cx.sigra
        .passkeys()
        .rename_passkey(&sudo, &id, &name, &cx.request)
        .await?;
    leptos_axum::redirect(crate::paths::SECURITY_SETTINGS);
    Ok(())
}

/// Deletes a passkey (needs sudo). The account's last second factor needs a passkey's answer
/// to [`start_passkey_confirmation`] too; that comes only from the page's script, which then
/// reloads the list itself, while a plain form post goes back to the page.
#[server(prefix = "/users/settings/security", endpoint = "passkey-delete")]
pub async fn delete_passkey(
    id: String,
    ceremony: Option<String>,
    response: Option<String>,
) -> Result<(), UiError> {
    use sigra::passkeys::PasskeyAnswer;

    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    let answer = ceremony
        .as_deref()
        .zip(response.as_deref())
        .map(|(ceremony, response)| PasskeyAnswer { ceremony, response });
    cx.sigra
        .passkeys()
        .delete_passkey(&sudo, &id, answer, &cx.request)
        .await?;
    if answer.is_none() {
        leptos_axum::redirect(crate::paths::SECURITY_SETTINGS);
    }
    Ok(())
}

/// Starts a ceremony in which a passkey confirms removing the last second factor (needs sudo).
#[server(
    prefix = "/users/settings/security",
    endpoint = "passkey-confirm-start"
)]
pub async fn start_passkey_confirmation() -> Result<PasskeyChallengeView, UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    Ok(challenge_view(
        cx.sigra
            .passkeys()
            .start_passkey_confirmation(&sudo)
            .await?,
    ))
}

/// Starts a passwordless log-in.
#[server(prefix = "/users/log-in", endpoint = "passkey-start")]
pub async fn start_passkey_log_in() -> Result<PasskeyChallengeView, UiError> {
    let cx = crate::ssr::context().await?;
    Ok(challenge_view(
        cx.sigra.passkeys().start_passkey_log_in().await?,
    ))
}

/// Logs in with a passkey; answers where to go next.
#[server(prefix = "/users/log-in", endpoint = "passkey")]
pub async fn log_in_with_passkey(
    ceremony: String,
    response: String,
    return_to: Option<String>,
) -> Result<String, UiError> {
    let cx = crate::ssr::context().await?;
    let session = cx
        .sigra
        .passkeys()
        .log_in_with_passkey(&ceremony, &response, cx.current.as_ref(), &cx.request)
        .await?;
    crate::ssr::set_cookie(sigra::http::session_cookie(&session));
    crate::flash::ssr::set(crate::flash::Flash::LoggedIn);
    let target = return_to
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or(crate::paths::AFTER_LOG_IN);
    Ok(sigra::http::sanitize_return_to(target))
}

/// Starts the second factor with a passkey.
#[server(prefix = "/users/mfa", endpoint = "passkey-start")]
pub async fn start_passkey_second_factor() -> Result<PasskeyChallengeView, UiError> {
    let cx = crate::ssr::context().await?;
    let pending = cx
        .pending
        .as_ref()
        .ok_or_else(|| crate::ssr::fail(UiError::Unauthenticated))?;
    Ok(challenge_view(
        cx.sigra
            .passkeys()
            .start_passkey_second_factor(pending)
            .await?,
    ))
}

/// Finishes the log-in with a passkey as the second factor; answers where to go next.
#[server(prefix = "/users/mfa", endpoint = "passkey")]
pub async fn verify_passkey_second_factor(
    ceremony: String,
    response: String,
    trust_browser: Option<String>,
    return_to: Option<String>,
) -> Result<String, UiError> {
    use sigra::mfa::SecondFactor;

    let factor = SecondFactor::Passkey { ceremony, response };
    super::mfa::ssr::complete_second_factor(factor, trust_browser.is_some(), return_to.as_deref())
        .await
}

/// Starts re-authenticating with a passkey for sudo.
#[server(prefix = "/users/sudo", endpoint = "passkey-start")]
pub async fn start_passkey_sudo() -> Result<PasskeyChallengeView, UiError> {
    let cx = crate::ssr::context().await?;
    let owner = crate::ssr::require_owner(&cx, "sudo").await?;
    let challenge = cx
        .sigra
        .passkeys()
        .start_passkey_sudo(owner.authenticated())
        .await?;
    Ok(challenge_view(challenge))
}

/// Opens sudo with a passkey; answers where to go next.
#[server(prefix = "/users/sudo", endpoint = "passkey")]
pub async fn enter_sudo_with_passkey(
    ceremony: String,
    response: String,
    return_to: Option<String>,
) -> Result<String, UiError> {
    let cx = crate::ssr::context().await?;
    let owner = crate::ssr::require_owner(&cx, "sudo").await?;
    let renewed = cx
        .sigra
        .passkeys()
        .enter_sudo_with_passkey(&owner, &ceremony, &response, &cx.request)
        .await?;
    crate::ssr::set_cookie(sigra::http::renewed_session_cookie(&renewed));
    crate::flash::ssr::set(crate::flash::Flash::SudoGranted);
    Ok(sigra::http::sanitize_return_to(
        return_to.as_deref().unwrap_or(crate::paths::SETTINGS),
    ))
}
