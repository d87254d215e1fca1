//! The organization lens's server functions: the platform admins' list of organizations, and
//! one organization's admin view (members, audit events) for platform admins and that
//! organization's own owners and admins. Each takes the `OrgLens` proof from
//! `sigra.admin().organization_lens`; anyone else gets 404, as for an unknown organization.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AuditView;
use crate::error::UiError;

/// One organization in `/admin/organizations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationRowView {
    /// Its name.
    pub name: String,
    /// Its slug.
    pub slug: String,
    /// How many members.
    pub members: i64,
    /// Whether it is someone's personal organization.
    pub personal: bool,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
}

/// One member in the lens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LensMemberView {
    /// The account's id (linked to its admin page for platform admins).
    pub user_id: String,
    /// Its address.
    pub email: String,
    /// Its role.
    pub role: String,
    /// When they joined (RFC 3339, UTC).
    pub joined_at: String,
    /// Whether they have a second factor.
    pub second_factor: bool,
}

/// `/admin/organizations/:slug`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LensView {
    /// The organization's name.
    pub name: String,
    /// Its slug.
    pub slug: String,
    /// Whether the viewer is a platform admin (member rows link to their admin pages).
    pub by_platform_admin: bool,
    /// Whether members must have a second factor.
    pub members_need_second_factor: bool,
    /// The members, by address.
    pub members: Vec<LensMemberView>,
    /// Invitations waiting.
    pub pending_invitations: i64,
}

/// The live organizations (platform admins), newest first, searched by name or slug.
#[server(prefix = "/api/admin", endpoint = "organizations")]
pub async fn admin_organizations(q: Option<String>) -> Result<Vec<OrganizationRowView>, UiError> {
    let cx = crate::ssr::context().await?;
    let admin = super::ssr::platform_admin(&cx).await?;
    let rows = cx.sigra.admin().organizations(&admin, q.as_deref()).await?;
    Ok(rows
        .into_iter()
        .map(|row| OrganizationRowView {
            name: row.name,
            slug: row.slug,
            members: row.members,
            personal: row.personal,
            created_at: row.created_at.to_string(),
        })
        .collect())
}

/// The lens's overview of the organization `slug`.
#[server(prefix = "/api/organization-admin", endpoint = "overview")]
pub async fn lens_overview(slug: String) -> Result<LensView, UiError> {
    let (cx, lens) = ssr::lens(&slug).await?;
    let overview = cx.sigra.admin().organization_overview(&lens).await?;
    let org = lens.organization();
    Ok(LensView {
        name: org.name.clone(),
        slug: org.slug.as_str().to_owned(),
        by_platform_admin: lens.by_platform_admin(),
        members_need_second_factor: org.members_need_second_factor,
        members: overview
            .members
            .into_iter()
            .map(|m| LensMemberView {
                user_id: m.user_id,
                email: m.email,
                role: m.role,
                joined_at: m.joined_at.to_string(),
                second_factor: m.second_factor,
            })
            .collect(),
        pending_invitations: overview.pending_invitations,
    })
}

/// A page of the organization's audit events, newest first.
#[server(prefix = "/api/organization-admin", endpoint = "audit")]
pub async fn lens_audit(slug: String, cursor: Option<String>) -> Result<AuditView, UiError> {
    use sigra::admin::explorer::AuditQuery;

    let (cx, lens) = ssr::lens(&slug).await?;
    let query = AuditQuery::from_params(cursor.as_deref().map(|c| ("cursor", c)));
    let page = cx
        .sigra
        .admin()
        .organization_audit_events(&lens, &query)
        .await?;
    Ok(super::ssr::audit_view(page))
}

#[cfg(feature = "ssr")]
mod ssr {
    use sigra::admin::OrgLens;

    use crate::error::UiError;
    use crate::ssr::ServerContext;

    /// The context and the lens on `slug` for this request.
    pub async fn lens(slug: &str) -> Result<(ServerContext, OrgLens), UiError> {
        let cx = crate::ssr::context().await?;
        let current = cx.require_user()?;
        let lens = cx.sigra.admin().organization_lens(current, slug).await?;
        Ok((cx, lens))
    }
}
