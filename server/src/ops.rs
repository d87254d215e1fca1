//! `/health` (the process answers), `/ready` (the database answers too) and `/metrics`
//! (Prometheus text: open in development, behind `SIGRA_METRICS_TOKEN` in production).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sigra::Sigra;
use subtle::ConstantTimeEq as _;

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(sigra): State<Sigra>) -> (StatusCode, &'static str) {
    if sigra.db().ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

async fn metrics(State(sigra): State<Sigra>, headers: HeaderMap) -> Response {
    let config = sigra.config();
    let allowed = match (&config.metrics_token, config.is_production()) {
        (Some(token), _) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))),
        (None, production) => !production,
    };
    if !allowed {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(handle) = crate::telemetry::prometheus() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    match sigra.jobs().jobs_due().await {
        Ok(due) => metrics::gauge!("sigra_jobs_queue_depth").set(due as f64),
        Err(error) => {
            tracing::warn!(error = %sigra::error::report(&error), "could not count due jobs")
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// The operational routes; they sit outside the session layer.
pub fn routes(sigra: Sigra) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(sigra)
}
