//! The audit explorer: filtered, keyset-paged reads of the audit trail for platform admins, and
//! its CSV rows. Pages are ordered newest first by `(occurred_at, id)`; the cursor names the
//! last row shown, so rows written while an admin pages never shift or repeat a page. The
//! export (the server's `/admin/audit/export.csv`) walks the same pages of 500 and streams each
//! as it comes, so no export is ever held in memory whole.
//!
//! CSV follows RFC 4180 (a cell with `,` `"` CR or LF is quoted, quotes doubled, CRLF after
//! every row) and is formula-safe: a cell starting with `=` `+` `-` `@`, a tab, CR or NUL gets a
//! leading `'`, so a spreadsheet never runs what an attacker typed into an organization name or
//! an address.

use crate::clock::Timestamp;
use crate::db::paging::Cursor;
use crate::error::Result;

use super::{Admin, PlatformAdmin};

/// Rows per page of the explorer when the caller does not say.
pub const DEFAULT_EVENTS_PER_PAGE: u32 = 25;
/// The most rows one page holds (the export's pages too).
pub const MAX_EVENTS_PER_PAGE: u32 = 500;
/// The longest filter value taken.
const MAX_FILTER_CHARS: usize = 200;

/// The explorer's filters; `None` (or empty) filters nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// The acting user's id.
    pub actor: Option<String>,
    /// The effective user's id.
    pub effective_user: Option<String>,
    /// The target's id (a user or an organization).
    pub target: Option<String>,
    /// A user's id: events where it is actor, effective user or target.
    pub subject_user: Option<String>,
    /// The organization's id.
    pub organization: Option<String>,
    /// An exact action (`auth.login.success`).
    pub action: Option<String>,
    /// An action prefix (`auth.`, `organization.`).
    pub action_prefix: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// From this time (inclusive).
    pub from: Option<Timestamp>,
    /// Until this time (exclusive).
    pub until: Option<Timestamp>,
    /// Rows wanted (25 when absent, at most 500).
    pub limit: Option<u32>,
    /// The cursor of the previous page.
    pub cursor: Option<String>,
}

impl AuditQuery {
    /// The filters from a request's query parameters, normalised against the names the
    /// explorer knows (others are ignored): `actor`, `effective_user`, `target`, `user` (as
    /// actor, effective user or target), `organization`, `action`, `action_prefix`,
    /// `outcome`, `from` and `until` (a day, `2026-12-06`, or an RFC 3339 time) and `cursor`.
    /// Empty values filter nothing; a time that does not parse is ignored.
    pub fn from_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut query = Self::default();
        for (name, text) in params {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let owned = Some(text.to_owned());
            match name {
                "actor" => query.actor = owned,
                "effective_user" => query.effective_user = owned,
                "target" => query.target = owned,
                "user" => query.subject_user = owned,
                "organization" => query.organization = owned,
                "action" => query.action = owned,
                "action_prefix" => query.action_prefix = owned,
                "outcome" => query.outcome = owned,
                "from" => query.from = parse_time(text),
                "until" => query.until = parse_time(text),
                "cursor" => query.cursor = owned,
                _ => {}
            }
        }
        query
    }
}

/// A day (`2026-12-06`, its first instant in UTC) or an RFC 3339 time.
pub(super) fn parse_time(text: &str) -> Option<Timestamp> {
    let time = if text.len() == 10 {
        humantime::parse_rfc3339_weak(&format!("{text}T00:00:00Z")).ok()?
    } else {
        humantime::parse_rfc3339_weak(text).ok()?
    };
    let millis = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    Some(Timestamp::from_millis(i64::try_from(millis).ok()?))
}

/// One audit event with readable labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    /// Its id.
    pub id: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// The action's name.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// `user`, `system` or `anonymous`.
    pub actor_type: String,
    /// The acting user's id.
    pub actor_id: Option<String>,
    /// Their address, while the account exists.
    pub actor_label: Option<String>,
    /// The effective user's id.
    pub effective_user_id: Option<String>,
    /// Their address.
    pub effective_user_label: Option<String>,
    /// `user` or `organization`.
    pub target_type: Option<String>,
    /// The target's id.
    pub target_id: Option<String>,
    /// The target's address or name.
    pub target_label: Option<String>,
    /// The organization's id.
    pub organization_id: Option<String>,
    /// Its name.
    pub organization_label: Option<String>,
    /// Where the request came from.
    pub ip_address: Option<String>,
}

impl AuditRow {
    /// `impersonating` when an admin acted as someone else, else `direct`.
    pub fn impersonation_state(&self) -> &'static str {
        let other = self.actor_id.is_some()
            && self.effective_user_id.is_some()
            && self.actor_id != self.effective_user_id;
        if other || self.action.starts_with("admin.impersonation.") {
            "impersonating"
        } else {
            "direct"
        }
    }
}

/// A page of events.
#[derive(Clone, Debug)]
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<AuditRow>,
    /// Where the next page starts.
    pub next_cursor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    occurred_at: i64,
    action: String,
    outcome: String,
    actor_type: String,
    actor_id: Option<String>,
    actor_label: Option<String>,
    effective_user_id: Option<String>,
    effective_user_label: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    target_label: Option<String>,
    organization_id: Option<String>,
    organization_label: Option<String>,
    ip_address: Option<String>,
}

/// A filter value as bound: trimmed, bounded, empty for none.
fn value(text: Option<&String>) -> String {
    text.map(|t| t.trim().chars().take(MAX_FILTER_CHARS).collect())
        .unwrap_or_default()
}

/// The newest audit event's time and id, for a page following the trail live.
pub(crate) async fn newest_event(
    conn: &mut sqlx::AnyConnection,
) -> Result<Option<(Timestamp, String)>> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT occurred_at, id FROM audit_events ORDER BY occurred_at DESC, id DESC LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(at, id)| (Timestamp::from_millis(at), id)))
}

impl Admin<'_> {
    /// A page of the events matching `query`, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn audit_events(
        &self,
        _admin: &PlatformAdmin,
        query: &AuditQuery,
    ) -> Result<AuditPage> {
        self.events(query).await
    }

    /// The events matching `query`, for a caller that has checked who may see them.
    pub(super) async fn events(&self, query: &AuditQuery) -> Result<AuditPage> {
        let size = query
            .limit
            .unwrap_or(DEFAULT_EVENTS_PER_PAGE)
            .clamp(1, MAX_EVENTS_PER_PAGE);
        let after = query.cursor.as_deref().and_then(Cursor::decode);
        let (after_at, after_id) = after
            .map(|c| (c.created_at.as_millis(), c.id))
            .unwrap_or((i64::MAX, String::new()));
        let prefix = value(query.action_prefix.as_ref());
        let prefix_pattern = format!("{}%", super::users::escape_like(&prefix));
        let mut conn = self.core.db().acquire().await?;
        let mut rows: Vec<Row> = sqlx::query_as(
            "SELECT a.id, a.occurred_at, a.action, a.outcome, a.actor_type, a.actor_id, \
             actor.email AS actor_label, a.effective_user_id, eff.email AS effective_user_label, \
             a.target_type, a.target_id, COALESCE(tu.email, tog.name) AS target_label, \
             a.organization_id, org.name AS organization_label, a.ip_address \
             FROM audit_events a \
             LEFT JOIN users actor ON actor.id = a.actor_id \
             LEFT JOIN users eff ON eff.id = a.effective_user_id \
             LEFT JOIN users tu ON a.target_type = 'user' AND tu.id = a.target_id \
             LEFT JOIN organizations tog ON a.target_type = 'organization' AND tog.id = a.target_id \
             LEFT JOIN organizations org ON org.id = a.organization_id \
             WHERE ($1 = '' OR a.actor_id = $1) \
             AND ($2 = '' OR a.effective_user_id = $2) \
             AND ($3 = '' OR a.target_id = $3) \
             AND ($4 = '' OR a.actor_id = $4 OR a.effective_user_id = $4 OR a.target_id = $4) \
             AND ($5 = '' OR a.organization_id = $5) \
             AND ($6 = '' OR a.action = $6) \
             AND ($7 = '' OR a.action LIKE $8 ESCAPE '\\') \
             AND ($9 = '' OR a.outcome = $9) \
             AND a.occurred_at >= $10 AND a.occurred_at < $11 \
             AND (a.occurred_at < $12 OR (a.occurred_at = $12 AND a.id < $13)) \
             ORDER BY a.occurred_at DESC, a.id DESC LIMIT $14",
        )
        .bind(value(query.actor.as_ref()))
        .bind(value(query.effective_user.as_ref()))
        .bind(value(query.target.as_ref()))
        .bind(value(query.subject_user.as_ref()))
        .bind(value(query.organization.as_ref()))
        .bind(value(query.action.as_ref()))
        .bind(&prefix)
        .bind(prefix_pattern)
        .bind(value(query.outcome.as_ref()))
        .bind(query.from.map_or(i64::MIN, Timestamp::as_millis))
        .bind(query.until.map_or(i64::MAX, Timestamp::as_millis))
        .bind(after_at)
        .bind(after_id)
        .bind(i64::from(size) + 1)
        .fetch_all(&mut *conn)
        .await?;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let more = rows.len() > size;
        rows.truncate(size);
        let next_cursor = more.then(|| rows.last()).flatten().map(|row| {
            Cursor {
                created_at: Timestamp::from_millis(row.occurred_at),
                id: row.id.clone(),
            }
            .encode()
        });
        Ok(AuditPage {
            events: rows
                .into_iter()
                .map(|row| AuditRow {
                    id: row.id,
                    occurred_at: Timestamp::from_millis(row.occurred_at),
                    action: row.action,
                    outcome: row.outcome,
                    actor_type: row.actor_type,
                    actor_id: row.actor_id,
                    actor_label: row.actor_label,
                    effective_user_id: row.effective_user_id,
                    effective_user_label: row.effective_user_label,
                    target_type: row.target_type,
                    target_id: row.target_id,
                    target_label: row.target_label,
                    organization_id: row.organization_id,
                    organization_label: row.organization_label,
                    ip_address: row.ip_address,
                })
                .collect(),
            next_cursor,
        })
    }
}

/// The columns of the CSV export, as Sigra's.
pub const CSV_HEADER: [&str; 13] = [
    "occurred_at",
    "event_id",
    "action",
    "outcome",
    "actor_id",
    "actor_label",
    "effective_user_id",
    "effective_user_label",
    "target_id",
    "target_type",
    "organization_id",
    "organization_label",
    "impersonation_state",
];

/// The CSV export's header row.
pub fn csv_header() -> String {
    csv_row(CSV_HEADER.iter().map(|c| (*c).to_owned()))
}

/// One event as a CSV row. A label falls back to the id when the account or organization is
/// gone; the system acts as `system`.
pub fn csv_record(row: &AuditRow) -> String {
    let label = |label: &Option<String>, id: &Option<String>| {
        label.clone().or_else(|| id.clone()).unwrap_or_default()
    };
    csv_row([
        row.occurred_at.to_string(),
        row.id.clone(),
        row.action.clone(),
        row.outcome.clone(),
        row.actor_id.clone().unwrap_or_default(),
        if row.actor_type == "system" {
            "system".to_owned()
        } else {
            label(&row.actor_label, &row.actor_id)
        },
        row.effective_user_id.clone().unwrap_or_default(),
        label(&row.effective_user_label, &row.effective_user_id),
        row.target_id.clone().unwrap_or_default(),
        row.target_type.clone().unwrap_or_default(),
        row.organization_id.clone().unwrap_or_default(),
        label(&row.organization_label, &row.organization_id),
        row.impersonation_state().to_owned(),
    ])
}

/// One CSV row, CRLF-terminated.
pub fn csv_row(cells: impl IntoIterator<Item = String>) -> String {
    let mut row = cells
        .into_iter()
        .map(|cell| csv_cell(&cell))
        .collect::<Vec<_>>()
        .join(",");
    row.push_str("\r\n");
    row
}

/// One cell: formula-safe, then quoted when it must be.
pub fn csv_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r', '\0']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_come_only_from_known_names_and_days_start_at_midnight_utc() {
        let query = AuditQuery::from_params([
            ("action_prefix", "auth."),
            ("outcome", " failure "),
            ("from", "2026-12-06"),
            ("until", "not a time"),
            ("user", ""),
            ("limit", "100000"),
            ("sql", "DROP TABLE users"),
        ]);
        assert_eq!(query.action_prefix.as_deref(), Some("auth."));
        assert_eq!(query.outcome.as_deref(), Some("failure"));
        assert_eq!(query.from, Some(Timestamp::from_millis(1_796_515_200_000)));
        assert_eq!(query.until, None);
        assert_eq!(query.subject_user, None);
        assert_eq!(query.limit, None);
    }

    #[test]
    fn cells_are_quoted_when_they_must_be_and_never_start_a_formula() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\r\nlines"), "\"two\r\nlines\"");
        for dangerous in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\0x"] {
            assert!(csv_cell(dangerous).starts_with('\''), "{dangerous:?}");
        }
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("Zürich 東京"), "Zürich 東京");
        assert_eq!(csv_row(["a".to_owned(), "=b".to_owned()]), "a,'=b\r\n");
    }
}
