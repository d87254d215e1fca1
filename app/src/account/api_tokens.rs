//! Personal API tokens: the list, creating one (shown once), revoking one or all. Creating and
//! revoking need sudo. A new token survives the redirect back to the page (with or without
//! JavaScript) in a short-lived cookie, sealed and bound to the session, which the page's next
//! load takes.

use leptos::prelude::*;

use super::ApiTokensView;
use crate::error::UiError;

/// The page's view: the user's tokens, the scopes on offer, the rules, and a token just made.
#[server(prefix = "/api/account", endpoint = "api-tokens")]
pub async fn list_api_tokens(cursor: Option<String>) -> Result<ApiTokensView, UiError> {
    use sigra::db::paging::PageRequest;

    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    let tokens = cx.sigra.api_tokens();
    let page = tokens
        .list(
            current,
            &PageRequest {
                limit: None,
                cursor,
            },
        )
        .await?;
    let config = &cx.sigra.config().api_tokens;
    Ok(ApiTokensView {
        tokens: page
            .items
            .into_iter()
            .map(|token| super::ApiTokenRow {
                id: token.id,
                name: token.name,
                scopes: token.scopes.to_string(),
                created_at: token.created_at.to_string(),
                expires_at: token.expires_at.map(|t| t.to_string()),
                last_used_at: token.last_used_at.map(|t| t.to_string()),
                expired: token.expires_at.is_some_and(|t| t <= cx.sigra.now()),
            })
            .collect(),
        next_cursor: page.next_cursor,
        scopes: tokens.registry().all().map(str::to_owned).collect(),
        max_days: config.max_lifetime.map(|d| d.as_secs() / 86_400),
        expiry_required: config.require_expiry || config.max_lifetime.is_some(),
        new_token: ssr::take_new_token(&cx),
        sudo: cx.sigra.sessions().sudo(current).is_ok(),
    })
}

/// Creates a token (needs sudo); it is shown once on the page.
#[server(prefix = "/users/settings/api-tokens", endpoint = "create")]
pub async fn create_api_token(
    name: String,
    scopes: Option<Vec<String>>,
    expires_in_days: Option<String>,
) -> Result<(), UiError> {
    use sigra::api_tokens::TokenRequest;

    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::API_TOKENS)?;
    let days = match expires_in_days.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(days) => Some(
            days.parse::<u64>()
                .map_err(|_| crate::ssr::fail(UiError::IncompleteForm))?,
        ),
    };
    let wanted = TokenRequest {
        name,
        scopes: scopes.unwrap_or_default(),
        expires_at: days.map(|d| {
            cx.sigra
                .now()
                .plus(std::time::Duration::from_secs(d * 86_400))
        }),
    };
    let created = cx
        .sigra
        .api_tokens()
        .create(&sudo, wanted, &cx.request)
        .await?;
    ssr::show_token_once(&cx, created.token.expose());
    crate::flash::ssr::set(crate::flash::Flash::ApiTokenCreated);
    leptos_axum::redirect(crate::paths::API_TOKENS);
    Ok(())
}

/// Revokes one token (needs sudo).
#[server(prefix = "/users/settings/api-tokens", endpoint = "revoke")]
pub async fn revoke_api_token(id: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::API_TOKENS)?;
    cx.sigra
        .api_tokens()
        .revoke(&sudo, &id, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::ApiTokenRevoked);
    leptos_axum::redirect(crate::paths::API_TOKENS);
    Ok(())
}

/// Revokes every token (needs sudo).
#[server(prefix = "/users/settings/api-tokens", endpoint = "revoke-all")]
pub async fn revoke_all_api_tokens() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::API_TOKENS)?;
    cx.sigra.api_tokens().revoke_all(&sudo, &cx.request).await?;
    crate::flash::ssr::set(crate::flash::Flash::ApiTokensRevoked);
    leptos_axum::redirect(crate::paths::API_TOKENS);
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::time::Duration;

    use crate::ssr::{cookie, set_cookie, ServerContext};

    const COOKIE: &str = "__Host-sigra_new_api_token";
    const LIFETIME: Duration = Duration::from_secs(5 * 60);

    fn context(cx: &ServerContext) -> Option<String> {
        cx.current
            .as_ref()
            .map(|current| format!("api-token:{}", current.session().id.as_str()))
    }

    pub(super) fn show_token_once(cx: &ServerContext, token: &str) {
        let Some(context) = context(cx) else { return };
        set_cookie(
            cx.sigra
                .cookies()
                .sealed(COOKIE, &context, token.as_bytes(), LIFETIME),
        );
    }

    pub(super) fn take_new_token(cx: &ServerContext) -> Option<String> {
        cookie(COOKIE)?;
        set_cookie(sigra::http::HostCookies::removal(COOKIE));
        let parts = leptos::prelude::use_context::<http::request::Parts>()?;
        let token = cx
            .sigra
            .cookies()
            .open_sealed(&parts.headers, COOKIE, &context(cx)?)?;
        String::from_utf8(token).ok()
    }
}
