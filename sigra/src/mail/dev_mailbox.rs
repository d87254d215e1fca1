//! The development mailbox: mail is stored in the database instead of sent, and shown at
//! `/dev/mailbox` (list, rendered HTML, text part). Mounted only in development.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::clock::{Clock, Timestamp};
use crate::db::Db;

use super::{BoxFuture, MailError, Mailer, OutgoingEmail};

/// Stores mail in the `dev_mailbox` table.
#[derive(Clone)]
pub struct DevMailbox {
    db: Db,
    clock: Arc<dyn Clock>,
}

/// A stored message.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredEmail {
    /// Its id.
    pub id: String,
    /// When it was "sent".
    pub sent_at: Timestamp,
    /// The recipient.
    #[sqlx(rename = "recipient")]
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The text part.
    pub text: String,
}

impl DevMailbox {
    /// A mailbox in `db`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Messages, newest first, optionally only those to `to`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self, to: Option<&str>) -> crate::Result<Vec<StoredEmail>> {
        let mut conn = self.db.acquire().await?;
        Ok(sqlx::query_as(
            "SELECT id, sent_at, recipient, subject, html, text FROM dev_mailbox \
             WHERE $1 IS NULL OR recipient = $1 ORDER BY sent_at DESC, id DESC LIMIT 200",
        )
        .bind(to.map(str::to_lowercase))
        .fetch_all(&mut *conn)
        .await?)
    }

    async fn get(&self, id: &str) -> crate::Result<Option<StoredEmail>> {
        Ok(self.list(None).await?.into_iter().find(|m| m.id == id))
    }
}

impl Mailer for DevMailbox {
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let mut conn = self
                .db
                .acquire()
                .await
                .map_err(|e| MailError(e.to_string()))?;
            sqlx::query(
                "INSERT INTO dev_mailbox (id, sent_at, sender, recipient, subject, html, text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(self.clock.now().as_millis())
            .bind(&email.from)
            .bind(email.to.to_lowercase())
            .bind(&email.content.subject)
            .bind(&email.content.html)
            .bind(&email.content.text)
            .execute(&mut *conn)
            .await
            .map_err(|e| MailError(e.to_string()))?;
            tracing::info!(subject = %email.content.subject, "stored a message in the development mailbox");
            Ok(())
        })
    }
}

#[derive(Deserialize)]
struct Filter {
    to: Option<String>,
}

/// Where the development mailbox lists its messages.
pub const DEV_MAILBOX_PATH: &str = "/dev/mailbox";

/// `/dev/mailbox` and the message pages.
pub fn dev_mailbox_routes(mailbox: DevMailbox) -> Router {
    Router::new()
        .route(DEV_MAILBOX_PATH, get(list_page))
        .route("/dev/mailbox/{id}", get(message_page))
        .route("/dev/mailbox/{id}/html", get(html_part))
        .with_state(mailbox)
}

async fn list_page(State(mailbox): State<DevMailbox>, Query(filter): Query<Filter>) -> Response {
    let Ok(messages) = mailbox.list(filter.to.as_deref()).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let rows: String = messages
        .iter()
        .map(|m| {
            format!(
                "<tr class=\"border-t border-slate-200 dark:border-slate-800\"><td class=\"py-2 pr-4 whitespace-nowrap text-slate-500 dark:text-slate-400\">{}</td>\
                 <td class=\"py-2 pr-4 break-all\">{}</td><td class=\"py-2\"><a class=\"font-medium text-indigo-700 hover:underline dark:text-indigo-300\" href=\"/dev/mailbox/{}\">{}</a></td></tr>",
                m.sent_at,
                escape(&m.to),
                escape(&m.id),
                escape(&m.subject)
            )
        })
        .collect();
    page(
        "Development mailbox",
        &format!(
            "<h1 class=\"mb-2 text-2xl font-semibold tracking-tight\">Development mailbox</h1>\
             <p class=\"mb-6 text-slate-600 dark:text-slate-300\">Mail the app sends in development lands here, \
             newest first. {} message(s).</p>\
             <div class=\"overflow-x-auto rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900\">\
             <table class=\"w-full text-left text-sm\"><thead><tr><th class=\"pb-2 pr-4\">Sent</th><th class=\"pb-2 pr-4\">To</th>\
             <th class=\"pb-2\">Subject</th></tr></thead><tbody>{rows}</tbody></table></div>",
            messages.len()
        ),
    )
}

async fn message_page(State(mailbox): State<DevMailbox>, Path(id): Path<String>) -> Response {
    match mailbox.get(&id).await {
        Ok(Some(m)) => page(
            &m.subject,
            &format!(
                "<p class=\"mb-4 text-sm\"><a class=\"font-medium text-indigo-700 hover:underline dark:text-indigo-300\" \
                 href=\"/dev/mailbox\"><span aria-hidden=\"true\">← </span>All messages</a></p>\
                 <h1 class=\"mb-1 text-2xl font-semibold tracking-tight\">{}</h1>\
                 <p class=\"mb-6 text-sm text-slate-600 dark:text-slate-300\">To {} · {}</p>\
                 <h2 class=\"mb-2 text-lg font-semibold\">HTML</h2>\
                 <iframe title=\"HTML part\" sandbox src=\"/dev/mailbox/{}/html\" \
                 class=\"mb-8 block h-[calc(100vh-10rem)] min-h-96 w-full rounded-xl border border-slate-200 bg-white dark:border-slate-800\"></iframe>\
                 <h2 class=\"mb-2 text-lg font-semibold\">Text</h2>\
                 <pre class=\"overflow-x-auto whitespace-pre-wrap rounded-xl border border-slate-200 bg-white p-4 text-sm dark:border-slate-800 dark:bg-slate-900\" \
                 data-testid=\"text-part\">{}</pre>",
                escape(&m.subject),
                escape(&m.to),
                m.sent_at,
                escape(&m.id),
                escape(&m.text)
            ),
        ),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The HTML part on its own, for the sandboxed frame: no scripts, nothing fetched.
async fn html_part(State(mailbox): State<DevMailbox>, Path(id): Path<String>) -> Response {
    match mailbox.get(&id).await {
        Ok(Some(m)) => {
            let mut response = Html(m.html).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
                ),
            );
            headers.insert(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            );
            response
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/pkg/sigra.css\"></head>\
         <body class=\"min-h-screen bg-slate-50 font-sans text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100\">\
         <header class=\"border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900\">\
         <div class=\"mx-auto flex max-w-5xl items-center justify-between gap-3 px-4 py-3\">\
         <a href=\"/\" class=\"text-lg font-semibold tracking-tight text-indigo-600 dark:text-indigo-400\">Sigra</a>\
         <span class=\"rounded bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900\">Development only</span></div></header>\
         <main class=\"mx-auto max-w-5xl px-4 py-8\">{body}</main></body></html>",
        escape(title)
    ))
    .into_response()
}

/// Escapes text for HTML element content and quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
