//! What an operator does to an account by its address (the `server user …` and
//! `server sessions revoke` commands): create it, unlock it, turn off its second factors, end
//! its sessions. Each is one unit of work with an audit row by the system, the account as
//! target. None does anything to an address without an account; each says whether there was
//! one.

use crate::audit::{Action, AuditEvent};
use crate::change::Change;
use crate::confirmation::{AskedBy, Confirmation, ConfirmationCodes};
use crate::error::{Error, Result};
use crate::http::{pages, MailedLink};
use crate::mail::Message;
use crate::password::Password;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::tokens::{self, Purpose};
use crate::users::{self, EmailAddress, UserId};

/// Operator actions on accounts: `sigra.operator()`.
#[derive(Clone, Copy)]
pub struct Operator<'a> {
    pub(crate) core: &'a Core,
    pub(crate) codes: &'a ConfirmationCodes,
}

/// How a new account gets its password.
pub enum FirstPassword {
    /// The operator gave one (checked against the policy like any other).
    Given(Password),
    /// The owner chooses it through a mailed link (valid as long as a confirmation link),
    /// which also confirms the address.
    Mailed,
}

impl<'a> Operator<'a> {
    /// The change for an action on the account at `email`, that account, and its address;
    /// `None` when no account has the address.
    async fn account_at(
        &self,
        email: &str,
        request: &'a RequestContext,
    ) -> Result<Option<(Change<'a>, UserId, EmailAddress)>> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let mut change = self.core.begin_change(request).await?;
        let user = users::store::find_id_by_email(&mut change, &email).await?;
        Ok(user.map(|user| (change, user, email)))
    }

    /// Creates an account for `email`. With a given password the account is like a registered
    /// one (unconfirmed, a confirmation mail goes out); otherwise it has no password and a
    /// link to choose one is mailed. Audited as `account.create`.
    ///
    /// # Errors
    /// A malformed address; `AddressTaken` when an account has it; a weak password; the
    /// database or a host hook failed.
    pub async fn create_user(
        &self,
        email: &str,
        password: FirstPassword,
        request: &RequestContext,
    ) -> Result<UserId> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let hash = match password {
            FirstPassword::Given(password) => {
                let password = self.core.check_new_password(password, &email).await?;
                Some(self.core.hasher().hash(&password).await?)
            }
            FirstPassword::Mailed => None,
        };
        let id = UserId::generate();
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let inserted = !users::store::address_in_use(&mut change, &email, now).await?
            && match &hash {
                Some(hash) => {
                    users::store::insert_if_new(&mut change, &id, &email, hash, now).await?
                }
                None => {
                    users::store::insert_without_password(&mut change, &id, &email, false, now)
                        .await?
                }
            };
        if !inserted {
            return Err(Error::AddressTaken);
        }
        self.core
            .hooks()
            .on_register(&mut change, &id, &email)
            .await
            .map_err(Error::Hook)?;
        let event = AuditEvent::new(Action::AccountCreate)
            .by_system()
            .target_user(&id)
            .meta(
                "first_sign_in",
                if hash.is_some() {
                    "given"
                } else {
                    "mailed_link"
                },
            );
        change.audit(event).await?;
        if hash.is_some() {
            let confirmation = Confirmation {
                core: self.core,
                codes: self.codes,
            };
            confirmation
                .send_confirmation(&mut change, &id, &email, AskedBy::NewAccount)
                .await?;
        } else {
            let ttl = self.core.config().tokens.confirm_ttl;
            let token =
                tokens::issue(&mut change, &id, Purpose::ResetPassword, &email, now, ttl).await?;
            let message = Message::AccountCreated {
                url: self
                    .core
                    .mailed_link_url(MailedLink::ResetPassword, token.expose()),
                valid_for_minutes: crate::mail::minutes(ttl),
            };
            change.mail(&email, message).await?;
        }
        change.commit().await?;
        Ok(id)
    }

    /// Lifts the password lock and the second-factor lock of `email`'s account (and their
    /// growth). Audited as `account.unlock`. Whether the account exists.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    pub async fn unlock(&self, email: &str, request: &RequestContext) -> Result<bool> {
        let Some((mut change, user, _)) = self.account_at(email, request).await? else {
            return Ok(false);
        };
        let event = AuditEvent::new(Action::AccountUnlock).by_system();
        self.core.unlock_account(&mut change, &user, event).await?;
        change.commit().await?;
        Ok(true)
    }

    /// Turns off every second factor of `email`'s account, for an owner who lost them: the
    /// authenticator app, backup codes and passkeys go, trusted browsers are forgotten, and the
    /// owner is mailed. Audited as `mfa.disable` by the system. Whether the account exists.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    pub async fn disable_second_factors(
        &self,
        email: &str,
        request: &RequestContext,
    ) -> Result<bool> {
        let Some((mut change, user, email)) = self.account_at(email, request).await? else {
            return Ok(false);
        };
        let event = AuditEvent::new(Action::MfaDisable)
            .by_system()
            .meta("authorised_by", "operator");
        self.core
            .turn_off_second_factors(&mut change, &user, &email, event)
            .await?;
        change.commit().await?;
        Ok(true)
    }

    /// Ends every session of `email`'s account and every access token and refresh family it
    /// holds (its token epoch moves). Audited as `session.revoke_all`. How many sessions
    /// ended, if the account exists.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    pub async fn revoke_sessions(
        &self,
        email: &str,
        request: &RequestContext,
    ) -> Result<Option<u64>> {
        let Some((mut change, user, _)) = self.account_at(email, request).await? else {
            return Ok(None);
        };
        let event = AuditEvent::new(Action::SessionRevokeAll).by_system();
        let ended = self
            .core
            .end_every_session(&mut change, &user, event)
            .await?;
        change.commit().await?;
        Ok(Some(ended))
    }
}

/// The actions on an account that the operator and a platform admin share. `event` is the audit
/// row with its actor set; each completes it with the account as target.
impl Core {
    /// Lifts the password lock and the second-factor lock (and their growth).
    pub(crate) async fn unlock_account(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        event: AuditEvent,
    ) -> Result<()> {
        users::store::clear_failed_logins(change, user).await?;
        crate::mfa::clear_lock_on(change, user).await?;
        change.audit(event.target_user(user)).await
    }

    /// Removes the authenticator app, backup codes and passkeys, forgets trusted browsers, and
    /// mails the owner at `email`.
    pub(crate) async fn turn_off_second_factors(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
        event: AuditEvent,
    ) -> Result<()> {
        let removed = crate::mfa::remove_every_second_factor(change, user).await?;
        change
            .audit(event.target_user(user).meta("removed", removed))
            .await?;
        let message = Message::MfaDisabled {
            reset_url: self.url(pages::RESET_PASSWORD),
        };
        change.mail(email, message).await
    }

    /// Ends every session and every access token and refresh family (the token epoch moves);
    /// how many sessions ended.
    pub(crate) async fn end_every_session(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        event: AuditEvent,
    ) -> Result<u64> {
        let ended = crate::sessions::store::delete_all_for_user(change, user, None).await?;
        users::store::bump_token_epoch(change, user).await?;
        change
            .audit(event.target_user(user).meta("ended", ended))
            .await?;
        Ok(ended)
    }
}
