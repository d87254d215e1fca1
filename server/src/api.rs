//! The JSON API under `/api/v1`. Session-authenticated for now; bearer tokens come with the
//! API-token capability.

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sigra::sessions::Authenticated;

/// The signed-in user.
#[derive(Debug, Serialize)]
pub struct Me {
    /// The user id.
    pub id: String,
    /// The normalised email.
    pub email: String,
    /// Account creation, RFC 3339 UTC.
    pub created_at: String,
}

/// `GET /api/v1/me`: 401 without a session.
async fn me(current: Authenticated) -> Json<Me> {
    let user = current.user();
    Json(Me {
        id: user.id.to_string(),
        email: user.email.to_string(),
        created_at: user.created_at.to_string(),
    })
}

/// The API routes (state-free: the session comes from the request extensions).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/api/v1/me", get(me))
}
