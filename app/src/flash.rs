//! One-shot messages across a redirect ("You have been logged out."). The server sets a short-
//! lived signed cookie naming a message; the next page load takes it. Only codes travel, so a
//! planted cookie cannot put arbitrary text on the page, and the signature refuses it anyway.

use serde::{Deserialize, Serialize};

/// The messages a redirect can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flash {
    /// After registration (the same whether the address was new or not).
    AccountReady,
    /// After a successful log-in.
    LoggedIn,
    /// After log-out.
    LoggedOut,
    /// A page needed a session the request did not have.
    LogInRequired,
}

/// How a flash message is styled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Something worked.
    Success,
    /// Something to know.
    Info,
}

impl Flash {
    /// The text shown.
    pub fn message(self) -> &'static str {
        match self {
            Self::AccountReady => {
                "Thanks for registering. If that address was new here, your account is ready: log in \
                 below. If you already had an account, log in with your existing password."
            }
            Self::LoggedIn => "Welcome back. You are logged in.",
            Self::LoggedOut => "You have been logged out.",
            Self::LogInRequired => "Please log in to continue.",
        }
    }

    /// How it looks.
    pub fn tone(self) -> Tone {
        match self {
            Self::AccountReady | Self::LoggedIn | Self::LoggedOut => Tone::Success,
            Self::LogInRequired => Tone::Info,
        }
    }

    #[cfg(feature = "ssr")]
    fn code(self) -> &'static str {
        match self {
            Self::AccountReady => "account_ready",
            Self::LoggedIn => "logged_in",
            Self::LoggedOut => "logged_out",
            Self::LogInRequired => "log_in_required",
        }
    }

    #[cfg(feature = "ssr")]
    fn from_code(code: &str) -> Option<Self> {
        [
            Self::AccountReady,
            Self::LoggedIn,
            Self::LoggedOut,
            Self::LogInRequired,
        ]
        .into_iter()
        .find(|flash| flash.code() == code)
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Setting and taking the flash cookie.

    use cookie::{Cookie, SameSite};
    use http::header::HeaderValue;
    use http::request::Parts;
    use leptos::prelude::*;
    use sigra::crypto::SigningKey;
    use sigra::Sigra;

    use super::Flash;
    use crate::ssr::set_cookie;

    const COOKIE: &str = "__Host-sigra_flash";
    const PURPOSE: &str = "flash-message";

    fn key() -> Option<SigningKey> {
        use_context::<Sigra>().map(|sigra| sigra.config().secret_key.derive(PURPOSE))
    }

    fn cookie(value: String, max_age_seconds: i64) -> Option<HeaderValue> {
        let cookie = Cookie::build((COOKIE, value))
            .path("/")
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(cookie::time::Duration::seconds(max_age_seconds))
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }

    /// Queues `flash` for the next page the browser loads.
    pub fn set(flash: Flash) {
        if let Some(value) = key().and_then(|key| cookie(key.sign(flash.code()), 60)) {
            set_cookie(value);
        }
    }

    /// Takes the queued message, if a valid one came with this request, and clears it.
    pub fn take() -> Option<Flash> {
        let parts = use_context::<Parts>()?;
        let raw = sigra::http::find_cookie(&parts.headers, COOKIE)?;
        if let Some(clear) = cookie(String::new(), 0) {
            set_cookie(clear);
        }
        key()?.verify(raw).and_then(Flash::from_code)
    }
}
