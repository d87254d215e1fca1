//! Cross-site request refusal for every state-changing request. Browsers say where a request
//! comes from in `Sec-Fetch-Site`; older ones send `Origin`, compared with the configured base
//! URL (never with `Host`). A request that says neither is refused too: a cookie alone never
//! authorises a change. A request with no cookie and a bearer token or a JSON body is exempt:
//! no page on another site can send either without a CORS preflight (which this server never
//! approves), and without a cookie it carries no ambient credential; a bearer request is
//! authenticated by its token alone (see `bearer`).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use http::{header, Method};

use super::error::AppError;
use crate::error::Error;

use crate::Sigra;

/// Axum middleware: 403 for cross-site non-GET requests, before any handler runs.
pub async fn reject_cross_site(
    State(sigra): State<Sigra>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method())
        || super::bearer::is_cookieless_api_request(request.headers())
        || is_same_origin(&request, &sigra.config().origin())
        || is_provider_post_back(request.uri().path())
    {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = request.uri().path(),
        sec_fetch_site = header_text(&request, "sec-fetch-site"),
        origin = header_text(&request, "origin"),
        "refused a cross-site request"
    );
    AppError(Error::CrossSiteRefused).into_response()
}

/// A provider's `response_mode=form_post` answer (Apple) is a cross-site POST by design. It
/// changes nothing by itself: it is kept with the authorization its `state` names, and the
/// browser's own same-site request, carrying its binding cookie, finishes it
/// (`sigra::oauth::OAuth::keep_posted_answer`).
fn is_provider_post_back(path: &str) -> bool {
    path.strip_prefix("/auth/")
        .and_then(|rest| rest.strip_suffix("/callback"))
        .is_some_and(|provider| !provider.is_empty() && !provider.contains('/'))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_same_origin(request: &Request, origin: &str) -> bool {
    match header_text(request, "sec-fetch-site") {
        // "none" is a navigation the user started (address bar, bookmark).
        Some(site) => site == "same-origin" || site == "none",
        None => header_text(request, header::ORIGIN.as_str()) == Some(origin),
    }
}

fn header_text<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(method: Method, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method(method).uri("/users/log-in");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).expect("request")
    }

    const ORIGIN: &str = "https://auth.example.com";

    #[test]
    fn fetch_metadata_decides_when_present() {
        let allowed = |h: &[(&str, &str)]| is_same_origin(&request(Method::POST, h), ORIGIN);
        assert!(allowed(&[("sec-fetch-site", "same-origin")]));
        assert!(allowed(&[("sec-fetch-site", "none")]));
        assert!(!allowed(&[("sec-fetch-site", "cross-site")]));
        assert!(!allowed(&[("sec-fetch-site", "same-site")]));
        // A matching Origin does not rescue a request the browser calls cross-site.
        assert!(!allowed(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", ORIGIN)
        ]));
    }

    #[test]
    fn origin_is_the_fallback_and_absence_is_refusal() {
        let allowed = |h: &[(&str, &str)]| is_same_origin(&request(Method::POST, h), ORIGIN);
        assert!(allowed(&[("origin", ORIGIN)]));
        assert!(!allowed(&[("origin", "https://evil.example")]));
        assert!(!allowed(&[("origin", "null")]));
        assert!(!allowed(&[]));
    }

    #[test]
    fn only_the_provider_callback_path_takes_cross_site_posts() {
        assert!(is_provider_post_back("/auth/apple/callback"));
        for path in [
            "/auth/apple",
            "/auth//callback",
            "/auth/a/b/callback",
            "/users/log-in",
            "/auth/apple/callback/x",
        ] {
            assert!(!is_provider_post_back(path), "{path}");
        }
    }

    #[test]
    fn safe_methods_pass() {
        assert!(is_safe(&Method::GET));
        assert!(is_safe(&Method::HEAD));
        assert!(!is_safe(&Method::POST));
        assert!(!is_safe(&Method::DELETE));
    }
}
