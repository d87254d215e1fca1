//! Organizations: tenants that users belong to with a [`Role`], found by a [`Slug`] in their
//! URLs. Create, rename, change the slug (the old one redirects for a while), soft delete;
//! add, remove and change the role of members; invite by mail ([`invitations`]); keep the
//! organization a session works in ([`Organizations::switch_to`]); give every account a
//! personal organization when `organizations.personal` is on.
//!
//! Tenant scoping is a type. [`OrgMember`] is the proof that the signed-in user belongs to an
//! organization, and only the membership check ([`Organizations::member_by_slug`],
//! [`Organizations::member_by_id`]) builds one; [`OrgAdmin`] comes only from an `OrgMember`
//! whose role may administer. Every service that reads or changes an organization takes the
//! proof it needs, so a route that forgot the check does not compile. An organization the
//! user does not belong to is `NotFound`, exactly like one that does not exist.
//!
//! With the proof, renaming compiles:
//!
//! ```no_run
//! # use sigra::{request::RequestContext, sessions::Authenticated, Sigra};
//! # use sigra::organizations::{OrganizationChanges, SlugLookup};
//! # async fn rename(sigra: &Sigra, current: &Authenticated, request: &RequestContext) -> sigra::error::Result<()> {
//! let SlugLookup::Member(member) = sigra.organizations().member_by_slug(current, "acme").await? else {
//!     return Ok(());
//! };
//! let admin = member.admin()?;
//! let changes = OrganizationChanges { name: Some("Acme Labs".to_owned()), ..Default::default() };
//! sigra.organizations().update(&admin, changes, request).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Passing the member without the admin check does not:
//!
//! ```compile_fail
//! # use sigra::{request::RequestContext, sessions::Authenticated, Sigra};
//! # use sigra::organizations::{OrganizationChanges, SlugLookup};
//! # async fn rename(sigra: &Sigra, current: &Authenticated, request: &RequestContext) -> sigra::error::Result<()> {
//! let SlugLookup::Member(member) = sigra.organizations().member_by_slug(current, "acme").await? else {
//!     return Ok(());
//! };
//! sigra.organizations().update(&member, OrganizationChanges::default(), request).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Nor does making a proof by hand:
//!
//! ```compile_fail
//! # use sigra::organizations::{OrgMember, Organization, Role};
//! # use sigra::{sessions::SessionId, users::User};
//! # fn forge(organization: Organization, user: User, session: SessionId) {
//! let member = OrgMember { org: organization, user, role: Role::OWNER, session };
//! # }
//! ```
//!
//! Membership changes of one organization run one at a time (its row is locked on
//! PostgreSQL; SQLite has one writer), and each re-reads the actor's role inside its
//! transaction, so a proof made just before a concurrent demotion cannot outlive it, and the
//! last owner can never be removed or demoted, however the requests interleave.

mod active;
pub mod invitations;
pub mod roles;
pub mod slug;
pub(crate) mod store;

use std::fmt;

pub use active::ActiveChoice;
pub use invitations::{InvitationPreview, PendingInvitation};
pub use roles::{OrgAction, Role, RoleRegistry};
pub use slug::{Slug, SlugRules};

use crate::audit::{Action, AuditEvent};
use crate::change::Change;
use crate::clock::Timestamp;
use crate::error::{Error, OrganizationProblem, Result};
use crate::mfa;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::sessions::{Authenticated, SessionId, Sudo};
use crate::users::{self, EmailAddress, User, UserId};

/// Longest organization name, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// An organization's id: a UUIDv7.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrganizationId(String);

impl OrganizationId {
    fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub(crate) fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// An id as a client sent it back; checked against the caller's memberships when used.
    pub fn from_client(text: &str) -> Self {
        Self(text.chars().take(64).collect())
    }

    /// The id as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrganizationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A live (not deleted) organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    /// The id.
    pub id: OrganizationId,
    /// The name people see.
    pub name: String,
    /// The name in its URLs.
    pub slug: Slug,
    /// Whether it is a user's personal organization.
    pub personal: bool,
    /// Whether members must have a second factor to use it.
    pub members_need_second_factor: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its settings last changed.
    pub updated_at: Timestamp,
}

/// Proof that the signed-in user is a member of the organization, with their role as it was
/// read. Only the membership check builds one.
#[derive(Clone, Debug)]
pub struct OrgMember {
    org: Organization,
    user: User,
    role: Role,
    session: SessionId,
}

impl OrgMember {
    /// The organization.
    pub fn organization(&self) -> &Organization {
        &self.org
    }

    /// The member.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The member's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the member's role allows `action`.
    pub fn may(&self, action: OrgAction) -> bool {
        self.role.may(action)
    }

    /// The admin proof, when the member's role may administer anything.
    ///
    /// # Errors
    /// `Organization(NotAllowed)` for a role that may only look.
    pub fn admin(&self) -> Result<OrgAdmin> {
        if self.role.administers() {
            Ok(OrgAdmin {
                member: self.clone(),
            })
        } else {
            Err(Error::Organization(OrganizationProblem::NotAllowed))
        }
    }

    fn actor_event(&self, action: Action) -> AuditEvent {
        AuditEvent::new(action)
            .actor(&self.user.id)
            .session(self.session.as_str())
    }
}

/// Proof that the signed-in user is a member whose role may administer the organization. Each
/// service also checks the exact action against the role as it is inside its transaction.
#[derive(Clone, Debug)]
pub struct OrgAdmin {
    member: OrgMember,
}

impl OrgAdmin {
    /// The membership behind it.
    pub fn member(&self) -> &OrgMember {
        &self.member
    }

    /// The organization.
    pub fn organization(&self) -> &Organization {
        &self.member.org
    }
}

/// What a slug leads to, for a signed-in user.
#[derive(Debug)]
pub enum SlugLookup {
    /// The organization with this slug, and the user's membership of it.
    Member(Box<OrgMember>),
    /// The user's organization that gave this slug up lately: redirect to its new slug.
    Moved(Slug),
}

/// One of the user's organizations, with their role in it.
#[derive(Clone, Debug)]
pub struct Membership {
    /// The organization.
    pub organization: Organization,
    /// The user's role.
    pub role: Role,
}

/// A member as the members page lists them.
#[derive(Clone, Debug)]
pub struct Member {
    /// Their account.
    pub user_id: UserId,
    /// Their address.
    pub email: String,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub joined_at: Timestamp,
}

/// Settings to change; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct OrganizationChanges {
    /// A new name.
    pub name: Option<String>,
    /// Whether members must have a second factor.
    pub members_need_second_factor: Option<bool>,
}

/// Organizations and their members: `sigra.organizations()`.
#[derive(Clone, Copy)]
pub struct Organizations<'a> {
    pub(crate) core: &'a Core,
    pub(crate) roles: &'a RoleRegistry,
}

/// A name as stored: trimmed, without control characters, 1 to 255 characters.
fn checked_name(name: &str) -> Result<String> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() {
        return Err(Error::Organization(OrganizationProblem::NameRequired));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::Organization(OrganizationProblem::NameTooLong {
            max: MAX_NAME_CHARS,
        }));
    }
    Ok(name)
}

/// The sudo proof must be the acting member's own.
fn same_user(sudo: &Sudo, member: &OrgMember) -> Result<()> {
    if sudo.user().id == member.user.id {
        Ok(())
    } else {
        Err(Error::SudoRequired)
    }
}

fn refuse<T>(problem: OrganizationProblem) -> Result<T> {
    Err(Error::Organization(problem))
}

impl Organizations<'_> {
    /// The roles this site knows (built-in and the host's).
    pub fn roles(&self) -> &RoleRegistry {
        self.roles
    }

    /// The role named `name`.
    ///
    /// # Errors
    /// `Organization(UnknownRole)`.
    pub fn role(&self, name: &str) -> Result<Role> {
        self.roles
            .find(name)
            .ok_or(Error::Organization(OrganizationProblem::UnknownRole))
    }

    /// `role` if it is registered (a host could pass a custom role it forgot to register).
    fn registered(&self, role: Role) -> Result<Role> {
        self.role(role.name())
    }

    /// Creates an organization named `name`, with the signed-in user as its owner, in one
    /// change: the slug is made from the name (with `-2`, `-3`, … when taken), and the host's
    /// create hooks run inside it.
    ///
    /// # Errors
    /// `Organization(NameRequired | NameTooLong | SlugTaken)`; a hook or the database failed.
    pub async fn create(
        &self,
        current: &Authenticated,
        name: &str,
        request: &RequestContext,
    ) -> Result<OrgMember> {
        let name = checked_name(name)?;
        let user = current.user();
        let mut change = self.core.begin_change(request).await?;
        let event = AuditEvent::new(Action::OrgCreate)
            .actor(&user.id)
            .session(current.session().id.as_str());
        let org = self
            .core
            .create_organization(&mut change, &user.id, name, false, event)
            .await?;
        change.commit().await?;
        Ok(OrgMember {
            org,
            user: user.clone(),
            role: Role::OWNER,
            session: current.session().id.clone(),
        })
    }

    /// Gives every account without a personal organization one (for a site that turns
    /// `organizations.personal` on with accounts already made); how many were made. Safe to
    /// run again: it makes none the second time.
    ///
    /// # Errors
    /// A hook or the database failed (the organizations made until then stay).
    pub async fn backfill_personal(&self, request: &RequestContext) -> Result<u64> {
        let mut made = 0;
        loop {
            let batch = {
                let mut conn = self.core.db().acquire().await?;
                store::accounts_without_personal_organization(&mut conn, 100).await?
            };
            if batch.is_empty() {
                return Ok(made);
            }
            for (user, email) in batch {
                let mut change = self.core.begin_change(request).await?;
                let event = AuditEvent::new(Action::OrgCreate).by_system();
                self.core
                    .create_organization(&mut change, &user, personal_name(&email), true, event)
                    .await?;
                change.commit().await?;
                made += 1;
            }
        }
    }

    /// The membership check by slug: the signed-in user's membership of the organization with
    /// this slug, or the organization's new slug when it gave this one up lately.
    ///
    /// # Errors
    /// `NotFound` when no live organization has (or lately had) the slug, and equally when
    /// the user is not a member of it; `MfaEnrolmentRequired` for a member without a second
    /// factor of an organization that requires one (send them to set one up); the database
    /// failed.
    pub async fn member_by_slug(&self, current: &Authenticated, slug: &str) -> Result<SlugLookup> {
        if !slug::is_well_formed(slug) {
            return Err(Error::NotFound);
        }
        let mut conn = self.core.db().acquire().await?;
        if let Some(org) = store::find_by_slug(&mut conn, slug).await? {
            return self
                .membership(&mut conn, org, current)
                .await
                .map(|member| SlugLookup::Member(Box::new(member)));
        }
        let Some(org) = store::find_by_alias(&mut conn, slug, self.core.now()).await? else {
            return Err(Error::NotFound);
        };
        let member = self.membership(&mut conn, org, current).await?;
        Ok(SlugLookup::Moved(member.org.slug))
    }

    /// The membership check by id (an organization chosen from a list, or kept on a session).
    ///
    /// # Errors
    /// `NotFound` when no live organization has the id, and equally when the user is not a
    /// member of it; `MfaEnrolmentRequired` as for [`Organizations::member_by_slug`]; the
    /// database failed.
    pub async fn member_by_id(
        &self,
        current: &Authenticated,
        id: &OrganizationId,
    ) -> Result<OrgMember> {
        let mut conn = self.core.db().acquire().await?;
        let org = store::find(&mut conn, id).await?.ok_or(Error::NotFound)?;
        self.membership(&mut conn, org, current).await
    }

    async fn membership(
        &self,
        conn: &mut sqlx::AnyConnection,
        org: Organization,
        current: &Authenticated,
    ) -> Result<OrgMember> {
        let user = current.user();
        // A role this build does not know grants nothing: no proof.
        let role = store::role_of(conn, &org.id, &user.id)
            .await?
            .and_then(|name| self.roles.find(&name))
            .ok_or(Error::NotFound)?;
        // Only a member learns that the organization wants a second factor.
        let capabilities = &self.core.config().capabilities;
        if org.members_need_second_factor
            && !mfa::has_usable_second_factor_on(conn, &user.id, capabilities).await?
        {
            return Err(Error::MfaEnrolmentRequired);
        }
        Ok(OrgMember {
            org,
            user: user.clone(),
            role,
            session: current.session().id.clone(),
        })
    }

    /// The signed-in user's live organizations with their role in each, by name.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list_for_user(&self, current: &Authenticated) -> Result<Vec<Membership>> {
        let mut conn = self.core.db().acquire().await?;
        let rows = store::memberships_of(&mut conn, &current.user().id).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let role = self.roles.find(&row.role)?;
                Some(Membership {
                    organization: row.org.into(),
                    role,
                })
            })
            .collect())
    }

    /// The members of the member's organization, oldest first.
    ///
    /// # Errors
    /// `Organization(NotAllowed)` for a role that may not see them; the database failed.
    pub async fn members(&self, member: &OrgMember) -> Result<Vec<Member>> {
        if !member.may(OrgAction::ViewMembers) {
            return refuse(OrganizationProblem::NotAllowed);
        }
        let mut conn = self.core.db().acquire().await?;
        let rows = store::members(&mut conn, &member.org.id).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(Member {
                    role: self.roles.find(&row.role)?,
                    user_id: row.user_id,
                    email: row.email,
                    joined_at: row.created_at,
                })
            })
            .collect())
    }

    /// Locks the organization for `change` and checks, against the actor's role as it is now,
    /// that they may do `action`. Returns the organization as it is now.
    async fn authorize(
        &self,
        change: &mut Change<'_>,
        actor: &OrgMember,
        action: OrgAction,
    ) -> Result<Organization> {
        let backend = self.core.db().backend();
        let org = store::lock(change, backend, &actor.org.id)
            .await?
            .ok_or(Error::NotFound)?;
        let role = store::role_of(change, &org.id, &actor.user.id)
            .await?
            .and_then(|name| self.roles.find(&name))
            .ok_or(Error::NotFound)?;
        if role.may(action) {
            Ok(org)
        } else {
            refuse(OrganizationProblem::NotAllowed)
        }
    }

    /// The role of `user` in `org` inside `change`; `NotFound` for a non-member.
    async fn role_in(
        &self,
        change: &mut Change<'_>,
        org: &OrganizationId,
        user: &UserId,
    ) -> Result<Role> {
        store::role_of(change, org, user)
            .await?
            .and_then(|name| self.roles.find(&name))
            .ok_or(Error::NotFound)
    }

    /// Changes the name or the second-factor requirement.
    ///
    /// # Errors
    /// `Organization(NotAllowed | NameRequired | NameTooLong)`; `MfaEnrolmentRequired` when
    /// requiring a second factor the actor has not set up; `NotFound` once the actor is no
    /// longer a member; the database failed.
    pub async fn update(
        &self,
        admin: &OrgAdmin,
        changes: OrganizationChanges,
        request: &RequestContext,
    ) -> Result<Organization> {
        let name = changes.name.as_deref().map(checked_name).transpose()?;
        let actor = &admin.member;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let mut org = self
            .authorize(&mut change, actor, OrgAction::UpdateSettings)
            .await?;
        // Nobody requires of others a second factor they lack themselves (and so shuts
        // themselves out).
        if changes.members_need_second_factor == Some(true)
            && !mfa::has_usable_second_factor_on(
                &mut change,
                &actor.user.id,
                &self.core.config().capabilities,
            )
            .await?
        {
            return Err(Error::MfaEnrolmentRequired);
        }
        let mut event = actor
            .actor_event(Action::OrgUpdate)
            .target_organization(&org.id);
        let mut changed = false;
        if let Some(name) = name.filter(|name| *name != org.name) {
            event = event.meta("name", name.clone());
            org.name = name;
            changed = true;
        }
        if let Some(need) = changes
            .members_need_second_factor
            .filter(|need| *need != org.members_need_second_factor)
        {
            event = event.meta("members_need_second_factor", need);
            org.members_need_second_factor = need;
            changed = true;
        }
        if !changed {
            return Ok(org);
        }
        store::update(
            &mut change,
            &org.id,
            &org.name,
            org.members_need_second_factor,
            now,
        )
        .await?;
        org.updated_at = now;
        change.audit(event).await?;
        change.commit().await?;
        Ok(org)
    }

    /// Gives the organization a new slug, with the password re-entered (`sudo`) and the
    /// current slug typed back. The old slug keeps leading members to it for
    /// `organizations.slug_redirect` (7 days), and no other organization may take it
    /// meanwhile.
    ///
    /// # Errors
    /// `SudoRequired` when the sudo proof is not the actor's; `Organization(NotAllowed |
    /// ConfirmationMismatch | SlugInvalid | SlugReserved | SlugTaken)`; the database failed.
    pub async fn change_slug(
        &self,
        admin: &OrgAdmin,
        sudo: &Sudo,
        new_slug: &str,
        current_slug_typed: &str,
        request: &RequestContext,
    ) -> Result<Organization> {
        let actor = &admin.member;
        same_user(sudo, actor)?;
        let slug = self.core.slugs().check(new_slug)?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let mut org = self
            .authorize(&mut change, actor, OrgAction::ChangeSlug)
            .await?;
        if current_slug_typed.trim() != org.slug.as_str() {
            return refuse(OrganizationProblem::ConfirmationMismatch);
        }
        if slug == org.slug {
            return Ok(org);
        }
        if store::slug_in_use(&mut change, slug.as_str(), now, Some(&org.id)).await? {
            return refuse(OrganizationProblem::SlugTaken);
        }
        let redirect_until = now.plus(self.core.config().organizations.slug_redirect);
        if !store::change_slug(&mut change, &org, &slug, now, redirect_until).await? {
            return refuse(OrganizationProblem::SlugTaken);
        }
        let event = actor
            .actor_event(Action::OrgSlugChange)
            .target_organization(&org.id)
            .meta("from", org.slug.as_str().to_owned())
            .meta("to", slug.as_str().to_owned())
            .meta("redirect_until", redirect_until.as_millis());
        change.audit(event).await?;
        change.commit().await?;
        org.slug = slug;
        org.updated_at = now;
        Ok(org)
    }

    /// Deletes the organization (softly: its rows stay, its slug is free again), with the
    /// password re-entered (`sudo`) and its name typed back. Pending invitations are revoked
    /// and no session works in it any more. The host's delete hooks run inside the change.
    ///
    /// # Errors
    /// `SudoRequired` when the sudo proof is not the actor's; `Organization(NotAllowed |
    /// ConfirmationMismatch)`; a hook or the database failed.
    pub async fn delete(
        &self,
        admin: &OrgAdmin,
        sudo: &Sudo,
        name_typed: &str,
        request: &RequestContext,
    ) -> Result<()> {
        let actor = &admin.member;
        same_user(sudo, actor)?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let org = self
            .authorize(&mut change, actor, OrgAction::DeleteOrganization)
            .await?;
        if name_typed.trim() != org.name {
            return refuse(OrganizationProblem::ConfirmationMismatch);
        }
        let hooks = self.core.hooks();
        hooks
            .before_delete_organization(&mut change, &org, &actor.user.id)
            .await
            .map_err(Error::Hook)?;
        let revoked = store::soft_delete(&mut change, &org.id, now).await?;
        hooks
            .after_delete_organization(&mut change, &org, &actor.user.id)
            .await
            .map_err(Error::Hook)?;
        let event = actor
            .actor_event(Action::OrgDelete)
            .target_organization(&org.id)
            .meta("name", org.name.clone())
            .meta("slug", org.slug.as_str().to_owned())
            .meta("invitations_revoked", revoked);
        change.audit(event).await?;
        change.commit().await
    }

    /// Adds an existing account as a member with `role`. Making someone an owner needs a
    /// role that manages owners.
    ///
    /// # Errors
    /// `NotFound` for an unknown account; `Organization(NotAllowed | UnknownRole |
    /// AlreadyMember)`; a hook or the database failed.
    pub async fn add_member(
        &self,
        admin: &OrgAdmin,
        user: &UserId,
        role: Role,
        request: &RequestContext,
    ) -> Result<()> {
        let role = self.registered(role)?;
        let actor = &admin.member;
        let mut change = self.core.begin_change(request).await?;
        let org = self
            .authorize(&mut change, actor, OrgAction::ManageMembers)
            .await?;
        if role.is_owner() {
            self.authorize(&mut change, actor, OrgAction::ManageOwners)
                .await?;
        }
        if users::store::account(&mut change, user).await?.is_none() {
            return Err(Error::NotFound);
        }
        let event = actor
            .actor_event(Action::OrgMemberAdd)
            .meta("via", "direct");
        self.join(&mut change, &org, user, role, event).await?;
        change.commit().await
    }

    /// Makes `user` a member of `org` with `role` inside `change`, with the host's hooks and
    /// the `organization.member_add` row (`event`, completed here).
    async fn join(
        &self,
        change: &mut Change<'_>,
        org: &Organization,
        user: &UserId,
        role: Role,
        event: AuditEvent,
    ) -> Result<()> {
        if store::role_of(change, &org.id, user).await?.is_some() {
            return refuse(OrganizationProblem::AlreadyMember);
        }
        let hooks = self.core.hooks();
        hooks
            .before_add_member(change, org, user, role)
            .await
            .map_err(Error::Hook)?;
        let now = change.now();
        store::insert_membership(change, &org.id, user, role.name(), now).await?;
        hooks
            .after_add_member(change, org, user, role)
            .await
            .map_err(Error::Hook)?;
        let event = event
            .target_user(user)
            .meta("organization", org.id.as_str().to_owned())
            .meta("role", role.name());
        change.audit(event).await
    }

    /// Removes a member; their sessions stop working in the organization. Removing an owner
    /// needs a role that manages owners, and the last owner is never removed.
    ///
    /// # Errors
    /// `NotFound` for a non-member; `Organization(NotAllowed | LastOwner)`; a hook or the
    /// database failed.
    pub async fn remove_member(
        &self,
        admin: &OrgAdmin,
        user: &UserId,
        request: &RequestContext,
    ) -> Result<()> {
        let actor = &admin.member;
        let mut change = self.core.begin_change(request).await?;
        let org = self
            .authorize(&mut change, actor, OrgAction::ManageMembers)
            .await?;
        let role = self.role_in(&mut change, &org.id, user).await?;
        if role.is_owner() {
            self.authorize(&mut change, actor, OrgAction::ManageOwners)
                .await?;
        }
        self.remove(&mut change, actor, &org, user, role).await?;
        change.commit().await
    }

    /// The member leaves the organization themselves; their sessions stop working in it. The
    /// last owner cannot leave.
    ///
    /// # Errors
    /// `NotFound` once they are no longer a member; `Organization(LastOwner)`; a hook or the
    /// database failed.
    pub async fn leave(&self, member: &OrgMember, request: &RequestContext) -> Result<()> {
        let mut change = self.core.begin_change(request).await?;
        let org = self
            .authorize(&mut change, member, OrgAction::ViewOrganization)
            .await?;
        let role = self.role_in(&mut change, &org.id, &member.user.id).await?;
        self.remove(&mut change, member, &org, &member.user.id, role)
            .await?;
        change.commit().await
    }

    /// Removes `user` (holding `role`) from `org` inside `change`, by `actor`: the last-owner
    /// guard, the host's hooks, the sessions that worked in it, the audit row.
    async fn remove(
        &self,
        change: &mut Change<'_>,
        actor: &OrgMember,
        org: &Organization,
        user: &UserId,
        role: Role,
    ) -> Result<()> {
        if role.is_owner() {
            self.keep_an_owner(change, &org.id).await?;
        }
        let hooks = self.core.hooks();
        hooks
            .before_member_remove(change, org, user, role)
            .await
            .map_err(Error::Hook)?;
        let cleared = store::delete_membership(change, &org.id, user).await?;
        hooks
            .after_member_remove(change, org, user, role)
            .await
            .map_err(Error::Hook)?;
        let event = actor
            .actor_event(Action::OrgMemberRemove)
            .target_user(user)
            .meta("organization", org.id.as_str().to_owned())
            .meta("role", role.name())
            .meta("sessions_cleared", cleared);
        change.audit(event).await
    }

    /// Gives a member another role. Making or unmaking an owner needs a role that manages
    /// owners, and the last owner is never demoted.
    ///
    /// # Errors
    /// `NotFound` for a non-member; `Organization(NotAllowed | UnknownRole | LastOwner)`; a
    /// hook or the database failed.
    pub async fn change_role(
        &self,
        admin: &OrgAdmin,
        user: &UserId,
        role: Role,
        request: &RequestContext,
    ) -> Result<()> {
        let to = self.registered(role)?;
        let actor = &admin.member;
        let mut change = self.core.begin_change(request).await?;
        let org = self
            .authorize(&mut change, actor, OrgAction::ManageMembers)
            .await?;
        let from = self.role_in(&mut change, &org.id, user).await?;
        if from == to {
            return Ok(());
        }
        if from.is_owner() || to.is_owner() {
            self.authorize(&mut change, actor, OrgAction::ManageOwners)
                .await?;
        }
        if from.is_owner() {
            self.keep_an_owner(&mut change, &org.id).await?;
        }
        let hooks = self.core.hooks();
        hooks
            .before_role_change(&mut change, &org, user, from, to)
            .await
            .map_err(Error::Hook)?;
        let now = change.now();
        store::set_role(&mut change, &org.id, user, to.name(), now).await?;
        hooks
            .after_role_change(&mut change, &org, user, from, to)
            .await
            .map_err(Error::Hook)?;
        let event = actor
            .actor_event(Action::OrgMemberRoleChange)
            .target_user(user)
            .meta("organization", org.id.as_str().to_owned())
            .meta("from", from.name())
            .meta("to", to.name());
        change.audit(event).await?;
        change.commit().await
    }

    /// The last-owner guard: refuses unless another owner would remain. The organization row
    /// is locked by `authorize`, so no concurrent change can remove that other owner.
    async fn keep_an_owner(&self, change: &mut Change<'_>, org: &OrganizationId) -> Result<()> {
        if store::count_with_role(change, org, Role::OWNER.name()).await? <= 1 {
            return refuse(OrganizationProblem::LastOwner);
        }
        Ok(())
    }
}

/// Creating an organization: the one path for an organization made by a user, for a new
/// account's personal organization, and by the backfill.
impl Core {
    /// Creates `name` inside `change` with `owner` as its owner: a free slug made from the
    /// name, the host's create hooks, and the `organization.create` row (`event`, with its
    /// actor, completed here).
    pub(crate) async fn create_organization(
        &self,
        change: &mut Change<'_>,
        owner: &UserId,
        name: String,
        personal: bool,
        event: AuditEvent,
    ) -> Result<Organization> {
        let now = change.now();
        let mut slug = None;
        // A name whose first candidates are all in use gives up rather than loop for long.
        for candidate in self.slugs().candidates(&name).take(100) {
            if !store::slug_in_use(change, candidate.as_str(), now, None).await? {
                slug = Some(candidate);
                break;
            }
        }
        let Some(slug) = slug else {
            return refuse(OrganizationProblem::SlugTaken);
        };
        let org = Organization {
            id: OrganizationId::generate(),
            name,
            slug,
            personal,
            members_need_second_factor: false,
            created_at: now,
            updated_at: now,
        };
        let hooks = self.hooks();
        hooks
            .before_create_organization(change, &org, owner)
            .await
            .map_err(Error::Hook)?;
        if !store::insert(change, &org).await? {
            return refuse(OrganizationProblem::SlugTaken);
        }
        store::insert_membership(change, &org.id, owner, Role::OWNER.name(), now).await?;
        hooks
            .after_create_organization(change, &org, owner)
            .await
            .map_err(Error::Hook)?;
        let event = event
            .target_organization(&org.id)
            .meta("name", org.name.clone())
            .meta("slug", org.slug.as_str().to_owned())
            .meta("personal", personal);
        change.audit(event).await?;
        Ok(org)
    }

    /// A new account's personal organization, in the change that creates the account, when
    /// `organizations.personal` is on.
    pub(crate) async fn create_personal_organization(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
    ) -> Result<()> {
        if self.config().organizations.personal {
            let event = AuditEvent::new(Action::OrgCreate).actor(user);
            self.create_organization(change, user, personal_name(email.as_str()), true, event)
                .await?;
        }
        Ok(())
    }
}

/// A personal organization is named after the address's local part ("ada" for
/// ada@example.com); its owner may rename it.
fn personal_name(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    checked_name(local).unwrap_or_else(|_| "Personal".to_owned())
}

/// Deletes invitations 30 days after they expired and slug redirects that have ended, for the
/// periodic cleanup job; how many of each.
pub(crate) async fn delete_expired(
    conn: &mut sqlx::AnyConnection,
    now: Timestamp,
) -> Result<(u64, u64)> {
    let expired_before = Timestamp::from_millis(
        now.as_millis()
            .saturating_sub(crate::clock::millis_of(invitations::RETENTION)),
    );
    store::delete_expired(conn, now, expired_before).await
}

/// Whether the signed-in user's address is the one an invitation was sent to (both are
/// normalised the same way, so case does not matter).
fn is_addressed_to(invited: &str, user: &User) -> bool {
    EmailAddress::parse(invited).is_ok_and(|invited| invited == user.email)
}
