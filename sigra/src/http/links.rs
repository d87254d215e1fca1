//! Landing for links mailed with a token in the path. The token is moved into a short-lived
//! `__Host-` cookie and the browser is sent on to a token-free page, so the token does not
//! stay in the address bar, the history, or a `Referer`. The page then asks for a click (a POST)
//! before the token is used: mail scanners that fetch links cannot spend it.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cookie::{Cookie, SameSite};

use crate::crypto::PresentedToken;

/// The cookie that carries a mailed token to the page that uses it.
pub const LINK_COOKIE: &str = "__Host-sigra_link";
/// Long enough to read the page and submit it; the token's own expiry still applies.
const LINK_COOKIE_SECONDS: i64 = 15 * 60;

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
    let value = PresentedToken::parse(token)
        .map(|_| token.to_owned())
        .unwrap_or_default();
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, page)]).into_response();
    let headers = response.headers_mut();
    if let Some(cookie) = link_cookie(value, LINK_COOKIE_SECONDS) {
        headers.append(header::SET_COOKIE, cookie);
    }
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
pub fn clear_link_cookie() -> Option<HeaderValue> {
    link_cookie(String::new(), 0)
}

fn link_cookie(value: String, max_age_seconds: i64) -> Option<HeaderValue> {
    let cookie = Cookie::build((LINK_COOKIE, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}
