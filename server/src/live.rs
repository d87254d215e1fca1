//! Live auth over server-sent events.
//!
//! - `GET /api/live/session`: an open page's session. One `ended` event, whose data is where
//!   the page goes (`/users/session-ended?reason=…`), as soon as the session ends anywhere;
//!   at once when the request carries no live session.
//! - `GET /api/live/admin`: for platform admins, a `changed` event (at most one a second)
//!   whenever data or the audit trail changed, so an open list can fetch itself again. It
//!   ends with the admin's session or grant.
//! - `GET /users/session-ended`: queues the message for the reason and sends on to log-in,
//!   back to the page after.
//!
//! Every stream ends when the server starts draining, so shutdown never waits on an open
//! page; the browser reconnects to whichever process answers next.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::Query;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures::{Stream, StreamExt as _};
use serde::Deserialize;
use sigra::http::{sanitize_return_to, AppError};
use sigra::live::SessionEnd;
use sigra::sessions::{Authenticated, ExpiredBy};
use sigra::Sigra;
use tokio::sync::watch;

use app::capabilities::Switches;
use app::flash::Flash;
use app::paths;

/// A comment this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long the browser waits before reconnecting a stream that ended without `ended`.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);

/// Set once the server starts draining; every open stream then ends.
#[derive(Clone, Debug)]
pub struct Draining(watch::Receiver<bool>);

impl Draining {
    /// Streams follow `receiver`: they end once it reads `true` (or its sender is gone).
    pub fn new(receiver: watch::Receiver<bool>) -> Self {
        Self(receiver)
    }

    async fn started(mut self) {
        let _ = self.0.wait_for(|draining| *draining).await;
    }
}

/// The live routes.
pub fn routes<S: Clone + Send + Sync + 'static>(
    sigra: Sigra,
    draining: Draining,
    switches: Switches,
) -> Router<S> {
    let mut router = Router::new()
        .route(paths::LIVE_SESSION, get(session_events))
        .route(paths::SESSION_ENDED, get(session_ended));
    if switches.admin {
        router = router.route(paths::LIVE_ADMIN, get(admin_events));
    }
    router.layer(Extension(sigra)).layer(Extension(draining))
}

async fn session_events(
    Extension(sigra): Extension<Sigra>,
    Extension(draining): Extension<Draining>,
    current: Option<Authenticated>,
) -> Response {
    let followed = current.map(|current| current.session().id.clone());
    let ended = async move {
        let end = match followed {
            Some(id) => sigra.live().session_end(&id).await,
            None => SessionEnd::SignedOut,
        };
        Ok(Event::default().event("ended").data(ended_location(end)))
    };
    event_stream(futures::stream::once(ended).take_until(draining.started()))
}

/// Where a page whose session ended goes.
fn ended_location(end: SessionEnd) -> String {
    let reason = match end {
        SessionEnd::SignedOut => "signed_out",
        SessionEnd::Expired(ExpiredBy::Idle) => "idle",
        SessionEnd::Expired(ExpiredBy::Absolute) => "expired",
    };
    format!("{}?reason={reason}", paths::SESSION_ENDED)
}

async fn admin_events(
    Extension(sigra): Extension<Sigra>,
    Extension(draining): Extension<Draining>,
    current: Authenticated,
) -> Response {
    let changes = match sigra.admin().platform_admin(&current).await {
        Ok(admin) => sigra.live().admin_changes(&admin).await,
        Err(error) => Err(error),
    };
    let changes = match changes {
        Ok(changes) => changes,
        Err(error) => return AppError(error).into_response(),
    };
    let session = current.session().id.clone();
    let session_end = {
        let sigra = sigra.clone();
        async move { sigra.live().session_end(&session).await }
    };
    let events = futures::stream::unfold(
        (sigra, changes, current),
        |(sigra, mut changes, current)| async move {
            sigra.live().next_admin_change(&mut changes).await;
            // The grant may have been withdrawn since the page opened.
            sigra.admin().platform_admin(&current).await.ok()?;
            let event = Event::default().event("changed").data("changed");
            Some((Ok(event), (sigra, changes, current)))
        },
    );
    event_stream(
        events
            .take_until(session_end)
            .take_until(draining.started()),
    )
}

/// An event stream response: the browser's reconnect delay first, comments to keep it open,
/// and no caching or buffering on the way.
fn event_stream<S>(events: S) -> Response
where
    S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    let retry = futures::stream::once(async { Ok(Event::default().retry(RECONNECT_AFTER)) });
    let mut response = Sse::new(retry.chain(events))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

#[derive(Deserialize)]
struct Ended {
    reason: Option<String>,
    return_to: Option<String>,
}

async fn session_ended(
    Extension(sigra): Extension<Sigra>,
    current: Option<Authenticated>,
    Query(ended): Query<Ended>,
) -> Response {
    // Another session is in place (an admin back from an impersonation): nothing ended for it.
    if current.is_some() {
        return see_other(paths::HOME.to_owned());
    }
    let flash = match ended.reason.as_deref() {
        Some("idle") => Flash::SessionIdle,
        Some("expired") => Flash::SessionExpired,
        _ => Flash::SessionEnded,
    };
    let back = ended
        .return_to
        .as_deref()
        .map(sanitize_return_to)
        .filter(|path| path != paths::HOME);
    let location = match back {
        Some(path) => paths::with_return_to(paths::LOG_IN, &path),
        None => paths::LOG_IN.to_owned(),
    };
    let mut response = see_other(location);
    response
        .headers_mut()
        .append(header::SET_COOKIE, app::flash::ssr::cookie(&sigra, flash));
    response
}

fn see_other(location: String) -> Response {
    match HeaderValue::try_from(location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}
