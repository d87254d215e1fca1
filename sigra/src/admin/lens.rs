//! The organization lens: one organization's admin view (its members, its audit trail), open to
//! platform admins and to that organization's own owners and admins. [`OrgLens`] is the proof;
//! only [`Admin::organization_lens`] builds one, and every query under the lens takes it and
//! filters by its organization, so a lens query cannot run unscoped. Anyone else (a member, an
//! admin of another organization, an unknown slug) gets `NotFound`, the same answer for an
//! organization that does not exist.
//!
//! ```compile_fail
//! # use sigra::admin::OrgLens;
//! # fn forge(org: sigra::organizations::Organization) {
//! let lens = OrgLens { org, platform_admin: true };
//! # }
//! ```

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::organizations::{Organization, Organizations, SlugLookup};
use crate::sessions::Authenticated;

use super::explorer::{AuditPage, AuditQuery};
use super::{grants, Admin, PlatformAdmin};

/// The most members the overview lists.
const MAX_MEMBERS: i64 = 500;
/// The most organizations the platform list shows.
const MAX_ORGANIZATIONS: i64 = 100;

/// Proof that the signed-in user may see this organization's admin view.
#[derive(Clone, Debug)]
pub struct OrgLens {
    org: Organization,
    platform_admin: bool,
}

impl OrgLens {
    /// The organization.
    pub fn organization(&self) -> &Organization {
        &self.org
    }

    /// Whether the viewer is a platform admin (rather than the organization's own admin).
    pub fn by_platform_admin(&self) -> bool {
        self.platform_admin
    }
}

/// One member, as the lens lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LensMember {
    /// The account's id.
    pub user_id: String,
    /// Its address.
    pub email: String,
    /// The role's name.
    pub role: String,
    /// When they joined.
    pub joined_at: Timestamp,
    /// Whether they have an authenticator app or a passkey.
    pub second_factor: bool,
}

/// The lens's overview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LensOverview {
    /// The members, by address.
    pub members: Vec<LensMember>,
    /// Invitations not yet accepted, revoked or expired.
    pub pending_invitations: i64,
}

/// An organization in the platform admins' list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationRow {
    /// Its name.
    pub name: String,
    /// Its slug.
    pub slug: String,
    /// How many members it has.
    pub members: i64,
    /// Whether it is a personal organization.
    pub personal: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    user_id: String,
    email: String,
    role: String,
    joined_at: i64,
    second_factor: i64,
}

#[derive(sqlx::FromRow)]
struct OrgListRow {
    name: String,
    slug: String,
    members: i64,
    personal: i64,
    created_at: i64,
}

impl Admin<'_> {
    /// The lens on the organization with `slug` for the signed-in user.
    ///
    /// # Errors
    /// `NotFound` for an unknown slug and for anyone who is neither a platform admin nor an
    /// owner or admin of the organization; `MfaEnrolmentRequired` for an organization admin
    /// without the second factor the organization requires; `ForbiddenWhileImpersonating`
    /// on an impersonation; the database failed.
    pub async fn organization_lens(&self, current: &Authenticated, slug: &str) -> Result<OrgLens> {
        if current.impersonator().is_some() {
            return Err(Error::ForbiddenWhileImpersonating);
        }
        {
            let mut conn = self.core.db().acquire().await?;
            if grants::store::is_granted(&mut conn, &current.user().id).await? {
                let org = crate::organizations::store::find_by_slug(&mut conn, slug)
                    .await?
                    .ok_or(Error::NotFound)?;
                return Ok(OrgLens {
                    org,
                    platform_admin: true,
                });
            }
        }
        let organizations = Organizations {
            core: self.core,
            roles: self.roles,
        };
        let SlugLookup::Member(member) = organizations.member_by_slug(current, slug).await? else {
            return Err(Error::NotFound);
        };
        // A member who may not administer learns nothing more than an outsider.
        let admin = member.admin().map_err(|_| Error::NotFound)?;
        Ok(OrgLens {
            org: admin.organization().clone(),
            platform_admin: false,
        })
    }

    /// The organization's members and pending invitations.
    ///
    /// # Errors
    /// The database failed.
    pub async fn organization_overview(&self, lens: &OrgLens) -> Result<LensOverview> {
        let mut conn = self.core.db().acquire().await?;
        let members: Vec<MemberRow> = sqlx::query_as(
            "SELECT u.id AS user_id, u.email, m.role, m.created_at AS joined_at, \
             CASE WHEN EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id \
             AND t.confirmed_at IS NOT NULL) OR EXISTS (SELECT 1 FROM user_passkeys p \
             WHERE p.user_id = u.id) THEN 1 ELSE 0 END AS second_factor \
             FROM organization_memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.organization_id = $1 AND u.deleted_at IS NULL \
             ORDER BY u.email LIMIT $2",
        )
        .bind(lens.org.id.as_str())
        .bind(MAX_MEMBERS)
        .fetch_all(&mut *conn)
        .await?;
        let pending_invitations: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM organization_invitations WHERE organization_id = $1 \
             AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(lens.org.id.as_str())
        .bind(self.core.now().as_millis())
        .fetch_one(&mut *conn)
        .await?;
        Ok(LensOverview {
            members: members
                .into_iter()
                .map(|row| LensMember {
                    user_id: row.user_id,
                    email: row.email,
                    role: row.role,
                    joined_at: Timestamp::from_millis(row.joined_at),
                    second_factor: row.second_factor == 1,
                })
                .collect(),
            pending_invitations,
        })
    }

    /// A page of the organization's audit events (those recorded as belonging to it), newest
    /// first; the filters of `query` apply within it. An organization's own admins do not see
    /// the addresses events came from.
    ///
    /// # Errors
    /// The database failed.
    pub async fn organization_audit_events(
        &self,
        lens: &OrgLens,
        query: &AuditQuery,
    ) -> Result<AuditPage> {
        let mut scoped = query.clone();
        scoped.organization = Some(lens.org.id.as_str().to_owned());
        let mut page = self.events(&scoped).await?;
        if !lens.platform_admin {
            for event in &mut page.events {
                event.ip_address = None;
            }
        }
        Ok(page)
    }

    /// The live organizations, newest first (at most 100), optionally those whose name or
    /// slug contains `search`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn organizations(
        &self,
        _admin: &PlatformAdmin,
        search: Option<&str>,
    ) -> Result<Vec<OrganizationRow>> {
        let search: String = search
            .unwrap_or_default()
            .trim()
            .to_lowercase()
            .chars()
            .take(120)
            .collect();
        let pattern = format!("%{}%", super::users::escape_like(&search));
        let mut conn = self.core.db().acquire().await?;
        let rows: Vec<OrgListRow> = sqlx::query_as(
            "SELECT o.name, o.slug, o.personal, o.created_at, \
             (SELECT COUNT(*) FROM organization_memberships m WHERE m.organization_id = o.id) \
             AS members \
             FROM organizations o WHERE o.deleted_at IS NULL \
             AND ($1 = '' OR LOWER(o.name) LIKE $2 ESCAPE '\\' OR o.slug LIKE $2 ESCAPE '\\') \
             ORDER BY o.created_at DESC, o.id DESC LIMIT $3",
        )
        .bind(&search)
        .bind(&pattern)
        .bind(MAX_ORGANIZATIONS)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| OrganizationRow {
                name: row.name,
                slug: row.slug,
                members: row.members,
                personal: row.personal != 0,
                created_at: Timestamp::from_millis(row.created_at),
            })
            .collect())
    }
}
