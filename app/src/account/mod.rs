//! The account's server functions, each a thin adapter over one core service, and the types
//! they send to the browser. Pages create their actions themselves, inside the router, so that
//! without JavaScript an error carried back in the URL reaches the form that caused it.

pub(crate) mod api_tokens;
pub mod check_email;
pub(crate) mod confirmation;
pub(crate) mod deletion;
pub(crate) mod export;
pub(crate) mod mfa;
pub(crate) mod oauth;
#[cfg(feature = "passkeys")]
pub(crate) mod passkeys;
pub(crate) mod recovery;
pub(crate) mod security;
pub(crate) mod session;
pub(crate) mod settings;

use serde::{Deserialize, Serialize};

use crate::error::PasswordProblem;
use crate::flash::Flash;

pub use api_tokens::{
    create_api_token, list_api_tokens, revoke_all_api_tokens, revoke_api_token, CreateApiToken,
    RevokeAllApiTokens, RevokeApiToken,
};
pub use check_email::{
    check_email_overview, remembered_address, resend_mail, CheckEmailView, ResendMail, SentMail,
};
pub use confirmation::{
    confirm_with_code, confirm_with_link, resend_confirmation, ConfirmWithCode, ConfirmWithLink,
    ResendConfirmation,
};
pub use deletion::{
    delete_account, deletion_overview, keep_account, reactivation_overview, DeleteAccount,
    DeletionView, KeepAccount, ReactivationView,
};
pub use export::{export_overview, ExportView};
pub use mfa::{
    cancel_second_factor, confirm_totp_setup, disable_totp, forget_trusted_browsers, mfa_challenge,
    regenerate_backup_codes, security_overview, start_totp_setup, verify_second_factor,
    CancelSecondFactor, ConfirmTotpSetup, DisableTotp, ForgetTrustedBrowsers,
    RegenerateBackupCodes, StartTotpSetup, VerifySecondFactor,
};
pub use oauth::{
    give_provider_address, link_pending_identity, linked_accounts, pending_identity,
    set_first_password, sign_in_providers, sudo_options, unlink_provider, GiveProviderAddress,
    LinkPendingIdentity, SetFirstPassword, UnlinkProvider,
};
#[cfg(feature = "passkeys")]
pub use passkeys::{
    delete_passkey, enter_sudo_with_passkey, finish_passkey_registration, list_passkeys,
    log_in_with_passkey, rename_passkey, start_passkey_confirmation, start_passkey_log_in,
    start_passkey_registration, start_passkey_second_factor, start_passkey_sudo,
    verify_passkey_second_factor, DeletePasskey, PasskeyChallengeView, PasskeyRow, RenamePasskey,
};
pub use recovery::{
    request_password_reset, reset_link_status, reset_password, RequestPasswordReset, ResetPassword,
};
pub use security::{
    enter_sudo, list_sessions, revoke_other_sessions, revoke_session, EnterSudo,
    RevokeOtherSessions, RevokeSession,
};
pub use session::{
    log_in, log_in_with_link, log_out, register, request_magic_link, session_state, signed_in_as,
    LogIn, LogInWithLink, LogOut, Register, RequestMagicLink,
};
pub use settings::{
    account_overview, assess_password, cancel_email_change, change_display_name, change_password,
    confirm_email_change, password_rules, request_email_change, CancelEmailChange,
    ChangeDisplayName, ChangePassword, ConfirmEmailChange, RequestEmailChange,
};

/// The paths of the server functions with which a guest proves who they are (and sudo, which
/// re-enters a password): the guest rate limit applies to form posts to these. Read from the
/// server functions themselves, so a renamed endpoint stays limited.
#[cfg(feature = "ssr")]
pub fn guest_auth_paths() -> Vec<&'static str> {
    use leptos::server_fn::ServerFn;
    let paths = vec![
        <Register as ServerFn>::PATH,
        <LogIn as ServerFn>::PATH,
        <RequestMagicLink as ServerFn>::PATH,
        <LogInWithLink as ServerFn>::PATH,
        <RequestPasswordReset as ServerFn>::PATH,
        <ResetPassword as ServerFn>::PATH,
        <ConfirmWithCode as ServerFn>::PATH,
        <ResendConfirmation as ServerFn>::PATH,
        <ResendMail as ServerFn>::PATH,
        <ConfirmWithLink as ServerFn>::PATH,
        <EnterSudo as ServerFn>::PATH,
        <VerifySecondFactor as ServerFn>::PATH,
        <GiveProviderAddress as ServerFn>::PATH,
        <crate::organizations::JoinWithNewAccount as ServerFn>::PATH,
    ];
    #[cfg(feature = "passkeys")]
    let paths = [
        paths,
        vec![
            <passkeys::VerifyPasskeySecondFactor as ServerFn>::PATH,
            <passkeys::StartPasskeyLogIn as ServerFn>::PATH,
            <passkeys::LogInWithPasskey as ServerFn>::PATH,
            <passkeys::EnterSudoWithPasskey as ServerFn>::PATH,
        ],
    ]
    .concat();
    paths
}

/// A configured log-in provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderView {
    /// Its name in URLs.
    pub name: String,
    /// "Google".
    pub display_name: String,
    /// An image for its button.
    pub icon: Option<String>,
    /// Whether it can re-authenticate for sudo.
    pub reauthenticates: bool,
}

/// One linked provider identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityView {
    /// Its id (for unlinking).
    pub id: String,
    /// The provider's name.
    pub provider: String,
    /// The provider's display name.
    pub display_name: String,
    /// The address the provider gave.
    pub email: Option<String>,
    /// The name the provider gave.
    pub name: Option<String>,
    /// When it was linked (RFC 3339, UTC).
    pub linked_at: String,
    /// When it last logged in (RFC 3339, UTC).
    pub last_used_at: Option<String>,
}

/// The linked-accounts page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsView {
    /// Whether the account has a password.
    pub password: bool,
    /// How many passkeys it has.
    pub passkeys: u32,
    /// Its linked providers.
    pub identities: Vec<IdentityView>,
    /// Every configured provider (to link another).
    pub providers: Vec<ProviderView>,
    /// Whether sudo is open (changes allowed).
    pub sudo: bool,
    /// A provider waiting in this browser that this account may link now.
    pub pending_link: Option<String>,
}

/// A provider identity waiting in this browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingView {
    /// Whether it waits for an address (else for its account to be proved).
    pub needs_address: bool,
    /// The provider's display name.
    pub provider: String,
    /// The address the provider gave.
    pub email: Option<String>,
    /// Whether the signed-in user can link it now.
    pub linkable: bool,
    /// Whether someone is logged in.
    pub signed_in: bool,
}

/// How the signed-in user can re-authenticate for sudo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SudoWays {
    /// With the password.
    pub password: bool,
    /// With a passkey.
    pub passkey: bool,
    /// With these linked providers (fresh log-in there).
    pub providers: Vec<ProviderView>,
}

/// The server functions a required password change needs: its page's data and form, the
/// meter, the header's session state and log-out. Every other call is refused until it is done.
#[cfg(feature = "ssr")]
pub fn password_change_paths() -> Vec<&'static str> {
    use leptos::server_fn::ServerFn;
    vec![
        <ChangePassword as ServerFn>::PATH,
        <settings::AccountOverview as ServerFn>::PATH,
        <settings::PasswordRules as ServerFn>::PATH,
        <settings::AssessPassword as ServerFn>::PATH,
        <session::SessionState as ServerFn>::PATH,
        <LogOut as ServerFn>::PATH,
    ]
}

/// The server functions an account scheduled for deletion may call: its page's data, keeping
/// the account, the header's session state and log-out. Every other call is refused.
#[cfg(feature = "ssr")]
pub fn reactivation_paths() -> Vec<&'static str> {
    use leptos::server_fn::ServerFn;
    vec![
        <KeepAccount as ServerFn>::PATH,
        <deletion::ReactivationOverview as ServerFn>::PATH,
        <session::SessionState as ServerFn>::PATH,
        <LogOut as ServerFn>::PATH,
    ]
}

/// The server functions setting up a required second factor needs: the security page (an app
/// or a passkey), sudo, and what a required password change needs (it comes first).
#[cfg(feature = "ssr")]
pub fn mfa_enrolment_paths() -> Vec<&'static str> {
    use leptos::server_fn::ServerFn;
    let mut paths = password_change_paths();
    paths.extend([
        <mfa::SecurityOverview as ServerFn>::PATH,
        <StartTotpSetup as ServerFn>::PATH,
        <ConfirmTotpSetup as ServerFn>::PATH,
        <EnterSudo as ServerFn>::PATH,
        <oauth::SudoOptions as ServerFn>::PATH,
    ]);
    #[cfg(feature = "passkeys")]
    paths.extend([
        <passkeys::ListPasskeys as ServerFn>::PATH,
        <passkeys::StartPasskeyRegistration as ServerFn>::PATH,
        <passkeys::FinishPasskeyRegistration as ServerFn>::PATH,
        <passkeys::StartPasskeySudo as ServerFn>::PATH,
        <passkeys::EnterSudoWithPasskey as ServerFn>::PATH,
    ]);
    paths
}

/// Who the browser is logged in as, plus any message waiting for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    /// The signed-in user's email, if any.
    pub email: Option<String>,
    /// The signed-in user's display name, if they chose one.
    pub display_name: Option<String>,
    /// Whether that address still needs confirming.
    pub unconfirmed: bool,
    /// A message carried across the last redirect.
    pub flash: Option<Flash>,
    /// The signed-in user's organizations, for the switcher.
    pub organizations: crate::organizations::OrganizationsView,
    /// Whether the signed-in user is a platform admin (the header links the admin area).
    pub admin: bool,
    /// Whether the session is an admin's impersonation (the header says so, with a stop).
    pub impersonating: bool,
}

/// What the second-factor page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaChallengeView {
    /// How many days "trust this browser" lasts.
    pub trust_days: u64,
    /// Whether an authenticator app code (or backup code) can finish the log-in.
    pub totp: bool,
    /// Whether a passkey can.
    pub passkey: bool,
}

/// The security settings page's view of the account's second factors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityView {
    /// Whether an authenticator app is set up.
    pub totp_enabled: bool,
    /// Unused backup codes.
    pub backup_codes_left: u32,
    /// A set-up in progress (only under sudo).
    pub setup: Option<TotpSetupView>,
    /// Backup codes just issued, shown this once.
    pub new_backup_codes: Option<Vec<String>>,
    /// Whether this site requires a second factor.
    pub required: bool,
    /// Whether the password was re-entered recently (changes are open).
    pub sudo: bool,
    /// The second factors that count here, for the summary.
    pub second_factors: SecondFactorsView,
}

/// An authenticator-app set-up waiting for its first code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetupView {
    /// The secret in base32, to type by hand.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The QR code (SVG made on the server from the URI; no user input in it).
    pub qr_svg: String,
}

/// The settings page's view of the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountDetails {
    /// The normalised email address.
    pub email: String,
    /// The name the account goes by, if one was chosen.
    pub display_name: Option<String>,
    /// Whether it is confirmed.
    pub confirmed: bool,
    /// An address waiting for confirmation in an email change.
    pub pending_email: Option<String>,
    /// Whether a new password must be chosen before anything else.
    pub must_change_password: bool,
    /// Its second factors.
    pub second_factors: SecondFactorsView,
    /// When the account was created (RFC 3339, UTC).
    pub member_since: String,
    /// When this session started (RFC 3339, UTC).
    pub signed_in_at: String,
    /// Whether this session survives a browser restart.
    pub remembered: bool,
    /// When this session ends at the latest (RFC 3339, UTC).
    pub session_ends_by: String,
}

/// An account's second factors, as the settings summary and the security page both say them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorsView {
    /// Whether an authenticator app is set up.
    pub app: bool,
    /// Passkeys registered.
    pub passkeys: u32,
}

impl SecondFactorsView {
    /// The factors of `user` that count here: those of the capabilities switched on.
    #[cfg(feature = "ssr")]
    pub async fn of(
        cx: &crate::ssr::ServerContext,
        user: &sigra::users::UserId,
    ) -> Result<Self, crate::error::UiError> {
        let factors = cx.sigra.mfa().second_factors(user).await?;
        let switches = cx.switches();
        Ok(Self {
            app: factors.app && switches.second_factors,
            passkeys: if switches.passkeys {
                factors.passkeys
            } else {
                0
            },
        })
    }

    /// "Off", or "On: " and what makes it so.
    pub fn summary(self) -> String {
        let passkeys = match self.passkeys {
            0 => None,
            1 => Some("a passkey".to_owned()),
            n => Some(format!("{n} passkeys")),
        };
        let app = self.app.then(|| "an authenticator app".to_owned());
        match (app, passkeys) {
            (None, None) => "Off".to_owned(),
            (Some(one), None) | (None, Some(one)) => format!("On: {one}"),
            (Some(app), Some(passkeys)) => format!("On: {app} and {passkeys}"),
        }
    }
}

/// What forms should tell people about passwords.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordLimits {
    /// Fewest characters.
    pub min_length: usize,
    /// Most characters.
    pub max_length: usize,
}

/// The live meter's reading of a password being typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReading {
    /// 0 to 4 bars.
    pub score: u8,
    /// Weak, fair or strong.
    pub label: StrengthWord,
    /// The first rule broken, which the server will refuse on submit.
    pub problem: Option<PasswordProblem>,
}

/// The meter's word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StrengthWord {
    /// Easy to guess.
    Weak,
    /// Acceptable.
    Fair,
    /// Good.
    Strong,
}

/// The API tokens page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokensView {
    /// The user's tokens, newest first (one page).
    pub tokens: Vec<ApiTokenRow>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<String>,
    /// Every scope a token may carry.
    pub scopes: Vec<String>,
    /// The longest lifetime allowed, in days, if limited.
    pub max_days: Option<u64>,
    /// Whether a token must expire.
    pub expiry_required: bool,
    /// A token just made, shown this once.
    pub new_token: Option<String>,
    /// Whether the password was re-entered recently (changes are open).
    pub sudo: bool,
}

/// One API token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its scopes, space-separated.
    pub scopes: String,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// When it expires (RFC 3339, UTC), if ever.
    pub expires_at: Option<String>,
    /// When it was last used (RFC 3339, UTC).
    pub last_used_at: Option<String>,
    /// Whether it has expired.
    pub expired: bool,
}

/// The sessions page's data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionsView {
    /// The user's sessions, most recently active first.
    pub sessions: Vec<SessionRow>,
    /// Recent security events on the account.
    pub events: Vec<EventRow>,
}

/// One session on the sessions page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    /// Its public id.
    pub id: String,
    /// "Chrome 120 on macOS".
    pub device: String,
    /// The address it came from.
    pub ip: Option<String>,
    /// "Lyon, FR".
    pub location: Option<String>,
    /// Last activity (RFC 3339, UTC).
    pub last_active: String,
    /// Whether it is this browser's.
    pub current: bool,
    /// Whether it survives browser restarts.
    pub remembered: bool,
    /// Whether an administrator is working as the user in it.
    pub by_administrator: bool,
}

/// One line of the security feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    /// What happened, in words.
    pub label: String,
    /// Whether it was a failed attempt.
    pub failed: bool,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// From where and with what.
    pub source: String,
}

#[cfg(feature = "ssr")]
fn sessions_view(
    sessions: Vec<sigra::sessions::SessionSummary>,
    events: Vec<sigra::sessions::SecurityEvent>,
) -> SessionsView {
    SessionsView {
        sessions: sessions
            .into_iter()
            .map(|s| SessionRow {
                id: s.id.to_string(),
                device: s.device,
                ip: s.ip,
                location: s.location,
                last_active: s.last_active_at.to_string(),
                current: s.current,
                remembered: s.remembered,
                by_administrator: s.by_administrator,
            })
            .collect(),
        events: events
            .into_iter()
            .map(|e| EventRow {
                label: event_label(e.action, e.succeeded).to_owned(),
                failed: !e.succeeded,
                at: e.at.to_string(),
                source: match e.ip {
                    Some(ip) => format!("{ip} · {}", e.device),
                    None => e.device,
                },
            })
            .collect(),
    }
}

/// The words for an action as stored: the core's catalogue ([`event_label`]), then the
/// app's own actions (see `organizations::projects`).
#[cfg(feature = "ssr")]
pub(crate) fn action_label(name: &str, succeeded: bool) -> &'static str {
    use std::str::FromStr as _;
    match sigra::audit::Action::from_str(name) {
        Ok(action) => event_label(Some(action), succeeded),
        Err(_) => match name {
            "project.create" => "Project created",
            "project.delete" => "Project deleted",
            _ => event_label(None, succeeded),
        },
    }
}

/// Words for the audit actions a user sees about themselves. The match is exhaustive, so a
/// new action in the core's catalogue does not compile until it has its words here.
#[cfg(feature = "ssr")]
pub(crate) fn event_label(action: Option<sigra::audit::Action>, succeeded: bool) -> &'static str {
    use sigra::audit::Action as A;
    let Some(action) = action else {
        return "Account activity";
    };
    match action {
        A::LoginSuccess => "Logged in",
        A::LoginFailure => "Failed log-in attempt",
        A::InvalidCredentials => "Wrong password entered",
        A::Logout => "Logged out",
        A::MagicLinkSuccess => "Logged in with an email link",
        A::MagicLinkRequest => "Email log-in link requested",
        A::RegisterSuccess => "Account created",
        A::RegisterFailure => "Someone tried to register with your address",
        A::ConfirmationSent => "Confirmation email sent",
        A::ConfirmationSuccess => "Email address confirmed",
        A::PasswordResetRequest => "Password reset requested",
        A::PasswordResetComplete => "Password reset",
        A::PasswordChange if succeeded => "Password changed",
        A::PasswordChange => "Failed password change",
        A::PasswordChangeRequired => "Password change required",
        A::EmailChangeRequest => "Email change requested",
        A::EmailChangeConfirm => "Email address changed",
        A::EmailChangeCancel => "Email change cancelled",
        A::DisplayNameChange => "Display name changed",
        A::Lockout => "Account locked after failed log-ins",
        A::SuspiciousLogin => "Log-in from a new address",
        A::SessionCreate => "New session",
        A::SessionRevoke => "Session ended",
        A::SessionRevokeOthers => "Logged out of other sessions",
        A::SudoEnter => "Password confirmed",
        A::MfaChallenge => "Password accepted, code asked for",
        A::MfaVerify => "Wrong two-factor code",
        A::MfaLockout => "Two-factor step locked after wrong codes",
        A::BackupCodeUsed => "Backup code used",
        A::MfaEnrollStart => "Authenticator set-up started",
        A::MfaEnrollSuccess => "Two-factor authentication turned on",
        A::MfaDisable => "Two-factor authentication turned off",
        A::BackupCodesRegenerate => "New backup codes made",
        A::TrustRevokeAll => "Trusted browsers forgotten",
        A::MfaKeysRotate => "Two-factor keys rotated",
        A::PasskeyRegister => "Passkey added",
        A::PasskeyRename => "Passkey renamed",
        A::PasskeyDelete => "Passkey removed",
        A::PasskeySignCountRegression => "Passkey counter went backwards (possible copy)",
        A::OAuthAuthorize => "Log-in with a provider started",
        A::OAuthCallbackFailure => "Failed log-in with a provider",
        A::OAuthRegister => "Account created with a provider",
        A::OAuthLogin => "Logged in with a provider",
        A::OAuthLink => "Provider account linked",
        A::OAuthUnlink => "Provider account unlinked",
        A::PasswordSet => "Password set",
        A::ApiTokenCreate => "API token created",
        A::ApiTokenRevoke => "API token revoked",
        A::ApiTokenRevokeAll => "Every API token revoked",
        A::ApiTokenVerifyFailure => "Refused API token used",
        A::JwtRefresh => "API session refreshed",
        A::JwtRefreshReuse => "Reused API refresh token: that API session was ended",
        A::JwtRevoke => "API session ended",
        A::JwtKeysRotate => "API signing keys rotated",
        A::OrgCreate => "Organization created",
        A::OrgUpdate => "Organization settings changed",
        A::OrgSlugChange => "Organization address changed",
        A::OrgDelete => "Organization deleted",
        A::OrgMemberAdd => "Organization member added",
        A::OrgMemberRemove => "Organization member removed",
        A::OrgMemberRoleChange => "Organization member role changed",
        A::OrgInvite => "Invitation sent",
        A::OrgInvitationRevoke => "Invitation revoked",
        A::AccountDeletionSchedule => "Account deletion asked for",
        A::AccountDeletionCancel => "Account kept: deletion cancelled",
        A::AccountDeletionExecute => "Account deleted",
        A::AccountDataExport => "Personal data downloaded",
        A::AccountCreate => "Account created by an administrator",
        A::AccountUnlock => "Account unlocked by an administrator",
        A::SessionRevokeAll => "Every session ended by an administrator",
        A::AdminGrant => "Made a site administrator",
        A::AdminRevoke => "No longer a site administrator",
        A::AuditPrune => "Old audit events deleted",
        A::ImpersonationStart => "An administrator started working as this account",
        A::ImpersonationStop => "An administrator stopped working as this account",
        A::ImpersonationTimeout => "An administrator's session as this account ran out",
        A::ImpersonationDenied => "Refused to an administrator working as this account",
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn the_guest_limit_covers_every_form_that_checks_a_secret() {
        let mut paths = super::guest_auth_paths();
        paths.sort_unstable();
        let mut expected = vec![
            "/api/invitations/join",
            "/users/check-email/resend",
            "/users/confirm/code",
            "/users/confirm/link",
            "/users/confirm/resend",
            "/users/log-in",
            "/users/log-in/email-link",
            "/users/log-in/link",
            "/users/mfa",
            "/users/oauth/email",
            "/users/register",
            "/users/reset-password",
            "/users/reset-password/choose",
            "/users/sudo",
        ];
        if cfg!(feature = "passkeys") {
            expected.extend([
                "/users/log-in/passkey",
                "/users/log-in/passkey-start",
                "/users/mfa/passkey",
                "/users/sudo/passkey",
            ]);
            expected.sort_unstable();
        }
        assert_eq!(paths, expected);
    }

    #[test]
    fn the_second_factor_summary_says_what_turns_it_on() {
        let view = |app, passkeys| super::SecondFactorsView { app, passkeys }.summary();
        assert_eq!(view(false, 0), "Off");
        assert_eq!(view(true, 0), "On: an authenticator app");
        assert_eq!(view(false, 1), "On: a passkey");
        assert_eq!(view(true, 2), "On: an authenticator app and 2 passkeys");
    }
}
