//! SQL for the `user_sessions` table.

use sqlx::{AnyConnection, Row as _};

use crate::clock::Timestamp;
use crate::crypto::TokenHash;
use crate::error::Result;
use crate::geo::Location;
use crate::request::RequestContext;
use crate::users::{EmailAddress, User, UserId};

use super::{SessionId, SessionInfo, SessionKind};

/// A new session row.
pub(crate) struct NewRow<'a> {
    pub id: &'a SessionId,
    pub user_id: &'a UserId,
    pub token_hash: &'a TokenHash,
    pub kind: SessionKind,
    pub upgrade_to: Option<SessionKind>,
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
                                    geo_city, geo_country, upgrade_to) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11)",
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
    .bind(row.upgrade_to.map(|k| k.as_str().to_owned()))
    .execute(conn)
    .await?;
    Ok(())
}

/// A session found by its token, with its user and last activity.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub session: SessionInfo,
    pub last_seen_at: Timestamp,
    pub user: User,
    pub upgrade_to: Option<SessionKind>,
}

pub(crate) async fn find_by_token_hash(
    conn: &mut AnyConnection,
    hash: &TokenHash,
) -> Result<Option<Found>> {
    let row = sqlx::query(
        "SELECT s.id, s.kind, s.created_at, s.last_seen_at, s.expires_at, \
                u.id, u.email, u.confirmed_at, u.created_at, u.pending_email, u.must_change_password, s.sudo_at, s.upgrade_to \
         FROM user_sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1",
    )
    .bind(hash.as_str())
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let kind: String = row.try_get(1)?;
    let email: String = row.try_get(6)?;
    // Rows are written only by this module, so an unknown kind or a bad email means the
    // database was edited by hand; treat the session as unusable rather than guess.
    let (Some(kind), Ok(email)) = (SessionKind::parse(&kind), EmailAddress::parse(&email)) else {
        return Ok(None);
    };
    let confirmed_at: Option<i64> = row.try_get(7)?;
    let pending_email: Option<String> = row.try_get(9)?;
    let must_change_password: i64 = row.try_get(10)?;
    let sudo_at: Option<i64> = row.try_get(11)?;
    let upgrade_to: Option<String> = row.try_get(12)?;
    Ok(Some(Found {
        session: SessionInfo {
            id: SessionId(row.try_get(0)?),
            kind,
            created_at: Timestamp::from_millis(row.try_get(2)?),
            expires_at: Timestamp::from_millis(row.try_get(4)?),
            sudo_at: sudo_at.map(Timestamp::from_millis),
        },
        last_seen_at: Timestamp::from_millis(row.try_get(3)?),
        user: User {
            id: UserId::from_stored(row.try_get(5)?),
            email,
            confirmed_at: confirmed_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(row.try_get(8)?),
            pending_email: pending_email.and_then(|e| EmailAddress::parse(&e).ok()),
            must_change_password: must_change_password != 0,
        },
        upgrade_to: upgrade_to.as_deref().and_then(SessionKind::parse),
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
    let rows =
        sqlx::query("SELECT DISTINCT ip FROM user_sessions WHERE user_id = $1 AND ip IS NOT NULL AND kind <> 'mfa_pending'")
            .bind(user.as_str())
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// A row of the user's session list.
pub(crate) struct Listed {
    pub id: String,
    pub kind: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// The user's sessions, most recently active first.
pub(crate) async fn list_for_user(conn: &mut AnyConnection, user: &UserId) -> Result<Vec<Listed>> {
    let rows = sqlx::query(
        "SELECT id, kind, ip, user_agent, geo_city, geo_country, created_at, last_seen_at \
         FROM user_sessions WHERE user_id = $1 AND kind <> 'mfa_pending' ORDER BY last_seen_at DESC, id DESC LIMIT 100",
    )
    .bind(user.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Listed {
            id: r.get(0),
            kind: r.get(1),
            ip: r.get(2),
            user_agent: r.get(3),
            city: r.get(4),
            country: r.get(5),
            created_at: r.get(6),
            last_seen_at: r.get(7),
        })
        .collect())
}
