//! The rate limit on guest auth form posts (log-in, registration, mailed-link requests and
//! uses, confirmation codes, sudo): `rate_limit.auth_limit` per client address per window.
//! IPv6 clients are counted per /64, the smallest block one customer usually holds.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use http::{Method, StatusCode};

use super::client_ip::ClientIp;
use super::error::AppError;
use crate::rate_limit::{client_bucket, Decision};
use crate::Sigra;

/// What the limit layer needs: the core, the limited paths, and the host's wording of a refusal
/// for callers that expect data (the hydrated page decodes the host's own error type).
#[derive(Clone)]
pub struct GuestAuthLimit {
    /// The core (its limiter and configuration).
    pub sigra: Sigra,
    /// The limited paths (form posts only): the host's guest auth server functions.
    pub paths: std::sync::Arc<[&'static str]>,
    /// The JSON body of a refusal, given the seconds to wait.
    pub refusal_json: fn(u64) -> String,
}

/// Axum middleware: 429 with `Retry-After` past the limit, `X-RateLimit-*` headers always.
pub async fn limit_guest_auth(
    State(limit): State<GuestAuthLimit>,
    request: Request,
    next: Next,
) -> Response {
    let limited = request.method() == Method::POST && limit.paths.contains(&request.uri().path());
    let Some(ClientIp(ip)) = request
        .extensions()
        .get::<ClientIp>()
        .copied()
        .filter(|_| limited)
    else {
        return next.run(request).await;
    };
    let config = &limit.sigra.config().rate_limit;
    let decision = match limit
        .sigra
        .rate_limiter()
        .check(
            &format!("auth:ip:{}", client_bucket(ip)),
            config.auth_limit,
            config.auth_window,
        )
        .await
    {
        Ok(decision) => decision,
        Err(error) => return AppError(error).into_response(),
    };
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        tracing::warn!(client = %ip, path = request.uri().path(), "rate limit reached");
        refusal(&request, &limit, &decision)
    };
    add_headers(&mut response, &decision);
    response
}

fn refusal(request: &Request, limit: &GuestAuthLimit, decision: &Decision) -> Response {
    let wait = decision.reset_after.as_secs().max(1);
    let (content_type, body) = if wants_html(request) {
        (
            "text/html; charset=utf-8",
            format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts</title></head>\
                 <body><h1>Too many attempts</h1><p>Please wait {wait} seconds and try again.</p>\
                 <p><a href=\"/\">Home</a></p></body></html>"
            ),
        )
    } else {
        ("application/json", (limit.refusal_json)(wait))
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// Whether the request comes from a browser that wants a page back (a form posted without
/// JavaScript), rather than data.
pub(super) fn wants_html(request: &Request) -> bool {
    request
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn add_headers(response: &mut Response, decision: &Decision) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(decision.limit)),
        ("x-ratelimit-remaining", u64::from(decision.remaining)),
        ("x-ratelimit-reset", decision.reset_after.as_secs().max(1)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}
