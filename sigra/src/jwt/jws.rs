//! Compact JWS, strictly: three base64url parts, a header of exactly `alg`, `typ` and `kid`
//! (anything else, such as `jku`, `x5u`, `jwk`, `crit` or a repeated member, is refused, so
//! no key is ever taken from a token), and a size limit before any decoding.

use serde::{Deserialize, Serialize};

use crate::crypto::{b64url, from_b64url};

/// Longest token read at all.
pub(crate) const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The type access tokens carry (RFC 9068).
pub(crate) const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The protected header: nothing more than these three members.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Header {
    pub alg: String,
    pub typ: String,
    pub kid: String,
}

/// A token split and its header read, not yet verified.
#[derive(Debug)]
pub(crate) struct Unverified<'t> {
    pub header: Header,
    /// `header.payload`, what the signature covers.
    pub signing_input: &'t str,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

/// Splits a compact JWS; `None` for anything malformed.
pub(crate) fn split(token: &str) -> Option<Unverified<'_>> {
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || signature.is_empty() {
        return None;
    }
    let header: Header = serde_json::from_slice(&from_b64url(header)?).ok()?;
    let well_formed_kid = !header.kid.is_empty()
        && header.kid.len() <= 64
        && header
            .kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed_kid {
        return None;
    }
    Some(Unverified {
        header,
        signing_input: &token[..token.len() - signature.len() - 1],
        payload: from_b64url(payload)?,
        signature: from_b64url(signature)?,
    })
}

/// `header.payload` for `header` and `payload` (JSON), ready to be signed.
pub(crate) fn signing_input(header: &Header, payload: &[u8]) -> String {
    let header = serde_json::to_vec(header).unwrap_or_default();
    format!("{}.{}", b64url(&header), b64url(payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b64(json: &str) -> String {
        b64url(json.as_bytes())
    }

    #[test]
    fn only_the_three_header_members_are_accepted() {
        let ok = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"EdDSA","typ":"at+jwt","kid":"abc123"}"#),
            b64("{}"),
            b64("sig")
        );
        assert!(split(&ok).is_some());
        for header in [
            r#"{"alg":"EdDSA","typ":"at+jwt","kid":"abc","jku":"http://127.0.0.1:9/keys"}"#,
            r#"{"alg":"EdDSA","typ":"at+jwt","kid":"abc","x5u":"http://127.0.0.1:9/x5u"}"#,
            r#"{"alg":"EdDSA","typ":"at+jwt","kid":"abc","jwk":{"kty":"OKP"}}"#,
            r#"{"alg":"EdDSA","typ":"at+jwt","kid":"abc","crit":["exp"]}"#,
            r#"{"alg":"EdDSA","typ":"at+jwt","kid":"abc","alg":"none"}"#,
            r#"{"alg":"EdDSA","typ":"at+jwt"}"#,
            r#"{"alg":"EdDSA","typ":"at+jwt","kid":"../../../../dev/null"}"#,
            r#"{"alg":"EdDSA","typ":"at+jwt","kid":"1' OR '1'='1"}"#,
        ] {
            let token = format!("{}.{}.{}", b64(header), b64("{}"), b64("sig"));
            assert!(split(&token).is_none(), "{header}");
        }
        assert!(split(&format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"at+jwt","kid":"a"}"#),
            b64("{}")
        ))
        .is_none());
        assert!(split(&"a.".repeat(5000)).is_none());
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = split(&text);
        }

        #[test]
        fn dotted_base64_never_panics(a in "[A-Za-z0-9_-]{0,80}", b in "[A-Za-z0-9_-]{0,80}", c in "[A-Za-z0-9_-]{0,90}") {
            let _ = split(&format!("{a}.{b}.{c}"));
        }
    }
}
