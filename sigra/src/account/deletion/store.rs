//! SQL for deleting accounts: the schedule on the `users` row, and what executing it removes.

use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::config::DeletionStrategy;
use crate::error::Result;
use crate::organizations::Role;
use crate::users::{EmailAddress, UserId};

/// Why a deletion could not be scheduled.
pub(super) enum NotScheduled {
    /// One is already scheduled (or the account is gone).
    AlreadyScheduled,
    /// A deletion was cancelled after `since`: a new request waits a day.
    CoolingDown,
}

/// Schedules the deletion of `user` at `execute_at`, unless one is already scheduled or one
/// was cancelled after `cooldown_since`. One conditional update, so racing requests schedule
/// once.
pub(super) async fn schedule(
    conn: &mut AnyConnection,
    user: &UserId,
    execute_at: Timestamp,
    cooldown_since: Timestamp,
    now: Timestamp,
) -> Result<std::result::Result<(), NotScheduled>> {
    let done = sqlx::query(
        "UPDATE users SET deletion_scheduled_at = $2, pending_email = NULL, updated_at = $4 \
         WHERE id = $1 AND deletion_scheduled_at IS NULL AND deleted_at IS NULL \
         AND (deletion_cancelled_at IS NULL OR deletion_cancelled_at <= $3)",
    )
    .bind(user.as_str())
    .bind(execute_at.as_millis())
    .bind(cooldown_since.as_millis())
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(Ok(()));
    }
    let scheduled: Option<Option<Timestamp>> =
        sqlx::query_scalar("SELECT deletion_scheduled_at FROM users WHERE id = $1")
            .bind(user.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(Err(match scheduled {
        Some(None) => NotScheduled::CoolingDown,
        _ => NotScheduled::AlreadyScheduled,
    }))
}

/// Cancels a scheduled deletion that has not been carried out; whether there was one.
pub(super) async fn cancel(
    conn: &mut AnyConnection,
    user: &UserId,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET deletion_scheduled_at = NULL, deletion_cancelled_at = $2, updated_at = $2 \
         WHERE id = $1 AND deletion_scheduled_at IS NOT NULL AND deleted_at IS NULL",
    )
    .bind(user.as_str())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Accounts whose deletion is due at `now`, oldest first, at most `limit`.
pub(super) async fn due(
    conn: &mut AnyConnection,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<UserId>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM users WHERE deletion_scheduled_at IS NOT NULL AND deletion_scheduled_at <= $1 \
         AND deleted_at IS NULL ORDER BY deletion_scheduled_at, id LIMIT $2",
    )
    .bind(now.as_millis())
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Claims a due deletion for execution: marks the account deleted if it is still scheduled and
/// due (a cancellation that got there first wins). Returns the address it had.
pub(super) async fn claim(
    conn: &mut AnyConnection,
    user: &UserId,
    now: Timestamp,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE users SET deleted_at = $2, deletion_scheduled_at = NULL, updated_at = $2 \
         WHERE id = $1 AND deletion_scheduled_at IS NOT NULL AND deletion_scheduled_at <= $2 \
         AND deleted_at IS NULL RETURNING email",
    )
    .bind(user.as_str())
    .bind(now.as_millis())
    .fetch_optional(conn)
    .await?)
}

/// The address a deleted account holds instead of its own: unique to the id, and in a
/// reserved domain (RFC 2606) that can never receive mail or be registered.
pub(super) fn placeholder_email(user: &UserId) -> String {
    format!("deleted-{user}@deleted.invalid")
}

/// Everything of a claimed account but its row (and its audit trail), then the row as the
/// strategy says.
pub(super) async fn erase(
    conn: &mut AnyConnection,
    user: &UserId,
    original: Option<&EmailAddress>,
    strategy: DeletionStrategy,
) -> Result<()> {
    for table in [
        "user_sessions",
        "user_tokens",
        "user_totp",
        "user_backup_codes",
        "user_passkeys",
        "webauthn_ceremonies",
        "user_identities",
        "oauth_transactions",
        "oauth_pending",
        "api_tokens",
        "api_mfa_challenges",
        "jwt_refresh_families",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
            .bind(user.as_str())
            .execute(&mut *conn)
            .await?;
    }
    match strategy {
        DeletionStrategy::Hard => {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user.as_str())
                .execute(&mut *conn)
                .await?;
        }
        DeletionStrategy::Soft | DeletionStrategy::Anonymise => {
            let kept = original
                .filter(|_| strategy == DeletionStrategy::Soft)
                .map(|address| address.as_str().to_owned());
            sqlx::query(
                "UPDATE users SET email = $2, deleted_email = $3, password_hash = NULL, \
                 pending_email = NULL, display_name = NULL, token_epoch = token_epoch + 1, \
                 mfa_trust_epoch = mfa_trust_epoch + 1 WHERE id = $1",
            )
            .bind(user.as_str())
            .bind(placeholder_email(user))
            .bind(kept)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Revokes every refresh family of the user still alive; how many.
pub(super) async fn revoke_refresh_families(
    conn: &mut AnyConnection,
    user: &UserId,
    now: Timestamp,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE jwt_refresh_families SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user.as_str())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A live organization whose only owner is the user leaving, while others are members.
#[derive(sqlx::FromRow)]
pub(super) struct OnlyOwned {
    pub id: String,
    pub name: String,
}

/// The live organizations `user` is the only owner of while others belong to them: a deletion
/// waits until another owner is named (or the organization is deleted).
pub(super) async fn organizations_only_owned_by(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<Vec<OnlyOwned>> {
    Ok(sqlx::query_as(
        "SELECT o.id, o.name FROM organizations o \
         JOIN organization_memberships m ON m.organization_id = o.id \
         WHERE m.user_id = $1 AND m.role = $2 AND o.deleted_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM organization_memberships x \
             WHERE x.organization_id = o.id AND x.role = $2 AND x.user_id <> $1) \
         AND EXISTS (SELECT 1 FROM organization_memberships y \
             WHERE y.organization_id = o.id AND y.user_id <> $1) \
         ORDER BY o.name, o.id",
    )
    .bind(user.as_str())
    .bind(Role::OWNER.name())
    .fetch_all(conn)
    .await?)
}

/// The live organizations `user` is the only member of (a personal one, or one nobody else
/// joined): they go with the account.
pub(super) async fn organizations_alone_in(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT o.id FROM organizations o \
         JOIN organization_memberships m ON m.organization_id = o.id \
         WHERE m.user_id = $1 AND o.deleted_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM organization_memberships y \
             WHERE y.organization_id = o.id AND y.user_id <> $1) \
         ORDER BY o.id",
    )
    .bind(user.as_str())
    .fetch_all(conn)
    .await?)
}

/// Makes the longest-standing other member of `org` (admins first) its owner; who, if anyone.
pub(super) async fn promote_successor(
    conn: &mut AnyConnection,
    org: &str,
    leaving: &UserId,
    now: Timestamp,
) -> Result<Option<(UserId, String)>> {
    let successor: Option<(UserId, String)> = sqlx::query_as(
        "SELECT user_id, role FROM organization_memberships \
         WHERE organization_id = $1 AND user_id <> $2 \
         ORDER BY CASE WHEN role = $3 THEN 0 ELSE 1 END, created_at, user_id LIMIT 1",
    )
    .bind(org)
    .bind(leaving.as_str())
    .bind(Role::ADMIN.name())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((user, _)) = &successor {
        sqlx::query(
            "UPDATE organization_memberships SET role = $3, updated_at = $4 \
             WHERE organization_id = $1 AND user_id = $2",
        )
        .bind(org)
        .bind(user.as_str())
        .bind(Role::OWNER.name())
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    }
    Ok(successor)
}

/// Ends every membership of `user`.
pub(super) async fn leave_every_organization(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<()> {
    sqlx::query("DELETE FROM organization_memberships WHERE user_id = $1")
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
