//! The signed-in user's own account: the overview, password change, email change, and the
//! password meter.

use leptos::prelude::*;

use super::{AccountDetails, PasswordLimits, PasswordReading};
use crate::error::UiError;

/// The account shown on the settings page.
#[server(prefix = "/api/account", endpoint = "overview")]
pub async fn account_overview() -> Result<AccountDetails, UiError> {
    use sigra::sessions::SessionKind;

    let cx = crate::ssr::context().await?;
    if cx.current.is_none() {
        crate::flash::ssr::set(crate::flash::Flash::LogInRequired);
    }
    let current = cx.require_user()?;
    let (user, session) = (current.user(), current.session());
    Ok(AccountDetails {
        email: user.email.to_string(),
        display_name: user.display_name.as_ref().map(ToString::to_string),
        confirmed: user.confirmed_at.is_some(),
        pending_email: user.pending_email.as_ref().map(ToString::to_string),
        must_change_password: user.must_change_password,
        second_factors: super::SecondFactorsView::of(&cx, &user.id).await?,
        member_since: user.created_at.to_string(),
        signed_in_at: session.created_at.to_string(),
        remembered: session.kind == SessionKind::RememberMe,
        session_ends_by: session.expires_at.to_string(),
    })
}

/// Sets the display name, or clears it when left blank.
#[server(prefix = "/users/settings", endpoint = "display-name")]
pub async fn change_display_name(display_name: String) -> Result<(), UiError> {
    use sigra::users::DisplayName;

    let cx = crate::ssr::context().await?;
    let owner = crate::ssr::require_owner(&cx, "display_name_change").await?;
    let name = DisplayName::parse(&display_name)
        .map_err(|_| crate::ssr::fail(UiError::InvalidDisplayName))?;
    cx.sigra
        .account()
        .set_display_name(&owner, name, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::DisplayNameSaved);
    leptos_axum::redirect(crate::paths::SETTINGS);
    Ok(())
}

/// Changes the password; the current one must be given.
#[server(prefix = "/users/settings", endpoint = "password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), UiError> {
    use sigra::password::Password;

    let cx = crate::ssr::context().await?;
    let owner = crate::ssr::require_owner(&cx, "password_change").await?;
    let renewed = cx
        .sigra
        .account()
        .change_password(
            &owner,
            Password::new(current_password),
            Password::new(new_password),
            &cx.request,
        )
        .await?;
    crate::ssr::set_cookie(sigra::http::renewed_session_cookie(&renewed));
    crate::flash::ssr::set(crate::flash::Flash::PasswordChanged);
    leptos_axum::redirect(crate::paths::SETTINGS);
    Ok(())
}

/// Asks to change the address; a link goes to the new one.
#[server(prefix = "/users/settings", endpoint = "email")]
pub async fn request_email_change(
    new_email: String,
    current_password: String,
) -> Result<(), UiError> {
    use sigra::password::Password;

    let cx = crate::ssr::context().await?;
    let owner = crate::ssr::require_owner(&cx, "email_change").await?;
    cx.sigra
        .account()
        .request_email_change(
            &owner,
            &new_email,
            Password::new(current_password),
            &cx.request,
        )
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::EmailChangeRequested);
    leptos_axum::redirect(crate::paths::SETTINGS);
    Ok(())
}

/// Cancels a pending email change.
#[server(prefix = "/users/settings/email", endpoint = "cancel")]
pub async fn cancel_email_change() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let owner = crate::ssr::require_owner(&cx, "email_change_cancel").await?;
    cx.sigra
        .account()
        .cancel_email_change(&owner, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::EmailChangeCancelled);
    leptos_axum::redirect(crate::paths::SETTINGS);
    Ok(())
}

/// Confirms the new address with the mailed link opened in this browser.
#[server(prefix = "/users/settings/confirm-email", endpoint = "link")]
pub async fn confirm_email_change() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    if cx
        .current
        .as_ref()
        .is_some_and(|current| current.impersonator().is_some())
    {
        crate::ssr::require_owner(&cx, "email_change_confirm").await?;
    }
    let token = crate::ssr::link_token().map_err(|e| {
        crate::ssr::back_to_form::<ConfirmEmailChange>(crate::paths::CONFIRM_EMAIL_CHANGE_LINK, e)
    })?;
    cx.sigra
        .account()
        .confirm_email_change(&token, cx.current.as_ref(), &cx.request)
        .await
        .map_err(|e| {
            crate::ssr::back_to_form::<ConfirmEmailChange>(
                crate::paths::CONFIRM_EMAIL_CHANGE_LINK,
                e.into(),
            )
        })?;
    crate::ssr::clear_link_token();
    crate::flash::ssr::set(crate::flash::Flash::EmailChanged);
    leptos_axum::redirect(if cx.current.is_some() {
        crate::paths::SETTINGS
    } else {
        crate::paths::LOG_IN
    });
    Ok(())
}

/// The configured password length bounds.
#[server(prefix = "/api/account", endpoint = "password-rules")]
pub async fn password_rules() -> Result<PasswordLimits, UiError> {
    let cx = crate::ssr::context().await?;
    let policy = cx.sigra.passwords().policy();
    Ok(PasswordLimits {
        min_length: policy.min_length(),
        max_length: policy.max_length(),
    })
}

/// The meter's reading while a password is typed: the same policy the server enforces on
/// submit, applied to the address typed beside it (or the signed-in user's).
#[server(prefix = "/api/account", endpoint = "assess-password")]
pub async fn assess_password(
    password: String,
    email: Option<String>,
) -> Result<PasswordReading, UiError> {
    use sigra::password::{Password, StrengthLabel};
    use sigra::users::EmailAddress;

    let cx = crate::ssr::context().await?;
    let email = email
        .as_deref()
        .and_then(|e| EmailAddress::parse(e).ok())
        .or_else(|| cx.current.as_ref().map(|c| c.user().email.clone()));
    let assessment = cx
        .sigra
        .passwords()
        .assess_password(Password::new(password), email.as_ref());
    Ok(PasswordReading {
        score: assessment.strength.score,
        label: match assessment.strength.label {
            StrengthLabel::Weak => super::StrengthWord::Weak,
            StrengthLabel::Fair => super::StrengthWord::Fair,
            StrengthLabel::Strong => super::StrengthWord::Strong,
        },
        problem: assessment.problem,
    })
}
