//! SQL for the `user_sessions` table.

use sqlx::AnyConnection;

use crate::auth::LoginMethod;
use crate::clock::Timestamp;
use crate::crypto::TokenHash;
use crate::db::Known;
use crate::error::Result;
use crate::geo::Location;
use crate::request::RequestContext;
use crate::users::{EmailAddress, User, UserId};

use super::{Impersonator, SessionId, SessionInfo, SessionKind};

/// A new session row.
pub(crate) struct NewRow<'a> {
    pub id: &'a SessionId,
    pub user_id: &'a UserId,
    pub token_hash: &'a TokenHash,
    pub kind: SessionKind,
    pub upgrade_to: Option<SessionKind>,
    pub first_factor: Option<LoginMethod>,
    pub impersonator: Option<&'a Impersonator>,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

pub(crate) async fn insert(
    conn: &mut AnyConnection,
    row: NewRow<'_>,
    request: &RequestContext,
    location: Option<&Location>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_sessions (id, user_id, token_hash, kind, ip, user_agent, created_at, last_seen_at, expires_at, \
                                    geo_city, geo_country, upgrade_to, first_factor, token_issued_at, \
                                    impersonator_user_id, impersonator_session_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $7, $13, $14)",
    )
    .bind(row.id.as_str())
    .bind(row.user_id.as_str())
    .bind(row.token_hash.as_str())
    .bind(row.kind.as_str())
    .bind(request.ip_text())
    .bind(request.user_agent.clone())
    .bind(row.now.as_millis())
    .bind(row.expires_at.as_millis())
    .bind(location.and_then(|l| l.city.clone()))
    .bind(location.and_then(|l| l.country_code.clone()))
    .bind(row.upgrade_to.map(SessionKind::as_str))
    .bind(row.first_factor.map(LoginMethod::as_str))
    .bind(row.impersonator.map(|i| i.user_id.as_str().to_owned()))
    .bind(row.impersonator.map(|i| i.session_id.as_str().to_owned()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Which of a session's tokens a request presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenMatch {
    /// The current token, issued at that time.
    Current {
        /// When it was issued (the session's start, or its last replacement).
        issued_at: Timestamp,
    },
    /// The token a rolled one replaced, accepted until then.
    Previous {
        /// The end of its grace.
        until: Timestamp,
    },
}

/// A session found by its token, with its user and last activity.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub session: SessionInfo,
    pub token: TokenMatch,
    pub last_seen_at: Timestamp,
    pub user: User,
    pub upgrade_to: Option<SessionKind>,
    pub first_factor: Option<LoginMethod>,
}

#[derive(sqlx::FromRow)]
struct FoundRow {
    session_id: String,
    token_hash: String,
    token_issued_at: Timestamp,
    previous_token_expires_at: Option<Timestamp>,
    kind: Known<SessionKind>,
    session_created_at: Timestamp,
    last_seen_at: Timestamp,
    expires_at: Timestamp,
    sudo_at: Option<Timestamp>,
    upgrade_to: Option<Known<SessionKind>>,
    first_factor: Option<Known<LoginMethod>>,
    impersonator_user_id: Option<String>,
    impersonator_session_id: Option<String>,
    user_id: UserId,
    email: String,
    display_name: Option<String>,
    confirmed_at: Option<Timestamp>,
    user_created_at: Timestamp,
    pending_email: Option<String>,
    must_change_password: i64,
    deletion_scheduled_at: Option<Timestamp>,
}

pub(crate) async fn find_by_token_hash(
    conn: &mut AnyConnection,
    hash: &TokenHash,
) -> Result<Option<Found>> {
    let row = sqlx::query_as::<_, FoundRow>(
        "SELECT s.id AS session_id, s.token_hash, s.token_issued_at, s.previous_token_expires_at, \
                s.kind, s.created_at AS session_created_at, s.last_seen_at, \
                s.expires_at, s.sudo_at, s.upgrade_to, s.first_factor, s.impersonator_user_id, \
                s.impersonator_session_id, u.id AS user_id, u.email, u.display_name, u.confirmed_at, \
                u.created_at AS user_created_at, u.pending_email, u.must_change_password, \
                u.deletion_scheduled_at \
         FROM user_sessions s JOIN users u ON u.id = s.user_id \
         WHERE (s.token_hash = $1 OR s.previous_token_hash = $1) AND u.deleted_at IS NULL",
    )
    .bind(hash.as_str())
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    // Rows are written only by this module, so an unknown kind or a bad email means the
    // database was edited by hand; treat the session as unusable rather than guess.
    let (Known(Some(kind)), Ok(email)) = (row.kind, EmailAddress::parse(&row.email)) else {
        return Ok(None);
    };
    let token = if row.token_hash == hash.as_str() {
        TokenMatch::Current {
            issued_at: row.token_issued_at,
        }
    } else {
        TokenMatch::Previous {
            until: row
                .previous_token_expires_at
                .unwrap_or(Timestamp::from_millis(0)),
        }
    };
    Ok(Some(Found {
        token,
        session: SessionInfo {
            id: SessionId(row.session_id),
            kind,
            created_at: row.session_created_at,
            expires_at: row.expires_at,
            sudo_at: row.sudo_at,
            impersonator: match (row.impersonator_user_id, row.impersonator_session_id) {
                (Some(user_id), Some(session_id)) => Some(Impersonator {
                    user_id: UserId::from_stored(user_id),
                    session_id: SessionId(session_id),
                }),
                _ => None,
            },
        },
        last_seen_at: row.last_seen_at,
        user: User {
            id: row.user_id,
            email,
            display_name: crate::users::DisplayName::from_stored(row.display_name),
            confirmed_at: row.confirmed_at,
            created_at: row.user_created_at,
            pending_email: row.pending_email.and_then(|e| EmailAddress::parse(&e).ok()),
            must_change_password: row.must_change_password != 0,
            deletion_scheduled_at: row.deletion_scheduled_at,
        },
        upgrade_to: row.upgrade_to.and_then(|known| known.0),
        first_factor: row.first_factor.and_then(|known| known.0),
    }))
}

pub(crate) async fn touch(conn: &mut AnyConnection, id: &SessionId, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE user_sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces a session's token with a rolled one, keeping the one presented (`presented`)
/// accepted until `previous_until`. Only one of several requests racing with the same token
/// rolls it; the others find it replaced and get `false`.
pub(crate) async fn roll_token(
    conn: &mut AnyConnection,
    id: &SessionId,
    presented: &TokenHash,
    new: &TokenHash,
    now: Timestamp,
    previous_until: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE user_sessions SET previous_token_hash = token_hash, previous_token_expires_at = $1, \
                token_hash = $2, token_issued_at = $3, last_seen_at = $3 \
         WHERE id = $4 AND token_hash = $5",
    )
    .bind(previous_until.as_millis())
    .bind(new.as_str())
    .bind(now.as_millis())
    .bind(id.as_str())
    .bind(presented.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a session's token outright: every earlier token of it stops working.
pub(crate) async fn replace_token(
    conn: &mut AnyConnection,
    id: &SessionId,
    new: &TokenHash,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE user_sessions SET token_hash = $1, token_issued_at = $2, \
                previous_token_hash = NULL, previous_token_expires_at = NULL \
         WHERE id = $3",
    )
    .bind(new.as_str())
    .bind(now.as_millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes every session of `user` but `keep`; returns how many went.
pub(crate) async fn delete_all_for_user(
    conn: &mut AnyConnection,
    user: &UserId,
    keep: Option<&SessionId>,
) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM user_sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
            .bind(user.as_str())
            .bind(keep.map(|k| k.as_str().to_owned()))
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

/// Deletes a session; returns whether it existed.
pub(crate) async fn delete(conn: &mut AnyConnection, id: &SessionId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM user_sessions WHERE id = $1")
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records a password re-entry on a session.
pub(crate) async fn set_sudo(
    conn: &mut AnyConnection,
    id: &SessionId,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE user_sessions SET sudo_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes one session of `user`; returns whether it existed (and was theirs).
pub(crate) async fn delete_owned(
    conn: &mut AnyConnection,
    user: &UserId,
    id: &SessionId,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM user_sessions WHERE id = $1 AND user_id = $2")
        .bind(id.as_str())
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The addresses the user's sessions were created from.
pub(crate) async fn known_ips(conn: &mut AnyConnection, user: &UserId) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT ip FROM user_sessions WHERE user_id = $1 AND ip IS NOT NULL AND kind <> $2",
    )
    .bind(user.as_str())
    .bind(SessionKind::MfaPending.as_str())
    .fetch_all(conn)
    .await?)
}

/// An impersonation that has run out.
#[derive(sqlx::FromRow)]
pub(crate) struct EndedImpersonation {
    pub id: String,
    pub user_id: String,
    pub impersonator_user_id: String,
    /// 1 when its absolute end passed, 0 when it sat idle too long.
    pub absolute: i64,
}

/// The impersonations that have run out by `now`: past their end, or unused since
/// `idle_since`.
pub(crate) async fn ended_impersonations(
    conn: &mut AnyConnection,
    now: Timestamp,
    idle_since: Timestamp,
) -> Result<Vec<EndedImpersonation>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, impersonator_user_id, \
         CASE WHEN expires_at <= $1 THEN 1 ELSE 0 END AS absolute \
         FROM user_sessions WHERE kind = $2 AND impersonator_user_id IS NOT NULL \
         AND (expires_at <= $1 OR last_seen_at <= $3)",
    )
    .bind(now.as_millis())
    .bind(SessionKind::Impersonation.as_str())
    .bind(idle_since.as_millis())
    .fetch_all(conn)
    .await?)
}

/// A row of the user's session list.
#[derive(sqlx::FromRow)]
pub(crate) struct Listed {
    pub id: String,
    pub kind: Known<SessionKind>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub geo_city: Option<String>,
    pub geo_country: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// The user's sessions, most recently active first.
pub(crate) async fn list_for_user(conn: &mut AnyConnection, user: &UserId) -> Result<Vec<Listed>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, ip, user_agent, geo_city, geo_country, created_at, last_seen_at \
         FROM user_sessions WHERE user_id = $1 AND kind <> $2 \
         ORDER BY last_seen_at DESC, id DESC LIMIT 100",
    )
    .bind(user.as_str())
    .bind(SessionKind::MfaPending.as_str())
    .fetch_all(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct TimesRow {
    kind: Known<SessionKind>,
    last_seen_at: Timestamp,
    expires_at: Timestamp,
}

/// The timing of a session by its public id, `None` when it no longer exists (logged out,
/// revoked, or cleaned up). Reads only: following a session is not activity.
pub(crate) async fn times(
    conn: &mut AnyConnection,
    id: &SessionId,
) -> Result<Option<super::SessionTimes>> {
    let row = sqlx::query_as::<_, TimesRow>(
        "SELECT kind, last_seen_at, expires_at FROM user_sessions WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|row| {
        let Known(Some(kind)) = row.kind else {
            return None;
        };
        Some(super::SessionTimes {
            kind,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
        })
    }))
}
