//! Talking to providers: discovery (cached), the code exchange with PKCE through the `oauth2`
//! crate, ID tokens checked against the issuer's keys (cached, fetched again for an unknown key
//! id), user info by each provider's rules, token refresh, and Apple's signed client secret.
//! The HTTP client follows no redirect and gives up after `oauth.http_timeout`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::Algorithm;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::id_token::{self, Claims, Expected, Flag, Refusal};
use crate::clock::Timestamp;
use crate::config::{Endpoints, OAuthConfig, ProviderConfig, ProviderKind};
use crate::error::{Error, Result};

/// Why a provider's answer was refused: the reason its audit row gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Failure(pub &'static str);

/// How often an unknown key id may fetch the issuer's keys again.
const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// How long an Apple client secret is made to last (Apple allows up to six months).
const APPLE_SECRET_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// A provider's discovery document: what we use of it.
#[derive(Clone, Debug, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    #[serde(default)]
    userinfo_endpoint: Option<Url>,
    jwks_uri: Url,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

struct Discovered {
    metadata: Metadata,
    keys: JwkSet,
    fetched_at: Timestamp,
    keys_fetched_at: Timestamp,
}

/// Where a provider is, once its configuration (and discovery) are read.
pub(super) struct Resolved {
    pub authorize: Url,
    pub token: Url,
    pub userinfo: Option<Url>,
    pub emails: Option<Url>,
    /// The issuer exactly as the provider spells it (OpenID providers).
    pub issuer: Option<String>,
    /// Whether the provider promised RFC 9207's `iss` on every answer.
    pub iss_parameter: bool,
    auth_type: AuthType,
    algorithms: Vec<Algorithm>,
}

/// What a token endpoint answered, with the ID token when there is one.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type TokenAnswer = StandardTokenResponse<IdTokenField, BasicTokenType>;

type CodeClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Provider tokens in the clear, on their way to being sealed.
pub(super) struct ProviderTokens {
    pub access: String,
    pub refresh: Option<String>,
    pub expires_in: Option<Duration>,
}

impl std::fmt::Debug for ProviderTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderTokens([redacted])")
    }
}

/// What a provider said about the user.
#[derive(Debug)]
pub(super) struct Profile {
    pub subject: String,
    pub issuer: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub avatar: Option<String>,
    /// When the user last authenticated at the provider (unix seconds), from the ID token.
    pub auth_time: Option<i64>,
    pub tokens: ProviderTokens,
}

/// An authorization request ready for the browser.
pub(super) struct AuthorizationRequest {
    pub url: Url,
    pub pkce_verifier: String,
}

/// The HTTP side of every provider.
pub(crate) struct ProviderClient {
    http: reqwest::Client,
    discovered: Mutex<HashMap<String, Arc<Discovered>>>,
    apple_secrets: Mutex<HashMap<String, (String, Timestamp)>>,
    discovery_cache: Duration,
    allow_http_loopback: bool,
}

impl ProviderClient {
    pub(crate) fn new(config: &OAuthConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.http_timeout)
            // A provider endpoint that redirects is refused, never followed (SSRF, RFC 9700).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("sigra")
            .build()
            .map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(Self {
            http,
            discovered: Mutex::new(HashMap::new()),
            apple_secrets: Mutex::new(HashMap::new()),
            discovery_cache: config.discovery_cache,
            allow_http_loopback: config.allow_http_loopback,
        })
    }

    /// The provider's endpoints, discovering them (or using the cached discovery).
    pub(super) async fn resolve(
        &self,
        provider: &ProviderConfig,
        now: Timestamp,
    ) -> Result<Resolved, Failure> {
        match &provider.endpoints {
            Endpoints::Explicit {
                authorize,
                token,
                userinfo,
                emails,
            } => Ok(Resolved {
                authorize: authorize.clone(),
                token: token.clone(),
                userinfo: Some(userinfo.clone()),
                emails: emails.clone(),
                issuer: None,
                iss_parameter: false,
                auth_type: AuthType::RequestBody,
                algorithms: Vec::new(),
            }),
            Endpoints::Discovery { issuer } => {
                let discovered = self.discovery(&provider.name, issuer, now).await?;
                let metadata = &discovered.metadata;
                let basic = metadata.token_endpoint_auth_methods_supported.is_empty()
                    || metadata
                        .token_endpoint_auth_methods_supported
                        .iter()
                        .any(|m| m == "client_secret_basic");
                let algorithms = if metadata.id_token_signing_alg_values_supported.is_empty() {
                    vec![Algorithm::RS256]
                } else {
                    metadata
                        .id_token_signing_alg_values_supported
                        .iter()
                        .filter_map(|name| name.parse::<Algorithm>().ok())
                        .filter(|alg| id_token::ASYMMETRIC.contains(alg))
                        .collect()
                };
                Ok(Resolved {
                    authorize: metadata.authorization_endpoint.clone(),
                    token: metadata.token_endpoint.clone(),
                    userinfo: metadata.userinfo_endpoint.clone(),
                    emails: None,
                    issuer: Some(metadata.issuer.clone()),
                    iss_parameter: metadata.authorization_response_iss_parameter_supported,
                    auth_type: if basic && provider.kind != ProviderKind::Apple {
                        AuthType::BasicAuth
                    } else {
                        AuthType::RequestBody
                    },
                    algorithms,
                })
            }
        }
    }

    async fn discovery(
        &self,
        name: &str,
        issuer: &Url,
        now: Timestamp,
    ) -> Result<Arc<Discovered>, Failure> {
        if let Some(cached) = self.cached(name) {
            if now.since(cached.fetched_at) < self.discovery_cache && now >= cached.fetched_at {
                return Ok(cached);
            }
        }
        let configured = issuer.as_str().trim_end_matches('/');
        let url = Url::parse(&format!("{configured}/.well-known/openid-configuration"))
            .map_err(|_| Failure("discovery"))?;
        let metadata: Metadata = self
            .get_json(url, None)
            .await
            .map_err(|_| Failure("discovery"))?;
        // The issuer must be the one configured, exactly (a mix-up defence, ASVS 10.5.3).
        let endpoints = [
            &metadata.authorization_endpoint,
            &metadata.token_endpoint,
            &metadata.jwks_uri,
        ];
        if metadata.issuer.trim_end_matches('/') != configured
            || !endpoints.into_iter().all(|url| self.allowed(url))
            || metadata
                .userinfo_endpoint
                .as_ref()
                .is_some_and(|u| !self.allowed(u))
        {
            return Err(Failure("discovery_mismatch"));
        }
        let keys = self.fetch_keys(&metadata.jwks_uri).await?;
        let discovered = Arc::new(Discovered {
            metadata,
            keys,
            fetched_at: now,
            keys_fetched_at: now,
        });
        self.remember(name, Arc::clone(&discovered));
        Ok(discovered)
    }

    fn cached(&self, name: &str) -> Option<Arc<Discovered>> {
        self.discovered
            .lock()
            .ok()
            .and_then(|map| map.get(name).cloned())
    }

    fn remember(&self, name: &str, discovered: Arc<Discovered>) {
        if let Ok(mut map) = self.discovered.lock() {
            map.insert(name.to_owned(), discovered);
        }
    }

    fn allowed(&self, url: &Url) -> bool {
        crate::config::oauth::is_allowed_endpoint(url, self.allow_http_loopback)
    }

    async fn fetch_keys(&self, url: &Url) -> Result<JwkSet, Failure> {
        self.get_json(url.clone(), None)
            .await
            .map_err(|_| Failure("jwks"))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: Url,
        bearer: Option<&str>,
    ) -> std::result::Result<T, ()> {
        let mut request = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|error| {
            tracing::warn!(%error, "a provider request failed");
        })?;
        if !response.status().is_success() {
            tracing::warn!(
                status = response.status().as_u16(),
                "a provider answered with an error"
            );
            return Err(());
        }
        response.json().await.map_err(|error| {
            tracing::warn!(%error, "a provider answered something unreadable");
        })
    }

    fn code_client(
        &self,
        provider: &ProviderConfig,
        resolved: &Resolved,
        redirect: &Url,
        now: Timestamp,
    ) -> Result<CodeClient, Failure> {
        let mut client = oauth2::Client::new(ClientId::new(provider.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(resolved.authorize.clone()))
            .set_token_uri(TokenUrl::from_url(resolved.token.clone()))
            .set_redirect_uri(RedirectUrl::from_url(redirect.clone()))
            .set_auth_type(resolved.auth_type.clone());
        let secret = match (&provider.client_secret, provider.kind) {
            (_, ProviderKind::Apple) => Some(self.apple_client_secret(provider, resolved, now)?),
            (Some(secret), _) => Some(secret.expose().to_owned()),
            (None, _) => None,
        };
        if let Some(secret) = secret {
            client = client.set_client_secret(ClientSecret::new(secret));
        }
        Ok(client)
    }

    /// The authorization URL: PKCE S256 always, our `state`, the `nonce` for OpenID providers,
    /// `form_post` for Apple, and a forced fresh log-in for sudo.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn authorization(
        &self,
        provider: &ProviderConfig,
        resolved: &Resolved,
        redirect: &Url,
        state: &str,
        nonce: &str,
        fresh_log_in: bool,
        now: Timestamp,
    ) -> Result<AuthorizationRequest, Failure> {
        let client = self.code_client(provider, resolved, redirect, now)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = state.to_owned();
        let mut request = client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(provider.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge);
        if provider.kind.is_openid() {
            request = request.add_extra_param("nonce", nonce.to_owned());
        }
        if provider.form_post {
            request = request.add_extra_param("response_mode", "form_post");
        }
        if fresh_log_in {
            request = request
                .add_extra_param("prompt", "login")
                .add_extra_param("max_age", "0");
        }
        let (url, _) = request.url();
        Ok(AuthorizationRequest {
            url,
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code (with the PKCE verifier) and reads who the user is: the verified ID
    /// token for OpenID providers, the user-info endpoints for the others.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn exchange(
        &self,
        provider: &ProviderConfig,
        resolved: &Resolved,
        redirect: &Url,
        code: String,
        pkce_verifier: String,
        nonce: &str,
        posted_user: Option<&str>,
        now: Timestamp,
    ) -> Result<Profile, Failure> {
        let client = self.code_client(provider, resolved, redirect, now)?;
        let answer = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|error| {
                tracing::info!(error = %crate::error::report(&error), provider = %provider.name, "token exchange refused");
                Failure("token_exchange")
            })?;
        let tokens = ProviderTokens {
            access: answer.access_token().secret().clone(),
            refresh: answer.refresh_token().map(|r| r.secret().clone()),
            expires_in: answer.expires_in(),
        };
        if provider.kind.is_openid() {
            let id_token = answer
                .extra_fields()
                .id_token
                .as_deref()
                .ok_or(Failure("id_token_missing"))?;
            let claims = self
                .verify_id_token(provider, resolved, id_token, nonce, now)
                .await?;
            self.openid_profile(provider, resolved, claims, tokens, posted_user)
                .await
        } else {
            self.oauth2_profile(provider, resolved, tokens).await
        }
    }

    async fn verify_id_token(
        &self,
        provider: &ProviderConfig,
        resolved: &Resolved,
        token: &str,
        nonce: &str,
        now: Timestamp,
    ) -> Result<Claims, Failure> {
        let refused = |refusal: Refusal| Failure(refusal.reason());
        let (alg, kid) = id_token::header(token).map_err(refused)?;
        let issuer = resolved.issuer.as_deref().ok_or(Failure("discovery"))?;
        let expected = Expected {
            issuer,
            client_id: &provider.client_id,
            nonce,
            now,
            algorithms: &resolved.algorithms,
        };
        let discovered = self.cached(&provider.name).ok_or(Failure("discovery"))?;
        if let Some(key) = id_token::find_key(&discovered.keys, alg, kid.as_deref()) {
            return id_token::verify(token, key, &expected).map_err(refused);
        }
        // The issuer may have rotated its keys: fetch them again, at most once a minute.
        if now.since(discovered.keys_fetched_at) < KEY_REFETCH_INTERVAL {
            return Err(refused(Refusal::UnknownKey));
        }
        let keys = self.fetch_keys(&discovered.metadata.jwks_uri).await?;
        let refreshed = Arc::new(Discovered {
            metadata: discovered.metadata.clone(),
            keys,
            fetched_at: discovered.fetched_at,
            keys_fetched_at: now,
        });
        self.remember(&provider.name, Arc::clone(&refreshed));
        let key = id_token::find_key(&refreshed.keys, alg, kid.as_deref())
            .ok_or(refused(Refusal::UnknownKey))?;
        id_token::verify(token, key, &expected).map_err(refused)
    }

    async fn openid_profile(
        &self,
        provider: &ProviderConfig,
        resolved: &Resolved,
        claims: Claims,
        tokens: ProviderTokens,
        posted_user: Option<&str>,
    ) -> Result<Profile, Failure> {
        let mut profile = Profile {
            subject: claims.sub,
            issuer: resolved.issuer.clone(),
            email: claims.email,
            email_verified: claims.email_verified.0,
            name: claims.name,
            avatar: claims.picture,
            auth_time: claims.auth_time,
            tokens,
        };
        if provider.kind == ProviderKind::Apple {
            // Apple posts the name once, on the first authorization, beside the code.
            if let Some(user) = posted_user.and_then(|u| serde_json::from_str::<Value>(u).ok()) {
                let part = |key: &str| user["name"][key].as_str().map(str::trim).map(str::to_owned);
                let name = [part("firstName"), part("lastName")]
                    .into_iter()
                    .flatten()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                if !name.is_empty() {
                    profile.name = Some(name);
                }
            }
        } else if profile.email.is_none() {
            if let Some(userinfo) = &resolved.userinfo {
                let info: Value = self
                    .get_json(userinfo.clone(), Some(&profile.tokens.access))
                    .await
                    .map_err(|()| Failure("userinfo"))?;
                // User info about anyone else than the ID token's subject is ignored.
                if info["sub"].as_str() == Some(profile.subject.as_str()) {
                    profile.email = info["email"].as_str().map(str::to_owned);
                    profile.email_verified = Flag::from(info["email_verified"].clone()).0;
                    profile.name = profile
                        .name
                        .or_else(|| info["name"].as_str().map(str::to_owned));
                }
            }
        }
        Ok(profile)
    }

    async fn oauth2_profile(
        &self,
        provider: &ProviderConfig,
        resolved: &Resolved,
        tokens: ProviderTokens,
    ) -> Result<Profile, Failure> {
        let userinfo = resolved.userinfo.clone().ok_or(Failure("userinfo"))?;
        let info: Value = self
            .get_json(userinfo, Some(&tokens.access))
            .await
            .map_err(|()| Failure("userinfo"))?;
        let map = &provider.userinfo;
        let subject = text_at(&info, &map.subject).ok_or(Failure("userinfo_subject"))?;
        let mut profile = Profile {
            subject,
            issuer: None,
            email: text_at(&info, &map.email),
            email_verified: provider.trust_email
                && Flag::from(
                    value_at(&info, &map.email_verified)
                        .cloned()
                        .unwrap_or(Value::Null),
                )
                .0,
            name: text_at(&info, &map.name),
            avatar: text_at(&info, &map.avatar)
                .or_else(|| text_at(&info, &format!("{}.data.url", map.avatar))),
            auth_time: None,
            tokens,
        };
        if let Some(emails) = &resolved.emails {
            // GitHub: the address is trusted only when it is both verified and primary.
            let list: Vec<Value> = self
                .get_json(emails.clone(), Some(&profile.tokens.access))
                .await
                .map_err(|()| Failure("userinfo_emails"))?;
            let primary = list.iter().find(|e| e["primary"] == Value::Bool(true));
            profile.email = primary.and_then(|e| e["email"].as_str()).map(str::to_owned);
            profile.email_verified =
                provider.trust_email && primary.is_some_and(|e| e["verified"] == Value::Bool(true));
        }
        if provider.kind == ProviderKind::Facebook {
            profile.email_verified = false;
        }
        Ok(profile)
    }

    /// New tokens for a refresh token.
    pub(super) async fn refresh(
        &self,
        provider: &ProviderConfig,
        resolved: &Resolved,
        redirect: &Url,
        refresh_token: String,
        now: Timestamp,
    ) -> Result<ProviderTokens, Failure> {
        let client = self.code_client(provider, resolved, redirect, now)?;
        let answer = client
            .exchange_refresh_token(&RefreshToken::new(refresh_token))
            .request_async(&self.http)
            .await
            .map_err(|_| Failure("refresh"))?;
        Ok(ProviderTokens {
            access: answer.access_token().secret().clone(),
            refresh: answer.refresh_token().map(|r| r.secret().clone()),
            expires_in: answer.expires_in(),
        })
    }

    /// Apple's client secret: an ES256 JWT from the team's key, remade before it expires.
    fn apple_client_secret(
        &self,
        provider: &ProviderConfig,
        resolved: &Resolved,
        now: Timestamp,
    ) -> Result<String, Failure> {
        let signing = provider.apple.as_ref().ok_or(Failure("apple_key"))?;
        if let Some((secret, until)) = self
            .apple_secrets
            .lock()
            .ok()
            .and_then(|map| map.get(&provider.name).cloned())
        {
            if now.plus(Duration::from_secs(300)) < until {
                return Ok(secret);
            }
        }
        let until = now.plus(APPLE_SECRET_LIFETIME);
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.kid = Some(signing.key_id.clone());
        let claims = serde_json::json!({
            "iss": signing.team_id,
            "iat": now.as_millis() / 1000,
            "exp": until.as_millis() / 1000,
            "aud": resolved.issuer.as_deref().unwrap_or("https://appleid.apple.com"),
            "sub": provider.client_id,
        });
        let key = jsonwebtoken::EncodingKey::from_ec_pem(signing.private_key.expose().as_bytes())
            .map_err(|_| Failure("apple_key"))?;
        let secret =
            jsonwebtoken::encode(&header, &claims, &key).map_err(|_| Failure("apple_key"))?;
        if let Ok(mut map) = self.apple_secrets.lock() {
            map.insert(provider.name.clone(), (secret.clone(), until));
        }
        Ok(secret)
    }
}

/// The value at a dotted path (`picture.data.url`).
fn value_at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(value, |current, key| current.get(key))
}

/// A string or number at a dotted path, as text.
fn text_at(value: &Value, path: &str) -> Option<String> {
    match value_at(value, path)? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_fields_are_read_by_dotted_path_and_numbers_become_text() {
        let info = serde_json::json!({"id": 42, "picture": {"data": {"url": "https://x/p.png"}}, "email": ""});
        assert_eq!(text_at(&info, "id").as_deref(), Some("42"));
        assert_eq!(
            text_at(&info, "picture.data.url").as_deref(),
            Some("https://x/p.png")
        );
        assert_eq!(text_at(&info, "picture"), None);
        assert_eq!(
            text_at(&info, "email"),
            None,
            "an empty address is no address"
        );
    }
}
