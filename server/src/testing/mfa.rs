//! Two-factor authentication in a test: set TOTP up through the security page as a user does,
//! and compute its codes at the app's clock.

use reqwest::StatusCode;
use sigra::mfa::totp;
use totp_rs::Secret;

use super::{cookie_pair, location, Browser, TestApp};

const SECURITY: &str = "/users/settings/security";

/// A TOTP set-up in progress, as the security page shows it.
#[derive(Clone, Debug)]
pub struct TotpSetup {
    /// The base32 secret.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
}

/// The six-digit code for `secret` (base32) at `unix` seconds, by the core's own RFC 6238
/// implementation.
pub fn totp_code_at(secret: &str, unix: i64) -> String {
    let secret = Secret::try_from_base32(secret)
        .unwrap_or_else(|error| panic!("a base32 secret: {error:?}"));
    let step = u64::try_from(unix).unwrap_or_default() / totp::STEP_SECONDS;
    totp::code_at_step(secret.as_ref(), step).expect("a code")
}

impl Browser {
    /// The security page's data, as the hydrated page reads it.
    pub async fn security_view(&self, cookie: &str) -> serde_json::Value {
        let response = self
            .call_json("/api/account/security", &[], Some(cookie))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }
}

impl TestApp {
    /// Starts setting up TOTP for the signed-in `cookie` (entering sudo first, which replaces
    /// `cookie`).
    pub async fn start_totp(&self, cookie: &mut String) -> TotpSetup {
        self.enter_sudo(cookie, SECURITY).await;
        let started = self
            .post_form(
                "/users/settings/security/totp-start",
                SECURITY,
                &[],
                Some(cookie),
            )
            .await;
        assert_eq!(location(&started), SECURITY);
        let view = self.security_view(cookie).await;
        let field = |name: &str| {
            view["setup"][name]
                .as_str()
                .unwrap_or_else(|| panic!("a set-up in progress: {view}"))
                .to_owned()
        };
        TotpSetup {
            secret: field("secret"),
            uri: field("uri"),
        }
    }

    /// Confirms the set-up with `code`; the backup codes, shown once.
    pub async fn confirm_totp(&self, cookie: &str, code: &str) -> Vec<String> {
        let confirmed = self
            .post_form(
                "/users/settings/security/totp-confirm",
                SECURITY,
                &[("code", code)],
                Some(cookie),
            )
            .await;
        assert_eq!(location(&confirmed), SECURITY);
        let shown =
            cookie_pair(&confirmed, "__Host-sigra_new_backup_codes").expect("backup codes to show");
        let view = self.security_view(&format!("{cookie}; {shown}")).await;
        assert_eq!(view["totp_enabled"], true);
        view["new_backup_codes"]
            .as_array()
            .expect("codes shown once")
            .iter()
            .map(|code| code.as_str().expect("text").to_owned())
            .collect()
    }

    /// Turns TOTP on for the signed-in `cookie`: the set-up and the backup codes.
    pub async fn enable_totp(&self, cookie: &mut String) -> (TotpSetup, Vec<String>) {
        let setup = self.start_totp(cookie).await;
        let codes = self
            .confirm_totp(cookie, &self.totp_code(&setup.secret))
            .await;
        (setup, codes)
    }

    /// The code for `secret` now, by the app's clock.
    pub fn totp_code(&self, secret: &str) -> String {
        totp_code_at(secret, self.sigra.now().as_millis() / 1000)
    }
}
