//! WebAuthn ceremony state, kept in the database so any process can finish a ceremony another
//! started. Each row is taken (deleted) by its one use, and expires after five minutes.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::crypto::{b64url, random_bytes};
use crate::error::{Error, Result};
use crate::users::UserId;

/// How long a ceremony may take.
pub(super) const LIFETIME: Duration = Duration::from_secs(5 * 60);

crate::db::stored_enum! {
    /// What a ceremony is for; a state is only ever taken for the purpose it was made for.
    pub(super) enum Kind {
        Register = "register",
        LogIn = "log_in",
        SecondFactor = "second_factor",
        Sudo = "sudo",
    }
}

/// Stores `state`; returns the ceremony id the browser sends back.
pub(super) async fn begin<S: Serialize>(
    conn: &mut AnyConnection,
    kind: Kind,
    user: Option<&UserId>,
    state: &S,
    now: Timestamp,
) -> Result<String> {
    let id = b64url(&random_bytes::<16>());
    let state = serde_json::to_string(state).map_err(|e| Error::Internal(Box::new(e)))?;
    sqlx::query("INSERT INTO webauthn_ceremonies (id, user_id, kind, state, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(user.map(|u| u.as_str().to_owned()))
        .bind(kind.as_str())
        .bind(state)
        .bind(now.plus(LIFETIME).as_millis())
        .execute(conn)
        .await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct Taken {
    user_id: Option<UserId>,
    state: String,
    expires_at: Timestamp,
}

/// Takes the state of a live ceremony of `kind` (for `user`, when it was bound to one). Once
/// taken it is gone, so a replayed response finds nothing.
pub(super) async fn take<S: DeserializeOwned>(
    conn: &mut AnyConnection,
    id: &str,
    kind: Kind,
    user: Option<&UserId>,
    now: Timestamp,
) -> Result<Option<S>> {
    let row = sqlx::query_as::<_, Taken>(
        "DELETE FROM webauthn_ceremonies WHERE id = $1 AND kind = $2 RETURNING user_id, state, expires_at",
    )
    .bind(id)
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if row.user_id.as_ref() != user || row.expires_at <= now {
        return Ok(None);
    }
    serde_json::from_str(&row.state)
        .map(Some)
        .map_err(|e| Error::Internal(Box::new(e)))
}
