//! Where to send the user after logging in or re-entering their password: only a path on this
//! site. Anything else (another host, a scheme, a protocol-relative `//`, backslashes that some
//! browsers read as slashes, control characters, encoded tricks) becomes `/`.

/// A safe local path for `candidate`, or `"/"`.
pub fn sanitize_return_to(candidate: &str) -> String {
    const FALLBACK: &str = "/";
    let decoded = percent_decode(candidate);
    let is_safe = |path: &str| {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path.starts_with("/\\")
            && !path.contains('\\')
            && path.len() <= 2048
            && !path.chars().any(char::is_control)
    };
    // Check both the text and its decoding, so `/%2F%2Fevil` is refused like `//evil`; the
    // text itself may hold no whitespace (browsers strip some of it before parsing).
    let raw_clean = !candidate.chars().any(char::is_whitespace);
    if raw_clean && is_safe(candidate) && is_safe(&decoded) && !decoded.contains("://") {
        candidate.to_owned()
    } else {
        FALLBACK.to_owned()
    }
}

/// Percent-decoding, repeated until stable (double encoding decodes fully), lossy on bad UTF-8.
fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut current = text.to_owned();
    for _ in 0..3 {
        let bytes = current.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let escaped = (bytes[i] == b'%')
                .then(|| Some((hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?)))
                .flatten();
            match escaped {
                Some((high, low)) => {
                    out.push(high * 16 + low);
                    i += 3;
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        let next = String::from_utf8_lossy(&out).into_owned();
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// Known open-redirect bypasses (security.md C6 and friends), each with the exact path the
/// sanitiser must turn it into. The HTTP tests drive every entry through log-in and sudo too.
#[cfg(any(test, feature = "testing"))]
pub const OPEN_REDIRECT_CORPUS: &[(&str, &str)] = &[
    ("//evil.com", "/"),
    ("https://evil.com", "/"),
    ("/\\evil.com", "/"),
    ("/\\\\evil.com", "/"),
    ("\\/evil.com", "/"),
    ("http:evil.com", "/"),
    ("https:/evil.com", "/"),
    ("////evil.com", "/"),
    ("/%2F%2Fevil.com", "/"),
    ("/%5Cevil.com", "/"),
    ("%2F%2Fevil.com", "/"),
    ("/%09/evil.com", "/"),
    ("\t//evil.com", "/"),
    ("javascript:alert(1)", "/"),
    ("data:text/html,<script>alert(1)</script>", "/"),
    ("/ok%0d%0aSet-Cookie:x=1", "/"),
    ("/ok\r\nSet-Cookie:x=1", "/"),
    ("https://app.test.evil.com", "/"),
    ("https://app.test@evil.com", "/"),
    ("/%252F%252Fevil.com", "/"),
    ("/ /evil.com", "/"),
    (" /evil", "/"),
    ("", "/"),
    ("evil.com", "/"),
    ("/redirect?to=https://evil.com", "/"),
    ("/users/sessions", "/users/sessions"),
    ("/users/settings?tab=email", "/users/settings?tab=email"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_known_bypass_becomes_exactly_its_safe_answer() {
        for (attack, safe) in OPEN_REDIRECT_CORPUS {
            assert_eq!(sanitize_return_to(attack), *safe, "{attack:?}");
        }
    }

    #[test]
    fn ordinary_paths_pass() {
        for path in [
            "/",
            "/users/sessions",
            "/users/settings?tab=email",
            "/search?q=a%20b#top",
        ] {
            assert_eq!(sanitize_return_to(path), path);
        }
    }

    proptest! {
        #[test]
        fn the_result_is_always_a_local_path(candidate in "\\PC{0,60}|[/\\\\%a-z:.@ \t\r\n0-9A-F]{0,30}") {
            let safe = sanitize_return_to(&candidate);
            prop_assert!(safe.starts_with('/'));
            prop_assert!(!safe.starts_with("//") && !safe.starts_with("/\\"));
            prop_assert!(!safe.chars().any(|c| c.is_control()));
            let base = url::Url::parse("https://app.test/").expect("base");
            prop_assert_eq!(base.join(&safe).expect("joins").origin(), base.origin());
        }
    }
}
