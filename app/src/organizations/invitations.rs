//! The invitation page: the mailed link lands at `/invitations/:token`, which keeps the token
//! in the link cookie and opens `/invitations/accept`. A signed-in user with the invited
//! address joins with a click; someone without an account chooses a password and joins in
//! one step (the link proves the address); a user logged in with another address is told so
//! and joins nothing.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::UiError;

/// What the invitation page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationInfo {
    /// The organization's name.
    pub organization: String,
    /// The invited address.
    pub email: String,
    /// The role it gives.
    pub role: String,
    /// When it stops working (RFC 3339, UTC).
    pub expires_at: String,
    /// The address the browser is logged in with, if any.
    pub signed_in_as: Option<String>,
    /// Whether that is the invited address.
    pub addressed_to_you: bool,
}

/// The invitation the link in this browser is for.
#[server(prefix = "/api/invitations", endpoint = "details")]
pub async fn invitation_details() -> Result<InvitationInfo, UiError> {
    let cx = crate::ssr::context().await?;
    let token = crate::ssr::link_token()?;
    let preview = cx.sigra.organizations().preview_invitation(&token).await?;
    let signed_in_as = cx
        .current
        .as_ref()
        .map(|current| current.user().email.as_str().to_owned());
    Ok(InvitationInfo {
        addressed_to_you: signed_in_as.as_deref() == Some(preview.email.as_str()),
        organization: preview.organization,
        email: preview.email,
        role: preview.role.name().to_owned(),
        expires_at: preview.expires_at.to_string(),
        signed_in_as,
    })
}

/// Joins with the signed-in account (whose address must be the invited one).
#[server(prefix = "/api/invitations", endpoint = "accept")]
pub async fn accept_invitation() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let back = |e| crate::ssr::back_to_form::<AcceptInvitation>(crate::paths::INVITATION, e);
    let current = cx.require_user().map_err(|e| back(e.clone()))?;
    let token = crate::ssr::link_token().map_err(back)?;
    let orgs = cx.sigra.organizations();
    let joined = orgs
        .accept_invitation(current, &token, &cx.request)
        .await
        .map_err(|e| back(e.into()))?;
    crate::ssr::clear_link_token();
    crate::flash::ssr::set(crate::flash::Flash::InvitationAccepted);
    leptos_axum::redirect(&crate::paths::organization(
        joined.organization.slug.as_str(),
    ));
    Ok(())
}

/// Creates the invited account with `password`, joins, and logs it in.
#[server(prefix = "/api/invitations", endpoint = "join")]
pub async fn join_with_new_account(password: String) -> Result<(), UiError> {
    use sigra::auth::LogIn;
    use sigra::password::Password;

    let cx = crate::ssr::context().await?;
    let back = |e| crate::ssr::back_to_form::<JoinWithNewAccount>(crate::paths::INVITATION, e);
    let token = crate::ssr::link_token().map_err(back)?;
    let orgs = cx.sigra.organizations();
    let preview = orgs
        .preview_invitation(&token)
        .await
        .map_err(|e| back(e.into()))?;
    let joined = orgs
        .accept_with_sign_up(&token, Password::new(password.clone()), &cx.request)
        .await
        .map_err(|e| back(e.into()))?;
    crate::ssr::clear_link_token();
    let log_in = LogIn {
        email: preview.email,
        password: Password::new(password),
        remember_me: false,
        trusted_browser: None,
    };
    let session = cx
        .sigra
        .auth()
        .log_in(log_in, None, &cx.request)
        .await
        .map_err(|e| back(e.into()))?;
    crate::ssr::set_cookie(sigra::http::session_cookie(&session));
    crate::flash::ssr::set(crate::flash::Flash::InvitationAccepted);
    leptos_axum::redirect(&crate::paths::organization(
        joined.organization.slug.as_str(),
    ));
    Ok(())
}
