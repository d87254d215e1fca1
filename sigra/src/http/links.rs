//! Landing for links mailed with a token in the path. The token is moved into a short-lived
//! `__Host-` cookie and the browser is sent on to a token-free page, so the token does not
//! stay in the address bar, the history, or a `Referer`. The page then asks for a click (a POST)
//! before the token is used: mail scanners that fetch links cannot spend it.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::time::Duration;

use crate::crypto::PresentedToken;

use super::cookies::host_cookie;

/// The cookie that carries a mailed token to the page that uses it.
pub const LINK_COOKIE: &str = "__Host-sigra_link";
/// Long enough to read the page and submit it; the token's own expiry still applies.
const LINK_COOKIE_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The host pages the core sends people to: in mails and in the forced-step redirects.
pub mod pages {
    /// The log-in page.
    pub const LOG_IN: &str = "/users/log-in";
    /// Where a password reset is asked for.
    pub const RESET_PASSWORD: &str = "/users/reset-password";
    /// The password form (also the forced password change).
    pub const PASSWORD_CHANGE: &str = "/users/settings/password";
    /// Where second factors are set up.
    pub const SECURITY_SETTINGS: &str = "/users/settings/security";
    /// Where sudo is entered.
    pub const SUDO: &str = "/users/sudo";
    /// Linked sign-in providers.
    pub const ACCOUNTS_SETTINGS: &str = "/users/settings/accounts";
    /// An account with the provider's address exists: prove it to link.
    pub const OAUTH_LINK: &str = "/users/oauth/link";
    /// The provider gave no address: ask for one.
    pub const OAUTH_EMAIL: &str = "/users/oauth/email";
    /// A provider sign-in that failed, with its reason's code.
    pub const OAUTH_ERROR: &str = "/users/oauth/error";
    /// The user's API tokens.
    pub const API_TOKENS: &str = "/users/settings/api-tokens";
    /// Keeping an account that is scheduled for deletion.
    pub const REACTIVATION: &str = "/users/reactivation";
}

/// Each kind of link mailed with a token: where the mail points, and the token-free page the
/// landing sends the browser on to (the page whose form posts to the server function of the
/// same path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailedLink {
    /// Confirming a new account's address.
    Confirm,
    /// Logging in without a password.
    MagicLink,
    /// Choosing a new password.
    ResetPassword,
    /// Confirming a new email address.
    ConfirmEmailChange,
    /// Joining an organization.
    Invitation,
}

impl MailedLink {
    /// Every kind.
    pub const ALL: [Self; 5] = [
        Self::Confirm,
        Self::MagicLink,
        Self::ResetPassword,
        Self::ConfirmEmailChange,
        Self::Invitation,
    ];

    /// The path the mailed URL starts with; the token follows.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Confirm => "/users/confirm/",
            Self::MagicLink => "/users/log-in/",
            Self::ResetPassword => "/users/reset-password/",
            Self::ConfirmEmailChange => "/users/settings/confirm-email/",
            Self::Invitation => "/invitations/",
        }
    }

    /// The token-free page the landing redirects to.
    pub fn page(self) -> &'static str {
        match self {
            Self::Confirm => "/users/confirm/link",
            Self::MagicLink => "/users/log-in/link",
            Self::ResetPassword => "/users/reset-password/choose",
            Self::ConfirmEmailChange => "/users/settings/confirm-email/link",
            Self::Invitation => "/invitations/accept",
        }
    }

    /// Whether `path` is one of the pages a mailed link lands on.
    pub fn is_landing_page(path: &str) -> bool {
        Self::ALL.iter().any(|link| link.page() == path)
    }
}

impl crate::plumbing::Core {
    /// The URL mailed for `token`, under the configured base URL.
    pub(crate) fn mailed_link_url(&self, link: MailedLink, token: &str) -> crate::mail::Link {
        self.url(&format!("{}{token}", link.prefix()))
    }
}

/// The landing route of every [`MailedLink`] that `served` keeps (those of a capability that
/// is off are left out, so their links land on "not found").
pub fn link_landing_routes<S: Clone + Send + Sync + 'static>(
    served: impl Fn(MailedLink) -> bool,
) -> Router<S> {
    let served: Vec<MailedLink> = MailedLink::ALL.into_iter().filter(|l| served(*l)).collect();
    served.iter().fold(Router::new(), |router, link| {
        let page = link.page();
        router.route(
            &format!("{}{{token}}", link.prefix()),
            get(move |Path(token): Path<String>| async move { land(&token, page) }),
        )
    })
}

fn land(token: &str, page: &'static str) -> Response {
    // A malformed token still lands: the page then says the link is invalid.
    let value = if PresentedToken::parse(token).is_some() {
        token
    } else {
        ""
    };
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, page)]).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        host_cookie(LINK_COOKIE, value, Some(LINK_COOKIE_LIFETIME)),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The token the landing stored, if a well-formed one is present.
pub fn link_token(headers: &HeaderMap) -> Option<PresentedToken> {
    super::find_cookie(headers, LINK_COOKIE).and_then(PresentedToken::parse)
}

/// The `Set-Cookie` value that removes the link cookie once it has been used.
pub fn clear_link_cookie() -> HeaderValue {
    host_cookie(LINK_COOKIE, "", Some(Duration::ZERO))
}
