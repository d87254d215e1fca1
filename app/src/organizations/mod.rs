//! Organizations in the host: the server functions behind the organization pages, the header's
//! switcher and the invitation page, each a thin adapter over `sigra.organizations()`, and the
//! types they send to the browser.
//!
//! Every function that acts on one organization takes its slug and gets the membership proof
//! from [`ssr::member`] first, the one place that checks membership for the app; the core's
//! services take that proof (or the admin proof made from it), so a function that skipped the
//! check would not compile. An organization the user does not belong to is `NotFound`, as one
//! that does not exist. Their paths all start with [`SCOPED_PREFIX`], which the isolation test
//! enumerates.

pub(crate) mod invitations;
pub mod projects;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::UiError;

pub use invitations::{
    accept_invitation, invitation_details, join_with_new_account, AcceptInvitation, InvitationInfo,
    JoinWithNewAccount,
};
pub use projects::{
    create_project, delete_project, list_projects, CreateProject, DeleteProject, ProjectRow,
    ProjectsView,
};

/// Where the server functions that act on one organization (by slug) live.
pub const SCOPED_PREFIX: &str = "/api/organizations";

/// One of the user's organizations, as lists and the switcher show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    /// Its name.
    pub name: String,
    /// Its slug, for its URLs.
    pub slug: String,
    /// The user's role in it.
    pub role: String,
    /// Whether it is the user's personal organization.
    pub personal: bool,
}

/// The user's organizations and the one the session works in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationsView {
    /// By name.
    pub organizations: Vec<OrgSummary>,
    /// The slug of the session's organization, if it has one.
    pub active: Option<String>,
}

/// A page's data for one organization: the data, or the organization's new slug when the one
/// in the address was given up lately (the page redirects there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scoped<T> {
    /// The page's data.
    Ready(T),
    /// Go to the same page under this slug.
    Moved(String),
}

/// What the user may do in an organization, for the pages to show only the forms that work
/// (the core checks each action again).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// Invite people, list and revoke invitations.
    pub invite: bool,
    /// Change roles of and remove members who are not owners.
    pub manage_members: bool,
    /// Make, unmake and remove owners.
    pub manage_owners: bool,
    /// Rename, require a second factor.
    pub update_settings: bool,
    /// Change the slug.
    pub change_slug: bool,
    /// Delete the organization.
    pub delete: bool,
}

/// The organization a page is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgHeader {
    /// Its name.
    pub name: String,
    /// Its slug.
    pub slug: String,
    /// The user's role.
    pub role: String,
    /// Whether it is a personal organization.
    pub personal: bool,
    /// Whether members must have a second factor.
    pub members_need_second_factor: bool,
    /// What the user may do.
    pub may: Permissions,
}

/// `/organizations/:slug`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewView {
    /// The organization.
    pub org: OrgHeader,
    /// How many members it has.
    pub members: usize,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
}

/// A member as the members page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    /// Their account's id (for the forms).
    pub user_id: String,
    /// Their address.
    pub email: String,
    /// Their role.
    pub role: String,
    /// When they joined (RFC 3339, UTC).
    pub joined_at: String,
    /// Whether this is the signed-in user.
    pub you: bool,
}

/// A pending invitation as the members page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    /// Its id (to revoke it).
    pub id: String,
    /// The invited address.
    pub email: String,
    /// The role it gives.
    pub role: String,
    /// When it stops working (RFC 3339, UTC).
    pub expires_at: String,
}

/// `/organizations/:slug/members`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersView {
    /// The organization.
    pub org: OrgHeader,
    /// Its members, oldest first.
    pub members: Vec<MemberRow>,
    /// Pending invitations (for those who may invite).
    pub invitations: Vec<InvitationRow>,
    /// The roles the user may give.
    pub roles: Vec<String>,
}

/// `/organizations/:slug/settings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSettingsView {
    /// The organization.
    pub org: OrgHeader,
    /// Whether sudo is open (the slug change and deletion need it).
    pub sudo: bool,
}

/// The user's organizations, for `/organizations` and the header's switcher.
#[server(prefix = "/api/user-organizations", endpoint = "list")]
pub async fn my_organizations() -> Result<OrganizationsView, UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    ssr::organizations_of(&cx, current).await
}

/// Creates an organization with the user as its owner and makes it the session's.
#[server(prefix = "/api/user-organizations", endpoint = "create")]
pub async fn create_organization(name: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    let orgs = cx.sigra.organizations();
    let member = orgs.create(current, &name, &cx.request).await?;
    orgs.switch_to(&member, &cx.request).await?;
    crate::flash::ssr::set(crate::flash::Flash::OrganizationCreated);
    leptos_axum::redirect(&crate::paths::organization(
        member.organization().slug.as_str(),
    ));
    Ok(())
}

/// Makes the organization the session's (the switcher), then opens it.
#[server(prefix = "/api/organizations", endpoint = "switch")]
pub async fn switch_organization(slug: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let member = ssr::member(&cx, &slug).await.inspect_err(|error| {
        // The organization wants a second factor first: set one up, then switch.
        if *error == UiError::MfaEnrolmentRequired {
            leptos_axum::redirect(crate::paths::SECURITY_SETTINGS);
        }
    })?;
    cx.sigra
        .organizations()
        .switch_to(&member, &cx.request)
        .await?;
    leptos_axum::redirect(&crate::paths::organization(
        member.organization().slug.as_str(),
    ));
    Ok(())
}

/// `/organizations/:slug`.
#[server(prefix = "/api/organizations", endpoint = "overview")]
pub async fn organization_overview(slug: String) -> Result<Scoped<OverviewView>, UiError> {
    let cx = crate::ssr::context().await?;
    let member = match ssr::page_member(&cx, &slug).await? {
        Ok(member) => member,
        Err(moved) => return Ok(Scoped::Moved(moved)),
    };
    let members = cx.sigra.organizations().members(&member).await?.len();
    Ok(Scoped::Ready(OverviewView {
        org: ssr::header(&member),
        members,
        created_at: member.organization().created_at.to_string(),
    }))
}

/// `/organizations/:slug/members`.
#[server(prefix = "/api/organizations", endpoint = "members")]
pub async fn organization_members(slug: String) -> Result<Scoped<MembersView>, UiError> {
    use sigra::organizations::OrgAction;

    let cx = crate::ssr::context().await?;
    let member = match ssr::page_member(&cx, &slug).await? {
        Ok(member) => member,
        Err(moved) => return Ok(Scoped::Moved(moved)),
    };
    let orgs = cx.sigra.organizations();
    let you = member.user().id.clone();
    let members = orgs
        .members(&member)
        .await?
        .into_iter()
        .map(|m| MemberRow {
            you: m.user_id == you,
            user_id: m.user_id.as_str().to_owned(),
            email: m.email,
            role: m.role.name().to_owned(),
            joined_at: m.joined_at.to_string(),
        })
        .collect();
    let invitations = if member.may(OrgAction::InviteMembers) {
        orgs.pending_invitations(&member.admin()?)
            .await?
            .into_iter()
            .map(|i| InvitationRow {
                id: i.id,
                email: i.email,
                role: i.role.name().to_owned(),
                expires_at: i.expires_at.to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let roles = orgs
        .roles()
        .all()
        .iter()
        .filter(|role| !role.is_owner() || member.may(OrgAction::ManageOwners))
        .map(|role| role.name().to_owned())
        .collect();
    Ok(Scoped::Ready(MembersView {
        org: ssr::header(&member),
        members,
        invitations,
        roles,
    }))
}

/// `/organizations/:slug/settings`.
#[server(prefix = "/api/organizations", endpoint = "settings")]
pub async fn organization_settings(slug: String) -> Result<Scoped<OrgSettingsView>, UiError> {
    let cx = crate::ssr::context().await?;
    let member = match ssr::page_member(&cx, &slug).await? {
        Ok(member) => member,
        Err(moved) => return Ok(Scoped::Moved(moved)),
    };
    let sudo = cx.sigra.sessions().sudo(cx.require_user()?).is_ok();
    Ok(Scoped::Ready(OrgSettingsView {
        org: ssr::header(&member),
        sudo,
    }))
}

/// Invites an address with a role (owners and admins); the mail carries the link.
#[server(prefix = "/api/organizations", endpoint = "invite")]
pub async fn invite_member(slug: String, email: String, role: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let admin = ssr::member(&cx, &slug).await?.admin()?;
    let orgs = cx.sigra.organizations();
    let role = orgs.role(&role)?;
    orgs.invite(&admin, &email, role, &cx.request).await?;
    crate::flash::ssr::set(crate::flash::Flash::InvitationSent);
    leptos_axum::redirect(&crate::paths::organization_members(
        admin.organization().slug.as_str(),
    ));
    Ok(())
}

/// Revokes a pending invitation of the organization.
#[server(prefix = "/api/organizations", endpoint = "revoke-invitation")]
pub async fn revoke_invitation(slug: String, id: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let admin = ssr::member(&cx, &slug).await?.admin()?;
    cx.sigra
        .organizations()
        .revoke_invitation(&admin, &id, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::InvitationRevoked);
    leptos_axum::redirect(&crate::paths::organization_members(
        admin.organization().slug.as_str(),
    ));
    Ok(())
}

/// Gives a member another role.
#[server(prefix = "/api/organizations", endpoint = "change-role")]
pub async fn change_member_role(
    slug: String,
    user_id: String,
    role: String,
) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let admin = ssr::member(&cx, &slug).await?.admin()?;
    let orgs = cx.sigra.organizations();
    let role = orgs.role(&role)?;
    let user = sigra::users::UserId::from_client(&user_id);
    orgs.change_role(&admin, &user, role, &cx.request).await?;
    crate::flash::ssr::set(crate::flash::Flash::RoleChanged);
    leptos_axum::redirect(&crate::paths::organization_members(
        admin.organization().slug.as_str(),
    ));
    Ok(())
}

/// Removes a member (or, for the user's own row, leaves).
#[server(prefix = "/api/organizations", endpoint = "remove-member")]
pub async fn remove_member(slug: String, user_id: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let member = ssr::member(&cx, &slug).await?;
    let orgs = cx.sigra.organizations();
    if member.user().id.as_str() == user_id {
        orgs.leave(&member, &cx.request).await?;
        crate::flash::ssr::set(crate::flash::Flash::LeftOrganization);
        leptos_axum::redirect(crate::paths::ORGANIZATIONS);
        return Ok(());
    }
    let admin = member.admin()?;
    let user = sigra::users::UserId::from_client(&user_id);
    orgs.remove_member(&admin, &user, &cx.request).await?;
    crate::flash::ssr::set(crate::flash::Flash::MemberRemoved);
    leptos_axum::redirect(&crate::paths::organization_members(
        admin.organization().slug.as_str(),
    ));
    Ok(())
}

/// Renames the organization, or changes whether members need a second factor.
#[server(prefix = "/api/organizations", endpoint = "update")]
pub async fn update_organization(
    slug: String,
    name: String,
    members_need_second_factor: Option<String>,
) -> Result<(), UiError> {
    use sigra::organizations::OrganizationChanges;

    let cx = crate::ssr::context().await?;
    let admin = ssr::member(&cx, &slug).await?.admin()?;
    let changes = OrganizationChanges {
        name: Some(name),
        members_need_second_factor: Some(members_need_second_factor.is_some()),
    };
    let org = cx
        .sigra
        .organizations()
        .update(&admin, changes, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::OrganizationUpdated);
    leptos_axum::redirect(&crate::paths::organization_settings(org.slug.as_str()));
    Ok(())
}

/// Gives the organization a new slug (sudo, and the current slug typed back).
#[server(prefix = "/api/organizations", endpoint = "change-slug")]
pub async fn change_organization_slug(
    slug: String,
    new_slug: String,
    confirm_slug: String,
) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let admin = ssr::member(&cx, &slug).await?.admin()?;
    let back = crate::paths::organization_settings(admin.organization().slug.as_str());
    let sudo = crate::ssr::require_sudo(&cx, &back)?;
    let org = cx
        .sigra
        .organizations()
        .change_slug(&admin, &sudo, &new_slug, &confirm_slug, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::SlugChanged);
    leptos_axum::redirect(&crate::paths::organization_settings(org.slug.as_str()));
    Ok(())
}

/// Deletes the organization (sudo, and its name typed back).
#[server(prefix = "/api/organizations", endpoint = "delete")]
pub async fn delete_organization(slug: String, confirm_name: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let admin = ssr::member(&cx, &slug).await?.admin()?;
    let back = crate::paths::organization_settings(admin.organization().slug.as_str());
    let sudo = crate::ssr::require_sudo(&cx, &back)?;
    cx.sigra
        .organizations()
        .delete(&admin, &sudo, &confirm_name, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::OrganizationDeleted);
    leptos_axum::redirect(crate::paths::ORGANIZATIONS);
    Ok(())
}

/// The server functions that take an organization's slug: the isolation test enumerates
/// them, so each needs a case there.
#[cfg(feature = "ssr")]
pub fn scoped_paths() -> Vec<&'static str> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .filter(|path| path.starts_with(&format!("{SCOPED_PREFIX}/")))
        .collect()
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    //! The membership check for the server functions.

    use sigra::organizations::{OrgAction, OrgMember, SlugLookup};
    use sigra::sessions::Authenticated;

    use super::{OrgHeader, OrgSummary, OrganizationsView, Permissions};
    use crate::error::UiError;
    use crate::ssr::{fail, ServerContext};

    /// The signed-in user's membership of the organization with `slug`, following a slug it
    /// gave up lately (a form posted from a page opened before the change still acts).
    ///
    /// # Errors
    /// `NotFound` for an organization the user does not belong to or that does not exist;
    /// `MfaEnrolmentRequired`; `Unauthenticated`.
    pub async fn member(cx: &ServerContext, slug: &str) -> Result<OrgMember, UiError> {
        match page_member(cx, slug).await? {
            Ok(member) => Ok(member),
            Err(moved) => match page_member(cx, &moved).await? {
                Ok(member) => Ok(member),
                Err(_) => Err(fail(UiError::NotFound)),
            },
        }
    }

    /// For a page's data: the membership, or the slug the organization moved to.
    ///
    /// # Errors
    /// As [`member`].
    pub async fn page_member(
        cx: &ServerContext,
        slug: &str,
    ) -> Result<Result<OrgMember, String>, UiError> {
        let current = cx.require_user()?;
        match cx
            .sigra
            .organizations()
            .member_by_slug(current, slug)
            .await?
        {
            SlugLookup::Member(member) => Ok(Ok(*member)),
            SlugLookup::Moved(to) => Ok(Err(to.as_str().to_owned())),
        }
    }

    /// The organization as pages show it, with what the member may do.
    pub fn header(member: &OrgMember) -> OrgHeader {
        let org = member.organization();
        OrgHeader {
            name: org.name.clone(),
            slug: org.slug.as_str().to_owned(),
            role: member.role().name().to_owned(),
            personal: org.personal,
            members_need_second_factor: org.members_need_second_factor,
            may: Permissions {
                invite: member.may(OrgAction::InviteMembers),
                manage_members: member.may(OrgAction::ManageMembers),
                manage_owners: member.may(OrgAction::ManageOwners),
                update_settings: member.may(OrgAction::UpdateSettings),
                change_slug: member.may(OrgAction::ChangeSlug),
                delete: member.may(OrgAction::DeleteOrganization),
            },
        }
    }

    /// The user's organizations and the session's (the log-in's choice if it has none).
    ///
    /// # Errors
    /// The database failed.
    pub async fn organizations_of(
        cx: &ServerContext,
        current: &Authenticated,
    ) -> Result<OrganizationsView, UiError> {
        let orgs = cx.sigra.organizations();
        let organizations = orgs
            .list_for_user(current)
            .await?
            .into_iter()
            .map(|m| OrgSummary {
                name: m.organization.name,
                slug: m.organization.slug.as_str().to_owned(),
                role: m.role.name().to_owned(),
                personal: m.organization.personal,
            })
            .collect();
        // An organization that wants a second factor the user lacks is not worked in yet:
        // opening it sends them to set one up.
        let active = match orgs.current(current).await {
            Ok(member) => member.map(|m| m.organization().slug.as_str().to_owned()),
            Err(sigra::Error::MfaEnrolmentRequired) => None,
            Err(error) => return Err(error.into()),
        };
        Ok(OrganizationsView {
            organizations,
            active,
        })
    }
}
