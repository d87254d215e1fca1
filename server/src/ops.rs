//! `/health` (the process answers) and `/ready` (the database answers too).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use sigra::Sigra;

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

/// The operational routes; they sit outside the session layer.
pub fn routes(sigra: Sigra) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(sigra)
}
