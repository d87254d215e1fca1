//! The API log-in of clients that hold JWTs: tokens for a password or a passkey, the second
//! step, refresh, revocation and the key set (Cargo feature `jwt`).

use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use sigra::http::AppError;
use sigra::jwt::{ApiCredentials, ApiLogIn, TokenPair};
use sigra::password::Password;
use sigra::request::RequestContext;
use sigra::{Error, Sigra};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiResult, Body, Problem};

/// The JWT routes, added to the API's.
pub(super) fn routes(api: OpenApiRouter<Sigra>) -> OpenApiRouter<Sigra> {
    api.routes(routes!(token))
        .routes(routes!(exchange_mfa))
        .routes(routes!(refresh))
        .routes(routes!(revoke))
        .routes(routes!(jwks))
}

/// The ceremony of the passkey grant, where passkeys are on too.
#[cfg(feature = "passkeys")]
pub(super) fn passkey_grant_routes(api: OpenApiRouter<Sigra>) -> OpenApiRouter<Sigra> {
    api.routes(routes!(passkey_options))
}

/// A token log-in.
#[derive(Debug, Deserialize, ToSchema)]
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
    #[cfg(feature = "passkeys")]
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
#[derive(Debug, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MfaRequired {
    /// Always true.
    pub mfa_required: bool,
    /// Send it back to `/api/v1/auth/mfa` with a code.
    pub mfa_token: String,
    /// Seconds it lives.
    pub expires_in: u64,
}

/// What a token log-in answers: tokens, or the second-factor step.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TokenAnswer {
    /// Logged in.
    Tokens(TokenResponse),
    /// Send a code to `/api/v1/auth/mfa` first.
    SecondFactor(MfaRequired),
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
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", security(()), request_body = TokenGrant,
    responses((status = 200, description = "Tokens, or the second-factor step", body = TokenAnswer), (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json")))]
async fn token(
    State(sigra): State<Sigra>,
    context: RequestContext,
    Body(grant): Body<TokenGrant>,
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
        #[cfg(feature = "passkeys")]
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
    Ok(Json(match answer {
        ApiLogIn::Tokens(pair) => TokenAnswer::Tokens(tokens(pair)),
        ApiLogIn::SecondFactor(challenge) => TokenAnswer::SecondFactor(MfaRequired {
            mfa_required: true,
            mfa_token: challenge.mfa_token.expose().to_owned(),
            expires_in: challenge.expires_in,
        }),
    })
    .into_response())
}

/// A passkey ceremony for `/api/v1/auth/token`.
#[cfg(feature = "passkeys")]
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PasskeyOptions {
    /// Send it back with the answer.
    pub ceremony: String,
    /// The `publicKey` options for `navigator.credentials.get()`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// `POST /api/v1/auth/passkey/options`.
#[cfg(feature = "passkeys")]
#[utoipa::path(post, path = "/api/v1/auth/passkey/options", tag = "auth", security(()),
    responses((status = 200, body = PasskeyOptions), (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json")))]
async fn passkey_options(State(sigra): State<Sigra>) -> ApiResult<PasskeyOptions> {
    let challenge = sigra.passkeys().start_passkey_log_in().await?;
    Ok(Json(PasskeyOptions {
        ceremony: challenge.ceremony,
        options: serde_json::from_str(&challenge.options)
            .map_err(|e| AppError(Error::Internal(Box::new(e))))?,
    }))
}

/// The second factor of a token log-in.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MfaExchange {
    /// From `mfa_required`.
    pub mfa_token: String,
    /// An authenticator code or a backup code.
    pub code: String,
}

/// `POST /api/v1/auth/mfa`.
#[utoipa::path(post, path = "/api/v1/auth/mfa", tag = "auth", security(()), request_body = MfaExchange,
    responses((status = 200, body = TokenResponse), (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json")))]
async fn exchange_mfa(
    State(sigra): State<Sigra>,
    context: RequestContext,
    Body(exchange): Body<MfaExchange>,
) -> ApiResult<TokenResponse> {
    let pair = sigra
        .jwt()
        .complete_second_factor(&exchange.mfa_token, &exchange.code, &context)
        .await?;
    Ok(Json(tokens(pair)))
}

/// A refresh token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// `POST /api/v1/auth/refresh`.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", security(()), request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json")))]
async fn refresh(
    State(sigra): State<Sigra>,
    context: RequestContext,
    Body(request): Body<RefreshRequest>,
) -> ApiResult<TokenResponse> {
    let pair = sigra
        .jwt()
        .refresh(&request.refresh_token, &context)
        .await?;
    Ok(Json(tokens(pair)))
}

/// `POST /api/v1/auth/revoke`: ends the refresh token's family (always 204, RFC 7009).
#[utoipa::path(post, path = "/api/v1/auth/revoke", tag = "auth", security(()), request_body = RefreshRequest,
    responses((status = 204, description = "The family is ended (also for unknown tokens)"), (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json")))]
async fn revoke(
    State(sigra): State<Sigra>,
    context: RequestContext,
    Body(request): Body<RefreshRequest>,
) -> Result<Response, AppError> {
    sigra
        .jwt()
        .revoke_refresh(&request.refresh_token, &context)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// `GET /.well-known/jwks.json`, cacheable for five minutes (keys are published a minute
/// before they sign, so a cached set is never behind a token it must verify for long).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth", security(()),
    responses((status = 200, description = "The public signing keys (JWK set)", body = Object)))]
async fn jwks(State(sigra): State<Sigra>) -> Result<Response, AppError> {
    let keys = sigra.jwt().jwks().await?;
    let mut response = Json(keys).into_response();
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300, must-revalidate"),
    );
    Ok(response)
}
