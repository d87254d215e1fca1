//! Logging: one subscriber for the process, and a span per request carrying its id, so every
//! line logged while handling a request names it.

use axum::extract::MatchedPath;
use axum::http::Request;
use sigra::config::LogFormat;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides the default filter.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second initialisation (tests) is harmless; keep the first.
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

type MakeRequestSpan = fn(&Request<axum::body::Body>) -> Span;

/// The tracing layer for HTTP requests.
pub type HttpTraceLayer = TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeRequestSpan>;

/// The request span: id, method and route (the matched pattern, never a token in a path).
pub fn http_trace_layer() -> HttpTraceLayer {
    TraceLayer::new_for_http()
        .make_span_with(request_span as MakeRequestSpan)
        .on_response(DefaultOnResponse::new().level(Level::DEBUG))
}

fn request_span(request: &Request<axum::body::Body>) -> Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str);
    tracing::info_span!("request", request_id = %id, method = %request.method(), route)
}
