use std::time::Duration;

use cookie::{Cookie, SameSite};
use http::header::{HeaderMap, HeaderValue, COOKIE};

use crate::crypto::SecretKey;
use crate::sessions::{NewSession, RenewedToken};

/// The session cookie. `__Host-` makes browsers insist on Secure, `Path=/` and no `Domain`,
/// so no subdomain can plant or read it.
pub const SESSION_COOKIE: &str = "__Host-sigra_session";

/// The `Set-Cookie` value that hands a new session to the browser.
pub fn session_cookie(session: &NewSession) -> HeaderValue {
    host_cookie(
        SESSION_COOKIE,
        session.token.expose(),
        session.cookie_max_age,
    )
}

/// The `Set-Cookie` value that replaces the session cookie with a session's new token.
pub fn renewed_session_cookie(renewed: &RenewedToken) -> HeaderValue {
    host_cookie(
        SESSION_COOKIE,
        renewed.token.expose(),
        renewed.cookie_max_age,
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie() -> HeaderValue {
    host_cookie(SESSION_COOKIE, "", Some(Duration::ZERO))
}

/// Where the browser keeps the admin's own session token while the admin works as another
/// user (the session cookie then holds the impersonation's). Never read as a session by the
/// session check: only stopping the impersonation, or its end, brings it back.
pub const IMPERSONATOR_COOKIE: &str = "__Host-sigra_impersonator";

/// The `Set-Cookie` value that keeps the admin's own session aside during an impersonation.
/// It lasts as long as the session cookie does (the browser session).
pub fn impersonator_cookie(admin_session: &RenewedToken) -> HeaderValue {
    host_cookie(IMPERSONATOR_COOKIE, admin_session.token.expose(), None)
}

/// The `Set-Cookie` value that removes the kept-aside admin session.
pub fn clear_impersonator_cookie() -> HeaderValue {
    host_cookie(IMPERSONATOR_COOKIE, "", Some(Duration::ZERO))
}

/// A `__Host-` cookie as every cookie of ours is: Secure, HttpOnly, SameSite=Lax, `Path=/`, no
/// `Domain`. Without `max_age` it lasts as long as the browser session; zero removes it.
pub fn host_cookie(name: &str, value: &str, max_age: Option<Duration>) -> HeaderValue {
    let mut cookie = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    if let Some(max_age) = max_age {
        let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    }
    // Names are constants and values base64url, so the text is always a valid header.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The value of the first cookie called `name` in the request's `Cookie` headers.
pub fn find_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// Sealed and signed `__Host-` cookies for the host's own short-lived state (a message for the
/// next page, values shown once), so the host never handles the secret key: each cookie name
/// gets its own derived key. `sigra.cookies()`.
pub struct HostCookies {
    secret: SecretKey,
}

impl HostCookies {
    pub(crate) fn new(secret: SecretKey) -> Self {
        Self { secret }
    }

    /// A cookie whose value is encrypted and authenticated for `context` (for example the
    /// session id, so it opens only on the session that set it).
    pub fn sealed(
        &self,
        name: &str,
        context: &str,
        value: &[u8],
        max_age: Duration,
    ) -> HeaderValue {
        let sealed = self
            .secret
            .derive_sealer(&purpose(name))
            .seal(context, value);
        host_cookie(name, &sealed, Some(max_age))
    }

    /// The value of a cookie made by [`HostCookies::sealed`] with the same name and context.
    pub fn open_sealed(&self, headers: &HeaderMap, name: &str, context: &str) -> Option<Vec<u8>> {
        let sealed = find_cookie(headers, name)?;
        let opened = self
            .secret
            .derive_sealer(&purpose(name))
            .open(context, sealed)?;
        Some(opened.to_vec())
    }

    /// A cookie whose value is readable but signed, so it cannot be forged or altered.
    pub fn signed(&self, name: &str, value: &str, max_age: Duration) -> HeaderValue {
        host_cookie(
            name,
            &self.secret.derive(&purpose(name)).sign(value),
            Some(max_age),
        )
    }

    /// The value of a cookie made by [`HostCookies::signed`], if its signature holds.
    pub fn verified<'h>(&self, headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
        let signed = find_cookie(headers, name)?;
        self.secret.derive(&purpose(name)).verify(signed)
    }

    /// The `Set-Cookie` value that removes the cookie `name`.
    pub fn removal(name: &str) -> HeaderValue {
        host_cookie(name, "", Some(Duration::ZERO))
    }
}

fn purpose(name: &str) -> String {
    format!("host-cookie:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::IssuedToken;
    use crate::sessions::SessionKind;

    fn new_session(max_age: Option<Duration>) -> NewSession {
        NewSession::for_tests(IssuedToken::generate(), SessionKind::Standard, max_age)
    }

    #[test]
    fn session_cookie_has_every_protective_attribute() {
        let session = new_session(None);
        let text = session_cookie(&session).to_str().expect("ascii").to_owned();
        assert!(
            text.starts_with(&format!("__Host-sigra_session={}", session.token.expose())),
            "{text}"
        );
        for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(text.contains(attribute), "{attribute} missing from {text}");
        }
        assert!(!text.contains("Domain"), "{text}");
        assert!(
            !text.contains("Max-Age"),
            "a standard session cookie ends with the browser: {text}"
        );
    }

    #[test]
    fn remember_me_cookie_lasts_as_long_as_the_session() {
        let session = new_session(Some(Duration::from_secs(30 * 24 * 3600)));
        let text = session_cookie(&session).to_str().expect("ascii").to_owned();
        assert!(text.contains("Max-Age=2592000"), "{text}");
    }

    #[test]
    fn clearing_expires_the_cookie_now() {
        let text = clear_session_cookie().to_str().expect("ascii").to_owned();
        assert!(text.starts_with("__Host-sigra_session=;"), "{text}");
        assert!(text.contains("Max-Age=0"), "{text}");
    }

    #[test]
    fn cookies_are_found_among_others_and_across_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; __Host-sigra_session=abc"),
        );
        headers.append(COOKIE, HeaderValue::from_static("other=1"));
        assert_eq!(find_cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(find_cookie(&headers, "other"), Some("1"));
        assert_eq!(find_cookie(&headers, "missing"), None);
    }

    #[test]
    fn host_cookies_open_only_with_their_name_and_context() {
        let cookies = HostCookies::new(SecretKey::parse(&SecretKey::generate_text()).expect("key"));
        let header = |value: HeaderValue| {
            let pair = value
                .to_str()
                .expect("ascii")
                .split(';')
                .next()
                .unwrap_or_default()
                .to_owned();
            let mut headers = HeaderMap::new();
            headers.insert(COOKIE, HeaderValue::from_str(&pair).expect("header"));
            headers
        };
        let sealed =
            header(cookies.sealed("__Host-a", "session-1", b"codes", Duration::from_secs(60)));
        assert_eq!(
            cookies
                .open_sealed(&sealed, "__Host-a", "session-1")
                .as_deref(),
            Some(&b"codes"[..])
        );
        assert_eq!(cookies.open_sealed(&sealed, "__Host-a", "session-2"), None);
        let signed = header(cookies.signed("__Host-b", "logged_in", Duration::from_secs(60)));
        assert_eq!(cookies.verified(&signed, "__Host-b"), Some("logged_in"));
        let renamed = header(
            HeaderValue::from_str(
                &signed
                    .get(COOKIE)
                    .expect("cookie")
                    .to_str()
                    .expect("ascii")
                    .replace("__Host-b", "__Host-c"),
            )
            .expect("header"),
        );
        assert_eq!(
            cookies.verified(&renamed, "__Host-c"),
            None,
            "a value is bound to its cookie"
        );
    }
}
