//! Email confirmation: by the mailed link, by the six-digit code, and asking for a new mail.

use leptos::prelude::*;

use crate::error::UiError;

/// Mails a new link and code if the address has an unconfirmed account (never says which).
#[server(prefix = "/users/confirm", endpoint = "resend")]
pub async fn resend_confirmation(email: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    super::check_email::ssr::send_and_go(&cx, super::SentMail::Confirmation, &email).await
}

/// Confirms an address with the code from the mail.
#[server(prefix = "/users/confirm", endpoint = "code")]
pub async fn confirm_with_code(email: String, code: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    cx.sigra
        .confirmation()
        .confirm_with_code(&email, &code, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::Confirmed);
    leptos_axum::redirect(if cx.current.is_some() {
        crate::paths::SETTINGS
    } else {
        crate::paths::LOG_IN
    });
    Ok(())
}

/// Confirms the address with the mailed link opened in this browser.
#[server(prefix = "/users/confirm", endpoint = "link")]
pub async fn confirm_with_link() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let token = crate::ssr::link_token()
        .map_err(|e| crate::ssr::back_to_form::<ConfirmWithLink>(crate::paths::CONFIRM_LINK, e))?;
    cx.sigra
        .confirmation()
        .confirm_with_link(&token, &cx.request)
        .await
        .map_err(|e| {
            crate::ssr::back_to_form::<ConfirmWithLink>(crate::paths::CONFIRM_LINK, e.into())
        })?;
    crate::ssr::clear_link_token();
    crate::flash::ssr::set(crate::flash::Flash::Confirmed);
    leptos_axum::redirect(if cx.current.is_some() {
        crate::paths::SETTINGS
    } else {
        crate::paths::LOG_IN
    });
    Ok(())
}
