//! Second factors: the log-in challenge at `/users/mfa`, and the security settings (set up an
//! authenticator app, backup codes, turn it off, forget trusted browsers), all behind sudo.

use leptos::prelude::*;

use super::{MfaChallengeView, SecurityView};
use crate::error::UiError;

/// What the challenge page needs: whether a log-in is waiting, and the trust period.
#[server(prefix = "/api/account", endpoint = "mfa-challenge")]
pub async fn mfa_challenge() -> Result<MfaChallengeView, UiError> {
    let cx = crate::ssr::context().await?;
    let pending = cx
        .pending
        .as_ref()
        .ok_or_else(|| crate::ssr::fail(UiError::Unauthenticated))?;
    let options = cx.sigra.mfa().second_factor_options(pending).await?;
    let switches = cx.switches();
    Ok(MfaChallengeView {
        trust_days: cx.sigra.config().mfa.trust_duration.as_secs() / 86_400,
        totp: options.totp && switches.second_factors,
        passkey: options.passkey && switches.passkeys,
    })
}

/// Finishes a log-in with an app code or a backup code.
#[server(prefix = "/users", endpoint = "mfa")]
pub async fn verify_second_factor(
    code: String,
    trust_browser: Option<String>,
    return_to: Option<String>,
) -> Result<(), UiError> {
    let factor = sigra::mfa::SecondFactor::parse(&code);
    let target =
        ssr::complete_second_factor(factor, trust_browser.is_some(), return_to.as_deref()).await?;
    leptos_axum::redirect(&target);
    Ok(())
}

/// Gives up on a log-in waiting for its second factor.
#[server(prefix = "/users/mfa", endpoint = "cancel")]
pub async fn cancel_second_factor() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    if let Some(pending) = &cx.pending {
        cx.sigra.mfa().cancel_mfa(pending, &cx.request).await?;
    }
    crate::ssr::set_cookie(sigra::http::clear_session_cookie());
    crate::flash::ssr::set(crate::flash::Flash::LoggedOut);
    leptos_axum::redirect(crate::paths::LOG_IN);
    Ok(())
}

/// The security settings page's view: second factors, a set-up in progress (under sudo), and
/// backup codes just issued (shown once).
#[server(prefix = "/api/account", endpoint = "security")]
pub async fn security_overview() -> Result<SecurityView, UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    let sudo = cx.sigra.sessions().sudo(current).ok();
    let overview = cx.sigra.mfa().mfa_overview(current, sudo.as_ref()).await?;
    Ok(SecurityView {
        totp_enabled: overview.totp_enabled,
        backup_codes_left: overview.backup_codes_left,
        setup: overview.pending_setup.map(|setup| super::TotpSetupView {
            secret: setup.secret,
            uri: setup.uri,
            qr_svg: setup.qr_svg,
        }),
        new_backup_codes: ssr::take_shown_codes(&cx),
        required: overview.required,
        sudo: sudo.is_some(),
        second_factors: super::SecondFactorsView::of(&cx, &current.user().id).await?,
    })
}

/// Starts setting up an authenticator app (needs sudo).
#[server(prefix = "/users/settings/security", endpoint = "totp-start")]
pub async fn start_totp_setup() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    cx.sigra.mfa().start_totp_setup(&sudo, &cx.request).await?;
    leptos_axum::redirect(crate::paths::SECURITY_SETTINGS);
    Ok(())
}

/// Finishes the set-up with the app's first code; the backup codes are shown once.
#[server(prefix = "/users/settings/security", endpoint = "totp-confirm")]
pub async fn confirm_totp_setup(code: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    let codes = cx
        .sigra
        .mfa()
        .confirm_totp_setup(&sudo, &code, &cx.request)
        .await?;
    ssr::show_codes_once(&cx, &codes);
    crate::flash::ssr::set(crate::flash::Flash::MfaEnabled);
    leptos_axum::redirect(crate::paths::SECURITY_SETTINGS);
    Ok(())
}

/// Replaces the backup codes, authorised by an app code.
#[server(prefix = "/users/settings/security", endpoint = "backup-codes")]
pub async fn regenerate_backup_codes(code: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    let codes = cx
        .sigra
        .mfa()
        .regenerate_backup_codes(&sudo, &code, &cx.request)
        .await?;
    ssr::show_codes_once(&cx, &codes);
    crate::flash::ssr::set(crate::flash::Flash::BackupCodesRegenerated);
    leptos_axum::redirect(crate::paths::SECURITY_SETTINGS);
    Ok(())
}

/// Turns two-factor authentication off, authorised by an app or backup code.
#[server(prefix = "/users/settings/security", endpoint = "totp-disable")]
pub async fn disable_totp(code: String) -> Result<(), UiError> {
    use sigra::mfa::SecondFactor;

    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    cx.sigra
        .mfa()
        .disable_totp(&sudo, SecondFactor::parse(&code), &cx.request)
        .await?;
    ssr::forget_this_browser();
    crate::flash::ssr::set(crate::flash::Flash::MfaDisabled);
    leptos_axum::redirect(crate::paths::SECURITY_SETTINGS);
    Ok(())
}

/// Forgets every trusted browser, this one included.
#[server(prefix = "/users/settings/security", endpoint = "forget-browsers")]
pub async fn forget_trusted_browsers() -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let sudo = crate::ssr::require_sudo(&cx, crate::paths::SECURITY_SETTINGS)?;
    cx.sigra
        .mfa()
        .forget_trusted_browsers(&sudo, &cx.request)
        .await?;
    ssr::forget_this_browser();
    crate::flash::ssr::set(crate::flash::Flash::TrustedBrowsersForgotten);
    leptos_axum::redirect(crate::paths::SECURITY_SETTINGS);
    Ok(())
}

#[cfg(feature = "ssr")]
pub(super) mod ssr {
    //! Finishing the second factor, whichever it is; and new backup codes, which survive the
    //! redirect back to the page (with or without JavaScript) in a short-lived cookie, sealed
    //! and bound to the session, which the page's next load takes.

    use std::time::Duration;

    use sigra::mfa::{BackupCodes, SecondFactor};

    use crate::error::UiError;
    use crate::ssr::{cookie, set_cookie, ServerContext};

    /// Finishes the pending log-in with `factor`: sets the session (and trust) cookies and the
    /// flash, and answers where to go next.
    pub(in crate::account) async fn complete_second_factor(
        factor: SecondFactor,
        trust_browser: bool,
        return_to: Option<&str>,
    ) -> Result<String, UiError> {
        let cx = crate::ssr::context().await?;
        let pending = cx
            .pending
            .as_ref()
            .ok_or_else(|| crate::ssr::fail(UiError::Unauthenticated))?;
        let done = match cx
            .sigra
            .mfa()
            .complete_mfa(pending, factor, trust_browser, &cx.request)
            .await
        {
            Ok(done) => done,
            Err(error) => {
                if matches!(error, sigra::Error::MfaLocked) {
                    // The lock ended the pending session: start again from the password.
                    set_cookie(sigra::http::clear_session_cookie());
                }
                return Err(error.into());
            }
        };
        set_cookie(sigra::http::session_cookie(&done.session));
        if let Some(value) = &done.trusted_browser {
            let lifetime = cx.sigra.config().mfa.trust_duration;
            set_cookie(sigra::http::host_cookie(
                sigra::mfa::TRUSTED_BROWSER_COOKIE,
                value,
                Some(lifetime),
            ));
        }
        crate::flash::ssr::set(if done.backup_codes_left.is_some() {
            crate::flash::Flash::LoggedInWithBackupCode
        } else {
            crate::flash::Flash::LoggedIn
        });
        let target = return_to
            .filter(|t| !t.is_empty())
            .unwrap_or(crate::paths::AFTER_LOG_IN);
        Ok(sigra::http::sanitize_return_to(target))
    }

    const COOKIE: &str = "__Host-sigra_new_backup_codes";
    const LIFETIME: Duration = Duration::from_secs(5 * 60);

    fn context(cx: &ServerContext) -> Option<String> {
        cx.current
            .as_ref()
            .map(|current| format!("backup-codes:{}", current.session().id.as_str()))
    }

    pub(super) fn show_codes_once(cx: &ServerContext, codes: &BackupCodes) {
        let Some(context) = context(cx) else { return };
        let text = codes.codes().collect::<Vec<_>>().join(" ");
        set_cookie(
            cx.sigra
                .cookies()
                .sealed(COOKIE, &context, text.as_bytes(), LIFETIME),
        );
    }

    /// Drops this browser's "trust this browser" cookie.
    pub(super) fn forget_this_browser() {
        set_cookie(sigra::http::host_cookie(
            sigra::mfa::TRUSTED_BROWSER_COOKIE,
            "",
            Some(Duration::ZERO),
        ));
    }

    pub(super) fn take_shown_codes(cx: &ServerContext) -> Option<Vec<String>> {
        cookie(COOKIE)?;
        set_cookie(sigra::http::HostCookies::removal(COOKIE));
        let parts = leptos::prelude::use_context::<http::request::Parts>()?;
        let text = cx
            .sigra
            .cookies()
            .open_sealed(&parts.headers, COOKIE, &context(cx)?)?;
        let text = String::from_utf8(text).ok()?;
        Some(text.split(' ').map(str::to_owned).collect())
    }
}
