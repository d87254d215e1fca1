//! Bearer credentials: `Authorization: Bearer <token>` only (never a query string or a form
//! field). A request that carries a bearer token and no `Cookie` header cannot have been forged
//! by a browser, so it skips the cross-site check and is authenticated by its token alone; a
//! request with both is a cookie request, and its token is ignored. A bearer that does not
//! verify is refused with 401 before any handler runs: it never falls back to a guest.

use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use http::HeaderMap;

use crate::api_tokens::PresentedApiToken;
use crate::config::Capability;
use crate::error::{Error, Result};
use crate::Sigra;

use super::scope::Scope;

/// Longest bearer token read.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What the `Authorization` header holds.
#[derive(Debug, PartialEq, Eq)]
pub enum BearerHeader<'h> {
    /// No `Authorization` header, or another scheme.
    Absent,
    /// `Bearer` with a token of the RFC 6750 alphabet.
    Token(&'h str),
    /// `Bearer` with something else, or several `Authorization` headers.
    Malformed,
}

/// Reads the bearer token of a request's headers.
pub fn bearer_header(headers: &HeaderMap) -> BearerHeader<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return if headers.contains_key(AUTHORIZATION) {
            BearerHeader::Malformed
        } else {
            BearerHeader::Absent
        };
    };
    let Ok(text) = value.to_str() else {
        return BearerHeader::Malformed;
    };
    let Some((scheme, token)) = text.split_once(' ') else {
        return if text.eq_ignore_ascii_case("bearer") {
            BearerHeader::Malformed
        } else {
            BearerHeader::Absent
        };
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return BearerHeader::Absent;
    }
    let token = token.trim_matches(' ');
    // RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    let valid = !body.is_empty()
        && token.len() <= MAX_TOKEN_BYTES
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if valid {
        BearerHeader::Token(token)
    } else {
        BearerHeader::Malformed
    }
}

/// Whether the request is authenticated by a bearer token: it says `Authorization: Bearer`
/// and carries no cookie at all.
pub fn is_bearer_request(headers: &HeaderMap) -> bool {
    !headers.contains_key(COOKIE) && bearer_header(headers) != BearerHeader::Absent
}

/// Whether a browser could not have sent this request from another site: it carries no cookie
/// (so no ambient credential), and either a bearer token or a JSON body, neither of which a
/// page on another site can send without a CORS preflight, which this server never approves.
/// The API clients' guest endpoints (token log-in, refresh) are such requests.
pub fn is_cookieless_api_request(headers: &HeaderMap) -> bool {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    !headers.contains_key(COOKIE) && (json || bearer_header(headers) != BearerHeader::Absent)
}

/// The proof for a bearer request, or the refusal.
pub(super) async fn authenticate(
    sigra: &Sigra,
    headers: &HeaderMap,
    extensions: &http::Extensions,
) -> Result<Scope> {
    let BearerHeader::Token(token) = bearer_header(headers) else {
        return Err(Error::TokenRejected);
    };
    let config = sigra.config();
    let prefix = &config.api_tokens.prefix;
    let scope = if PresentedApiToken::has_prefix(prefix, token) {
        // Switched off, the tokens already issued stop working with the pages that make them.
        if !config.capabilities.has(Capability::ApiTokens) {
            return Err(Error::TokenRejected);
        }
        let presented = PresentedApiToken::parse(prefix, token);
        let context = super::extract::context_of(extensions, headers);
        match presented {
            Some(presented) => {
                Scope::ApiToken(sigra.api_tokens().verify(&presented, &context).await?)
            }
            None => {
                sigra.api_tokens().refuse_malformed(&context).await?;
                return Err(Error::TokenRejected);
            }
        }
    } else {
        access_token_scope(sigra, token).await?
    };
    Ok(scope)
}

/// Anything else may be a JWT access token, where JWT is on (and compiled in).
#[cfg(feature = "jwt")]
async fn access_token_scope(sigra: &Sigra, token: &str) -> Result<Scope> {
    if !sigra.config().capabilities.has(Capability::Jwt) {
        return Err(Error::TokenRejected);
    }
    Ok(Scope::AccessToken(sigra.jwt().verify_access(token).await?))
}

#[cfg(not(feature = "jwt"))]
async fn access_token_scope(_sigra: &Sigra, _token: &str) -> Result<Scope> {
    Err(Error::TokenRejected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).expect("header"));
        }
        headers
    }

    #[test]
    fn only_one_well_formed_bearer_header_counts() {
        assert_eq!(
            bearer_header(&headers(&[("authorization", "Bearer abc.def-_~+/==")])),
            BearerHeader::Token("abc.def-_~+/==")
        );
        assert_eq!(
            bearer_header(&headers(&[("authorization", "bearer abc")])),
            BearerHeader::Token("abc")
        );
        assert_eq!(bearer_header(&headers(&[])), BearerHeader::Absent);
        assert_eq!(
            bearer_header(&headers(&[("authorization", "Basic dXNlcjpwYXNz")])),
            BearerHeader::Absent
        );
        for bad in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer =abc",
            "Bearer a,b",
        ] {
            assert_eq!(
                bearer_header(&headers(&[("authorization", bad)])),
                BearerHeader::Malformed,
                "{bad}"
            );
        }
        assert_eq!(
            bearer_header(&headers(&[
                ("authorization", "Bearer a"),
                ("authorization", "Bearer b")
            ])),
            BearerHeader::Malformed
        );
    }

    #[test]
    fn a_cookie_makes_it_a_cookie_request() {
        assert!(is_bearer_request(&headers(&[(
            "authorization",
            "Bearer abc"
        )])));
        assert!(!is_bearer_request(&headers(&[
            ("authorization", "Bearer abc"),
            ("cookie", "a=b")
        ])));
        assert!(!is_bearer_request(&headers(&[("cookie", "a=b")])));
        assert!(
            is_bearer_request(&headers(&[("authorization", "Bearer a b")])),
            "a malformed bearer is refused, not waved through as a guest"
        );
    }

    #[test]
    fn only_what_a_cross_site_page_cannot_send_is_exempt() {
        assert!(is_cookieless_api_request(&headers(&[(
            "content-type",
            "application/json; charset=utf-8"
        )])));
        assert!(is_cookieless_api_request(&headers(&[(
            "authorization",
            "Bearer x"
        )])));
        for simple in [
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
        ] {
            assert!(
                !is_cookieless_api_request(&headers(&[("content-type", simple)])),
                "{simple}"
            );
        }
        assert!(!is_cookieless_api_request(&headers(&[
            ("content-type", "application/json"),
            ("cookie", "a=b")
        ])));
    }

    proptest! {
        #[test]
        fn any_header_value_parses_without_panicking(value in "[ -~]{0,200}") {
            if let Ok(value) = HeaderValue::from_str(&value) {
                let mut map = HeaderMap::new();
                map.insert(AUTHORIZATION, value);
                if let BearerHeader::Token(token) = bearer_header(&map) {
                    prop_assert!(!token.is_empty() && !token.contains(' '));
                }
            }
        }
    }
}
