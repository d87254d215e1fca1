//! The active organization: the one a session is working in, kept on the session row. Only
//! [`Organizations::switch_to`] writes it, and it takes the membership proof, so a session can
//! never point at an organization its user does not belong to; [`Organizations::active`]
//! checks the membership again on every read and fails closed. For a session that has none (it
//! was just made by a log-in, or its organization was left), [`Organizations::current`] answers
//! with the log-in's choice without writing it, so every log-in method chooses the same way,
//! nothing blocks the log-in, and reading the session's organization never writes.

use crate::error::{Error, Result};
use crate::request::RequestContext;
use crate::sessions::Authenticated;

use super::store;
use super::{Membership, OrgMember, Organizations};

/// What the log-in chose for the new session.
#[derive(Debug)]
pub enum ActiveChoice {
    /// The user belongs to no organization.
    NoOrganization,
    /// This one is active: the only one, or the one the user last worked in.
    Chosen(Box<OrgMember>),
    /// Several, and none last used: let the user pick (the list is theirs, by name).
    Pick(Vec<Membership>),
}

impl Organizations<'_> {
    /// Makes the member's organization the active one of the session the proof was made on.
    ///
    /// # Errors
    /// The database failed.
    pub async fn switch_to(&self, member: &OrgMember, request: &RequestContext) -> Result<()> {
        let mut change = self.core.begin_change(request).await?;
        store::set_active(
            &mut change,
            &member.session,
            &member.user.id,
            &member.org.id,
        )
        .await?;
        change.commit().await
    }

    /// The session's active organization, with the user's membership checked now; `None` when
    /// there is none, or when the user no longer belongs to it.
    ///
    /// # Errors
    /// `MfaEnrolmentRequired` when the organization wants a second factor the user lacks; the
    /// database failed.
    pub async fn active(&self, current: &Authenticated) -> Result<Option<OrgMember>> {
        let id = {
            let mut conn = self.core.db().acquire().await?;
            store::active_of(&mut conn, &current.session().id).await?
        };
        let Some(id) = id else {
            return Ok(None);
        };
        match self.member_by_id(current, &id).await {
            Ok(member) => Ok(Some(member)),
            Err(Error::NotFound) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The organization the session works in: the active one, or for a session without one
    /// the log-in's choice (as [`Organizations::choose_at_log_in`], not written). `None` when
    /// the user belongs to none or must pick.
    ///
    /// # Errors
    /// `MfaEnrolmentRequired` as for [`Organizations::active`]; the database failed.
    pub async fn current(&self, current: &Authenticated) -> Result<Option<OrgMember>> {
        if let Some(member) = self.active(current).await? {
            return Ok(Some(member));
        }
        match self.log_in_choice(current).await? {
            ActiveChoice::Chosen(member) => Ok(Some(*member)),
            ActiveChoice::NoOrganization | ActiveChoice::Pick(_) => Ok(None),
        }
    }

    /// Chooses the active organization of a session that just logged in: none for a user
    /// without organizations, the only one for one, and for several the one the user's most
    /// recent other session was working in (if they still belong to it), else a list to pick
    /// from. The choice is written to the session.
    ///
    /// # Errors
    /// The database failed.
    pub async fn choose_at_log_in(
        &self,
        current: &Authenticated,
        request: &RequestContext,
    ) -> Result<ActiveChoice> {
        let choice = self.log_in_choice(current).await?;
        if let ActiveChoice::Chosen(member) = &choice {
            self.switch_to(member, request).await?;
        }
        Ok(choice)
    }

    /// The choice of [`Organizations::choose_at_log_in`], read only.
    async fn log_in_choice(&self, current: &Authenticated) -> Result<ActiveChoice> {
        let memberships = self.list_for_user(current).await?;
        let chosen = match memberships.as_slice() {
            [] => return Ok(ActiveChoice::NoOrganization),
            [only] => only.organization.id.clone(),
            _ => {
                let last = {
                    let mut conn = self.core.db().acquire().await?;
                    store::last_active_elsewhere(
                        &mut conn,
                        &current.user().id,
                        &current.session().id,
                    )
                    .await?
                };
                match last.filter(|id| memberships.iter().any(|m| m.organization.id == *id)) {
                    Some(id) => id,
                    None => return Ok(ActiveChoice::Pick(memberships)),
                }
            }
        };
        match self.member_by_id(current, &chosen).await {
            Ok(member) => Ok(ActiveChoice::Chosen(Box::new(member))),
            // The organization wants a second factor first: the user picks, and is sent to
            // set one up when they open it.
            Err(Error::MfaEnrolmentRequired) => Ok(ActiveChoice::Pick(memberships)),
            Err(error) => Err(error),
        }
    }
}
