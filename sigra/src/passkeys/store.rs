//! SQL for stored passkeys.

use sqlx::AnyConnection;
use webauthn_rs::prelude::Passkey;

use crate::clock::Timestamp;
use crate::db::Json;
use crate::error::{Error, Result};
use crate::users::UserId;

/// A stored passkey.
#[derive(sqlx::FromRow)]
pub(super) struct Row {
    pub id: String,
    pub user_id: UserId,
    pub passkey: Json<Passkey>,
    pub name: String,
    #[sqlx(try_from = "i64")]
    pub sign_count: u32,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, user_id, passkey, name, sign_count, created_at, last_used_at";

fn to_json(passkey: &Passkey) -> Result<String> {
    serde_json::to_string(passkey).map_err(|e| Error::Internal(Box::new(e)))
}

pub(super) struct NewPasskey<'a> {
    pub id: &'a str,
    pub user: &'a UserId,
    pub credential_id: &'a str,
    pub passkey: &'a Passkey,
    pub name: &'a str,
    pub aaguid: Option<&'a str>,
    pub now: Timestamp,
}

/// Stores a new passkey; false when the credential is already registered (to anyone).
pub(super) async fn insert(conn: &mut AnyConnection, new: &NewPasskey<'_>) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO user_passkeys (id, user_id, credential_id, passkey, name, aaguid, sign_count, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT (credential_id) DO NOTHING",
    )
    .bind(new.id)
    .bind(new.user.as_str())
    .bind(new.credential_id)
    .bind(to_json(new.passkey)?)
    .bind(new.name)
    .bind(new.aaguid)
    .bind(new.now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user's passkeys, oldest first.
pub(super) async fn for_user(conn: &mut AnyConnection, user: &UserId) -> Result<Vec<Row>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM user_passkeys WHERE user_id = $1 ORDER BY created_at, id"
    ))
    .bind(user.as_str())
    .fetch_all(conn)
    .await?)
}

/// The passkey with this credential id.
pub(super) async fn by_credential(
    conn: &mut AnyConnection,
    credential_id: &str,
) -> Result<Option<Row>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM user_passkeys WHERE credential_id = $1"
    ))
    .bind(credential_id)
    .fetch_optional(conn)
    .await?)
}

/// Records a use: the updated credential (counter, backup flags) and when.
pub(super) async fn record_use(
    conn: &mut AnyConnection,
    id: &str,
    passkey: &Passkey,
    sign_count: u32,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE user_passkeys SET passkey = $1, sign_count = $2, last_used_at = $3 WHERE id = $4",
    )
    .bind(to_json(passkey)?)
    .bind(i64::from(sign_count))
    .bind(now.as_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Renames one of the user's passkeys; false when the user has no such passkey.
pub(super) async fn rename(
    conn: &mut AnyConnection,
    id: &str,
    user: &UserId,
    name: &str,
) -> Result<bool> {
    let done = sqlx::query("UPDATE user_passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(name)
        .bind(id)
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one of the user's passkeys; false when the user has no such passkey.
pub(super) async fn delete(conn: &mut AnyConnection, id: &str, user: &UserId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM user_passkeys WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
