//! Logging: one subscriber for the process, and a span per request carrying its id, so every
//! line logged while handling a request names it.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::Request;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
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

/// The Prometheus recorder, installed once per process (a global, like the log subscriber).
static PROMETHEUS: LazyLock<Option<PrometheusHandle>> = LazyLock::new(|| {
    PrometheusBuilder::new()
        .set_buckets(&[
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ])
        .ok()?
        .install_recorder()
        .ok()
});

/// The metrics handle for `/metrics`, if the recorder could be installed.
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS.as_ref()
}

/// Axum middleware: request counts and latency by method, route pattern and status. The route
/// is the matched pattern, so cardinality stays bounded and no path segment (a token) leaks.
pub async fn record_http_metrics(request: Request<axum::body::Body>, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("sigra_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("sigra_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
