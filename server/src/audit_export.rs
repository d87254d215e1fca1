//! The audit trail's CSV export: `GET /admin/audit/export.csv` for platform admins, and
//! `GET /admin/organizations/:slug/audit/export.csv` under the organization lens (platform
//! admins and the organization's own admins), with the explorer's filters in the query. The
//! body is streamed a page of 500 rows at a time, so an export of any size takes the memory of
//! one page. Anyone else is refused before anything is read.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use sigra::admin::explorer::AuditPage;
use sigra::admin::explorer::{csv_header, csv_record, AuditQuery, MAX_EVENTS_PER_PAGE};
use sigra::admin::{OrgLens, PlatformAdmin};
use sigra::http::AppError;
use sigra::sessions::Authenticated;
use sigra::Sigra;

use app::capabilities::Switches;
use app::paths;

/// The export routes of the admin area (the organization lens's only with organizations).
pub fn routes<S: Clone + Send + Sync + 'static>(sigra: Sigra, switches: Switches) -> Router<S> {
    let mut router = Router::new();
    if switches.admin {
        router = router.route(paths::ADMIN_AUDIT_EXPORT, get(export));
    }
    if switches.organization_admin() {
        router = router.route(
            &paths::admin_organization_audit_export("{slug}"),
            get(export_lens),
        );
    }
    router.layer(Extension(sigra))
}

/// Who may read the export, and so which events it holds.
#[derive(Clone)]
enum Viewer {
    /// Every event.
    Platform(PlatformAdmin),
    /// One organization's events.
    Lens(Box<OrgLens>),
}

impl Viewer {
    async fn events(&self, sigra: &Sigra, query: &AuditQuery) -> sigra::Result<AuditPage> {
        match self {
            Self::Platform(admin) => sigra.admin().audit_events(admin, query).await,
            Self::Lens(lens) => sigra.admin().organization_audit_events(lens, query).await,
        }
    }
}

/// Where the export stands between two pieces of the body.
enum Next {
    /// The header row, then the first page of this query.
    Header(AuditQuery),
    /// The page this query (with its cursor) names.
    Page(AuditQuery),
}

async fn export(
    Extension(sigra): Extension<Sigra>,
    current: Authenticated,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match sigra.admin().platform_admin(&current).await {
        Ok(admin) => csv(sigra, Viewer::Platform(admin), &params),
        Err(error) => AppError(error).into_response(),
    }
}

async fn export_lens(
    Extension(sigra): Extension<Sigra>,
    current: Authenticated,
    Path(slug): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match sigra.admin().organization_lens(&current, &slug).await {
        Ok(lens) => csv(sigra, Viewer::Lens(Box::new(lens)), &params),
        Err(error) => AppError(error).into_response(),
    }
}

/// The streamed CSV of the events `viewer` may read that match `params`.
fn csv(sigra: Sigra, admin: Viewer, params: &HashMap<String, String>) -> Response {
    let query = AuditQuery {
        limit: Some(MAX_EVENTS_PER_PAGE),
        cursor: None,
        ..AuditQuery::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    };
    let day: String = sigra.now().to_string().chars().take(10).collect();
    let pieces = futures::stream::unfold(
        Some((sigra, admin, Next::Header(query))),
        |state| async move {
            let (sigra, admin, next) = state?;
            match next {
                Next::Header(query) => {
                    let header = Bytes::from(csv_header());
                    Some((Ok(header), Some((sigra, admin, Next::Page(query)))))
                }
                Next::Page(query) => page(sigra, admin, query).await,
            }
        },
    );
    let mut response = Body::from_stream(pieces).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"audit-{day}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

type Piece = Result<Bytes, std::io::Error>;
type State = Option<(Sigra, Viewer, Next)>;

/// The rows of one page, and the state for the next (none after the last page). A database
/// failure ends the body early, so the download fails rather than looking complete.
async fn page(sigra: Sigra, admin: Viewer, mut query: AuditQuery) -> Option<(Piece, State)> {
    match admin.events(&sigra, &query).await {
        Ok(page) => {
            let rows: String = page.events.iter().map(csv_record).collect();
            // A cursor that does not move on would repeat the page for ever: stop there.
            let next = page
                .next_cursor
                .filter(|c| Some(c) != query.cursor.as_ref())
                .map(|cursor| {
                    query.cursor = Some(cursor);
                    (sigra, admin, Next::Page(query))
                });
            Some((Ok(Bytes::from(rows)), next))
        }
        Err(error) => {
            tracing::error!(error = %sigra::error::report(&error), "the audit export failed");
            Some((Err(std::io::Error::other("the audit export failed")), None))
        }
    }
}
