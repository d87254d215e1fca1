//! "Check your email": the address the last mail went to, remembered in this browser so the next
//! page can name it, fill it in, and send the same mail again. It is only ever the address this
//! browser typed, so showing it back says nothing about whether an account exists.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::UiError;
use crate::flash::Flash;

/// Which mail a guest form asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SentMail {
    /// A link and code to confirm the address (registration, or asking again).
    Confirmation,
    /// A one-time log-in link.
    LogInLink,
    /// A password reset link.
    PasswordReset,
}

impl SentMail {
    /// The message saying it is on its way (worded so it never says whether an account exists).
    pub fn sent(self) -> Flash {
        match self {
            Self::Confirmation => Flash::ConfirmationSent,
            Self::LogInLink => Flash::MagicLinkSent,
            Self::PasswordReset => Flash::ResetSent,
        }
    }
}

/// What `/users/check-email` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckEmailView {
    /// The address the last mail was asked for in this browser.
    pub address: Option<String>,
    /// Which mail it was (the resend button sends the same).
    pub mail: Option<SentMail>,
    /// The development mailbox, when mail goes there instead of out.
    pub mailbox: Option<String>,
}

/// The check-email page's data.
#[server(prefix = "/api/account", endpoint = "check-email")]
pub async fn check_email_overview() -> Result<CheckEmailView, UiError> {
    let cx = crate::ssr::context().await?;
    let remembered = ssr::remembered(&cx.sigra);
    Ok(CheckEmailView {
        address: remembered.as_ref().map(|(_, address)| address.clone()),
        mail: remembered.map(|(mail, _)| mail),
        mailbox: cx
            .sigra
            .dev_mailbox()
            .map(|_| sigra::mail::DEV_MAILBOX_PATH.to_owned()),
    })
}

/// The address the last mail was asked for in this browser, to fill in a form.
#[server(prefix = "/api/account", endpoint = "remembered-address")]
pub async fn remembered_address() -> Result<Option<String>, UiError> {
    let cx = crate::ssr::context().await?;
    Ok(ssr::remembered(&cx.sigra).map(|(_, address)| address))
}

/// Sends the last mail again, to the same address. Rate limited like every guest form, and the
/// core's own per-address limits apply; the answer never says whether the address has an
/// account. The page stays: a plain form reloads it with the message, the hydrated page says
/// it in place (a redirect to the page it is on would not show a new message).
#[server(prefix = "/users/check-email", endpoint = "resend")]
pub async fn resend_mail() -> Result<SentMail, UiError> {
    let cx = crate::ssr::context().await?;
    let (mail, address) =
        ssr::remembered(&cx.sigra).ok_or_else(|| crate::ssr::fail(UiError::IncompleteForm))?;
    ssr::send(&cx, mail, &address).await?;
    if crate::ssr::from_plain_form() {
        crate::flash::ssr::set(mail.sent());
        leptos_axum::redirect(crate::paths::CHECK_EMAIL);
    }
    Ok(mail)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Sending a guest mail, and remembering where it went.

    use std::time::Duration;

    use sigra::Sigra;

    use super::SentMail;
    use crate::error::UiError;
    use crate::ssr::{ServerContext, SignedJsonCookie};

    /// A mailed link lasts at most an hour; the reminder no longer.
    const COOKIE: SignedJsonCookie =
        SignedJsonCookie::new("__Host-sigra_sent_to", Duration::from_secs(60 * 60));

    /// Asks the core for `mail` to `address`, remembers the address in this browser and sends
    /// it to the check-email page with the message for that mail.
    ///
    /// # Errors
    /// What the core refuses (an address it cannot use, a rate limit).
    pub async fn send_and_go(
        cx: &ServerContext,
        mail: SentMail,
        address: &str,
    ) -> Result<(), UiError> {
        send(cx, mail, address).await?;
        crate::flash::ssr::set(mail.sent());
        leptos_axum::redirect(crate::paths::CHECK_EMAIL);
        Ok(())
    }

    /// Asks the core for `mail` to `address` and remembers the address in this browser.
    ///
    /// # Errors
    /// What the core refuses (an address it cannot use, a rate limit).
    pub async fn send(cx: &ServerContext, mail: SentMail, address: &str) -> Result<(), UiError> {
        match mail {
            SentMail::Confirmation => {
                cx.sigra
                    .confirmation()
                    .resend_confirmation(address, &cx.request)
                    .await?;
            }
            SentMail::LogInLink => {
                cx.sigra
                    .auth()
                    .request_magic_link(address, &cx.request)
                    .await?;
            }
            SentMail::PasswordReset => {
                cx.sigra
                    .auth()
                    .request_password_reset(address, &cx.request)
                    .await?;
            }
        }
        remember(&cx.sigra, mail, address);
        Ok(())
    }

    /// Remembers in this browser that `mail` was asked for `address`.
    pub fn remember(sigra: &Sigra, mail: SentMail, address: &str) {
        COOKIE.set(sigra, &(mail, address.trim()));
    }

    /// The mail last asked for in this browser and its address, if the reminder is genuine.
    pub fn remembered(sigra: &Sigra) -> Option<(SentMail, String)> {
        COOKIE.read(sigra)
    }

    /// Forgets the address: at a log-in (the browser no longer waits for a mail) and a log-out
    /// (the next person at this browser should not read it).
    pub fn forget() {
        COOKIE.forget();
    }
}
