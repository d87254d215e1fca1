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

mod client;
mod id_token;
mod store;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use url::Url;

pub(crate) use client::ProviderClient;
pub(crate) use store::delete_expired;
pub use store::{Intent, PendingKind};

use crate::audit::{Action, AuditEvent};
use crate::auth::{FirstFactor, LoginMethod};
use crate::change::Change;
use crate::clock::Timestamp;
use crate::config::{ConfirmationMode, ProviderConfig};
use crate::confirmation::{AskedBy, Confirmation, ConfirmationCodes};
use crate::crypto::{b64url, random_bytes, IssuedToken, PresentedToken, Sealer, TokenHash};
use crate::error::{Error, Result};
use crate::http::pages;
use crate::mail::Message;
use crate::mfa::{Keyring, TrustedBrowsers};
use crate::plumbing::Core;
use crate::rate_limit::client_bucket;
use crate::request::RequestContext;
use crate::sessions::{AccountOwner, Authenticated, NewSession, RenewedToken, SessionKind, Sudo};
use crate::users::{self, EmailAddress, UserId};

use client::{Failure, Profile, ProviderTokens};
use store::{IdentityData, SealedTokens};

/// The cookie that binds an authorization (and a waiting identity) to the browser.
pub const BINDING_COOKIE: &str = "__Host-sigra_oauth";
/// How long an authorization, and an identity waiting for its account, live.
pub const TRANSACTION_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Clock difference tolerated between us and a provider on `auth_time`.
const AUTH_TIME_SKEW: Duration = Duration::from_secs(30);

/// Sign-in providers: `sigra.oauth()`.
#[derive(Clone, Copy)]
pub struct OAuth<'a> {
    pub(crate) core: &'a Core,
    pub(crate) trusted: &'a TrustedBrowsers,
    pub(crate) codes: &'a ConfirmationCodes,
    pub(crate) secrets: &'a OAuthSecrets,
    pub(crate) client: &'a ProviderClient,
}

/// The keys only provider sign-in uses: the keyring that seals provider tokens at rest (the
/// TOTP keyring's keys) and the sealer of short-lived state.
pub(crate) struct OAuthSecrets {
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

/// What an authorization is started for; linking needs sudo, re-authentication a session.
pub enum StartFor<'a> {
    /// Log in or register.
    LogIn,
    /// Link the provider to the account (under sudo).
    Link(&'a Sudo),
    /// Re-authenticate with the provider to enter sudo.
    Sudo(&'a AccountOwner),
}

/// An authorization ready for the browser.
pub struct Authorization {
    /// Where to send the browser.
    pub url: String,
    /// A new binding cookie to set, when the browser had none.
    pub binding: Option<IssuedToken>,
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization").finish_non_exhaustive()
    }
}

/// A provider's answer, from the callback's query or (for `form_post`) its body.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct Answer {
    /// Our `state`.
    pub state: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// An error code (`access_denied`).
    pub error: Option<String>,
    /// The issuer (RFC 9207).
    pub iss: Option<String>,
    /// Apple's first-authorization user (name), as JSON.
    pub user: Option<String>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("error", &self.error)
            .field("iss", &self.iss)
            .finish_non_exhaustive()
    }
}

/// How a callback ended.
#[derive(Debug)]
pub enum Finished {
    /// A session started (full, or waiting for the second factor).
    Session {
        /// The new session.
        session: NewSession,
        /// Whether the account was created now.
        registered: bool,
        /// Where to go next (a local path).
        return_to: String,
    },
    /// The provider is now linked to the signed-in account.
    Linked {
        /// Where to go next.
        return_to: String,
    },
    /// The provider re-authenticated the user: sudo is open on this session, under a new token.
    SudoGranted {
        /// Where to go next.
        return_to: String,
        /// The session's new token, for the cookie.
        renewed: RenewedToken,
    },
    /// An account has this address: its owner must prove it before the provider is linked.
    ProveAccount,
    /// The provider gave no address: ask for one.
    AddressNeeded,
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

/// The secrets of an authorization, sealed in its transaction.
#[derive(Serialize, Deserialize)]
struct TransactionSecrets {
    pkce_verifier: String,
    nonce: String,
}

/// A failed callback: its audit reason and, when known, the account it touched.
struct Refused {
    reason: &'static str,
    user: Option<UserId>,
}

impl From<Failure> for Refused {
    fn from(failure: Failure) -> Self {
        Self {
            reason: failure.0,
            user: None,
        }
    }
}

fn refused(reason: &'static str) -> Refused {
    Refused { reason, user: None }
}

impl<'a> OAuth<'a> {
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

    /// Whether `provider` can be used now (`server doctor`): one found by discovery is
    /// discovered and its keys fetched; explicit endpoints are taken as configured. What was
    /// seen, or why it fails.
    ///
    /// # Errors
    /// The failure's reason (`discovery`, `discovery_mismatch`, `jwks`).
    pub async fn check_provider(
        &self,
        provider: &ProviderConfig,
    ) -> std::result::Result<String, String> {
        match &provider.endpoints {
            crate::config::Endpoints::Explicit { .. } => {
                Ok("explicit endpoints (used as configured)".to_owned())
            }
            crate::config::Endpoints::Discovery { issuer } => self
                .client
                .resolve(provider, self.core.now())
                .await
                .map(|_| format!("discovered at {issuer} with its signing keys"))
                .map_err(|failure| format!("{} failed at {issuer}", failure.0)),
        }
    }

    fn provider(&self, name: &str) -> Result<&'a ProviderConfig> {
        self.core
            .config()
            .oauth
            .provider(name)
            .ok_or(Error::UnknownProvider)
    }

    fn redirect_uri(&self, provider: &str) -> Result<Url> {
        Url::parse(
            self.core
                .url(&format!("/auth/{provider}/callback"))
                .as_str(),
        )
        .map_err(|e| Error::Internal(Box::new(e)))
    }

    /// Starts an authorization: returns where to send the browser, and a binding cookie to
    /// set when the browser had none.
    ///
    /// # Errors
    /// `UnknownProvider`; `RateLimited` past `rate_limit.auth_limit` starts per window from
    /// one address; `OAuthFailed` when the provider cannot be reached or (for sudo) is not
    /// linked to the account.
    #[tracing::instrument(
        name = "oauth.authorize",
        skip_all,
        fields(provider),
        err(level = "debug")
    )]
    pub async fn start(
        &self,
        provider: &str,
        purpose: StartFor<'_>,
        binding: Option<&str>,
        return_to: &str,
        request: &RequestContext,
    ) -> Result<Authorization> {
        let config = self.provider(provider)?;
        tracing::Span::current().record("provider", provider);
        self.limit_starts(request).await?;
        let now = self.core.now();
        let (intent, current) = match purpose {
            StartFor::LogIn => (Intent::LogIn, None),
            StartFor::Link(sudo) => (Intent::Link, Some(sudo.authenticated())),
            StartFor::Sudo(owner) => (Intent::Sudo, Some(owner.authenticated())),
        };
        if let (Intent::Sudo, Some(current)) = (intent, current) {
            let mut conn = self.core.db().acquire().await?;
            let linked = store::identities_of(&mut conn, &current.user().id)
                .await?
                .iter()
                .any(|identity| identity.provider == provider);
            if !linked || !config.kind.is_openid() {
                return Err(Error::OAuthFailed);
            }
        }
        let resolved = match self.client.resolve(config, now).await {
            Ok(resolved) => resolved,
            Err(failure) => return Err(self.refuse(provider, failure.into(), request).await),
        };
        let state = IssuedToken::generate();
        let nonce = b64url(&random_bytes::<32>());
        let redirect = self.redirect_uri(provider)?;
        let authorization = self
            .client
            .authorization(
                config,
                &resolved,
                &redirect,
                state.expose(),
                &nonce,
                intent == Intent::Sudo,
                now,
            )
            .map_err(|_| Error::OAuthFailed)?;
        let (binding_hash, new_binding) = match binding.and_then(PresentedToken::parse) {
            Some(existing) => (existing.hash(), None),
            None => {
                let fresh = IssuedToken::generate();
                (fresh.hash(), Some(fresh))
            }
        };
        let secrets = serde_json::to_vec(&TransactionSecrets {
            pkce_verifier: authorization.pkce_verifier,
            nonce,
        })
        .map_err(|e| Error::Internal(Box::new(e)))?;
        let state_hash = state.hash();
        let sealed = self
            .secrets
            .state
            .seal(&transaction_context(&state_hash), &secrets);
        let return_to = crate::http::sanitize_return_to(return_to);
        let mut change = self.core.begin_change(request).await?;
        store::insert_transaction(
            &mut change,
            store::NewTransaction {
                state_hash: &state_hash,
                binding_hash: &binding_hash,
                provider,
                intent,
                user_id: current.map(|c| &c.user().id),
                session_id: current.map(|c| c.session().id.as_str()),
                secrets_sealed: &sealed,
                return_to: &return_to,
                now,
                expires_at: now.plus(TRANSACTION_LIFETIME),
            },
        )
        .await?;
        let mut event = AuditEvent::new(Action::OAuthAuthorize)
            .meta("provider", provider.to_owned())
            .meta("intent", intent.as_str());
        if let Some(current) = current {
            event = event.actor(&current.user().id);
        }
        change.audit(event).await?;
        change.commit().await?;
        Ok(Authorization {
            url: authorization.url.to_string(),
            binding: new_binding,
        })
    }

    /// Starts are limited per client address like the guest forms: each one writes a row.
    async fn limit_starts(&self, request: &RequestContext) -> Result<()> {
        let Some(ip) = request.ip else { return Ok(()) };
        let config = &self.core.config().rate_limit;
        let decision = self
            .core
            .rate_limiter()
            .check(
                &format!("oauth:start:ip:{}", client_bucket(ip)),
                config.auth_limit,
                config.auth_window,
            )
            .await?;
        if decision.allowed {
            Ok(())
        } else {
            Err(Error::RateLimited {
                retry_after_seconds: decision.reset_after.as_secs().max(1),
            })
        }
    }

    /// Keeps a provider's posted answer (`response_mode=form_post`, a cross-site POST that
    /// carries no cookie of ours) with its authorization; the browser then comes back with a
    /// same-site GET ([`OAuth::finish`] with only the `state`), which carries the binding
    /// cookie. Returns the state to come back with.
    ///
    /// # Errors
    /// `UnknownProvider`; `OAuthFailed` when no live authorization waits for this state.
    pub async fn keep_posted_answer(
        &self,
        provider: &str,
        answer: Answer,
        request: &RequestContext,
    ) -> Result<String> {
        if !self.provider(provider)?.form_post {
            return Err(self
                .refuse(provider, refused("not_form_post"), request)
                .await);
        }
        let Some(state) = answer.state.as_deref().and_then(PresentedToken::parse) else {
            return Err(self
                .refuse(provider, refused("state_missing"), request)
                .await);
        };
        let state_hash = state.hash();
        let text = answer.state.clone().unwrap_or_default();
        let answer = serde_json::to_vec(&answer).map_err(|e| Error::Internal(Box::new(e)))?;
        let sealed = self
            .secrets
            .state
            .seal(&posted_context(&state_hash), &answer);
        let mut conn = self.core.db().acquire().await?;
        if store::keep_posted_answer(&mut conn, &state_hash, provider, &sealed, self.core.now())
            .await?
        {
            Ok(text)
        } else {
            drop(conn);
            Err(self
                .refuse(provider, refused("state_unknown"), request)
                .await)
        }
    }

    /// Finishes an authorization with the provider's answer, in the browser that started it.
    ///
    /// # Errors
    /// `UnknownProvider`; `OAuthCancelled` when the provider answered `access_denied`;
    /// `OAuthFailed` for every other refusal (the reason is in the `oauth.callback.failure`
    /// row); `Unconfirmed` when the account must confirm its address first; the database
    /// failed.
    #[tracing::instrument(
        name = "oauth.callback",
        skip_all,
        fields(provider),
        err(level = "debug")
    )]
    pub async fn finish(
        &self,
        provider: &str,
        answer: Answer,
        binding: Option<&str>,
        current: Option<&Authenticated>,
        trusted_browser: Option<&str>,
        request: &RequestContext,
    ) -> Result<Finished> {
        let config = self.provider(provider)?;
        tracing::Span::current().record("provider", provider);
        let outcome = self
            .answer(config, answer, binding, current, trusted_browser, request)
            .await;
        match outcome {
            Ok(Ok(finished)) => Ok(finished),
            Ok(Err(refusal)) => Err(self.refuse(provider, refusal, request).await),
            Err(error) => Err(error),
        }
    }

    /// The callback's steps: `Ok(Err(_))` is a refusal to audit, `Err(_)` a fault or an
    /// answer of its own (cancelled, unconfirmed).
    async fn answer(
        &self,
        config: &ProviderConfig,
        answer: Answer,
        binding: Option<&str>,
        current: Option<&Authenticated>,
        trusted_browser: Option<&str>,
        request: &RequestContext,
    ) -> Result<std::result::Result<Finished, Refused>> {
        let provider = config.name.as_str();
        // The state is checked before anything else, the token exchange included (O2).
        let Some(state) = answer.state.as_deref().and_then(PresentedToken::parse) else {
            return Ok(Err(refused("state_missing")));
        };
        let state_hash = state.hash();
        let transaction = {
            let mut conn = self.core.db().acquire().await?;
            store::take_transaction(&mut conn, &state_hash, provider).await?
        };
        let Some(transaction) = transaction else {
            return Ok(Err(refused("state_unknown")));
        };
        let same_browser = binding.and_then(PresentedToken::parse).is_some_and(|b| {
            bool::from(
                b.hash()
                    .as_str()
                    .as_bytes()
                    .ct_eq(transaction.binding_hash.as_bytes()),
            )
        });
        if !same_browser {
            return Ok(Err(refused("browser_mismatch")));
        }
        let now = self.core.now();
        if transaction.expires_at <= now {
            return Ok(Err(refused("expired")));
        }
        let answer = match (&answer.code, &answer.error, &transaction.posted_sealed) {
            (None, None, Some(posted)) => {
                let opened = self
                    .secrets
                    .state
                    .open(&posted_context(&state_hash), posted)
                    .and_then(|bytes| serde_json::from_slice::<Answer>(&bytes).ok());
                match opened {
                    Some(posted) => posted,
                    None => return Ok(Err(refused("posted_answer"))),
                }
            }
            _ => answer,
        };
        if let Some(error) = &answer.error {
            let reason = if error == "access_denied" {
                "access_denied"
            } else {
                "provider_error"
            };
            self.refuse(provider, refused(reason), request).await;
            return Err(if reason == "access_denied" {
                Error::OAuthCancelled
            } else {
                Error::OAuthFailed
            });
        }
        let resolved = match self.client.resolve(config, now).await {
            Ok(resolved) => resolved,
            Err(failure) => return Ok(Err(failure.into())),
        };
        // RFC 9207: an answer names its issuer; it must be this provider's.
        match (&answer.iss, &resolved.issuer) {
            (Some(iss), Some(issuer)) if iss != issuer => return Ok(Err(refused("iss_mismatch"))),
            (None, Some(_)) if resolved.iss_parameter => return Ok(Err(refused("iss_missing"))),
            _ => {}
        }
        let Some(code) = answer.code.clone() else {
            return Ok(Err(refused("code_missing")));
        };
        let secrets = self
            .secrets
            .state
            .open(
                &transaction_context(&state_hash),
                &transaction.secrets_sealed,
            )
            .and_then(|bytes| serde_json::from_slice::<TransactionSecrets>(&bytes).ok());
        let Some(secrets) = secrets else {
            return Ok(Err(refused("transaction_secrets")));
        };
        let redirect = self.redirect_uri(provider)?;
        let profile = match self
            .client
            .exchange(
                config,
                &resolved,
                &redirect,
                code,
                secrets.pkce_verifier,
                &secrets.nonce,
                answer.user.as_deref(),
                now,
            )
            .await
        {
            Ok(profile) => profile,
            Err(failure) => return Ok(Err(failure.into())),
        };
        let return_to = transaction.return_to.clone();
        match transaction.intent {
            Intent::LogIn => {
                self.log_in(
                    config,
                    profile,
                    return_to,
                    current,
                    trusted_browser,
                    binding,
                    request,
                )
                .await
            }
            Intent::Link | Intent::Sudo => {
                let Some(current) = current.filter(|c| {
                    Some(&c.user().id) == transaction.user_id.as_ref()
                        && Some(c.session().id.as_str()) == transaction.session_id.as_deref()
                }) else {
                    return Ok(Err(refused("session_changed")));
                };
                if transaction.intent == Intent::Link {
                    self.link(config, profile, current, return_to, request)
                        .await
                } else {
                    self.reauthenticate(
                        config,
                        profile,
                        current,
                        transaction.created_at,
                        return_to,
                        request,
                    )
                    .await
                }
            }
        }
    }

    /// Writes `oauth.callback.failure` and returns the one error a refused callback gets.
    async fn refuse(&self, provider: &str, refusal: Refused, request: &RequestContext) -> Error {
        let mut event = AuditEvent::new(Action::OAuthCallbackFailure)
            .meta("provider", provider.to_owned())
            .meta("reason", refusal.reason);
        if let Some(user) = &refusal.user {
            event = event.target_user(user);
        }
        tracing::info!(
            provider,
            reason = refusal.reason,
            "provider sign-in refused"
        );
        match self.core.audit_alone(event, request).await {
            Ok(()) => Error::OAuthFailed,
            Err(error) => error,
        }
    }

    fn seal_tokens(
        &self,
        user: &UserId,
        provider: &str,
        tokens: &ProviderTokens,
        now: Timestamp,
    ) -> Result<SealedTokens> {
        let context = token_context(user, provider);
        let (access, key_id) = self
            .secrets
            .keyring
            .seal_for(&context, tokens.access.as_bytes())?;
        let refresh = match &tokens.refresh {
            Some(refresh) => {
                let (sealed, refresh_key) = self
                    .secrets
                    .keyring
                    .seal_for(&context, refresh.as_bytes())?;
                debug_assert_eq!(refresh_key, key_id);
                Some(sealed)
            }
            None => None,
        };
        Ok(SealedTokens {
            access,
            refresh,
            key_id,
            expires_at: tokens.expires_in.map(|d| now.plus(d)),
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn log_in(
        &self,
        config: &ProviderConfig,
        profile: Profile,
        return_to: String,
        current: Option<&Authenticated>,
        trusted_browser: Option<&str>,
        binding: Option<&str>,
        request: &RequestContext,
    ) -> Result<std::result::Result<Finished, Refused>> {
        let provider = config.name.as_str();
        let email = profile
            .email
            .as_deref()
            .and_then(|e| EmailAddress::parse(e).ok());
        let verified = email.is_some() && profile.email_verified && config.trust_email;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        if let Some(identity) =
            store::find_identity(&mut change, provider, &profile.subject).await?
        {
            let user = identity.user_id.clone();
            if let Some(email) = &email {
                let owner = users::store::find_id_by_email(&mut change, email).await?;
                if owner.is_some_and(|owner| owner != user) {
                    return Ok(Err(Refused {
                        reason: "email_mismatch",
                        user: Some(user),
                    }));
                }
            }
            let tokens = self.seal_tokens(&user, provider, &profile.tokens, now)?;
            let data = identity_data(provider, &profile, email.as_ref(), verified, Some(&tokens));
            store::refresh_identity(&mut change, &identity.id, &data, now).await?;
            let account = users::store::credentials(&mut change, users::store::Lookup::Id(&user))
                .await?
                .ok_or(Error::OAuthFailed)?;
            if account.confirmed_at.is_none()
                && (email.is_none() || self.core.config().confirmation == ConfirmationMode::Block)
            {
                drop(change);
                self.core
                    .refuse::<()>(LoginMethod::OAuth, Some(&user), "unconfirmed", request)
                    .await
                    .ok();
                return Err(Error::Unconfirmed);
            }
            let session = self
                .start_session(&mut change, config, &user, current, trusted_browser)
                .await?;
            change.commit().await?;
            return Ok(Ok(Finished::Session {
                session,
                registered: false,
                return_to,
            }));
        }
        let Some(email) = email else {
            self.wait(
                &mut change,
                binding,
                current,
                PendingKind::AddressNeeded,
                provider,
                None,
                &profile,
                None,
                false,
            )
            .await?;
            change.commit().await?;
            return Ok(Ok(Finished::AddressNeeded));
        };
        let account =
            users::store::credentials(&mut change, users::store::Lookup::Email(&email)).await?;
        match account {
            // An address the provider does not vouch for proves nothing about the account
            // that has it: no link, no log-in (account takeover by an unverified address).
            Some(account) if !verified => Ok(Err(Refused {
                reason: "unverified_email_in_use",
                user: Some(account.id),
            })),
            // Nobody ever proved this account's mailbox; the provider just did. Whatever
            // credentials it has were set by someone who may not own the address (account
            // pre-hijacking): they end, and the identity is linked.
            Some(account) if account.confirmed_at.is_none() => {
                let user = account.id;
                store::reset_unproved_credentials(&mut change, &user, now).await?;
                users::store::confirm(&mut change, &user, now).await?;
                let tokens = self.seal_tokens(&user, provider, &profile.tokens, now)?;
                let data = identity_data(provider, &profile, Some(&email), true, Some(&tokens));
                if !store::insert_identity(&mut change, &user, &data, now).await? {
                    return Ok(Err(refused("identity_race")));
                }
                let event = AuditEvent::new(Action::OAuthLink)
                    .actor(&user)
                    .meta("provider", provider.to_owned())
                    .meta("reset_unconfirmed", true);
                change.audit(event).await?;
                change
                    .mail(
                        &email,
                        Message::ProviderLinked {
                            provider: config.display_name.clone(),
                        },
                    )
                    .await?;
                let session = self
                    .start_session(&mut change, config, &user, current, trusted_browser)
                    .await?;
                change.commit().await?;
                Ok(Ok(Finished::Session {
                    session,
                    registered: false,
                    return_to,
                }))
            }
            Some(account) => {
                self.wait(
                    &mut change,
                    binding,
                    current,
                    PendingKind::ProveAccount,
                    provider,
                    Some(&account.id),
                    &profile,
                    Some(&email),
                    verified,
                )
                .await?;
                change.commit().await?;
                Ok(Ok(Finished::ProveAccount))
            }
            None if users::store::address_in_use(&mut change, &email, now).await? => {
                Ok(Err(refused("email_reserved")))
            }
            None => {
                let user = UserId::generate();
                if !users::store::insert_without_password(&mut change, &user, &email, verified, now)
                    .await?
                {
                    return Ok(Err(refused("email_reserved")));
                }
                let tokens = self.seal_tokens(&user, provider, &profile.tokens, now)?;
                let data = identity_data(provider, &profile, Some(&email), verified, Some(&tokens));
                if !store::insert_identity(&mut change, &user, &data, now).await? {
                    return Ok(Err(refused("identity_race")));
                }
                self.record_registration(&mut change, &user, &email, provider, verified)
                    .await?;
                if !verified {
                    let confirmation = Confirmation {
                        core: self.core,
                        codes: self.codes,
                    };
                    confirmation
                        .send_confirmation(&mut change, &user, &email, AskedBy::NewAccount)
                        .await?;
                    if self.core.config().confirmation == ConfirmationMode::Block {
                        change.commit().await?;
                        return Err(Error::Unconfirmed);
                    }
                }
                let session = self
                    .start_session(&mut change, config, &user, current, trusted_browser)
                    .await?;
                change.commit().await?;
                Ok(Ok(Finished::Session {
                    session,
                    registered: true,
                    return_to,
                }))
            }
        }
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

    /// The proved identity logs its user in through the one log-in path: remember-me (as in
    /// Sigra), and the second factor where the account has one.
    async fn start_session(
        &self,
        change: &mut Change<'_>,
        config: &ProviderConfig,
        user: &UserId,
        current: Option<&Authenticated>,
        trusted_browser: Option<&str>,
    ) -> Result<NewSession> {
        let email = users::store::email_of(change, user)
            .await?
            .ok_or(Error::OAuthFailed)?;
        change
            .audit(
                AuditEvent::new(Action::OAuthLogin)
                    .actor(user)
                    .meta("provider", config.name.clone()),
            )
            .await?;
        let factor = FirstFactor {
            user,
            email: &email,
            method: LoginMethod::OAuth,
            kind: SessionKind::RememberMe,
            replacing: current,
            trusted_browser,
            detail: AuditEvent::new(Action::LoginSuccess).meta("provider", config.name.clone()),
        };
        self.core
            .complete_log_in(self.trusted, change, factor)
            .await
    }

    /// Keeps a provider identity waiting in this browser.
    #[allow(clippy::too_many_arguments)]
    async fn wait(
        &self,
        change: &mut Change<'_>,
        binding: Option<&str>,
        session: Option<&Authenticated>,
        kind: PendingKind,
        provider: &str,
        user: Option<&UserId>,
        profile: &Profile,
        email: Option<&EmailAddress>,
        verified: bool,
    ) -> Result<()> {
        let binding = binding
            .and_then(PresentedToken::parse)
            .ok_or(Error::OAuthFailed)?
            .hash();
        let waiting = Waiting {
            subject: profile.subject.clone(),
            issuer: profile.issuer.clone(),
            email: email.map(ToString::to_string),
            email_verified: verified,
            name: profile.name.clone(),
            avatar: profile.avatar.clone(),
        };
        let bytes = serde_json::to_vec(&waiting).map_err(|e| Error::Internal(Box::new(e)))?;
        let sealed = self.secrets.state.seal(&pending_context(&binding), &bytes);
        let now = change.now();
        let session = session.map(|s| s.session().id.as_str());
        store::put_pending(
            change,
            &binding,
            kind,
            provider,
            user,
            session,
            &sealed,
            now,
            now.plus(TRANSACTION_LIFETIME),
        )
        .await
    }

    async fn link(
        &self,
        config: &ProviderConfig,
        profile: Profile,
        current: &Authenticated,
        return_to: String,
        request: &RequestContext,
    ) -> Result<std::result::Result<Finished, Refused>> {
        let provider = config.name.as_str();
        let user = &current.user().id;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let email = profile
            .email
            .as_deref()
            .and_then(|e| EmailAddress::parse(e).ok());
        let verified = email.is_some() && profile.email_verified && config.trust_email;
        match store::find_identity(&mut change, provider, &profile.subject).await? {
            Some(identity) if &identity.user_id == user => {}
            Some(_) => {
                return Ok(Err(Refused {
                    reason: "identity_linked_elsewhere",
                    user: Some(user.clone()),
                }))
            }
            None => {
                let tokens = self.seal_tokens(user, provider, &profile.tokens, now)?;
                let data =
                    identity_data(provider, &profile, email.as_ref(), verified, Some(&tokens));
                if !store::insert_identity(&mut change, user, &data, now).await? {
                    return Ok(Err(refused("identity_race")));
                }
                self.record_link(&mut change, config, current, false)
                    .await?;
            }
        }
        change.commit().await?;
        Ok(Ok(Finished::Linked { return_to }))
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

    async fn reauthenticate(
        &self,
        config: &ProviderConfig,
        profile: Profile,
        current: &Authenticated,
        started_at: Timestamp,
        return_to: String,
        request: &RequestContext,
    ) -> Result<std::result::Result<Finished, Refused>> {
        let user = &current.user().id;
        let mut change = self.core.begin_change(request).await?;
        let linked = store::find_identity(&mut change, &config.name, &profile.subject)
            .await?
            .is_some_and(|identity| &identity.user_id == user);
        if !linked {
            return Ok(Err(Refused {
                reason: "identity_not_linked",
                user: Some(user.clone()),
            }));
        }
        // A fresh log-in at the provider, after this authorization began (prompt=login,
        // max_age=0); a remembered provider session does not open sudo here.
        let fresh = profile.auth_time.is_some_and(|seconds| {
            seconds.saturating_mul(1000)
                >= started_at
                    .as_millis()
                    .saturating_sub(crate::clock::millis_of(AUTH_TIME_SKEW))
        });
        if !fresh {
            return Ok(Err(Refused {
                reason: "stale_auth_time",
                user: Some(user.clone()),
            }));
        }
        let renewed = self
            .core
            .grant_sudo(&mut change, current, "oauth", Some(&config.name))
            .await?;
        change.commit().await?;
        Ok(Ok(Finished::SudoGranted { return_to, renewed }))
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
        let confirmation = Confirmation {
            core: self.core,
            codes: self.codes,
        };
        confirmation
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

    /// The provider's access token for the signed-in user's identity at `provider`, refreshed
    /// first (and stored again, sealed) when it has expired.
    ///
    /// # Errors
    /// `OAuthFailed` when there is no identity, no token, or an expired one cannot be
    /// refreshed; `UnknownProvider`.
    pub async fn access_token(
        &self,
        current: &Authenticated,
        provider: &str,
        request: &RequestContext,
    ) -> Result<zeroize::Zeroizing<String>> {
        let config = self.provider(provider)?;
        let user = &current.user().id;
        let identity = {
            let mut conn = self.core.db().acquire().await?;
            store::identities_of(&mut conn, user)
                .await?
                .into_iter()
                .find(|identity| identity.provider == provider)
                .ok_or(Error::OAuthFailed)?
        };
        let context = token_context(user, provider);
        let key_id = identity.key_id.as_deref().ok_or(Error::OAuthFailed)?;
        let now = self.core.now();
        let expired = identity.token_expires_at.is_some_and(|at| at <= now);
        if !expired {
            let sealed = identity
                .access_token_sealed
                .as_deref()
                .ok_or(Error::OAuthFailed)?;
            let opened = self.secrets.keyring.open_for(&context, sealed, key_id)?;
            return String::from_utf8(opened.to_vec())
                .map(zeroize::Zeroizing::new)
                .map_err(|_| Error::OAuthFailed);
        }
        let sealed = identity
            .refresh_token_sealed
            .as_deref()
            .ok_or(Error::OAuthFailed)?;
        let refresh = self.secrets.keyring.open_for(&context, sealed, key_id)?;
        let refresh = String::from_utf8(refresh.to_vec()).map_err(|_| Error::OAuthFailed)?;
        let resolved = self
            .client
            .resolve(config, now)
            .await
            .map_err(|_| Error::OAuthFailed)?;
        let redirect = self.redirect_uri(provider)?;
        let tokens = match self
            .client
            .refresh(config, &resolved, &redirect, refresh, now)
            .await
        {
            Ok(tokens) => tokens,
            Err(failure) => {
                return Err(self
                    .refuse(
                        provider,
                        Refused {
                            reason: failure.0,
                            user: Some(user.clone()),
                        },
                        request,
                    )
                    .await)
            }
        };
        let sealed = self.seal_tokens(user, provider, &tokens, now)?;
        let mut change = self.core.begin_change(request).await?;
        store::store_tokens(&mut change, &identity.id, &sealed).await?;
        change.commit().await?;
        Ok(zeroize::Zeroizing::new(tokens.access))
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

fn identity_data<'p>(
    provider: &'p str,
    profile: &'p Profile,
    email: Option<&'p EmailAddress>,
    verified: bool,
    tokens: Option<&'p SealedTokens>,
) -> IdentityData<'p> {
    IdentityData {
        provider,
        subject: &profile.subject,
        issuer: profile.issuer.as_deref(),
        email: email.map(EmailAddress::as_str),
        email_verified: verified,
        name: profile.name.as_deref(),
        avatar_url: profile.avatar.as_deref(),
        tokens,
    }
}

fn transaction_context(state: &TokenHash) -> String {
    format!("oauth-transaction:{}", state.as_str())
}

fn posted_context(state: &TokenHash) -> String {
    format!("oauth-posted:{}", state.as_str())
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
