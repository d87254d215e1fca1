//! JWT access tokens and refresh-token families for API clients, and their log-in.
//!
//! Access tokens are compact JWS (EdDSA by default, ES256 optional) with `typ: at+jwt` and a
//! `kid`, carrying `iss`, `sub`, `aud`, `exp` (15 minutes), `iat`, `nbf`, `jti`, `scope`, the
//! user's token epoch and the host's custom claims. Verification takes the algorithm from the
//! key, never from the token, requires every registered claim, forgives at most the configured
//! leeway, and compares the epoch with the user's (one database read).
//!
//! Refresh tokens are opaque (32 random bytes, SHA-256 stored). Each use supersedes the token
//! and issues the next in its family; presenting a superseded token revokes the family
//! (`api.jwt_refresh_reuse`). A family dies at its absolute lifetime whatever its rotations.
//!
//! API clients log in with a password or a passkey through the same checks as the log-in form;
//! an account with a second factor first gets a short-lived MFA token, exchanged with a code
//! through the same second-factor check and lock as the browser's `/users/mfa`.

mod claims;
mod jws;
mod keys;
mod store;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

pub(crate) use keys::JwtKeys;

use crate::api_tokens::{ScopeRegistry, Scopes};
use crate::audit::{Action, AuditEvent};
use crate::auth::{ApiNextStep, LoginMethod};
use crate::change::Change;
use crate::clock::Timestamp;
use crate::crypto::{IssuedToken, PresentedToken};
use crate::error::{Error, Result};
use crate::mfa::{Mfa, SecondFactor};
#[cfg(feature = "passkeys")]
use crate::passkeys::Passkeys;
use crate::password::Password;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::users::{self, EmailAddress, User, UserId};

use claims::{AccessClaims, Rules};

/// How long an MFA token lives.
const MFA_TOKEN_TTL: Duration = Duration::from_secs(5 * 60);

/// Claims a host adds to every access token (a tenant, a plan, a role). Names the core sets
/// (`iss`, `sub`, `aud`, `exp`, `iat`, `nbf`, `jti`, `scope`, `epoch`, …) are ignored.
pub trait CustomClaims: Send + Sync + 'static {
    /// The extra claims for `user`'s token with `scopes`.
    fn claims(&self, user: &User, scopes: &Scopes) -> Map<String, Value>;
}

/// No custom claims (the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCustomClaims;

impl CustomClaims for NoCustomClaims {
    fn claims(&self, _user: &User, _scopes: &Scopes) -> Map<String, Value> {
        Map::new()
    }
}

/// Proof that the request carries a valid access token: its user, its scopes and its id.
/// Only [`Jwt::verify_access`] builds one, and no service that changes credentials accepts it.
#[derive(Clone, Debug)]
pub struct AccessTokenAuth {
    user: User,
    jti: String,
    scopes: Scopes,
    extra: Map<String, Value>,
}

impl AccessTokenAuth {
    /// The token's user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The token's id (`jti`).
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// Its scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// A custom claim the host added when the token was issued.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.extra.get(name)
    }
}

/// A new access token and the refresh token that renews it.
pub struct TokenPair {
    /// The JWT.
    pub access_token: String,
    /// The opaque refresh token (shown to the client once).
    pub refresh_token: IssuedToken,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// What it may do.
    pub scopes: Scopes,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// A log-in waiting for its second factor: the MFA token to send back with a code.
#[derive(Debug)]
pub struct SecondFactorChallenge {
    /// The single-use MFA token.
    pub mfa_token: IssuedToken,
    /// Seconds it lives.
    pub expires_in: u64,
}

/// What an API log-in answers.
#[derive(Debug)]
pub enum ApiLogIn {
    /// Logged in.
    Tokens(TokenPair),
    /// The account has a second factor: exchange the MFA token with a code.
    SecondFactor(SecondFactorChallenge),
}

/// How an API client proves its first factor.
pub enum ApiCredentials {
    /// Email and password.
    Password {
        /// The email as typed.
        email: String,
        /// The password.
        password: Password,
    },
    /// A passkey's answer to a ceremony from [`crate::passkeys::Passkeys::start_passkey_log_in`].
    #[cfg(feature = "passkeys")]
    Passkey {
        /// The ceremony id.
        ceremony: String,
        /// The `PublicKeyCredential`, as JSON.
        response: String,
    },
}

/// JWTs for API clients: `sigra.jwt()`.
#[derive(Clone, Copy)]
pub struct Jwt<'a> {
    pub(crate) core: &'a Core,
    pub(crate) keys: &'a JwtKeys,
    pub(crate) registry: &'a ScopeRegistry,
    pub(crate) custom: &'a Arc<dyn CustomClaims>,
    pub(crate) mfa: Mfa<'a>,
    #[cfg(feature = "passkeys")]
    pub(crate) passkeys: Passkeys<'a>,
}

fn seconds(at: Timestamp) -> i64 {
    at.as_millis().div_euclid(1000)
}

impl Jwt<'_> {
    /// The public keys, as a JWK set (`/.well-known/jwks.json`).
    ///
    /// # Errors
    /// The database failed, or a stored key does not open.
    pub async fn jwks(&self) -> Result<Value> {
        let now = self.core.now();
        Ok(self.keys.current(self.core.db(), now).await?.jwks(now))
    }

    /// Makes a new signing key and retires the current one once the tokens it signed have
    /// expired (`server rotate-jwt-keys`). Returns the new key's id.
    ///
    /// # Errors
    /// The database failed.
    pub async fn rotate_keys(&self, request: &RequestContext) -> Result<String> {
        let config = &self.core.config().jwt;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let (id, retiring) = self
            .keys
            .rotate(&mut change, now, config.access_ttl, config.leeway)
            .await?;
        let event = AuditEvent::new(Action::JwtKeysRotate)
            .by_system()
            .meta("kid", id.clone())
            .meta("retiring", retiring);
        change.audit(event).await?;
        change.commit().await?;
        self.keys.forget();
        Ok(id)
    }

    /// Signs `header` and `claims` exactly as given with the key that signs now (the header's
    /// `kid` and `alg` are the test's to choose): hostile-token tests need the real key.
    ///
    /// # Errors
    /// The database failed.
    #[cfg(feature = "testing")]
    pub async fn sign_as_given(&self, header: &Value, claims: &Value) -> Result<String> {
        let now = self.core.now();
        let keys = self.keys.current(self.core.db(), now).await?;
        let key = keys
            .signing(now, self.core.config().jwt.algorithm)
            .ok_or_else(|| Error::Internal("no JWT signing key".into()))?;
        let encode = |value: &Value| crate::crypto::b64url(value.to_string().as_bytes());
        let input = format!("{}.{}", encode(header), encode(claims));
        let signature = key.sign(input.as_bytes());
        Ok(format!("{input}.{}", crate::crypto::b64url(&signature)))
    }

    /// The id of the key that signs now.
    ///
    /// # Errors
    /// The database failed.
    #[cfg(feature = "testing")]
    pub async fn signing_key_id(&self) -> Result<String> {
        let now = self.core.now();
        let keys = self.keys.current(self.core.db(), now).await?;
        keys.signing(now, self.core.config().jwt.algorithm)
            .map(|key| key.id.clone())
            .ok_or_else(|| Error::Internal("no JWT signing key".into()))
    }

    /// Checks an access token.
    ///
    /// # Errors
    /// `TokenRejected` for any refusal; the database failed.
    pub async fn verify_access(&self, token: &str) -> Result<AccessTokenAuth> {
        let config = &self.core.config().jwt;
        let now = self.core.now();
        let refuse = |why: &str| {
            tracing::debug!(reason = why, "access token refused");
            Error::TokenRejected
        };
        let parts = jws::split(token).ok_or_else(|| refuse("malformed"))?;
        if parts.header.typ != jws::ACCESS_TOKEN_TYPE {
            return Err(refuse("typ"));
        }
        let keys = self.keys.current(self.core.db(), now).await?;
        let key = keys
            .verifying(&parts.header.kid, now)
            .ok_or_else(|| refuse("kid"))?;
        if parts.header.alg != key.algorithm.as_str() {
            return Err(refuse("alg"));
        }
        if !key.verifies(parts.signing_input.as_bytes(), &parts.signature) {
            return Err(refuse("signature"));
        }
        let claims: AccessClaims =
            serde_json::from_slice(&parts.payload).map_err(|_| refuse("claims"))?;
        let rules = Rules {
            issuer: &config.issuer,
            audience: &config.audience,
            leeway_secs: i64::try_from(config.leeway.as_secs()).unwrap_or(0),
            max_lifetime_secs: i64::try_from(config.access_ttl.as_secs()).unwrap_or(0),
        };
        claims
            .check(&rules, seconds(now))
            .map_err(|why| refuse(&format!("{why:?}")))?;
        let account = {
            let mut conn = self.core.db().acquire().await?;
            users::store::account(&mut conn, &UserId::from_stored(claims.sub.clone())).await?
        };
        let account = account
            .filter(|a| a.token_epoch == claims.epoch)
            .ok_or_else(|| refuse("epoch"))?;
        Ok(AccessTokenAuth {
            user: account.user,
            scopes: Scopes::from_stored(&claims.scope),
            jti: claims.jti,
            extra: claims.extra,
        })
    }

    fn sign_access(
        &self,
        keys: &keys::KeySet,
        user: &User,
        scopes: &Scopes,
        epoch: i64,
        now: Timestamp,
    ) -> Result<String> {
        let config = &self.core.config().jwt;
        let key = keys
            .signing(now, config.algorithm)
            .ok_or_else(|| Error::Internal("no JWT signing key".into()))?;
        let iat = seconds(now);
        let mut extra = self.custom.claims(user, scopes);
        extra.retain(|name, _| !claims::REGISTERED.contains(&name.as_str()));
        let claims = AccessClaims {
            iss: config.issuer.clone(),
            sub: user.id.to_string(),
            aud: config.audience.clone(),
            exp: iat + i64::try_from(config.access_ttl.as_secs()).unwrap_or(900),
            iat,
            nbf: iat,
            jti: uuid::Uuid::now_v7().simple().to_string(),
            scope: scopes.to_string(),
            epoch,
            extra,
        };
        let header = jws::Header {
            alg: key.algorithm.as_str().to_owned(),
            typ: jws::ACCESS_TOKEN_TYPE.to_owned(),
            kid: key.id.clone(),
        };
        let payload = serde_json::to_vec(&claims).map_err(|e| Error::Internal(Box::new(e)))?;
        let input = jws::signing_input(&header, &payload);
        let signature = key.sign(input.as_bytes());
        Ok(format!("{input}.{}", crate::crypto::b64url(&signature)))
    }

    /// Starts a refresh family for `user` on `change` and signs its first access token with
    /// `keys` (read before the change began: making the first key is a write of its own).
    async fn issue(
        &self,
        change: &mut Change<'_>,
        keys: &keys::KeySet,
        user: &UserId,
        scopes: Scopes,
    ) -> Result<TokenPair> {
        let config = &self.core.config().jwt;
        let now = change.now();
        let account = users::store::account(change, user)
            .await?
            .ok_or(Error::InvalidCredentials)?;
        let family = uuid::Uuid::now_v7().to_string();
        let family_expires = now.plus(config.family_lifetime);
        let stored_scopes = scopes.to_string();
        store::insert_family(
            change,
            store::NewFamily {
                id: &family,
                user,
                scopes: &stored_scopes,
                epoch: account.token_epoch,
                now,
                expires_at: family_expires,
            },
        )
        .await?;
        let refresh_token = IssuedToken::generate();
        let token_expires = now.plus(config.refresh_ttl).min(family_expires);
        store::insert_token(change, &family, &refresh_token.hash(), now, token_expires).await?;
        let access_token =
            self.sign_access(keys, &account.user, &scopes, account.token_epoch, now)?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_in: config.access_ttl.as_secs(),
            scopes,
        })
    }

    /// The scopes an API log-in asked for (all registered ones when it named none).
    fn requested_scopes(&self, requested: Option<&[String]>) -> Result<Scopes> {
        match requested {
            Some(scopes) if !scopes.is_empty() => self.registry.validate(scopes),
            _ => {
                let all: Vec<&str> = self.registry.all().collect();
                self.registry.validate(&all)
            }
        }
    }

    /// Logs an API client in: the same checks, lock and audit rows as the log-in form, then
    /// tokens, or, when the account has a second factor, an MFA token and no tokens yet.
    ///
    /// # Errors
    /// `InvalidCredentials` / `PasskeyRejected` for every failed first factor;
    /// `UnregisteredScopes`; `Unconfirmed`; `Busy`; the database failed.
    pub async fn log_in(
        &self,
        credentials: ApiCredentials,
        scopes: Option<&[String]>,
        request: &RequestContext,
    ) -> Result<ApiLogIn> {
        let scopes = self.requested_scopes(scopes)?;
        let keys = self.keys.current(self.core.db(), self.core.now()).await?;
        let (mut change, user, email, method, detail) = match credentials {
            ApiCredentials::Password { email, password } => {
                let proved = self
                    .core
                    .check_password_log_in(&email, &password, request)
                    .await?;
                let mut change = self.core.begin_change(request).await?;
                if let Some(hash) = &proved.upgraded {
                    let now = change.now();
                    users::store::replace_password_hash(&mut change, &proved.user, hash, now)
                        .await?;
                }
                let detail = AuditEvent::new(Action::LoginSuccess)
                    .meta("algorithm_upgraded", proved.upgraded.is_some());
                (
                    change,
                    proved.user,
                    proved.email,
                    LoginMethod::Password,
                    detail,
                )
            }
            #[cfg(feature = "passkeys")]
            ApiCredentials::Passkey { ceremony, response } => {
                if !self
                    .core
                    .config
                    .capabilities
                    .has(crate::config::Capability::Passkeys)
                {
                    return Err(Error::NotFound);
                }
                let change = self.core.begin_change(request).await?;
                let (change, proved) = self
                    .passkeys
                    .check_passkey_log_in(change, &ceremony, &response, request)
                    .await?;
                let detail =
                    AuditEvent::new(Action::LoginSuccess).meta("credential", proved.credential);
                (
                    change,
                    proved.user,
                    proved.email,
                    LoginMethod::Passkey,
                    detail,
                )
            }
        };
        let next = self
            .core
            .complete_api_log_in(&mut change, &user, &email, method, detail)
            .await?;
        let answer = match next {
            ApiNextStep::SecondFactor => {
                let now = change.now();
                let mfa_token = IssuedToken::generate();
                let stored_scopes = scopes.to_string();
                store::insert_challenge(
                    &mut change,
                    store::NewChallenge {
                        user: &user,
                        hash: &mfa_token.hash(),
                        first_factor: method,
                        scopes: &stored_scopes,
                        now,
                        expires_at: now.plus(MFA_TOKEN_TTL),
                    },
                )
                .await?;
                ApiLogIn::SecondFactor(SecondFactorChallenge {
                    mfa_token,
                    expires_in: MFA_TOKEN_TTL.as_secs(),
                })
            }
            ApiNextStep::Done => {
                ApiLogIn::Tokens(self.issue(&mut change, &keys, &user, scopes).await?)
            }
        };
        change.commit().await?;
        Ok(answer)
    }

    /// Finishes an API log-in with its second factor (an app code or a backup code), through
    /// the same check and lock as the browser's second-factor step. The MFA token is single
    /// use; a lock ends it.
    ///
    /// # Errors
    /// `TokenRejected` for an unknown, used or expired MFA token; `InvalidCode`; `MfaLocked`.
    pub async fn complete_second_factor(
        &self,
        mfa_token: &str,
        code: &str,
        request: &RequestContext,
    ) -> Result<TokenPair> {
        let presented = PresentedToken::parse(mfa_token).ok_or(Error::TokenRejected)?;
        let keys = self.keys.current(self.core.db(), self.core.now()).await?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let challenge = store::live_challenge(&mut change, &presented.hash(), now)
            .await?
            .ok_or(Error::TokenRejected)?;
        let user = challenge.user_id.clone();
        let email: EmailAddress = users::store::email_of(&mut change, &user)
            .await?
            .ok_or(Error::TokenRejected)?;
        let factor = match SecondFactor::parse(code) {
            factor @ (SecondFactor::Totp(_) | SecondFactor::BackupCode(_)) => factor,
            #[cfg(feature = "passkeys")]
            SecondFactor::Passkey { .. } => return Err(Error::InvalidCode),
        };
        if let Err(error) = self
            .mfa
            .check_factor(&mut change, &user, &email, &factor)
            .await
        {
            if matches!(error, Error::MfaLocked) {
                store::drop_challenges(&mut change, &user).await?;
            }
            change.commit().await?;
            return Err(error);
        }
        if !store::take_challenge(&mut change, &challenge.id).await? {
            return Err(Error::TokenRejected);
        }
        if let SecondFactor::BackupCode(_) = factor {
            self.mfa
                .record_backup_code_use(&mut change, &user, &email)
                .await?;
        }
        let mut success =
            AuditEvent::new(Action::LoginSuccess).meta("second_factor", factor.method());
        if let Some(first) = challenge.first_factor.0 {
            success = success.meta("method", first.as_str());
        }
        self.core
            .finish_api_log_in(&mut change, &user, &email, success)
            .await?;
        let pair = self
            .issue(
                &mut change,
                &keys,
                &user,
                Scopes::from_stored(&challenge.scopes),
            )
            .await?;
        change.commit().await?;
        Ok(pair)
    }

    /// Exchanges a refresh token for a new pair in its family. A superseded token presented
    /// again (past `jwt.refresh_reuse_grace`) revokes the whole family.
    ///
    /// # Errors
    /// `TokenRejected` for any refusal (reuse included); the database failed.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        request: &RequestContext,
    ) -> Result<TokenPair> {
        let config = &self.core.config().jwt;
        let presented = PresentedToken::parse(refresh_token).ok_or(Error::TokenRejected)?;
        let hash = presented.hash();
        let keys = self.keys.current(self.core.db(), self.core.now()).await?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let won = store::supersede(&mut change, &hash, now).await?;
        let row = store::find(&mut change, &hash)
            .await?
            .ok_or(Error::TokenRejected)?;
        if !won {
            let grace = row
                .superseded_at
                .is_some_and(|at| now.since(at) < config.refresh_reuse_grace && now >= at);
            if !grace && store::revoke_family(&mut change, &row.family_id, now).await? {
                let event = AuditEvent::new(Action::JwtRefreshReuse)
                    .target_user(&row.user_id)
                    .meta("family", row.family_id.clone());
                change.audit(event).await?;
                metrics::counter!("sigra_jwt_refresh_reuse_total").increment(1);
                change.commit().await?;
            }
            return Err(Error::TokenRejected);
        }
        let account = users::store::account(&mut change, &row.user_id).await?;
        let alive = row.revoked_at.is_none()
            && row.expires_at > now
            && row.family_expires_at > now
            && account
                .as_ref()
                .is_some_and(|a| a.token_epoch == row.token_epoch);
        let Some(account) = account.filter(|_| alive) else {
            return Err(Error::TokenRejected);
        };
        let next = IssuedToken::generate();
        let token_expires = now.plus(config.refresh_ttl).min(row.family_expires_at);
        store::insert_token(
            &mut change,
            &row.family_id,
            &next.hash(),
            now,
            token_expires,
        )
        .await?;
        let event = AuditEvent::new(Action::JwtRefresh)
            .actor(&row.user_id)
            .meta("family", row.family_id.clone());
        change.audit(event).await?;
        let scopes = Scopes::from_stored(&row.scopes);
        let access_token =
            self.sign_access(&keys, &account.user, &scopes, account.token_epoch, now)?;
        change.commit().await?;
        Ok(TokenPair {
            access_token,
            refresh_token: next,
            expires_in: config.access_ttl.as_secs(),
            scopes,
        })
    }

    /// Ends the family of a refresh token (an API client logging out). Unknown tokens are
    /// ignored, as RFC 7009 asks.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revoke_refresh(
        &self,
        refresh_token: &str,
        request: &RequestContext,
    ) -> Result<()> {
        let Some(presented) = PresentedToken::parse(refresh_token) else {
            return Ok(());
        };
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let Some(row) = store::find(&mut change, &presented.hash()).await? else {
            return Ok(());
        };
        if store::revoke_family(&mut change, &row.family_id, now).await? {
            let event = AuditEvent::new(Action::JwtRevoke)
                .actor(&row.user_id)
                .meta("family", row.family_id.clone());
            change.audit(event).await?;
        }
        change.commit().await
    }
}
