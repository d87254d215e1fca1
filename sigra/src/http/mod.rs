//! The Axum side of the core: layers that run on every request (security headers, the
//! cross-site check, session resolution), the extractors that hand handlers their proofs, the
//! session cookie, and the one error response.

mod cookies;
mod csrf;
mod error;
mod extract;
mod headers;
mod scope;

pub use cookies::{clear_session_cookie, find_cookie, session_cookie, SESSION_COOKIE};
pub use csrf::reject_cross_site;
pub use error::{log_errors, AppError};
pub use headers::{security_headers, CspNonce, HeaderPolicy};
pub use scope::{resolve_session, Scope};
