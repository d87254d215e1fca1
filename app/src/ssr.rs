//! Server-side glue for the server functions: the core from context, the request's proofs
//! and context, cookies on the response, and the mapping of core errors to [`UiError`].

use http::header::{HeaderValue, ACCEPT, SET_COOKIE};
use http::request::Parts;
use http::StatusCode;
use leptos::nonce::Nonce;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use sigra::http::CspNonce;
use sigra::request::RequestContext;
use sigra::sessions::{Authenticated, PendingMfa};
use sigra::Sigra;

use crate::error::{ErrorKind, RequestId, UiError};

/// What every server function starts from.
pub struct ServerContext {
    /// The core services.
    pub sigra: Sigra,
    /// Who is asking, for audit rows.
    pub request: RequestContext,
    /// The live session, if any.
    pub current: Option<Authenticated>,
    /// A log-in waiting for its second factor, if that is what the request carries.
    pub pending: Option<PendingMfa>,
}

/// The context for this request.
///
/// # Errors
/// The server was assembled without the core in context (a wiring bug, logged).
pub async fn context() -> Result<ServerContext, UiError> {
    let sigra =
        use_context::<Sigra>().ok_or_else(|| wiring_bug("Sigra is not in the Leptos context"))?;
    let (request, current, pending) =
        leptos_axum::extract::<(RequestContext, Option<Authenticated>, Option<PendingMfa>)>()
            .await
            .map_err(|_| wiring_bug("request parts are not in the Leptos context"))?;
    Ok(ServerContext {
        sigra,
        request,
        current,
        pending,
    })
}

impl ServerContext {
    /// The optional capabilities this deployment offers.
    pub fn switches(&self) -> crate::capabilities::Switches {
        crate::capabilities::ssr::switches(&self.sigra.config().capabilities)
    }

    /// The signed-in user's proof.
    ///
    /// # Errors
    /// `Unauthenticated` when the request has no live session.
    pub fn require_user(&self) -> Result<&Authenticated, UiError> {
        self.current
            .as_ref()
            .ok_or_else(|| fail(UiError::Unauthenticated))
    }
}

/// A request cookie's value.
pub fn cookie(name: &str) -> Option<String> {
    use_context::<Parts>()
        .and_then(|parts| sigra::http::find_cookie(&parts.headers, name).map(str::to_owned))
}

/// The token a mailed link left in the link cookie (see `sigra::http::link_landing_routes`).
///
/// # Errors
/// `InvalidToken` when there is none: the link was never opened in this browser, or has been
/// used.
pub fn link_token() -> Result<sigra::crypto::PresentedToken, UiError> {
    use_context::<Parts>()
        .and_then(|parts| sigra::http::link_token(&parts.headers))
        .ok_or_else(|| fail(UiError::InvalidToken))
}

/// Forgets the link token once its page is done with it.
pub fn clear_link_token() {
    set_cookie(sigra::http::clear_link_cookie());
}

/// For forms on pages that send no `Referer` (the link pages): Leptos sends a browser without
/// JavaScript back to the `Referer` with the error, so name the page explicitly instead.
pub fn back_to_form<S: leptos::server_fn::ServerFn>(page: &str, error: UiError) -> UiError {
    use leptos::server_fn::error::ServerFnUrlError;
    if from_plain_form() {
        // `to_url` wants an absolute URL; only the path and query are used.
        let base = format!("http://localhost{page}");
        if let Ok(url) = ServerFnUrlError::new(S::PATH, error.clone()).to_url(&base) {
            leptos_axum::redirect(&format!(
                "{}?{}",
                url.path(),
                url.query().unwrap_or_default()
            ));
        }
    }
    error
}

/// The sudo proof for this request; without it, sends the browser to re-enter the password
/// and come back to `return_to`.
///
/// # Errors
/// `SudoRequired` (the redirect is already set); `Unauthenticated`.
pub fn require_sudo(cx: &ServerContext, return_to: &str) -> Result<sigra::sessions::Sudo, UiError> {
    let current = cx.require_user()?;
    cx.sigra.sessions().sudo(current).map_err(|error| {
        // Entering sudo would be refused too: say why here rather than send the admin there.
        if !matches!(error, sigra::Error::ForbiddenWhileImpersonating) {
            leptos_axum::redirect(&crate::paths::with_return_to(crate::paths::SUDO, return_to));
        }
        UiError::from(error)
    })
}

/// The proof that the session is the account owner's own, for a security change named
/// `attempted`: an impersonating admin is refused (and the refusal audited).
///
/// # Errors
/// `ForbiddenWhileImpersonating`; `Unauthenticated`.
pub async fn require_owner(
    cx: &ServerContext,
    attempted: &'static str,
) -> Result<sigra::sessions::AccountOwner, UiError> {
    let current = cx.require_user()?;
    Ok(cx
        .sigra
        .sessions()
        .account_owner(current, attempted, &cx.request)
        .await?)
}

/// The core as this app assembles it: its mail templates and its admin area additions. The
/// server and the tests start from here, so both run the same app.
pub fn sigra_builder(config: sigra::config::Config) -> sigra::SigraBuilder {
    Sigra::builder(config, std::sync::Arc::new(crate::emails::Templates)).admin_extensions(
        std::sync::Arc::new(crate::admin::extensions::ProjectsInAdmin),
    )
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(value: HeaderValue) {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.append_header(SET_COOKIE, value);
    }
}

/// A value this browser carries between requests: JSON, base64url-encoded, in a signed
/// `__Host-` cookie, so nobody can forge or alter it (it is not secret: never put one there).
pub struct SignedJsonCookie {
    name: &'static str,
    lifetime: std::time::Duration,
}

impl SignedJsonCookie {
    /// The cookie `name`, kept for `lifetime`.
    pub const fn new(name: &'static str, lifetime: std::time::Duration) -> Self {
        Self { name, lifetime }
    }

    /// The `Set-Cookie` value that keeps `value` (`None` if it does not serialise).
    pub fn header<T: serde::Serialize>(&self, sigra: &Sigra, value: &T) -> Option<HeaderValue> {
        use base64::Engine as _;
        let json = serde_json::to_vec(value).ok()?;
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        Some(sigra.cookies().signed(self.name, &encoded, self.lifetime))
    }

    /// Keeps `value` in this browser, on the current response.
    pub fn set<T: serde::Serialize>(&self, sigra: &Sigra, value: &T) {
        if let Some(header) = self.header(sigra, value) {
            set_cookie(header);
        }
    }

    /// The value this request carries, if its signature holds.
    pub fn read<T: serde::de::DeserializeOwned>(&self, sigra: &Sigra) -> Option<T> {
        use base64::Engine as _;
        let parts = use_context::<Parts>()?;
        let encoded = sigra.cookies().verified(&parts.headers, self.name)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// The value this request carries, removed from the browser: it is read once.
    pub fn take<T: serde::de::DeserializeOwned>(&self, sigra: &Sigra) -> Option<T> {
        let parts = use_context::<Parts>()?;
        sigra::http::find_cookie(&parts.headers, self.name)?;
        self.forget();
        self.read(sigra)
    }

    /// Removes it from this browser.
    pub fn forget(&self) {
        set_cookie(sigra::http::HostCookies::removal(self.name));
    }
}

/// The closure `leptos_routes_with_context` runs for every page and server function: the core
/// goes into context, and the CSP nonce of this request is handed to Leptos so the hydration
/// scripts carry the value the `Content-Security-Policy` header names.
pub fn provide_server_context(sigra: Sigra) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        provide_context(sigra.clone());
        let nonce =
            use_context::<Parts>().and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
        if let Some(CspNonce(nonce)) = nonce {
            provide_context(Nonce::from_value(nonce));
        }
    }
}

/// Whether the request is a browser form post without JavaScript (it accepts HTML), which
/// Leptos answers with a redirect rather than data.
/// Whether the request is a form post without JavaScript (it wants a page back, not JSON).
pub fn from_plain_form() -> bool {
    use_context::<Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(ACCEPT)?
                .to_str()
                .ok()
                .map(|a| a.contains("text/html"))
        })
        .unwrap_or(false)
}

fn request_id() -> Option<RequestId> {
    let parts = use_context::<Parts>()?;
    let text = parts.headers.get("x-request-id")?.to_str().ok()?;
    RequestId::try_from(text.to_owned()).ok()
}

fn wiring_bug(what: &str) -> UiError {
    tracing::error!("{what}");
    fail(UiError::Server {
        request_id: request_id(),
    })
}

/// Gives a failed call a fitting status for JSON clients. A plain form post keeps the
/// redirect status Leptos sets, so a browser without JavaScript is sent back to the form.
pub fn fail(error: UiError) -> UiError {
    if let Some(response) = use_context::<ResponseOptions>() {
        if !from_plain_form() {
            response.set_status(status_of(&error));
        }
        let retry_after = match &error {
            UiError::RateLimited {
                retry_after_seconds,
            } => ErrorKind::RateLimited {
                retry_after_seconds: *retry_after_seconds,
            }
            .retry_after(),
            UiError::Busy => ErrorKind::Busy.retry_after(),
            UiError::Unavailable => ErrorKind::Unavailable.retry_after(),
            _ => None,
        };
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.insert_header(http::header::RETRY_AFTER, value);
        }
    }
    error
}

fn status_of(error: &UiError) -> StatusCode {
    let code = match error {
        UiError::InvalidEmail(problem) => ErrorKind::InvalidEmail(*problem).status(),
        UiError::WeakPassword(problem) => ErrorKind::WeakPassword(*problem).status(),
        UiError::InvalidToken => ErrorKind::InvalidToken.status(),
        UiError::InvalidCode => ErrorKind::InvalidCode.status(),
        UiError::Unconfirmed => ErrorKind::Unconfirmed.status(),
        UiError::WrongPassword => ErrorKind::WrongPassword.status(),
        UiError::SameEmail => ErrorKind::SameEmail.status(),
        UiError::SudoRequired => ErrorKind::SudoRequired.status(),
        UiError::MfaLocked => ErrorKind::MfaLocked.status(),
        UiError::AlreadyEnrolled => ErrorKind::AlreadyEnrolled.status(),
        UiError::PasskeyRejected => ErrorKind::PasskeyRejected.status(),
        UiError::TooManyPasskeys { max } => ErrorKind::TooManyPasskeys { max: *max }.status(),
        UiError::UnknownProvider => ErrorKind::UnknownProvider.status(),
        UiError::OAuthFailed => ErrorKind::OAuthFailed.status(),
        UiError::OAuthCancelled => ErrorKind::OAuthCancelled.status(),
        UiError::LastSignInMethod => ErrorKind::LastSignInMethod.status(),
        UiError::PasswordAlreadySet => ErrorKind::PasswordAlreadySet.status(),
        UiError::RateLimited {
            retry_after_seconds,
        } => ErrorKind::RateLimited {
            retry_after_seconds: *retry_after_seconds,
        }
        .status(),
        UiError::InvalidCredentials | UiError::InvalidCredentialsAgain => {
            ErrorKind::InvalidCredentials.status()
        }
        UiError::Unauthenticated => ErrorKind::Unauthenticated.status(),
        UiError::PasswordChangeRequired => ErrorKind::PasswordChangeRequired.status(),
        UiError::MfaEnrolmentRequired => ErrorKind::MfaEnrolmentRequired.status(),
        UiError::DeletionPending => ErrorKind::DeletionPending.status(),
        UiError::ConfirmationMismatch => ErrorKind::ConfirmationMismatch.status(),
        UiError::DeletionCooldown => ErrorKind::DeletionCooldown.status(),
        UiError::AddressTaken => ErrorKind::AddressTaken.status(),
        UiError::SoleOwner => ErrorKind::SoleOwner.status(),
        UiError::AdminOnly => ErrorKind::AdminOnly.status(),
        UiError::ForbiddenWhileImpersonating => ErrorKind::ForbiddenWhileImpersonating.status(),
        UiError::NotImpersonable => ErrorKind::NotImpersonable.status(),
        UiError::SecondFactorRequired => ErrorKind::SecondFactorRequired.status(),
        UiError::Busy => ErrorKind::Busy.status(),
        UiError::Unavailable => ErrorKind::Unavailable.status(),
        UiError::Server { .. } => ErrorKind::Internal.status(),
        UiError::TokenRejected => ErrorKind::TokenRejected.status(),
        UiError::InsufficientScope => ErrorKind::InsufficientScope.status(),
        UiError::SessionRequired => ErrorKind::SessionRequired.status(),
        UiError::InvalidApiToken(problem) => ErrorKind::InvalidApiToken(*problem).status(),
        UiError::UnregisteredScopes => ErrorKind::UnregisteredScopes.status(),
        UiError::NotFound => ErrorKind::NotFound.status(),
        UiError::Organization(problem) => ErrorKind::Organization(*problem).status(),
        UiError::MalformedRequest => ErrorKind::MalformedRequest.status(),
        UiError::CrossSiteRefused => ErrorKind::CrossSiteRefused.status(),
        // The browser-side failures never come from the server; they get what fits.
        UiError::IncompleteForm | UiError::InvalidDisplayName => 422,
        UiError::PasskeysUnsupported
        | UiError::PasskeyCancelled
        | UiError::PasskeyAlreadyOnDevice => 400,
        UiError::Network => 500,
    };
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Core errors become their safe wording; server faults are logged with their full chain
/// (the request span carries the request id) and shown only as a request id.
impl From<sigra::Error> for UiError {
    fn from(error: sigra::Error) -> Self {
        let kind = error.kind();
        match kind {
            ErrorKind::Internal => {
                tracing::error!(error = %sigra::error::report(&error), "server function failed");
            }
            ErrorKind::Unavailable => {
                tracing::warn!(error = %sigra::error::report(&error), "the database is unreachable");
            }
            _ => {}
        }
        fail(UiError::from_kind(kind, request_id()))
    }
}
