//! The personal data download: `POST /users/settings/export/download`, the plain form on
//! `/users/settings/export` (so the cross-site check covers it and it works without
//! JavaScript), answers the JSON document as an attachment. It needs a browser session with
//! sudo: a token is refused whatever its scopes, and without sudo the browser is sent to
//! re-enter the password and come back to the page.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Router};
use sigra::http::AppError;
use sigra::request::RequestContext;
use sigra::sessions::Authenticated;
use sigra::Sigra;

use app::paths;

/// The download route.
pub fn routes<S: Clone + Send + Sync + 'static>(sigra: Sigra) -> Router<S> {
    Router::new()
        .route(paths::EXPORT_DOWNLOAD, post(download))
        .layer(Extension(sigra))
}

async fn download(
    Extension(sigra): Extension<Sigra>,
    current: Authenticated,
    request: RequestContext,
) -> Response {
    let Ok(sudo) = sigra.sessions().sudo(&current) else {
        // Two constant paths: a valid header value, so `Redirect::to` cannot panic.
        return Redirect::to(&paths::with_return_to(paths::SUDO, paths::EXPORT_DATA))
            .into_response();
    };
    let data = match sigra.account().export_personal_data(&sudo, &request).await {
        Ok(data) => data,
        Err(error) => return AppError(error).into_response(),
    };
    let body = match serde_json::to_vec_pretty(&data) {
        Ok(body) => body,
        Err(error) => return AppError(sigra::Error::Internal(Box::new(error))).into_response(),
    };
    // "sigra-data-2026-12-06.json": the app's name (letters and digits only) and the day.
    let app: String = sigra
        .config()
        .app_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    let day = data
        .exported_at
        .to_string()
        .chars()
        .take(10)
        .collect::<String>();
    let disposition = format!(
        "attachment; filename=\"{}-data-{day}.json\"",
        if app.is_empty() { "account" } else { &app }
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
