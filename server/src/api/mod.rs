//! The JSON API under `/api/v1`, and the JWKS. Every route states who may call it in its
//! arguments: `Granted<S>` (a session, or a token with the scopes `S`), `Authenticated` (a
//! browser session only: tokens are refused with 403 whatever their scopes), or nothing (the
//! guest log-in endpoints, which the guest rate limit covers). Errors are
//! `application/problem+json` with a stable `error` code.

use app::capabilities::Switches;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sigra::api_tokens::{ApiTokenSummary, TokenRequest};
use sigra::clock::Timestamp;
use sigra::db::paging::PageRequest;
use sigra::http::scopes::{
    ApiTokensRead, ApiTokensWrite, MfaRead, ProfileRead, SessionsRead, SessionsWrite,
};
use sigra::http::{AppError, Caller, Granted};
use sigra::request::RequestContext;
use sigra::sessions::{Authenticated, SessionId};
use sigra::{Error, Sigra};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The API paths a guest posts to prove who they are: the guest rate limit covers them.
pub const GUEST_AUTH_PATHS: &[&str] = &[
    "/api/v1/auth/token",
    "/api/v1/auth/mfa",
    "/api/v1/auth/refresh",
    "/api/v1/auth/revoke",
    "/api/v1/auth/passkey/options",
];

#[cfg(feature = "jwt")]
mod jwt;

type ApiResult<T> = Result<Json<T>, AppError>;

/// Query parameters; ones that do not parse are refused as a problem (400
/// `malformed_request`).
pub struct Params<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, AppError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(_) => Err(AppError(Error::MalformedRequest)),
        }
    }
}

/// A JSON request body; one that does not parse (or is not JSON) is refused as a problem
/// (400 `malformed_request`), like every other error of the API.
pub struct Body<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(_) => Err(AppError(Error::MalformedRequest)),
        }
    }
}

/// The caller's account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
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
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("bearer" = ["profile:read"]), ("session" = [])),
    responses((status = 200, body = Me), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json")))]
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
#[derive(Debug, Serialize, Deserialize, ToSchema)]
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
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = ["sessions:read"]), ("session" = [])),
    responses((status = 200, body = Vec<SessionItem>), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json")))]
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
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions", security(("bearer" = ["sessions:write"]), ("session" = [])),
    params(("id" = String, Path, description = "The session id")),
    responses((status = 204, description = "Ended"), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
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
            sigra
                .sessions()
                .revoke_session(&sudo, &id, &context)
                .await?
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
#[derive(Debug, Serialize, Deserialize, ToSchema)]
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
#[utoipa::path(get, path = "/api/v1/mfa", tag = "account", security(("bearer" = ["mfa:read"]), ("session" = [])),
    responses((status = 200, body = MfaView), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json")))]
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
#[derive(Debug, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiTokenPage {
    /// The tokens, newest first.
    pub items: Vec<ApiTokenView>,
    /// Where the next page starts (`?cursor=`), absent on the last.
    pub next_cursor: Option<String>,
}

/// Paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Rows wanted (1–200, default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `GET /api/v1/api-tokens` (browser session only).
#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "api-tokens", security(("session" = [])), params(PageQuery),
    responses((status = 200, body = ApiTokenPage), (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json")))]
async fn list_tokens(
    State(sigra): State<Sigra>,
    current: Authenticated,
    Params(page): Params<PageQuery>,
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
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    /// Its name (up to 255 characters).
    pub name: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it expires, as days from now (absent: never, where allowed).
    pub expires_in_days: Option<u32>,
}

/// A token just made: the secret, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
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
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "api-tokens", security(("session" = [])), request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json")))]
async fn create_token(
    State(sigra): State<Sigra>,
    current: Authenticated,
    context: RequestContext,
    Body(new): Body<NewToken>,
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
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "api-tokens", security(("session" = [])),
    params(("id" = String, Path, description = "The token id")),
    responses((status = 204, description = "Revoked"), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
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
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Revoked {
    /// The count.
    pub revoked: u64,
}

/// `DELETE /api/v1/api-tokens` (browser session with sudo): revokes them all.
#[utoipa::path(delete, path = "/api/v1/api-tokens", tag = "api-tokens", security(("session" = [])),
    responses((status = 200, body = Revoked), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json")))]
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
#[utoipa::path(get, path = "/api/v1/api-tokens/current", tag = "api-tokens", security(("bearer" = ["api_tokens:read"])),
    responses((status = 200, body = ApiTokenView), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn current_token(
    State(sigra): State<Sigra>,
    granted: Granted<ApiTokensRead>,
) -> ApiResult<ApiTokenView> {
    let Caller::ApiToken(token) = granted.caller() else {
        return Err(AppError(Error::NotFound));
    };
    Ok(Json(token_view(
        sigra.api_tokens().describe_itself(token).await?,
    )))
}

/// `DELETE /api/v1/api-tokens/current` (`api_tokens:write`): the calling token revokes itself.
#[utoipa::path(delete, path = "/api/v1/api-tokens/current", tag = "api-tokens", security(("bearer" = ["api_tokens:write"])),
    responses((status = 204, description = "Revoked"), (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Refused (scope, session-only, sudo, required step)", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
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

/// An error (RFC 9457 problem details, with the stable `error` code).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The message.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The stable code (`token_rejected`, `insufficient_scope`, …).
    pub error: String,
    /// The message again, for older clients.
    pub message: String,
    /// The scopes a 403 `insufficient_scope` misses.
    pub missing_scopes: Option<Vec<String>>,
    /// The unknown scopes of a 422 `unregistered_scopes`.
    pub scopes: Option<Vec<String>>,
}

/// The document's frame: its title and the two ways to authenticate.
#[derive(OpenApi)]
#[openapi(
    info(title = "Sigra API", version = "1", description = "The JSON API: bearer tokens (personal API tokens or JWT access tokens, scoped) or the browser session."),
    modifiers(&Credentials),
    components(schemas(Problem))
)]
struct ApiDoc;

struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                sigra::http::SESSION_COOKIE,
            ))),
        );
    }
}

/// The API routes and their document, from one list: a route exists exactly when it is
/// documented, and only when its capability is on.
fn documented(switches: &Switches) -> (Router<Sigra>, utoipa::openapi::OpenApi) {
    let mut api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(mfa));
    if switches.api_tokens {
        api = api
            .routes(routes!(list_tokens, create_token, revoke_all_tokens))
            .routes(routes!(current_token, revoke_current_token))
            .routes(routes!(revoke_token));
    }
    #[cfg(feature = "jwt")]
    if switches.jwt {
        api = jwt::routes(api);
        #[cfg(feature = "passkeys")]
        if switches.passkeys {
            api = jwt::passkey_grant_routes(api);
        }
    }
    api.split_for_parts()
}

/// The OpenAPI 3.1 document of the API with every capability on.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented(&Switches::default()).1
}

/// The API routes (behind the cross-site check and credential resolution; the JWKS is
/// public anyway), with `GET /api/v1/openapi.json`: the document of what this deployment
/// serves, built once with the routes.
pub fn routes<S: Clone + Send + Sync + 'static>(sigra: Sigra, switches: Switches) -> Router<S> {
    let (router, document) = documented(&switches);
    let document = Json(document);
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || std::future::ready(document.clone())),
        )
        .with_state(sigra)
}
