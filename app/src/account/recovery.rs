//! Password reset: asking for a link, and choosing a new password with it.

use leptos::prelude::*;

use crate::error::UiError;

/// Mails a reset link if the address has an account (never says which).
#[server(prefix = "/users", endpoint = "reset-password")]
pub async fn request_password_reset(email: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    super::check_email::ssr::send_and_go(&cx, super::SentMail::PasswordReset, &email).await
}

/// Whether the reset link opened in this browser can still be used.
#[server(prefix = "/api/account", endpoint = "reset-link-status")]
pub async fn reset_link_status() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let token = crate::ssr::link_token()?;
    Ok(cx.sigra.auth().check_reset_token(&token).await?)
}

/// Sets a new password with the reset link opened in this browser. Does not log in.
#[server(prefix = "/users/reset-password", endpoint = "choose")]
pub async fn reset_password(password: String) -> Result<(), UiError> {
    use sigra::password::Password;

    let cx = crate::ssr::context().await?;
    let back = |e: sigra::Error| {
        crate::ssr::back_to_form::<ResetPassword>(crate::paths::RESET_PASSWORD_CHOOSE, e.into())
    };
    let token = crate::ssr::link_token().map_err(|e| {
        crate::ssr::back_to_form::<ResetPassword>(crate::paths::RESET_PASSWORD_CHOOSE, e)
    })?;
    cx.sigra
        .auth()
        .reset_password(&token, Password::new(password), &cx.request)
        .await
        .map_err(back)?;
    crate::ssr::clear_link_token();
    // Every session of the account ended, this one included.
    crate::ssr::set_cookie(sigra::http::clear_session_cookie());
    crate::flash::ssr::set(crate::flash::Flash::PasswordReset);
    leptos_axum::redirect(crate::paths::LOG_IN);
    Ok(())
}
