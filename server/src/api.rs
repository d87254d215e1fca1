//! The JSON API under `/api/v1`, and the JWKS. Every route states who may call it in its
//! arguments: `Granted<S>` (a session, or a token with the scopes `S`), `Authenticated` (a
//! browser session only: tokens are refused with 403 whatever their scopes), or nothing (the
//! guest log-in endpoints, which the guest rate limit covers). Errors are
//! `application/problem+json` with a stable `error` code.

use axum::extract::{Path, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sigra::api_tokens::{ApiTokenSummary, TokenRequest};
use sigra::clock::Timestamp;
use sigra::db::paging::PageRequest;
use sigra::http::scopes::{
    ApiTokensRead, ApiTokensWrite, MfaRead, ProfileRead, SessionsRead, SessionsWrite,
};
use sigra::http::{AppError, Caller, Granted};
use sigra::jwt::{ApiCredentials, ApiLogIn, TokenPair};
use sigra::password::Password;
use sigra::request::RequestContext;
use sigra::sessions::{Authenticated, SessionId};
use sigra::{Error, Sigra};

/// The API paths a guest posts to prove who they are: the guest rate limit covers them.
pub const GUEST_AUTH_PATHS: &[&str] = &[
    "/api/v1/auth/token",
    "/api/v1/auth/mfa",
    "/api/v1/auth/refresh",
    "/api/v1/auth/revoke",
    "/api/v1/auth/passkey/options",
];

type ApiResult<T> = Result<Json<T>, AppError>;

/// The caller's account.
#[derive(Debug, Serialize, Deserialize)]
pub struct Me {
    /// The user id.
    pub id: String,
    /// The normalised email.
    pub email: String,
    /// Whether the address is confirmed.
    pub confirmed: bool,
    /// Account creation, RFC 3339 UTC.
    pub created_at: String,
    /// How the request was authenticated: `session`, `api_token` or `access_token`.
    pub credential: String,
}

/// `GET /api/v1/me` (`profile:read`).
async fn me(granted: Granted<ProfileRead>) -> Json<Me> {
    let user = granted.user();
    Json(Me {
        id: user.id.to_string(),
        email: user.email.to_string(),
        confirmed: user.confirmed_at.is_some(),
        created_at: user.created_at.to_string(),
        credential: granted.caller().kind().to_owned(),
    })
}

/// One browser session.
#[derive(Debug, Serialize, Deserialize)]
pub struct SessionItem {
    /// Its id (for revoking).
    pub id: String,
    /// "Chrome 120 on macOS".
    pub device: String,
    /// The address it came from.
    pub ip: Option<String>,
    /// When it started (RFC 3339).
    pub created_at: String,
    /// Its last activity (RFC 3339).
    pub last_active_at: String,
    /// Whether it is the session making this request.
    pub current: bool,
}

/// `GET /api/v1/sessions` (`sessions:read`).
async fn sessions(
    State(sigra): State<Sigra>,
    granted: Granted<SessionsRead>,
) -> ApiResult<Vec<SessionItem>> {
    let list = sigra.sessions().list_sessions_granted(&granted).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SessionItem {
                id: s.id.to_string(),
                device: s.device,
                ip: s.ip,
                created_at: s.created_at.to_string(),
                last_active_at: s.last_active_at.to_string(),
                current: s.current,
            })
            .collect(),
    ))
}

/// `DELETE /api/v1/sessions/{id}` (`sessions:write`; a browser session needs sudo).
async fn revoke_session(
    State(sigra): State<Sigra>,
    granted: Granted<SessionsWrite>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = SessionId::from_client(&id);
    let revoked = match granted.caller().session() {
        Some(session) => {
            let sudo = sigra.sessions().sudo(session)?;
            sigra.sessions().revoke_session(&sudo, &id, &context).await?
        }
        None => {
            sigra
                .sessions()
                .revoke_session_granted(&granted, &id, &context)
                .await?
        }
    };
    if revoked {
        Ok(axum::http::StatusCode::NO_CONTENT.into_response())
    } else {
        Err(AppError(Error::NotFound))
    }
}

/// The caller's second factors.
#[derive(Debug, Serialize, Deserialize)]
pub struct MfaView {
    /// Whether an authenticator app is set up.
    pub totp_enabled: bool,
    /// Unused backup codes.
    pub backup_codes_left: u32,
    /// Passkeys registered.
    pub passkeys: u32,
    /// Whether this site requires a second factor.
    pub required: bool,
}

/// `GET /api/v1/mfa` (`mfa:read`).
async fn mfa(State(sigra): State<Sigra>, granted: Granted<MfaRead>) -> ApiResult<MfaView> {
    let status = sigra.mfa().status_granted(&granted).await?;
    Ok(Json(MfaView {
        totp_enabled: status.totp_enabled,
        backup_codes_left: status.backup_codes_left,
        passkeys: status.passkeys,
        required: status.required,
    }))
}

/// An API token as its owner sees it (never the secret).
#[derive(Debug, Serialize, Deserialize)]
pub struct ApiTokenView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it stops working (RFC 3339), if ever.
    pub expires_at: Option<String>,
    /// When it was last used (to within five minutes).
    pub last_used_at: Option<String>,
}

fn token_view(token: ApiTokenSummary) -> ApiTokenView {
    ApiTokenView {
        id: token.id,
        name: token.name,
        scopes: token.scopes.iter().map(str::to_owned).collect(),
        created_at: token.created_at.to_string(),
        expires_at: token.expires_at.map(|t| t.to_string()),
        last_used_at: token.last_used_at.map(|t| t.to_string()),
    }
}

/// A page of tokens.
#[derive(Debug, Serialize, Deserialize)]
pub struct ApiTokenPage {
    /// The tokens, newest first.
    pub items: Vec<ApiTokenView>,
    /// Where the next page starts (`?cursor=`), absent on the last.
    pub next_cursor: Option<String>,
}

/// Paging parameters.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    /// Rows wanted (1–200, default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `GET /api/v1/api-tokens` (browser session only).
async fn list_tokens(
    State(sigra): State<Sigra>,
    current: Authenticated,
    Query(page): Query<PageQuery>,
) -> ApiResult<ApiTokenPage> {
    let page = sigra
        .api_tokens()
        .list(
            &current,
            &PageRequest {
                limit: page.limit,
                cursor: page.cursor,
            },
        )
        .await?;
    Ok(Json(ApiTokenPage {
        items: page.items.into_iter().map(token_view).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// What a new token should be.
#[derive(Debug, Deserialize)]
pub struct NewToken {
    /// Its name (up to 255 characters).
    pub name: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it expires, as days from now (absent: never, where allowed).
    pub expires_in_days: Option<u32>,
}

/// A token just made: the secret, shown this once.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreatedToken {
    /// The token. Store it now: it is never shown again.
    pub token: String,
    /// What it is.
    #[serde(flatten)]
    pub details: ApiTokenView,
}

fn days_from(now: Timestamp, days: Option<u32>) -> Option<Timestamp> {
    days.map(|d| now.plus(std::time::Duration::from_secs(u64::from(d) * 86_400)))
}

/// `POST /api/v1/api-tokens` (browser session with sudo).
async fn create_token(
    State(sigra): State<Sigra>,
    current: Authenticated,
    context: RequestContext,
    Json(new): Json<NewToken>,
) -> Result<Response, AppError> {
    let sudo = sigra.sessions().sudo(&current)?;
    let wanted = TokenRequest {
        name: new.name,
        scopes: new.scopes,
        expires_at: days_from(sigra.now(), new.expires_in_days),
    };
    let created = sigra.api_tokens().create(&sudo, wanted, &context).await?;
    let body = CreatedToken {
        token: created.token.expose().to_owned(),
        details: token_view(created.summary),
    };
    Ok((axum::http::StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /api/v1/api-tokens/{id}` (browser session with sudo).
async fn revoke_token(
    State(sigra): State<Sigra>,
    current: Authenticated,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let sudo = sigra.sessions().sudo(&current)?;
    sigra.api_tokens().revoke(&sudo, &id, &context).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// How many tokens were revoked.
#[derive(Debug, Serialize, Deserialize)]
pub struct Revoked {
    /// The count.
    pub revoked: u64,
}

/// `DELETE /api/v1/api-tokens` (browser session with sudo): revokes them all.
async fn revoke_all_tokens(
    State(sigra): State<Sigra>,
    current: Authenticated,
    context: RequestContext,
) -> ApiResult<Revoked> {
    let sudo = sigra.sessions().sudo(&current)?;
    let revoked = sigra.api_tokens().revoke_all(&sudo, &context).await?;
    Ok(Json(Revoked { revoked }))
}

/// `GET /api/v1/api-tokens/current` (`api_tokens:read`): the calling API token itself.
async fn current_token(
    State(sigra): State<Sigra>,
    granted: Granted<ApiTokensRead>,
) -> ApiResult<ApiTokenView> {
    let Caller::ApiToken(token) = granted.caller() else {
        return Err(AppError(Error::NotFound));
    };
    Ok(Json(token_view(sigra.api_tokens().describe_itself(token).await?)))
}

/// `DELETE /api/v1/api-tokens/current` (`api_tokens:write`): the calling token revokes itself.
async fn revoke_current_token(
    State(sigra): State<Sigra>,
    granted: Granted<ApiTokensWrite>,
    context: RequestContext,
) -> Result<Response, AppError> {
    let Caller::ApiToken(token) = granted.caller() else {
        return Err(AppError(Error::NotFound));
    };
    sigra.api_tokens().revoke_itself(token, &context).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// A token log-in.
#[derive(Debug, Deserialize)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenGrant {
    /// Email and password.
    Password {
        /// The email.
        email: String,
        /// The password.
        password: String,
        /// Space-separated scopes (absent: every registered scope).
        scope: Option<String>,
    },
    /// A passkey's answer to `/api/v1/auth/passkey/options`.
    Passkey {
        /// The ceremony id.
        ceremony: String,
        /// The `PublicKeyCredential` JSON, as text.
        response: String,
        /// Space-separated scopes.
        scope: Option<String>,
    },
}

/// Tokens for an API client (RFC 6749 §5.1 shape).
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The JWT access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The refresh token (opaque; each use returns a new one).
    pub refresh_token: String,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// The second factor is due.
#[derive(Debug, Serialize, Deserialize)]
pub struct MfaRequired {
    /// Always true.
    pub mfa_required: bool,
    /// Send it back to `/api/v1/auth/mfa` with a code.
    pub mfa_token: String,
    /// Seconds it lives.
    pub expires_in: u64,
}

fn tokens(pair: TokenPair) -> TokenResponse {
    TokenResponse {
        access_token: pair.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: pair.expires_in,
        refresh_token: pair.refresh_token.expose().to_owned(),
        scope: pair.scopes.to_string(),
    }
}

fn scope_list(scope: Option<&str>) -> Option<Vec<String>> {
    scope.map(|s| s.split_whitespace().map(str::to_owned).collect())
}

/// `POST /api/v1/auth/token`: tokens, or `mfa_required` with an MFA token.
async fn token(
    State(sigra): State<Sigra>,
    context: RequestContext,
    Json(grant): Json<TokenGrant>,
) -> Result<Response, AppError> {
    let (credentials, scope) = match grant {
        TokenGrant::Password {
            email,
            password,
            scope,
        } => (
            ApiCredentials::Password {
                email,
                password: Password::new(password),
            },
            scope,
        ),
        TokenGrant::Passkey {
            ceremony,
            response,
            scope,
        } => (ApiCredentials::Passkey { ceremony, response }, scope),
    };
    let scopes = scope_list(scope.as_deref());
    let answer = sigra
        .jwt()
        .log_in(credentials, scopes.as_deref(), &context)
        .await?;
    Ok(match answer {
        ApiLogIn::Tokens(pair) => Json(tokens(pair)).into_response(),
        ApiLogIn::SecondFactor(challenge) => Json(MfaRequired {
            mfa_required: true,
            mfa_token: challenge.mfa_token.expose().to_owned(),
            expires_in: challenge.expires_in,
        })
        .into_response(),
    })
}

/// A passkey ceremony for `/api/v1/auth/token`.
#[derive(Debug, Serialize, Deserialize)]
pub struct PasskeyOptions {
    /// Send it back with the answer.
    pub ceremony: String,
    /// The `publicKey` options for `navigator.credentials.get()`.
    pub options: serde_json::Value,
}

/// `POST /api/v1/auth/passkey/options`.
async fn passkey_options(State(sigra): State<Sigra>) -> ApiResult<PasskeyOptions> {
    let challenge = sigra.passkeys().start_passkey_log_in().await?;
    Ok(Json(PasskeyOptions {
        ceremony: challenge.ceremony,
        options: serde_json::from_str(&challenge.options)
            .map_err(|e| AppError(Error::Internal(Box::new(e))))?,
    }))
}

/// The second factor of a token log-in.
#[derive(Debug, Deserialize)]
pub struct MfaExchange {
    /// From `mfa_required`.
    pub mfa_token: String,
    /// An authenticator code or a backup code.
    pub code: String,
}

/// `POST /api/v1/auth/mfa`.
async fn exchange_mfa(
    State(sigra): State<Sigra>,
    context: RequestContext,
    Json(exchange): Json<MfaExchange>,
) -> ApiResult<TokenResponse> {
    let pair = sigra
        .jwt()
        .complete_second_factor(&exchange.mfa_token, &exchange.code, &context)
        .await?;
    Ok(Json(tokens(pair)))
}

/// A refresh token.
#[derive(Debug, Deserialize)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// `POST /api/v1/auth/refresh`.
async fn refresh(
    State(sigra): State<Sigra>,
    context: RequestContext,
    Json(request): Json<RefreshRequest>,
) -> ApiResult<TokenResponse> {
    let pair = sigra
        .jwt()
        .refresh(&request.refresh_token, &context)
        .await?;
    Ok(Json(tokens(pair)))
}

/// `POST /api/v1/auth/revoke`: ends the refresh token's family (always 204, RFC 7009).
async fn revoke(
    State(sigra): State<Sigra>,
    context: RequestContext,
    Json(request): Json<RefreshRequest>,
) -> Result<Response, AppError> {
    sigra
        .jwt()
        .revoke_refresh(&request.refresh_token, &context)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// `GET /.well-known/jwks.json`, cacheable for five minutes (keys are published a minute
/// before they sign, so a cached set is never behind a token it must verify for long).
async fn jwks(State(sigra): State<Sigra>) -> Result<Response, AppError> {
    let keys = sigra.jwt().jwks().await?;
    let mut response = Json(keys).into_response();
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300, must-revalidate"),
    );
    Ok(response)
}

/// The API routes (behind the cross-site check and credential resolution).
pub fn routes<S: Clone + Send + Sync + 'static>(sigra: Sigra) -> Router<S> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/sessions", get(sessions))
        .route("/api/v1/sessions/{id}", delete(revoke_session))
        .route("/api/v1/mfa", get(mfa))
        .route(
            "/api/v1/api-tokens",
            get(list_tokens).post(create_token).delete(revoke_all_tokens),
        )
        .route(
            "/api/v1/api-tokens/current",
            get(current_token).delete(revoke_current_token),
        )
        .route("/api/v1/api-tokens/{id}", delete(revoke_token))
        .route("/api/v1/auth/token", post(token))
        .route("/api/v1/auth/passkey/options", post(passkey_options))
        .route("/api/v1/auth/mfa", post(exchange_mfa))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/revoke", post(revoke))
        .with_state(sigra)
}

/// Routes that need no credential and no cross-site check (public, read-only).
pub fn public_routes<S: Clone + Send + Sync + 'static>(sigra: Sigra) -> Router<S> {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(sigra)
}
