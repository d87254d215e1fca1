//! The protocol half of sign-in with providers (Cargo feature `oauth`): starting an
//! authorization, the callback (code exchange, ID token, routing by identity), and refreshing
//! a provider's access token. The identities it stores, the pending ones and the linked
//! accounts pages work without it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use url::Url;

use crate::audit::{Action, AuditEvent};
use crate::auth::{FirstFactor, LoginMethod};
use crate::change::Change;
use crate::clock::Timestamp;
use crate::config::{ConfirmationMode, ProviderConfig};
use crate::confirmation::AskedBy;
use crate::crypto::{b64url, random_bytes, IssuedToken, PresentedToken, TokenHash};
use crate::error::{Error, Result};
use crate::mail::Message;
use crate::rate_limit::client_bucket;
use crate::request::RequestContext;
use crate::sessions::{AccountOwner, Authenticated, NewSession, RenewedToken, SessionKind, Sudo};
use crate::users::{self, EmailAddress, UserId};

use super::client::{Failure, Profile, ProviderTokens};
use super::store::{self, IdentityData, Intent, PendingKind, SealedTokens};
use super::{pending_context, token_context, OAuth, Waiting, TRANSACTION_LIFETIME};

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

impl<'a> OAuth<'a> {
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
                    self.confirmation()
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
}

/// Clock difference tolerated between us and a provider on `auth_time`.
const AUTH_TIME_SKEW: Duration = Duration::from_secs(30);

fn transaction_context(state: &TokenHash) -> String {
    format!("oauth-transaction:{}", state.as_str())
}

fn posted_context(state: &TokenHash) -> String {
    format!("oauth-posted:{}", state.as_str())
}
