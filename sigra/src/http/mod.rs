//! The Axum side of the core: layers that run on every request (security headers, the
//! cross-site check, session resolution), the extractors that hand handlers their proofs, the
//! session cookie, and the one error response.

mod bearer;
mod caller;
mod client_ip;
mod cookies;
mod csrf;
mod error;
mod extract;
mod forced_change;
mod headers;
mod links;
mod rate_limit;
mod request_id;
mod return_to;
mod scope;

pub use bearer::{bearer_header, is_bearer_request, is_cookieless_api_request, BearerHeader};
pub use caller::{scopes, Caller, Granted, RequiredScopes};
pub use client_ip::{client_ip, resolve_client_ip, ClientIp};
pub use cookies::{
    clear_impersonator_cookie, clear_session_cookie, find_cookie, host_cookie, impersonator_cookie,
    renewed_session_cookie, session_cookie, HostCookies, IMPERSONATOR_COOKIE, SESSION_COOKIE,
};
pub use csrf::reject_cross_site;
pub use error::{encode_refusals, log_errors, AppError, HostErrors};
pub use forced_change::{enforce_required_steps, RequiredStep, RequiredSteps};
pub use headers::{security_headers, CspNonce, HeaderPolicy};
pub use links::{
    clear_link_cookie, link_landing_routes, link_token, pages, MailedLink, LINK_COOKIE,
};
pub use rate_limit::{limit_guest_auth, GuestAuthLimit};
pub use request_id::{drop_unplain_request_id, is_plain_request_id};
pub use return_to::sanitize_return_to;
#[cfg(any(test, feature = "testing"))]
pub use return_to::OPEN_REDIRECT_CORPUS;
pub use scope::{resolve_session, Scope};
