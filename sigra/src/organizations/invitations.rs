//! Invitations: an owner or admin invites an address with a role; the mail carries a link with
//! 32 random bytes (only their SHA-256 is stored) that works for `organizations.invitation_ttl`
//! (7 days). Only the signed-in account with the invited address can accept it, once, or,
//! when the address has no account, someone who signs up with it through the link. A new
//! invitation of the same address replaces the pending one in the same change. An inviter may
//! send 20 a day and an organization 50 (counted from the rows, revoked ones too, since each
//! was a mail). Rows are deleted 30 days after they expire.

use std::time::Duration;

use crate::audit::{Action, AuditEvent};
use crate::clock::{millis_of, Timestamp};
use crate::crypto::{IssuedToken, PresentedToken};
use crate::error::{Error, OrganizationProblem, Result};
use crate::http::MailedLink;
use crate::mail::Message;
use crate::password::Password;
use crate::request::RequestContext;
use crate::sessions::Authenticated;
use crate::users::{self, EmailAddress, UserId};

use super::store::{self, Sender};
use super::{is_addressed_to, Membership, OrgAction, OrgAdmin, Organizations, Role};

/// How long invitations are kept after they expire (for the record, then deleted).
pub(crate) const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// The window the per-inviter and per-organization limits count in.
const LIMIT_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// An invitation as the members page lists it (never its token).
#[derive(Clone, Debug)]
pub struct PendingInvitation {
    /// Its id (to revoke it).
    pub id: String,
    /// The invited address.
    pub email: String,
    /// The role it gives.
    pub role: Role,
    /// Who sent it (`None` once their account is gone).
    pub invited_by: Option<UserId>,
    /// When it was sent.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// What the invitation page shows before the invitee accepts.
#[derive(Clone, Debug)]
pub struct InvitationPreview {
    /// The organization's name.
    pub organization: String,
    /// The invited address.
    pub email: String,
    /// The role it gives.
    pub role: Role,
    /// When it stops working.
    pub expires_at: Timestamp,
}

impl Organizations<'_> {
    /// Invites `email` with `role`, replacing a pending invitation of the same address, and
    /// queues the mail with the link in the same change. Inviting an owner needs a role that
    /// manages owners.
    ///
    /// # Errors
    /// `InvalidEmail`; `Organization(NotAllowed | UnknownRole | AlreadyMember)`;
    /// `RateLimited` past the inviter's or the organization's daily limit; the database
    /// failed.
    pub async fn invite(
        &self,
        admin: &OrgAdmin,
        email: &str,
        role: Role,
        request: &RequestContext,
    ) -> Result<PendingInvitation> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let role = self.registered(role)?;
        let actor = &admin.member;
        let inviter = &actor.user;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let org = self
            .authorize(&mut change, actor, OrgAction::InviteMembers)
            .await?;
        if role.is_owner() {
            self.authorize(&mut change, actor, OrgAction::ManageOwners)
                .await?;
        }
        if let Some(invitee) = users::store::find_id_by_email(&mut change, &email).await? {
            if store::role_of(&mut change, &org.id, &invitee)
                .await?
                .is_some()
            {
                return Err(Error::Organization(OrganizationProblem::AlreadyMember));
            }
        }
        let config = &self.core.config().organizations;
        let since = Timestamp::from_millis(now.as_millis() - millis_of(LIMIT_WINDOW));
        for (sender, limit) in [
            (Sender::Inviter(&inviter.id), config.invitations_per_inviter),
            (
                Sender::Organization(&org.id),
                config.invitations_per_organization,
            ),
        ] {
            let sent = store::sent_since(&mut change, sender, since).await?;
            if sent.n >= i64::from(limit) {
                let frees_at = sent.oldest.unwrap_or(now).plus(LIMIT_WINDOW);
                return Err(Error::RateLimited {
                    retry_after_seconds: frees_at.since(now).as_secs().max(1),
                });
            }
        }
        let replaced = store::revoke_pending_for(&mut change, &org.id, email.as_str(), now).await?;
        let token = IssuedToken::generate();
        let id = uuid::Uuid::now_v7().to_string();
        let expires_at = now.plus(config.invitation_ttl);
        store::insert_invitation(
            &mut change,
            store::NewInvitation {
                id: &id,
                org: &org.id,
                email: email.as_str(),
                role: role.name(),
                token_hash: &token.hash(),
                invited_by: &inviter.id,
                now,
                expires_at,
            },
        )
        .await?;
        let message = Message::OrganizationInvitation {
            organization: org.name.clone(),
            invited_by: inviter.email.as_str().to_owned(),
            role: role.name().to_owned(),
            url: self
                .core
                .mailed_link_url(MailedLink::Invitation, token.expose()),
            valid_for_days: config.invitation_ttl.as_secs() / 86_400,
        };
        change.mail(&email, message).await?;
        let event = actor
            .actor_event(Action::OrgInvite)
            .target_organization(&org.id)
            .meta("invitation", id.clone())
            .meta("email", email.as_str().to_owned())
            .meta("role", role.name())
            .meta("replaced", replaced);
        change.audit(event).await?;
        change.commit().await?;
        Ok(PendingInvitation {
            id,
            email: email.as_str().to_owned(),
            role,
            invited_by: Some(inviter.id.clone()),
            created_at: now,
            expires_at,
        })
    }

    /// Revokes a pending invitation of the organization.
    ///
    /// # Errors
    /// `NotFound` when the organization has no such pending invitation;
    /// `Organization(NotAllowed)`; the database failed.
    pub async fn revoke_invitation(
        &self,
        admin: &OrgAdmin,
        id: &str,
        request: &RequestContext,
    ) -> Result<()> {
        let actor = &admin.member;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let org = self
            .authorize(&mut change, actor, OrgAction::InviteMembers)
            .await?;
        if !store::revoke_invitation(&mut change, &org.id, id, now).await? {
            return Err(Error::NotFound);
        }
        let event = actor
            .actor_event(Action::OrgInvitationRevoke)
            .target_organization(&org.id)
            .meta("invitation", id.to_owned());
        change.audit(event).await?;
        change.commit().await
    }

    /// The organization's invitations that can still be accepted, newest first.
    ///
    /// # Errors
    /// `Organization(NotAllowed)`; the database failed.
    pub async fn pending_invitations(&self, admin: &OrgAdmin) -> Result<Vec<PendingInvitation>> {
        if !admin.member.may(OrgAction::InviteMembers) {
            return Err(Error::Organization(OrganizationProblem::NotAllowed));
        }
        let mut conn = self.core.db().acquire().await?;
        let rows =
            store::pending_invitations(&mut conn, &admin.member.org.id, self.core.now()).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(PendingInvitation {
                    role: self.roles.find(&row.role)?,
                    id: row.id,
                    email: row.email,
                    invited_by: row.invited_by,
                    created_at: row.created_at,
                    expires_at: row.expires_at,
                })
            })
            .collect())
    }

    /// What an invitation link is for, to show before it is accepted.
    ///
    /// # Errors
    /// `InvalidToken` for a token that was never an invitation's; `Organization(
    /// InvitationNotPending)` for one accepted, revoked or expired; the database failed.
    pub async fn preview_invitation(&self, token: &PresentedToken) -> Result<InvitationPreview> {
        let mut conn = self.core.db().acquire().await?;
        let row = store::find_invitation(&mut conn, &token.hash())
            .await?
            .ok_or(Error::InvalidToken)?;
        let org = store::find(&mut conn, &row.organization_id).await?;
        let role = self.roles.find(&row.role);
        match (org, role) {
            (Some(org), Some(role)) if row.is_pending(self.core.now()) => Ok(InvitationPreview {
                organization: org.name,
                email: row.email,
                role,
                expires_at: row.expires_at,
            }),
            _ => Err(Error::Organization(
                OrganizationProblem::InvitationNotPending,
            )),
        }
    }

    /// Creates the invited account and accepts the invitation in one change, for someone
    /// without an account: the address counts as confirmed, since the mailed link proves it.
    /// The caller logs the new account in with the same password next.
    ///
    /// # Errors
    /// `InvalidToken` for a link that was never an invitation;
    /// `Organization(InvitationNotPending)`; `Organization(AccountExists)` when the invited
    /// address has an account (it logs in and accepts); `WeakPassword`; `Busy`; a hook or the
    /// database failed.
    pub async fn accept_with_sign_up(
        &self,
        token: &PresentedToken,
        password: Password,
        request: &RequestContext,
    ) -> Result<Membership> {
        let not_pending = || Error::Organization(OrganizationProblem::InvitationNotPending);
        let invited = {
            let mut conn = self.core.db().acquire().await?;
            store::find_invitation(&mut conn, &token.hash())
                .await?
                .ok_or(Error::InvalidToken)?
        };
        if !invited.is_pending(self.core.now()) {
            return Err(not_pending());
        }
        let email = EmailAddress::parse(&invited.email).map_err(Error::InvalidEmail)?;
        let password = self.core.check_new_password(password, &email).await?;
        let hash = self.core.hasher().hash(&password).await?;

        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let account_exists = || Error::Organization(OrganizationProblem::AccountExists);
        if users::store::address_in_use(&mut change, &email, now).await? {
            return Err(account_exists());
        }
        let user = UserId::generate();
        if !users::store::insert_if_new(&mut change, &user, &email, &hash, now).await? {
            return Err(account_exists());
        }
        users::store::confirm(&mut change, &user, now).await?;
        self.core
            .hooks()
            .on_register(&mut change, &user, &email)
            .await
            .map_err(Error::Hook)?;
        self.core
            .create_personal_organization(&mut change, &user, &email)
            .await?;
        let registered = AuditEvent::new(Action::RegisterSuccess)
            .actor(&user)
            .meta("method", "invitation");
        change.audit(registered).await?;
        let backend = self.core.db().backend();
        let org = store::lock(&mut change, backend, &invited.organization_id)
            .await?
            .ok_or_else(not_pending)?;
        let role = self.role(&invited.role)?;
        if !store::accept_invitation(&mut change, &invited.id, now).await? {
            return Err(not_pending());
        }
        let event = joined_by_invitation(&user, &invited);
        self.join(&mut change, &org, &user, role, event).await?;
        change.commit().await?;
        Ok(Membership {
            organization: org,
            role,
        })
    }

    /// Accepts an invitation for the signed-in user, whose address must be the invited one:
    /// they join with its role, and the invitation is used up. Returns the new membership.
    ///
    /// # Errors
    /// `InvalidToken` for a link that was never an invitation;
    /// `Organization(InvitationNotPending)` for one accepted (also by a concurrent request),
    /// revoked or expired; `Organization(InvitationForAnotherAddress)` when signed in with
    /// another address; `Organization(AlreadyMember | UnknownRole)`; a hook or the database
    /// failed.
    pub async fn accept_invitation(
        &self,
        current: &Authenticated,
        token: &PresentedToken,
        request: &RequestContext,
    ) -> Result<Membership> {
        let not_pending = || Error::Organization(OrganizationProblem::InvitationNotPending);
        let user = current.user();
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let row = store::find_invitation(&mut change, &token.hash())
            .await?
            .ok_or(Error::InvalidToken)?;
        if !row.is_pending(now) {
            return Err(not_pending());
        }
        if !is_addressed_to(&row.email, user) {
            return Err(Error::Organization(
                OrganizationProblem::InvitationForAnotherAddress,
            ));
        }
        let backend = self.core.db().backend();
        let org = store::lock(&mut change, backend, &row.organization_id)
            .await?
            .ok_or_else(not_pending)?;
        let role = self.role(&row.role)?;
        if store::role_of(&mut change, &org.id, &user.id)
            .await?
            .is_some()
        {
            return Err(Error::Organization(OrganizationProblem::AlreadyMember));
        }
        if !store::accept_invitation(&mut change, &row.id, now).await? {
            return Err(not_pending());
        }
        let event = joined_by_invitation(&user.id, &row).session(current.session().id.as_str());
        self.join(&mut change, &org, &user.id, role, event).await?;
        change.commit().await?;
        // The membership, not a proof: the organization may want a second factor first, which
        // the membership check asks for on the next request.
        Ok(Membership {
            organization: org,
            role,
        })
    }
}

/// The `organization.member_add` row of someone joining by `invitation` (completed by `join`).
fn joined_by_invitation(user: &UserId, invitation: &store::InvitationRow) -> AuditEvent {
    let event = AuditEvent::new(Action::OrgMemberAdd)
        .actor(user)
        .meta("via", "invitation")
        .meta("invitation", invitation.id.clone());
    match &invitation.invited_by {
        Some(inviter) => event.meta("invited_by", inviter.as_str().to_owned()),
        None => event,
    }
}
