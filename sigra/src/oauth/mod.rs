//! Sign-in with providers: Google, GitHub, Apple, Facebook, any OpenID Connect provider (by
//! discovery) and any OAuth 2 provider (by explicit endpoints): `sigra.oauth()`.
//!
//! An authorization starts at [`OAuth::start`]: PKCE (S256) always, a `state` and a `nonce`
//! of 32 random bytes, and the transaction (verifier, nonce, provider, where to return, what it
//! is for) kept server-side for 15 minutes, keyed by the state's digest and bound to the
//! browser by a `__Host-` cookie ([`BINDING_COOKIE`]). [`OAuth::finish`] takes the transaction
//! (single use) before anything else, checks the browser, the RFC 9207 `iss`, exchanges the
//! code and verifies the ID token (`id_token`), then routes by identity, never by email:
//!
//! 1. the identity (provider, subject) exists: log in its user through the one log-in path
//!    (the second factor still applies; remember-me by default, as in Sigra);
//! 2. no identity, and the provider's verified address belongs to an account: the owner proves
//!    the account first ([`OAuth::confirm_pending_link`]); an unverified address matching an
//!    account gets the one generic error;
//! 3. no identity and no account: both are created in one transaction;
//! 4. no address: the user gives one ([`OAuth::complete_address`]), confirmed by mail before
//!    the account can be used;
//! 5. the identity is user A's while the address is user B's: the generic error, audited.
//!
//! Provider tokens are sealed at rest with the TOTP keyring and refreshed when expired
//! ([`OAuth::access_token`]).
//!
//! Talking to providers (`flow`, `client`, `id_token`) is the Cargo feature `oauth`; what the
//! identities stored here mean (linked accounts, an identity waiting for its account, sudo's
//! ways in) compiles without it, so a build without providers still deletes, exports and
//! expires what a build with them left.

#[cfg(feature = "oauth")]
mod client;
#[cfg(feature = "oauth")]
mod flow;
#[cfg(feature = "oauth")]
mod id_token;
mod store;

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[cfg(feature = "oauth")]
pub(crate) use client::ProviderClient;
#[cfg(feature = "oauth")]
pub use flow::{Answer, Authorization, Finished, StartFor};
pub(crate) use store::delete_expired;
pub use store::{Intent, PendingKind};

use crate::audit::{Action, AuditEvent};
use crate::change::Change;
use crate::clock::Timestamp;
use crate::config::ProviderConfig;
use crate::confirmation::{AskedBy, Confirmation, ConfirmationCodes};
use crate::crypto::{IssuedToken, PresentedToken, Sealer, TokenHash};
use crate::error::{Error, Result};
use crate::http::pages;
use crate::mail::Message;
use crate::mfa::Keyring;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::sessions::{AccountOwner, Authenticated, Sudo};
use crate::users::{self, EmailAddress, UserId};

use store::IdentityData;

/// The cookie that binds an authorization (and a waiting identity) to the browser.
pub const BINDING_COOKIE: &str = "__Host-sigra_oauth";
/// How long an authorization, and an identity waiting for its account, live.
pub const TRANSACTION_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Sign-in providers: `sigra.oauth()`.
#[derive(Clone, Copy)]
pub struct OAuth<'a> {
    pub(crate) core: &'a Core,
    #[cfg(feature = "oauth")]
    pub(crate) trusted: &'a crate::mfa::TrustedBrowsers,
    pub(crate) codes: &'a ConfirmationCodes,
    pub(crate) secrets: &'a OAuthSecrets,
    #[cfg(feature = "oauth")]
    pub(crate) client: &'a ProviderClient,
}

/// The keys only provider sign-in uses: the keyring that seals provider tokens at rest (the
/// TOTP keyring's keys) and the sealer of short-lived state.
pub(crate) struct OAuthSecrets {
    // Read by the protocol half (`flow.rs`, feature `oauth`) only.
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    keyring: Keyring,
    state: Sealer,
}

impl OAuthSecrets {
    pub(crate) fn new(keyring: Keyring, state: Sealer) -> Self {
        Self { keyring, state }
    }
}

/// A configured provider, as a sign-in button shows it.
#[derive(Clone, Debug)]
pub struct ProviderButton {
    /// The name in its URL.
    pub name: String,
    /// "Google".
    pub display_name: String,
    /// An image for the button.
    pub icon: Option<String>,
    /// Whether it can re-authenticate for sudo (it reports when the user last logged in).
    pub reauthenticates: bool,
}

/// An identity waiting in this browser, as the pages describe it.
#[derive(Clone, Debug)]
pub struct PendingIdentity {
    /// What it waits for.
    pub kind: PendingKind,
    /// The provider's display name.
    pub provider: String,
    /// The address the provider gave.
    pub email: Option<String>,
    /// Whether the signed-in user may link it now (their account, proved after it waited).
    pub linkable: bool,
}

/// One linked identity.
#[derive(Clone, Debug)]
pub struct IdentitySummary {
    /// Its id (for unlinking).
    pub id: String,
    /// The provider's name.
    pub provider: String,
    /// The provider's display name.
    pub display_name: String,
    /// The address the provider gave.
    pub email: Option<String>,
    /// The name the provider gave.
    pub name: Option<String>,
    /// When it was linked.
    pub created_at: Timestamp,
    /// When it last signed in.
    pub last_used_at: Option<Timestamp>,
}

/// How the account can sign in.
#[derive(Clone, Debug)]
pub struct SignInMethods {
    /// Whether it has a password.
    pub password: bool,
    /// How many passkeys.
    pub passkeys: u32,
    /// Its linked identities.
    pub identities: Vec<IdentitySummary>,
}

/// A waiting identity as sealed in `oauth_pending`.
#[derive(Serialize, Deserialize)]
struct Waiting {
    subject: String,
    issuer: Option<String>,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
    avatar: Option<String>,
}

impl<'a> OAuth<'a> {
    /// Email confirmation, for the accounts a provider's identity creates.
    fn confirmation(&self) -> Confirmation<'a> {
        Confirmation {
            core: self.core,
            codes: self.codes,
        }
    }

    /// The configured providers, in the order of their names.
    pub fn providers(&self) -> Vec<ProviderButton> {
        self.core
            .config()
            .oauth
            .providers
            .iter()
            .map(|p| ProviderButton {
                name: p.name.clone(),
                display_name: p.display_name.clone(),
                icon: p.icon.clone(),
                reauthenticates: p.kind.is_openid(),
            })
            .collect()
    }

    fn provider(&self, name: &str) -> Result<&'a ProviderConfig> {
        self.core
            .config()
            .oauth
            .provider(name)
            .ok_or(Error::UnknownProvider)
    }

    /// A provider created an account: the host's hook, and its audit rows.
    async fn record_registration(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        email: &EmailAddress,
        provider: &str,
        verified: bool,
    ) -> Result<()> {
        self.core
            .hooks()
            .on_register(change, user, email)
            .await
            .map_err(Error::Hook)?;
        self.core
            .create_personal_organization(change, user, email)
            .await?;
        let registered = AuditEvent::new(Action::RegisterSuccess)
            .actor(user)
            .meta("method", "oauth");
        change.audit(registered).await?;
        let event = AuditEvent::new(Action::OAuthRegister)
            .actor(user)
            .meta("provider", provider.to_owned())
            .meta("email_verified", verified);
        change.audit(event).await
    }

    async fn record_link(
        &self,
        change: &mut Change<'_>,
        config: &ProviderConfig,
        current: &Authenticated,
        after_proof: bool,
    ) -> Result<()> {
        let mut event = AuditEvent::new(Action::OAuthLink)
            .actor(&current.user().id)
            .session(current.session().id.as_str())
            .meta("provider", config.name.clone());
        if after_proof {
            event = event.meta("proved_existing_account", true);
        }
        change.audit(event).await?;
        change
            .mail(
                &current.user().email,
                Message::ProviderLinked {
                    provider: config.display_name.clone(),
                },
            )
            .await
    }

    /// The identity waiting in this browser, if any.
    ///
    /// # Errors
    /// The database failed.
    pub async fn pending(
        &self,
        binding: Option<&str>,
        current: Option<&Authenticated>,
    ) -> Result<Option<PendingIdentity>> {
        let Some(binding) = binding.and_then(PresentedToken::parse) else {
            return Ok(None);
        };
        let binding = binding.hash();
        let mut conn = self.core.db().acquire().await?;
        let Some(pending) = store::peek_pending(&mut conn, &binding, self.core.now()).await? else {
            return Ok(None);
        };
        let waiting = self.open_waiting(&binding, &pending.identity_sealed)?;
        let display = self
            .core
            .config()
            .oauth
            .provider(&pending.provider)
            .map_or(pending.provider.clone(), |p| p.display_name.clone());
        Ok(Some(PendingIdentity {
            kind: pending.kind,
            provider: display,
            email: waiting.email,
            linkable: linkable(&pending, current),
        }))
    }

    fn open_waiting(&self, binding: &TokenHash, sealed: &str) -> Result<Waiting> {
        self.secrets
            .state
            .open(&pending_context(binding), sealed)
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(Error::OAuthFailed)
    }

    /// Links the identity waiting in this browser to the signed-in account, once its owner
    /// has proved it: the account the provider's address belongs to, signed in (by password,
    /// passkey or a mailed link, and its second factor) after the identity began to wait.
    ///
    /// # Errors
    /// `OAuthFailed` when nothing waits, it is another account's, or the log-in came first.
    pub async fn confirm_pending_link(
        &self,
        owner: &AccountOwner,
        binding: Option<&str>,
        request: &RequestContext,
    ) -> Result<()> {
        let current = owner.authenticated();
        let binding = binding
            .and_then(PresentedToken::parse)
            .ok_or(Error::OAuthFailed)?
            .hash();
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let Some(pending) =
            store::take_pending(&mut change, &binding, PendingKind::ProveAccount).await?
        else {
            return Err(Error::OAuthFailed);
        };
        if pending.expires_at <= now || !linkable(&pending, Some(current)) {
            // Spent either way: a refused proof does not get another try.
            change.commit().await?;
            return Err(Error::OAuthFailed);
        }
        let config = self
            .provider(&pending.provider)
            .map_err(|_| Error::OAuthFailed)?;
        let waiting = self.open_waiting(&binding, &pending.identity_sealed)?;
        let data = IdentityData {
            provider: &config.name,
            subject: &waiting.subject,
            issuer: waiting.issuer.as_deref(),
            email: waiting.email.as_deref(),
            email_verified: waiting.email_verified,
            name: waiting.name.as_deref(),
            avatar_url: waiting.avatar.as_deref(),
            tokens: None,
        };
        if !store::insert_identity(&mut change, &current.user().id, &data, now).await? {
            return Err(Error::OAuthFailed);
        }
        self.record_link(&mut change, config, current, true).await?;
        change.commit().await
    }

    /// Creates the account of an identity whose provider gave no address, with the address
    /// typed here, and mails a confirmation: the account can be used once it is confirmed. An
    /// address that already has an account gets the same answer, and its owner a notice.
    ///
    /// # Errors
    /// `InvalidEmail`; `OAuthFailed` when nothing waits in this browser.
    pub async fn complete_address(
        &self,
        binding: Option<&str>,
        email: &str,
        request: &RequestContext,
    ) -> Result<()> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let binding = binding
            .and_then(PresentedToken::parse)
            .ok_or(Error::OAuthFailed)?
            .hash();
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let Some(pending) =
            store::take_pending(&mut change, &binding, PendingKind::AddressNeeded).await?
        else {
            return Err(Error::OAuthFailed);
        };
        if pending.expires_at <= now {
            return Err(Error::OAuthFailed);
        }
        let config = self
            .provider(&pending.provider)
            .map_err(|_| Error::OAuthFailed)?;
        let waiting = self.open_waiting(&binding, &pending.identity_sealed)?;
        let user = UserId::generate();
        let created = !users::store::address_in_use(&mut change, &email, now).await?
            && users::store::insert_without_password(&mut change, &user, &email, false, now)
                .await?;
        if !created {
            // Same answer as a new address; the owner hears of it.
            let mut event = AuditEvent::new(Action::RegisterFailure).meta("reason", "email_taken");
            if let Some(owner) = users::store::find_id_by_email(&mut change, &email).await? {
                event = event.target_user(&owner);
                let message = Message::RegistrationAttempt {
                    log_in_url: self.core.url(pages::LOG_IN),
                    reset_url: self.core.url(pages::RESET_PASSWORD),
                };
                change.mail(&email, message).await?;
            }
            change.audit(event).await?;
            return change.commit().await;
        }
        let data = IdentityData {
            provider: &config.name,
            subject: &waiting.subject,
            issuer: waiting.issuer.as_deref(),
            email: None,
            email_verified: false,
            name: waiting.name.as_deref(),
            avatar_url: waiting.avatar.as_deref(),
            tokens: None,
        };
        if !store::insert_identity(&mut change, &user, &data, now).await? {
            return Err(Error::OAuthFailed);
        }
        self.record_registration(&mut change, &user, &email, &config.name, false)
            .await?;
        self.confirmation()
            .send_confirmation(&mut change, &user, &email, AskedBy::NewAccount)
            .await?;
        change.commit().await
    }

    /// How the signed-in account can sign in: its password, passkeys and linked identities.
    ///
    /// # Errors
    /// The database failed.
    pub async fn sign_in_methods(&self, current: &Authenticated) -> Result<SignInMethods> {
        let user = &current.user().id;
        let mut conn = self.core.db().acquire().await?;
        let (password, passkeys, _) = store::sign_in_ways(&mut conn, user).await?;
        let identities = store::identities_of(&mut conn, user)
            .await?
            .into_iter()
            .map(|row| IdentitySummary {
                display_name: self
                    .core
                    .config()
                    .oauth
                    .provider(&row.provider)
                    .map_or(row.provider.clone(), |p| p.display_name.clone()),
                id: row.id,
                provider: row.provider,
                email: row.email,
                name: row.name,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
            })
            .collect();
        Ok(SignInMethods {
            password,
            passkeys: u32::try_from(passkeys).unwrap_or(u32::MAX),
            identities,
        })
    }

    /// Unlinks one of the account's identities, unless it is the last way to sign in (no
    /// password, no passkey, no other identity). The owner is mailed.
    ///
    /// # Errors
    /// `LastSignInMethod`; `OAuthFailed` when the account has no such identity.
    pub async fn unlink(
        &self,
        sudo: &Sudo,
        identity: &str,
        request: &RequestContext,
    ) -> Result<()> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let mut change = self.core.begin_change(request).await?;
        let Some(provider) = store::delete_identity(&mut change, user, identity).await? else {
            return Err(Error::OAuthFailed);
        };
        let (password, passkeys, identities) = store::sign_in_ways(&mut change, user).await?;
        if !password && passkeys == 0 && identities == 0 {
            return Err(Error::LastSignInMethod);
        }
        change
            .audit(
                AuditEvent::new(Action::OAuthUnlink)
                    .actor(user)
                    .session(current.session().id.as_str())
                    .meta("provider", provider.clone()),
            )
            .await?;
        let display = self
            .core
            .config()
            .oauth
            .provider(&provider)
            .map_or(provider.clone(), |p| p.display_name.clone());
        change
            .mail(
                &current.user().email,
                Message::ProviderUnlinked { provider: display },
            )
            .await?;
        change.commit().await
    }
}

/// Re-seals every provider token not sealed with `newest` (part of `server rotate-mfa-keys`,
/// which shares its keys); returns how many identities moved.
pub(crate) async fn reseal_tokens(
    conn: &mut sqlx::AnyConnection,
    keyring: &Keyring,
    newest: &str,
) -> Result<u64> {
    let mut moved = 0;
    for row in store::sealed_under_older_keys(conn, newest).await? {
        let context = token_context(&row.user_id, &row.provider);
        let reseal = |sealed: Option<&str>| -> Result<Option<String>> {
            sealed
                .map(|sealed| {
                    let opened = keyring.open_for(&context, sealed, &row.key_id)?;
                    Ok(keyring.seal_for(&context, &opened)?.0)
                })
                .transpose()
        };
        let access = reseal(row.access_token_sealed.as_deref())?;
        let refresh = reseal(row.refresh_token_sealed.as_deref())?;
        store::reseal(conn, &row.id, access.as_deref(), refresh.as_deref(), newest).await?;
        moved += 1;
    }
    Ok(moved)
}

/// The display names of the providers `user` signs in with (for mail to an account without a
/// password).
pub(crate) async fn provider_names_of(
    conn: &mut sqlx::AnyConnection,
    config: &crate::config::Config,
    user: &UserId,
) -> Result<Vec<String>> {
    Ok(store::identities_of(conn, user)
        .await?
        .into_iter()
        .map(|row| {
            config
                .oauth
                .provider(&row.provider)
                .map_or(row.provider, |p| p.display_name.clone())
        })
        .collect())
}

/// Whether the signed-in user may link a waiting identity: it waits for their account, and
/// they signed in to it in this browser after it began to wait (a log-in always starts a new
/// session, so the session is not the one the browser had then).
fn linkable(pending: &store::Pending, current: Option<&Authenticated>) -> bool {
    current.is_some_and(|current| {
        pending.kind == PendingKind::ProveAccount
            && pending.user_id.as_ref() == Some(&current.user().id)
            && pending.session_id.as_deref() != Some(current.session().id.as_str())
    })
}

fn pending_context(binding: &TokenHash) -> String {
    format!("oauth-pending:{}", binding.as_str())
}

fn token_context(user: &UserId, provider: &str) -> String {
    format!("oauth-token:{user}:{provider}")
}

/// The `Set-Cookie` value that binds authorizations to this browser.
pub fn binding_cookie(binding: &IssuedToken) -> http::HeaderValue {
    crate::http::host_cookie(BINDING_COOKIE, binding.expose(), Some(TRANSACTION_LIFETIME))
}
