//! Landing for links mailed with a token in the path. The token is moved into a short-lived
//! `__Host-` cookie and the browser is sent on to a token-free page, so the token does not
//! stay in the address bar, the history, or a `Referer`. The page then asks for a click (a POST)
//! before the token is used: mail scanners that fetch links cannot spend it.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::time::Duration;

use crate::crypto::PresentedToken;

use super::cookies::host_cookie;

/// The cookie that carries a mailed token to the page that uses it.
pub const LINK_COOKIE: &str = "__Host-sigra_link";
/// Long enough to read the page and submit it; the token's own expiry still applies.
const LINK_COOKIE_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Each mailed link, and the token-free page it lands on.
pub const LANDINGS: &[(&str, &str)] = &[
    ("/users/confirm/{token}", "/users/confirm/link"),
    ("/users/log-in/{token}", "/users/log-in/link"),
    (
        "/users/reset-password/{token}",
        "/users/reset-password/choose",
    ),
    (
        "/users/settings/confirm-email/{token}",
        "/users/settings/confirm-email/link",
    ),
];

/// The routes for [`LANDINGS`].
pub fn link_landing_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    LANDINGS.iter().fold(Router::new(), |router, (link, page)| {
        let page: &'static str = page;
        router.route(
            link,
            get(move |Path(token): Path<String>| async move { land(&token, page) }),
        )
    })
}

fn land(token: &str, page: &'static str) -> Response {
    // A malformed token still lands: the page then says the link is invalid.
    let value = if PresentedToken::parse(token).is_some() {
        token
    } else {
        ""
    };
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, page)]).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        host_cookie(LINK_COOKIE, value, Some(LINK_COOKIE_LIFETIME)),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The token the landing stored, if a well-formed one is present.
pub fn link_token(headers: &HeaderMap) -> Option<PresentedToken> {
    super::find_cookie(headers, LINK_COOKIE).and_then(PresentedToken::parse)
}

/// The `Set-Cookie` value that removes the link cookie once it has been used.
pub fn clear_link_cookie() -> HeaderValue {
    host_cookie(LINK_COOKIE, "", Some(Duration::ZERO))
}
