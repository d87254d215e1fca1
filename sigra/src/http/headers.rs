//! Security headers on every response, and the per-request CSP nonce that the page's own
//! scripts (the Leptos hydration scripts) carry.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{self, HeaderName, HeaderValue};

use crate::config::Config;
use crate::crypto::{b64url, random_bytes};

/// A fresh CSP nonce for this request. Pages read it from the request extensions and put it on
/// their inline scripts; the CSP header names it.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// What varies between deployments in the headers.
#[derive(Clone, Debug)]
pub struct HeaderPolicy {
    hsts: bool,
    extra_connect_src: String,
}

impl HeaderPolicy {
    /// HSTS in production; in development, the live-reload websocket of `cargo leptos watch`
    /// on `reload_port` is allowed to connect.
    pub fn new(config: &Config, reload_port: Option<u16>) -> Self {
        let extra_connect_src = match (config.is_production(), reload_port) {
            (false, Some(port)) => format!(" ws://localhost:{port} ws://127.0.0.1:{port}"),
            _ => String::new(),
        };
        Self {
            hsts: config.is_production(),
            extra_connect_src,
        }
    }

    fn csp(&self, nonce: &str) -> String {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'{}; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            self.extra_connect_src
        )
    }
}

/// How long a response may be cached. Pages and API answers: never stored, so no authenticated
/// page lingers in a cache. Static assets: revalidated, except those whose name carries their
/// content's hash (`sigra.<hash>.wasm`, written by `scripts/build-site.sh`), which cannot
/// change and are kept a year without asking again (the bundle, stylesheet and each page's
/// chunk; the chunks' loader keeps one name and is revalidated).
#[derive(Clone, Copy)]
enum Caching {
    Never,
    Revalidate,
    Fingerprinted,
}

impl Caching {
    /// Read from the path before the request moves on, so the path need not be kept.
    fn of(path: &str) -> Self {
        let Some(file) = path.strip_prefix("/pkg/") else {
            return Self::Never;
        };
        let mut parts = file.rsplit('.');
        let (_extension, hash) = (parts.next(), parts.next().unwrap_or_default());
        let fingerprinted = parts.next().is_some()
            && (16..=64).contains(&hash.len())
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if fingerprinted {
            Self::Fingerprinted
        } else {
            Self::Revalidate
        }
    }

    /// The header for an answer that `found` the file or not (a missing one is never kept).
    fn header(self, found: bool) -> &'static str {
        match self {
            Self::Never => "no-store",
            Self::Fingerprinted if found => "public, max-age=31536000, immutable",
            Self::Fingerprinted | Self::Revalidate => "no-cache",
        }
    }
}

/// Axum middleware: adds the headers unless a handler set its own, and the cache rule of
/// [`Caching`].
pub async fn security_headers(
    State(policy): State<HeaderPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = b64url(&random_bytes::<16>());
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let path = request.uri().path();
    let caching = Caching::of(path);
    // Pages reached from a mailed link send no Referer at all.
    let referrer = if super::MailedLink::is_landing_page(path) {
        "no-referrer"
    } else {
        "strict-origin-when-cross-origin"
    };

    let mut response = next.run(request).await;
    let status = response.status();
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: HeaderValue| {
        headers.entry(name).or_insert(value);
    };
    if let Ok(csp) = HeaderValue::from_str(&policy.csp(&nonce)) {
        set(header::CONTENT_SECURITY_POLICY, csp);
    }
    set(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    set(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    set(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    set(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if policy.hsts {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    let cache = caching.header(status.is_success());
    set(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_forbids_framing_plugins_and_base_and_names_the_nonce() {
        let policy = HeaderPolicy {
            hsts: false,
            extra_connect_src: String::new(),
        };
        let csp = policy.csp("abc123");
        for part in [
            "'nonce-abc123'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
            "'wasm-unsafe-eval'",
        ] {
            assert!(csp.contains(part), "{part} missing: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn only_found_assets_named_by_their_hash_are_cached_for_good() {
        let forever = "public, max-age=31536000, immutable";
        assert_eq!(
            Caching::of("/pkg/sigra.3f9a0c1b2d4e5f60a7b8.wasm").header(true),
            forever
        );
        assert_eq!(
            Caching::of("/pkg/sigra.3f9a0c1b2d4e5f60a7b8.css").header(true),
            forever
        );
        // A page's chunk (the release build's split).
        assert_eq!(
            Caching::of("/pkg/split___log_in_route_view_1035002448.3f9a0c1b2d4e5f60a7b8.wasm")
                .header(true),
            forever
        );
        for (path, found) in [
            // The chunks' loader, whose text follows the chunks' names.
            ("/pkg/__wasm_split.______________________.js", true),
            ("/pkg/sigra.3f9a0c1b2d4e5f60a7b8.wasm", false),
            ("/pkg/sigra.wasm", true),
            ("/pkg/sigra.css", true),
            ("/pkg/3f9a0c1b2d4e5f60a7b8.js", true),
            ("/pkg/sigra.3F9A0C1B2D4E5F60A7B8.js", true),
            ("/pkg/sigra.not-a-hash-at-all.js", true),
            ("/pkg/sigra.abc.js", true),
        ] {
            assert_eq!(
                Caching::of(path).header(found),
                "no-cache",
                "{path} {found}"
            );
        }
        for path in [
            "/users/log-in",
            "/api/v1/me",
            "/sigra.3f9a0c1b2d4e5f60a7b8.js",
        ] {
            assert_eq!(Caching::of(path).header(true), "no-store", "{path}");
        }
    }
}
