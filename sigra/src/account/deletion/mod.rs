//! Account deletion. A signed-in user under sudo asks for it, confirming with the password
//! (where the account has one) and the address typed back. At once every session, mailed link,
//! API token, refresh family and access token ends, the host's `on_delete` hook runs in the
//! same transaction, and a mail says how to cancel. The deletion then waits for
//! `deletion.grace_period` (zero: it happens in the same transaction), during which signing in
//! leads only to keeping the account ([`RequiredStep::Reactivation`]). When it is due, the job
//! runner carries it out with `deletion.strategy`; every strategy removes the second factors,
//! passkeys and provider identities and gives the address up, so it is free for a new
//! registration.
//!
//! [`RequiredStep::Reactivation`]: crate::http::RequiredStep::Reactivation

mod store;

use std::time::Duration;

use super::Account;
use crate::audit::{Action, AuditEvent};
use crate::auth::ReauthPurpose;
use crate::change::Change;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::http::pages;
use crate::mail::Message;
use crate::organizations::{OrganizationId, Role};
use crate::password::Password;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::sessions::{self, Authenticated, Sudo};
use crate::tokens;
use crate::users::{self, EmailAddress, UserId};

/// How long after a cancellation a new deletion request waits (a stolen session cannot flip an
/// account between scheduled and kept to bury the owner's mail).
const COOLDOWN: Duration = Duration::from_secs(24 * 3600);
/// Deletions carried out per turn of the cleanup job; the rest wait for the next turn.
const EXECUTIONS_PER_TURN: i64 = 100;

/// What the user gives to confirm a deletion.
pub struct DeletionConfirmation {
    /// The current password: required when the account has one (an account without one
    /// confirmed with its passkey or provider when it entered sudo).
    pub password: Option<Password>,
    /// The account's address, typed back.
    pub typed_email: String,
}

/// What a deletion request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionScheduled {
    /// It waits until this moment; signing in before then can cancel it.
    At(Timestamp),
    /// The grace period is zero: the account is already deleted.
    Done,
}

impl Account<'_> {
    /// Schedules the deletion of the signed-in account (see the module documentation). Every
    /// session ends, this one too.
    ///
    /// # Errors
    /// `ConfirmationMismatch` when the typed address is not the account's; `WrongPassword`
    /// (and the re-authentication limits) when the account has a password and it was not
    /// given right; `DeletionCooldown` within a day of a cancellation; `DeletionPending` when
    /// one is already scheduled; the database or a hook failed.
    #[tracing::instrument(name = "account.deletion.schedule", skip_all, fields(user_id = %sudo.user().id), err(level = "debug"))]
    pub async fn schedule_deletion(
        &self,
        sudo: &Sudo,
        confirmation: DeletionConfirmation,
        request: &RequestContext,
    ) -> Result<DeletionScheduled> {
        let current = sudo.authenticated();
        let user = current.user().id.clone();
        let email = current.user().email.clone();
        if EmailAddress::parse(&confirmation.typed_email).ok().as_ref() != Some(&email) {
            return Err(Error::ConfirmationMismatch);
        }
        self.confirm_with_password(current, confirmation.password, request)
            .await?;
        if !self
            .organizations_blocking_deletion(current)
            .await?
            .is_empty()
        {
            return Err(Error::SoleOwner);
        }

        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let grace = self.core.config().deletion.grace_period;
        let execute_at = now.plus(grace);
        let cooldown_since = Timestamp::from_millis(
            now.as_millis()
                .saturating_sub(crate::clock::millis_of(COOLDOWN)),
        );
        match store::schedule(&mut change, &user, execute_at, cooldown_since, now).await? {
            Ok(()) => {}
            Err(store::NotScheduled::CoolingDown) => return Err(Error::DeletionCooldown),
            Err(store::NotScheduled::AlreadyScheduled) => return Err(Error::DeletionPending),
        }
        let sessions_ended = sessions::store::delete_all_for_user(&mut change, &user, None).await?;
        tokens::revoke(&mut change, &user, tokens::ALL, now).await?;
        let api_tokens_revoked =
            crate::api_tokens::store::revoke_all(&mut change, &user, now).await?;
        let families_revoked = store::revoke_refresh_families(&mut change, &user, now).await?;
        users::store::bump_token_epoch(&mut change, &user).await?;
        crate::mfa::forget_trusted_browsers_on(&mut change, &user).await?;
        self.core
            .hooks()
            .on_delete(&mut change, &user)
            .await
            .map_err(Error::Hook)?;
        let event = AuditEvent::new(Action::AccountDeletionSchedule)
            .actor(&user)
            .session(current.session().id.as_str())
            .meta("execute_at", execute_at.to_string())
            .meta("sessions_ended", sessions_ended)
            .meta("api_credentials_revoked", api_tokens_revoked)
            .meta("refresh_families_revoked", families_revoked);
        change.audit(event).await?;
        if grace.is_zero() {
            self.core.execute_deletion(&mut change, &user).await?;
            change.commit().await?;
            return Ok(DeletionScheduled::Done);
        }
        let notice = Message::DeletionScheduled {
            delete_at: execute_at.to_string(),
            keep_url: self.core.url(pages::LOG_IN),
        };
        change.mail(&email, notice).await?;
        change.commit().await?;
        Ok(DeletionScheduled::At(execute_at))
    }

    /// Keeps an account scheduled for deletion: the deletion is cancelled, a mail confirms it,
    /// and a new request waits a day. Returns whether there was a deletion to cancel.
    ///
    /// # Errors
    /// The database failed.
    pub async fn cancel_deletion(
        &self,
        current: &Authenticated,
        request: &RequestContext,
    ) -> Result<bool> {
        let user = &current.user().id;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        if !store::cancel(&mut change, user, now).await? {
            return Ok(false);
        }
        let event = AuditEvent::new(Action::AccountDeletionCancel)
            .actor(user)
            .session(current.session().id.as_str());
        change.audit(event).await?;
        change
            .mail(&current.user().email, Message::DeletionCancelled)
            .await?;
        change.commit().await?;
        Ok(true)
    }

    /// The names of the organizations whose only owner is the signed-in user while others are
    /// members: deleting the account waits until each has another owner or is deleted.
    ///
    /// # Errors
    /// The database failed.
    pub async fn organizations_blocking_deletion(
        &self,
        current: &Authenticated,
    ) -> Result<Vec<String>> {
        let mut conn = self.core.db().acquire().await?;
        Ok(
            store::organizations_only_owned_by(&mut conn, &current.user().id)
                .await?
                .into_iter()
                .map(|org| org.name)
                .collect(),
        )
    }

    /// Whether the signed-in account has a password (one a provider created may not).
    ///
    /// # Errors
    /// The database failed.
    pub async fn has_password(&self, current: &Authenticated) -> Result<bool> {
        let mut conn = self.core.db().acquire().await?;
        Ok(
            users::store::credentials(&mut conn, users::store::Lookup::Id(&current.user().id))
                .await?
                .is_some_and(|account| account.password_hash.is_some()),
        )
    }

    /// The password check of a deletion: the account's password when it has one. Sudo, which
    /// the caller already holds, is the proof for an account without one.
    async fn confirm_with_password(
        &self,
        current: &Authenticated,
        password: Option<Password>,
        request: &RequestContext,
    ) -> Result<()> {
        match (self.has_password(current).await?, password) {
            (false, _) => Ok(()),
            (true, None) => Err(Error::WrongPassword),
            (true, Some(password)) => {
                self.core
                    .reauthenticate(current, &password, ReauthPurpose::AccountDeletion, request)
                    .await
            }
        }
    }
}

impl Core {
    /// Carries out every deletion that is due (a turn of the cleanup job), each in its own
    /// change; returns how many.
    pub(crate) async fn execute_due_deletions(&self) -> Result<usize> {
        let due = {
            let mut conn = self.db().acquire().await?;
            store::due(&mut conn, self.now(), EXECUTIONS_PER_TURN).await?
        };
        let request = RequestContext::command("account deletion");
        let mut executed = 0;
        for user in due {
            let mut change = self.begin_change(&request).await?;
            if self.execute_deletion(&mut change, &user).await? {
                change.commit().await?;
                executed += 1;
            }
        }
        Ok(executed)
    }

    /// The account's organizations as it goes: the ones only it belonged to are deleted with
    /// it; one it became the only owner of during the grace period (the other owners left)
    /// passes to its longest-standing admin, else member, so no organization is left without
    /// an owner; then every membership ends. Each change is audited by the system.
    async fn leave_organizations(&self, change: &mut Change<'_>, user: &UserId) -> Result<()> {
        let now = change.now();
        for org in store::organizations_alone_in(change, user).await? {
            let id = OrganizationId::from_stored(org);
            crate::organizations::store::soft_delete(change, &id, now).await?;
            let event = AuditEvent::new(Action::OrgDelete)
                .by_system()
                .target_organization(&id)
                .meta("reason", "owner_account_deleted");
            change.audit(event).await?;
        }
        for org in store::organizations_only_owned_by(change, user).await? {
            if let Some((successor, from)) =
                store::promote_successor(change, &org.id, user, now).await?
            {
                let event = AuditEvent::new(Action::OrgMemberRoleChange)
                    .by_system()
                    .target_user(&successor)
                    .meta("organization", org.id)
                    .meta("from", from)
                    .meta("to", Role::OWNER.name())
                    .meta("reason", "owner_account_deleted");
                change.audit(event).await?;
            }
        }
        store::leave_every_organization(change, user).await
    }

    /// Deletes `user` on `change` if its deletion is still scheduled and due (a cancellation
    /// that committed first wins): what the strategy says, the audit row, and the last mail to
    /// the address it had. Returns whether it did.
    async fn execute_deletion(&self, change: &mut Change<'_>, user: &UserId) -> Result<bool> {
        let now = change.now();
        let Some(address) = store::claim(change, user, now).await? else {
            return Ok(false);
        };
        self.leave_organizations(change, user).await?;
        let strategy = self.config().deletion.strategy;
        // A stored address that no longer parses was edited by hand: the account still goes,
        // and nothing is kept of the address or sent to it.
        let original = EmailAddress::parse(&address).ok();
        store::erase(change, user, original.as_ref(), strategy).await?;
        if let Some(original) = &original {
            change.mail(original, Message::AccountDeleted).await?;
        }
        let event = AuditEvent::new(Action::AccountDeletionExecute)
            .by_system()
            .target_user(user)
            .meta("strategy", strategy.as_str());
        change.audit(event).await?;
        Ok(true)
    }
}
