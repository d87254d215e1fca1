//! SQL for the `organizations`, `organization_memberships`, `organization_slug_aliases` and
//! `organization_invitations` tables, and for the sessions' active organization.

use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::crypto::TokenHash;
use crate::db::Backend;
use crate::error::Result;
use crate::sessions::SessionId;
use crate::users::UserId;

use super::{Organization, OrganizationId, Slug};

const ORG_COLUMNS: &str =
    "o.id, o.name, o.slug, o.personal, o.members_need_second_factor, o.created_at, o.updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    id: OrganizationId,
    name: String,
    slug: Slug,
    personal: i64,
    members_need_second_factor: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<OrgRow> for Organization {
    fn from(row: OrgRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            slug: row.slug,
            personal: row.personal != 0,
            members_need_second_factor: row.members_need_second_factor != 0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Inserts a new organization; `false` when its slug is taken by a live one (the unique index
/// decided, so two creations racing for one slug cannot both have it).
pub(crate) async fn insert(conn: &mut AnyConnection, org: &Organization) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO organizations (id, name, slug, personal, members_need_second_factor, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(org.id.as_str())
    .bind(&org.name)
    .bind(org.slug.as_str())
    .bind(i64::from(org.personal))
    .bind(i64::from(org.members_need_second_factor))
    .bind(org.created_at.as_millis())
    .execute(conn)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Locks a live organization's row until the transaction ends (PostgreSQL; SQLite's write
/// transaction already excludes every other writer), so membership changes of one
/// organization happen one at a time: the last-owner guard and the invitation limits count
/// rows no concurrent change can alter. `None` if it is deleted or does not exist.
pub(crate) async fn lock(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &OrganizationId,
) -> Result<Option<Organization>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row: Option<OrgRow> = sqlx::query_as(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations o WHERE o.id = $1 AND o.deleted_at IS NULL{lock}"
    ))
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Organization::from))
}

/// A live organization by id.
pub(crate) async fn find(
    conn: &mut AnyConnection,
    id: &OrganizationId,
) -> Result<Option<Organization>> {
    let row: Option<OrgRow> = sqlx::query_as(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations o WHERE o.id = $1 AND o.deleted_at IS NULL"
    ))
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Organization::from))
}

/// A live organization by its current slug.
pub(crate) async fn find_by_slug(
    conn: &mut AnyConnection,
    slug: &str,
) -> Result<Option<Organization>> {
    let row: Option<OrgRow> = sqlx::query_as(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations o WHERE o.slug = $1 AND o.deleted_at IS NULL"
    ))
    .bind(slug)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Organization::from))
}

/// The live organization a slug it gave up still redirects to.
pub(crate) async fn find_by_alias(
    conn: &mut AnyConnection,
    slug: &str,
    now: Timestamp,
) -> Result<Option<Organization>> {
    let row: Option<OrgRow> = sqlx::query_as(&format!(
        "SELECT {ORG_COLUMNS} FROM organization_slug_aliases a \
         JOIN organizations o ON o.id = a.organization_id \
         WHERE a.slug = $1 AND a.expires_at > $2 AND o.deleted_at IS NULL"
    ))
    .bind(slug)
    .bind(now.as_millis())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Organization::from))
}

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

/// Whether `slug` is in use: the slug of a live organization, or an old slug still
/// redirecting to one. An organization's own old slugs are free to it (`except`).
pub(crate) async fn slug_in_use(
    conn: &mut AnyConnection,
    slug: &str,
    now: Timestamp,
    except: Option<&OrganizationId>,
) -> Result<bool> {
    let except = except.map_or("", OrganizationId::as_str);
    let row: Count = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM organizations WHERE slug = $1 AND deleted_at IS NULL) \
              + (SELECT COUNT(*) FROM organization_slug_aliases a \
                 JOIN organizations o ON o.id = a.organization_id \
                 WHERE a.slug = $1 AND a.expires_at > $2 AND o.deleted_at IS NULL \
                   AND a.organization_id <> $3) AS n",
    )
    .bind(slug)
    .bind(now.as_millis())
    .bind(except)
    .fetch_one(conn)
    .await?;
    Ok(row.n > 0)
}

/// Sets a new name and second-factor requirement.
pub(crate) async fn update(
    conn: &mut AnyConnection,
    id: &OrganizationId,
    name: &str,
    members_need_second_factor: bool,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE organizations SET name = $2, members_need_second_factor = $3, updated_at = $4 \
         WHERE id = $1",
    )
    .bind(id.as_str())
    .bind(name)
    .bind(i64::from(members_need_second_factor))
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves an organization to `slug`; the old one redirects until `redirect_until`. `false`
/// when a live organization took `slug` meanwhile.
pub(crate) async fn change_slug(
    conn: &mut AnyConnection,
    org: &Organization,
    slug: &Slug,
    now: Timestamp,
    redirect_until: Timestamp,
) -> Result<bool> {
    let moved = sqlx::query(
        "UPDATE organizations SET slug = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(org.id.as_str())
    .bind(slug.as_str())
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await;
    match moved {
        Ok(_) => {}
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => return Ok(false),
        Err(error) => return Err(error.into()),
    }
    // Taking back an old slug ends its redirect; an expired redirect of the old slug (to
    // anyone) gives way to the new one.
    sqlx::query(
        "DELETE FROM organization_slug_aliases \
         WHERE (slug = $1 AND organization_id = $3) OR (slug = $2 AND (expires_at <= $4 OR organization_id = $3))",
    )
    .bind(slug.as_str())
    .bind(org.slug.as_str())
    .bind(org.id.as_str())
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO organization_slug_aliases (slug, organization_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(org.slug.as_str())
    .bind(org.id.as_str())
    .bind(now.as_millis())
    .bind(redirect_until.as_millis())
    .execute(conn)
    .await?;
    Ok(true)
}

/// Soft-deletes an organization: its slug and old slugs are free again, its pending
/// invitations are revoked and no session works in it any more. Returns the invitations
/// revoked.
pub(crate) async fn soft_delete(
    conn: &mut AnyConnection,
    id: &OrganizationId,
    now: Timestamp,
) -> Result<u64> {
    sqlx::query("UPDATE organizations SET deleted_at = $2, updated_at = $2 WHERE id = $1")
        .bind(id.as_str())
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM organization_slug_aliases WHERE organization_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE user_sessions SET active_organization_id = NULL WHERE active_organization_id = $1",
    )
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    let revoked = sqlx::query(
        "UPDATE organization_invitations SET revoked_at = $2 \
         WHERE organization_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(id.as_str())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(revoked.rows_affected())
}

// ---- memberships ----

#[derive(sqlx::FromRow)]
struct RoleRow {
    role: String,
}

/// The stored name of `user`'s role in `org`, if a member.
pub(crate) async fn role_of(
    conn: &mut AnyConnection,
    org: &OrganizationId,
    user: &UserId,
) -> Result<Option<String>> {
    let row: Option<RoleRow> = sqlx::query_as(
        "SELECT role FROM organization_memberships WHERE organization_id = $1 AND user_id = $2",
    )
    .bind(org.as_str())
    .bind(user.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| row.role))
}

pub(crate) async fn insert_membership(
    conn: &mut AnyConnection,
    org: &OrganizationId,
    user: &UserId,
    role: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO organization_memberships (id, organization_id, user_id, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(org.as_str())
    .bind(user.as_str())
    .bind(role)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn set_role(
    conn: &mut AnyConnection,
    org: &OrganizationId,
    user: &UserId,
    role: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE organization_memberships SET role = $3, updated_at = $4 \
         WHERE organization_id = $1 AND user_id = $2",
    )
    .bind(org.as_str())
    .bind(user.as_str())
    .bind(role)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a membership and stops the member's sessions working in the organization; how
/// many sessions were.
pub(crate) async fn delete_membership(
    conn: &mut AnyConnection,
    org: &OrganizationId,
    user: &UserId,
) -> Result<u64> {
    sqlx::query("DELETE FROM organization_memberships WHERE organization_id = $1 AND user_id = $2")
        .bind(org.as_str())
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    let cleared = sqlx::query(
        "UPDATE user_sessions SET active_organization_id = NULL \
         WHERE active_organization_id = $1 AND user_id = $2",
    )
    .bind(org.as_str())
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(cleared.rows_affected())
}

/// How many members hold `role` (the owners, for the last-owner guard).
pub(crate) async fn count_with_role(
    conn: &mut AnyConnection,
    org: &OrganizationId,
    role: &str,
) -> Result<i64> {
    let row: Count = sqlx::query_as(
        "SELECT COUNT(*) AS n FROM organization_memberships WHERE organization_id = $1 AND role = $2",
    )
    .bind(org.as_str())
    .bind(role)
    .fetch_one(conn)
    .await?;
    Ok(row.n)
}

/// A live organization with the user's role in it.
#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    #[sqlx(flatten)]
    pub org: OrgRow,
    pub role: String,
}

/// The live organizations `user` belongs to, by name.
pub(crate) async fn memberships_of(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<Vec<MembershipRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ORG_COLUMNS}, m.role FROM organization_memberships m \
         JOIN organizations o ON o.id = m.organization_id \
         WHERE m.user_id = $1 AND o.deleted_at IS NULL ORDER BY o.name, o.id"
    ))
    .bind(user.as_str())
    .fetch_all(conn)
    .await?)
}

/// A member as the members page lists them.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    pub user_id: UserId,
    pub email: String,
    pub role: String,
    pub created_at: Timestamp,
}

/// The members of `org`, oldest first.
pub(crate) async fn members(
    conn: &mut AnyConnection,
    org: &OrganizationId,
) -> Result<Vec<MemberRow>> {
    Ok(sqlx::query_as(
        "SELECT m.user_id, u.email, m.role, m.created_at FROM organization_memberships m \
         JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 ORDER BY m.created_at, m.id",
    )
    .bind(org.as_str())
    .fetch_all(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: UserId,
    email: String,
}

/// Up to `limit` accounts that own no live personal organization, oldest first.
pub(crate) async fn accounts_without_personal_organization(
    conn: &mut AnyConnection,
    limit: u32,
) -> Result<Vec<(UserId, String)>> {
    let rows: Vec<AccountRow> = sqlx::query_as(
        "SELECT u.id, u.email FROM users u WHERE NOT EXISTS ( \
             SELECT 1 FROM organization_memberships m \
             JOIN organizations o ON o.id = m.organization_id \
             WHERE m.user_id = u.id AND m.role = 'owner' AND o.personal = 1 AND o.deleted_at IS NULL) \
         ORDER BY u.created_at, u.id LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.email)).collect())
}

// ---- the active organization ----

#[derive(sqlx::FromRow)]
struct ActiveRow {
    active_organization_id: Option<OrganizationId>,
}

/// Makes `org` the active organization of `user`'s session `session`.
pub(crate) async fn set_active(
    conn: &mut AnyConnection,
    session: &SessionId,
    user: &UserId,
    org: &OrganizationId,
) -> Result<()> {
    sqlx::query(
        "UPDATE user_sessions SET active_organization_id = $3 WHERE id = $1 AND user_id = $2",
    )
    .bind(session.as_str())
    .bind(user.as_str())
    .bind(org.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The active organization stored on a session.
pub(crate) async fn active_of(
    conn: &mut AnyConnection,
    session: &SessionId,
) -> Result<Option<OrganizationId>> {
    let row: Option<ActiveRow> =
        sqlx::query_as("SELECT active_organization_id FROM user_sessions WHERE id = $1")
            .bind(session.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|row| row.active_organization_id))
}

/// The active organization of the user's most recently used other session that has one.
pub(crate) async fn last_active_elsewhere(
    conn: &mut AnyConnection,
    user: &UserId,
    except: &SessionId,
) -> Result<Option<OrganizationId>> {
    let row: Option<ActiveRow> = sqlx::query_as(
        "SELECT active_organization_id FROM user_sessions \
         WHERE user_id = $1 AND id <> $2 AND active_organization_id IS NOT NULL \
         ORDER BY last_seen_at DESC, id DESC LIMIT 1",
    )
    .bind(user.as_str())
    .bind(except.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|row| row.active_organization_id))
}

// ---- invitations ----

pub(crate) struct NewInvitation<'a> {
    pub id: &'a str,
    pub org: &'a OrganizationId,
    pub email: &'a str,
    pub role: &'a str,
    pub token_hash: &'a TokenHash,
    pub invited_by: &'a UserId,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

/// Revokes the pending invitation of `email` to `org`, if any; how many (0 or 1).
pub(crate) async fn revoke_pending_for(
    conn: &mut AnyConnection,
    org: &OrganizationId,
    email: &str,
    now: Timestamp,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE organization_invitations SET revoked_at = $3 \
         WHERE organization_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(org.as_str())
    .bind(email)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn insert_invitation(
    conn: &mut AnyConnection,
    row: NewInvitation<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO organization_invitations (id, organization_id, email, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(row.id)
    .bind(row.org.as_str())
    .bind(row.email)
    .bind(row.role)
    .bind(row.token_hash.as_str())
    .bind(row.invited_by.as_str())
    .bind(row.now.as_millis())
    .bind(row.expires_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Invitations sent since a moment: how many, and when the oldest of them was sent.
#[derive(sqlx::FromRow)]
pub(crate) struct SentSince {
    pub n: i64,
    pub oldest: Option<Timestamp>,
}

/// Who counts toward an invitation limit.
pub(crate) enum Sender<'a> {
    Inviter(&'a UserId),
    Organization(&'a OrganizationId),
}

/// The invitations `sender` sent after `since` (revoked ones too: each was a mail).
pub(crate) async fn sent_since(
    conn: &mut AnyConnection,
    sender: Sender<'_>,
    since: Timestamp,
) -> Result<SentSince> {
    let (column, id) = match sender {
        Sender::Inviter(user) => ("invited_by", user.as_str()),
        Sender::Organization(org) => ("organization_id", org.as_str()),
    };
    Ok(sqlx::query_as(&format!(
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM organization_invitations \
         WHERE {column} = $1 AND created_at > $2"
    ))
    .bind(id)
    .bind(since.as_millis())
    .fetch_one(conn)
    .await?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct InvitationRow {
    pub id: String,
    pub organization_id: OrganizationId,
    pub email: String,
    pub role: String,
    pub invited_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl InvitationRow {
    /// Neither accepted, revoked nor expired.
    pub fn is_pending(&self, now: Timestamp) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}

const INVITATION_COLUMNS: &str =
    "id, organization_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at";

pub(crate) async fn find_invitation(
    conn: &mut AnyConnection,
    hash: &TokenHash,
) -> Result<Option<InvitationRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {INVITATION_COLUMNS} FROM organization_invitations WHERE token_hash = $1"
    ))
    .bind(hash.as_str())
    .fetch_optional(conn)
    .await?)
}

/// Marks a pending invitation accepted: exactly one caller gets `true`, however many race.
pub(crate) async fn accept_invitation(
    conn: &mut AnyConnection,
    id: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE organization_invitations SET accepted_at = $2 \
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes one pending invitation of `org`; whether it was pending.
pub(crate) async fn revoke_invitation(
    conn: &mut AnyConnection,
    org: &OrganizationId,
    id: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE organization_invitations SET revoked_at = $3 \
         WHERE id = $1 AND organization_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(org.as_str())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The invitations of `org` that can still be accepted, newest first.
pub(crate) async fn pending_invitations(
    conn: &mut AnyConnection,
    org: &OrganizationId,
    now: Timestamp,
) -> Result<Vec<InvitationRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {INVITATION_COLUMNS} FROM organization_invitations \
         WHERE organization_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 \
         ORDER BY created_at DESC, id DESC"
    ))
    .bind(org.as_str())
    .bind(now.as_millis())
    .fetch_all(conn)
    .await?)
}

/// Deletes invitations that expired before `expired_before`, and slug redirects that have
/// ended; how many of each.
pub(crate) async fn delete_expired(
    conn: &mut AnyConnection,
    now: Timestamp,
    expired_before: Timestamp,
) -> Result<(u64, u64)> {
    let invitations = sqlx::query("DELETE FROM organization_invitations WHERE expires_at < $1")
        .bind(expired_before.as_millis())
        .execute(&mut *conn)
        .await?;
    let aliases = sqlx::query("DELETE FROM organization_slug_aliases WHERE expires_at <= $1")
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok((invitations.rows_affected(), aliases.rows_affected()))
}
