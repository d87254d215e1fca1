//! The admin area's views of the accounts: the overview's counts and the user list (search,
//! filters, newest or oldest first, keyset pages of 25 by default and at most 100, with the total).

use std::time::Duration;

use crate::clock::{millis_of, Timestamp};
use crate::db::paging::Cursor;
use crate::error::Result;

use super::{Admin, PlatformAdmin};

/// Rows per page of the user list when the caller does not say.
pub const DEFAULT_USERS_PER_PAGE: u32 = 25;
/// The most rows one page of the user list holds.
pub const MAX_USERS_PER_PAGE: u32 = 100;
/// The longest search text taken (longer input is cut, not refused).
const MAX_SEARCH_CHARS: usize = 320;

/// The overview's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    /// Accounts not deleted.
    pub users: i64,
    /// Of those, with a confirmed address.
    pub confirmed: i64,
    /// Of those, with an authenticator app or a passkey.
    pub with_second_factor: i64,
    /// Of those, locked now (password or second-factor lock).
    pub locked: i64,
    /// Sessions that have not expired.
    pub active_sessions: i64,
    /// Successful sign-ins in the last 24 hours.
    pub sign_ins_last_day: i64,
}

/// A yes/no/either filter on whether the address is confirmed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatusFilter {
    /// No filter.
    #[default]
    Any,
    /// Only accounts that are.
    Yes,
    /// Only accounts that are not.
    No,
}

impl StatusFilter {
    /// From a query parameter: `yes`, `no`, anything else means either.
    pub fn parse(text: Option<&str>) -> Self {
        match text {
            Some("yes") => Self::Yes,
            Some("no") => Self::No,
            _ => Self::Any,
        }
    }

    fn code(self) -> i64 {
        match self {
            Self::Any => 0,
            Self::Yes => 1,
            Self::No => 2,
        }
    }
}

/// Deleted accounts (and those scheduled for deletion) in the list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeletedFilter {
    /// Only accounts in use.
    #[default]
    InUse,
    /// Only deleted ones.
    Deleted,
    /// Both.
    All,
}

impl DeletedFilter {
    /// From a query parameter: `yes` (only deleted), `all`, anything else only in use.
    pub fn parse(text: Option<&str>) -> Self {
        match text {
            Some("yes") => Self::Deleted,
            Some("all") => Self::All,
            _ => Self::InUse,
        }
    }

    fn code(self) -> i64 {
        match self {
            Self::InUse => 0,
            Self::Deleted => 1,
            Self::All => 2,
        }
    }
}

/// The user list's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserSort {
    /// Newest registrations first.
    #[default]
    NewestFirst,
    /// Oldest registrations first.
    OldestFirst,
}

/// What the user list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Part of the address, or an account's whole id.
    pub search: Option<String>,
    /// Confirmed address.
    pub confirmed: StatusFilter,
    /// An authenticator app or a passkey.
    pub second_factor: StatusFilter,
    /// A passkey.
    pub passkeys: StatusFilter,
    /// Locked now.
    pub locked: StatusFilter,
    /// Deleted or scheduled for deletion (by default only accounts in use are listed).
    pub deleted: DeletedFilter,
    /// Linked to this sign-in provider (`google`, …).
    pub provider: Option<String>,
    /// A member of the organization with this slug.
    pub organization: Option<String>,
    /// Registered from this time (inclusive).
    pub registered_from: Option<Timestamp>,
    /// Registered before this time.
    pub registered_until: Option<Timestamp>,
    /// The order.
    pub sort: UserSort,
    /// Rows wanted (25 when absent, at most 100).
    pub limit: Option<u32>,
    /// The cursor of the previous page, as the client sent it.
    pub cursor: Option<String>,
}

impl UserQuery {
    /// The filters from a request's query parameters, against the names the list knows
    /// (others are ignored): `q` (part of an address, or an id), `confirmed`,
    /// `second_factor`, `passkeys` and `locked` (`yes`, `no`), `deleted` (`yes`, `all`), `provider`,
    /// `organization` (a slug), `from` and `until` (a day, `2026-12-06`, or an RFC 3339 time;
    /// `until` exclusive), `sort` (`oldest`; newest first otherwise) and `cursor`.
    pub fn from_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut query = Self::default();
        for (name, text) in params {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let owned = Some(text.to_owned());
            match name {
                "q" => query.search = owned,
                "confirmed" => query.confirmed = StatusFilter::parse(Some(text)),
                "second_factor" => query.second_factor = StatusFilter::parse(Some(text)),
                "passkeys" => query.passkeys = StatusFilter::parse(Some(text)),
                "locked" => query.locked = StatusFilter::parse(Some(text)),
                "deleted" => query.deleted = DeletedFilter::parse(Some(text)),
                "provider" => query.provider = owned,
                "organization" => query.organization = owned,
                "from" => query.registered_from = super::explorer::parse_time(text),
                "until" => query.registered_until = super::explorer::parse_time(text),
                "sort" if text == "oldest" => query.sort = UserSort::OldestFirst,
                "cursor" => query.cursor = owned,
                _ => {}
            }
        }
        query
    }
}

/// One account in the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    /// Its id.
    pub id: String,
    /// Its address.
    pub email: String,
    /// The name it goes by, if one was chosen.
    pub display_name: Option<String>,
    /// When it registered.
    pub created_at: Timestamp,
    /// When its address was confirmed.
    pub confirmed_at: Option<Timestamp>,
    /// Whether it has an authenticator app.
    pub authenticator_app: bool,
    /// How many passkeys it has.
    pub passkeys: i64,
    /// Until when it is locked, if it is now.
    pub locked_until: Option<Timestamp>,
    /// Whether it is deleted or scheduled for deletion.
    pub deleted: bool,
    /// What the host adds to its row ([`super::extensions::AdminExtensions::list_fields`]).
    pub fields: Vec<super::extensions::AdminField>,
}

/// A page of the user list.
#[derive(Clone, Debug)]
pub struct UserList {
    /// The accounts, newest first.
    pub users: Vec<UserRow>,
    /// How many accounts match the filters in all.
    pub total: i64,
    /// Where the next page starts.
    pub next_cursor: Option<String>,
}

/// The filters as bind values; the WHERE clause below names them `$1`…`$12`.
const FILTERS: &str = "\
    ($1 = '' OR u.email LIKE $2 ESCAPE '\\' OR LOWER(u.display_name) LIKE $2 ESCAPE '\\' \
        OR u.id = $1) \
    AND ($3 = 0 OR ($3 = 1) = (u.confirmed_at IS NOT NULL)) \
    AND ($4 = 0 OR ($4 = 1) = (EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) \
        OR EXISTS (SELECT 1 FROM user_passkeys p WHERE p.user_id = u.id))) \
    AND ($5 = 0 OR ($5 = 1) = (COALESCE(u.locked_until, 0) > $7 OR COALESCE(u.mfa_locked_until, 0) > $7)) \
    AND (($6 = 0 AND u.deleted_at IS NULL AND u.deletion_scheduled_at IS NULL) OR $6 = 2 \
        OR ($6 = 1 AND (u.deleted_at IS NOT NULL OR u.deletion_scheduled_at IS NOT NULL))) \
    AND ($8 = '' OR EXISTS (SELECT 1 FROM user_identities i WHERE i.user_id = u.id AND i.provider = $8)) \
    AND ($9 = '' OR EXISTS (SELECT 1 FROM organization_memberships m \
        JOIN organizations o ON o.id = m.organization_id \
        WHERE m.user_id = u.id AND o.slug = $9 AND o.deleted_at IS NULL)) \
    AND u.created_at >= $10 AND u.created_at < $11 \
    AND ($12 = 0 OR ($12 = 1) = EXISTS (SELECT 1 FROM user_passkeys pk WHERE pk.user_id = u.id))";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    email: String,
    display_name: Option<String>,
    created_at: i64,
    confirmed_at: Option<i64>,
    authenticator_app: i64,
    passkeys: i64,
    locked_until: Option<i64>,
    mfa_locked_until: Option<i64>,
    deleted: i64,
}

impl Admin<'_> {
    /// The overview's counts.
    ///
    /// # Errors
    /// The database failed.
    pub async fn overview(&self, _admin: &PlatformAdmin) -> Result<Overview> {
        let now = self.core.now();
        let day_ago = now.as_millis() - millis_of(Duration::from_secs(24 * 3600));
        let now = now.as_millis();
        let live = "u.deleted_at IS NULL AND u.deletion_scheduled_at IS NULL";
        let second_factor = "(EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id \
             AND t.confirmed_at IS NOT NULL) OR EXISTS (SELECT 1 FROM user_passkeys p \
             WHERE p.user_id = u.id))";
        let counts: [(String, Option<i64>); 6] = [
            (format!("SELECT COUNT(*) FROM users u WHERE {live}"), None),
            (
                format!("SELECT COUNT(*) FROM users u WHERE {live} AND u.confirmed_at IS NOT NULL"),
                None,
            ),
            (
                format!("SELECT COUNT(*) FROM users u WHERE {live} AND {second_factor}"),
                None,
            ),
            (
                format!(
                    "SELECT COUNT(*) FROM users u WHERE {live} AND \
                     (COALESCE(u.locked_until, 0) > $1 OR COALESCE(u.mfa_locked_until, 0) > $1)"
                ),
                Some(now),
            ),
            (
                "SELECT COUNT(*) FROM user_sessions WHERE expires_at > $1 AND kind <> 'mfa_pending'"
                    .to_owned(),
                Some(now),
            ),
            (
                "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.success' \
                 AND occurred_at > $1"
                    .to_owned(),
                Some(day_ago),
            ),
        ];
        let mut conn = self.core.db().acquire().await?;
        let mut values = [0_i64; 6];
        for (value, (sql, bind)) in values.iter_mut().zip(counts) {
            let query = sqlx::query_scalar(&sql);
            let query = match bind {
                Some(at) => query.bind(at),
                None => query,
            };
            *value = query.fetch_one(&mut *conn).await?;
        }
        let [users, confirmed, with_second_factor, locked, active_sessions, sign_ins_last_day] =
            values;
        Ok(Overview {
            users,
            confirmed,
            with_second_factor,
            locked,
            active_sessions,
            sign_ins_last_day,
        })
    }

    /// A page of the accounts matching `query`, newest first, with the total.
    ///
    /// # Errors
    /// The database failed.
    pub async fn users(&self, _admin: &PlatformAdmin, query: &UserQuery) -> Result<UserList> {
        let search: String = query
            .search
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_lowercase()
            .chars()
            .take(MAX_SEARCH_CHARS)
            .collect();
        let pattern = format!("%{}%", escape_like(&search));
        let size = query
            .limit
            .unwrap_or(DEFAULT_USERS_PER_PAGE)
            .clamp(1, MAX_USERS_PER_PAGE);
        let after = query.cursor.as_deref().and_then(Cursor::decode);
        let now = self.core.now().as_millis();
        let mut conn = self.core.db().acquire().await?;

        let text = |value: &Option<String>| value.as_deref().unwrap_or_default().trim().to_owned();
        let (provider, organization) = (text(&query.provider), text(&query.organization));
        let from = query.registered_from.map_or(i64::MIN, Timestamp::as_millis);
        let until = query
            .registered_until
            .map_or(i64::MAX, Timestamp::as_millis);
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM users u WHERE {FILTERS}"))
                .bind(&search)
                .bind(&pattern)
                .bind(query.confirmed.code())
                .bind(query.second_factor.code())
                .bind(query.locked.code())
                .bind(query.deleted.code())
                .bind(now)
                .bind(&provider)
                .bind(&organization)
                .bind(from)
                .bind(until)
                .bind(query.passkeys.code())
                .fetch_one(&mut *conn)
                .await?;
        // Keyset paging on (created_at, id) in the chosen direction.
        let (after_row, order) = match query.sort {
            UserSort::NewestFirst => (
                "(u.created_at < $13 OR (u.created_at = $13 AND u.id < $14))",
                "u.created_at DESC, u.id DESC",
            ),
            UserSort::OldestFirst => (
                "(u.created_at > $13 OR (u.created_at = $13 AND u.id > $14))",
                "u.created_at ASC, u.id ASC",
            ),
        };
        let sql = format!(
            "SELECT u.id, u.email, u.display_name, u.created_at, u.confirmed_at, u.locked_until, u.mfa_locked_until, \
             CASE WHEN EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at \
             IS NOT NULL) THEN 1 ELSE 0 END AS authenticator_app, \
             (SELECT COUNT(*) FROM user_passkeys p WHERE p.user_id = u.id) AS passkeys, \
             CASE WHEN u.deleted_at IS NOT NULL OR u.deletion_scheduled_at IS NOT NULL THEN 1 \
             ELSE 0 END AS deleted \
             FROM users u WHERE {FILTERS} \
             AND ($15 = 0 OR {after_row}) \
             ORDER BY {order} LIMIT $16"
        );
        let (after, after_at, after_id) = after
            .map(|cursor| (1_i64, cursor.created_at.as_millis(), cursor.id))
            .unwrap_or((0, 0, String::new()));
        let mut rows: Vec<Row> = sqlx::query_as(&sql)
            .bind(&search)
            .bind(&pattern)
            .bind(query.confirmed.code())
            .bind(query.second_factor.code())
            .bind(query.locked.code())
            .bind(query.deleted.code())
            .bind(now)
            .bind(&provider)
            .bind(&organization)
            .bind(from)
            .bind(until)
            .bind(query.passkeys.code())
            .bind(after_at)
            .bind(after_id)
            .bind(after)
            .bind(i64::from(size) + 1)
            .fetch_all(&mut *conn)
            .await?;
        let more = rows.len() > usize::try_from(size).unwrap_or(usize::MAX);
        rows.truncate(usize::try_from(size).unwrap_or(usize::MAX));
        let next_cursor = if more {
            rows.last().map(|row| {
                Cursor {
                    created_at: Timestamp::from_millis(row.created_at),
                    id: row.id.clone(),
                }
                .encode()
            })
        } else {
            None
        };
        let ids: Vec<crate::users::UserId> = rows
            .iter()
            .map(|row| crate::users::UserId::from_stored(row.id.clone()))
            .collect();
        let mut fields = self
            .extensions
            .list_fields(&mut conn, &ids)
            .await
            .map_err(crate::error::Error::Hook)?;
        let now = Timestamp::from_millis(now);
        Ok(UserList {
            users: rows
                .into_iter()
                .map(|row| {
                    let locked_until = [row.locked_until, row.mfa_locked_until]
                        .into_iter()
                        .flatten()
                        .map(Timestamp::from_millis)
                        .filter(|until| *until > now)
                        .max();
                    UserRow {
                        email: row.email,
                        display_name: row.display_name,
                        created_at: Timestamp::from_millis(row.created_at),
                        confirmed_at: row.confirmed_at.map(Timestamp::from_millis),
                        authenticator_app: row.authenticator_app == 1,
                        passkeys: row.passkeys,
                        locked_until,
                        deleted: row.deleted == 1,
                        fields: fields.remove(&row.id).unwrap_or_default(),
                        id: row.id,
                    }
                })
                .collect(),
            total,
            next_cursor,
        })
    }
}

/// `text` for a LIKE pattern, with its wildcards taken literally.
pub(super) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
