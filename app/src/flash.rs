//! One-shot messages across a redirect ("You have been logged out."). The server sets a short-
//! lived signed cookie naming a message; the next page load takes it. Only codes travel, so a
//! planted cookie cannot put arbitrary text on the page, and the signature refuses it anyway.

use serde::{Deserialize, Serialize};

use crate::components::ui::Tone;

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
    /// A confirmation mail was asked for again.
    ConfirmationSent,
    /// The address is confirmed.
    Confirmed,
    /// A log-in link was asked for.
    MagicLinkSent,
    /// A password reset was asked for.
    ResetSent,
    /// The password was reset.
    PasswordReset,
    /// The password was changed in settings.
    PasswordChanged,
    /// The display name was saved (or cleared).
    DisplayNameSaved,
    /// A confirmation link went to the new address.
    EmailChangeRequested,
    /// The new address is confirmed and in use.
    EmailChanged,
    /// The pending change was cancelled.
    EmailChangeCancelled,
    /// The account must choose a new password before going on.
    MustChangePassword,
    /// The password was re-entered; sensitive actions are open for a few minutes.
    SudoGranted,
    /// The password was right; the second factor is due.
    SecondFactorNeeded,
    /// Logged in with a backup code.
    LoggedInWithBackupCode,
    /// Two-factor authentication is on.
    MfaEnabled,
    /// Two-factor authentication is off.
    MfaDisabled,
    /// New backup codes replaced the old ones.
    BackupCodesRegenerated,
    /// Every trusted browser was forgotten.
    TrustedBrowsersForgotten,
    /// A log-in provider was linked.
    ProviderLinked,
    /// A log-in provider was unlinked.
    ProviderUnlinked,
    /// A first password was set.
    PasswordSet,
    /// The address given for a provider log-in waits for confirmation.
    ProviderAddressSent,
    /// An API token was made (and is shown once).
    ApiTokenCreated,
    /// An API token was revoked.
    ApiTokenRevoked,
    /// Every API token was revoked.
    ApiTokensRevoked,
    /// The account is scheduled for deletion and logged out everywhere.
    DeletionScheduled,
    /// The account was deleted at once (no grace period).
    AccountDeleted,
    /// A scheduled deletion was cancelled.
    AccountKept,
    /// A new organization was made.
    OrganizationCreated,
    /// Its name or settings changed.
    OrganizationUpdated,
    /// Its slug changed.
    SlugChanged,
    /// It was deleted.
    OrganizationDeleted,
    /// An invitation was mailed.
    InvitationSent,
    /// An invitation was revoked.
    InvitationRevoked,
    /// A member's role changed.
    RoleChanged,
    /// A member was removed.
    MemberRemoved,
    /// The user left an organization.
    LeftOrganization,
    /// An invitation was accepted.
    InvitationAccepted,
    /// A project was added.
    ProjectCreated,
    /// A project was deleted.
    ProjectDeleted,
    /// An admin ended every session of an account.
    AdminSessionsRevoked,
    /// An admin lifted an account's locks.
    AdminUnlocked,
    /// An admin turned off an account's second factors.
    AdminSecondFactorsOff,
    /// An admin ended one session of an account.
    AdminSessionRevoked,
    /// An admin required a new password of an account.
    AdminPasswordChangeRequired,
    /// An admin confirmed an account's address.
    AdminEmailConfirmed,
    /// An admin started working as another user.
    ImpersonationStarted,
    /// The admin stopped and is back in their own session.
    ImpersonationStopped,
    /// The impersonation ended and the admin's own session had ended too.
    ImpersonationEnded,
    /// An open page's session was ended elsewhere (log-out, revocation, a password change).
    SessionEnded,
    /// An open page's session ran out for lack of activity.
    SessionIdle,
    /// An open page's session reached its time limit.
    SessionExpired,
}

impl Flash {
    #[cfg(feature = "ssr")]
    const ALL: [Flash; 56] = [
        Self::AccountReady,
        Self::LoggedIn,
        Self::LoggedOut,
        Self::LogInRequired,
        Self::ConfirmationSent,
        Self::Confirmed,
        Self::MagicLinkSent,
        Self::ResetSent,
        Self::PasswordReset,
        Self::PasswordChanged,
        Self::DisplayNameSaved,
        Self::EmailChangeRequested,
        Self::EmailChanged,
        Self::EmailChangeCancelled,
        Self::MustChangePassword,
        Self::SudoGranted,
        Self::SecondFactorNeeded,
        Self::LoggedInWithBackupCode,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::BackupCodesRegenerated,
        Self::TrustedBrowsersForgotten,
        Self::ProviderLinked,
        Self::ProviderUnlinked,
        Self::PasswordSet,
        Self::ProviderAddressSent,
        Self::ApiTokenCreated,
        Self::ApiTokenRevoked,
        Self::ApiTokensRevoked,
        Self::DeletionScheduled,
        Self::AccountDeleted,
        Self::AccountKept,
        Self::OrganizationCreated,
        Self::OrganizationUpdated,
        Self::SlugChanged,
        Self::OrganizationDeleted,
        Self::InvitationSent,
        Self::InvitationRevoked,
        Self::RoleChanged,
        Self::MemberRemoved,
        Self::LeftOrganization,
        Self::InvitationAccepted,
        Self::ProjectCreated,
        Self::ProjectDeleted,
        Self::AdminSessionsRevoked,
        Self::AdminUnlocked,
        Self::AdminSecondFactorsOff,
        Self::AdminSessionRevoked,
        Self::AdminPasswordChangeRequired,
        Self::AdminEmailConfirmed,
        Self::ImpersonationStarted,
        Self::ImpersonationStopped,
        Self::ImpersonationEnded,
        Self::SessionEnded,
        Self::SessionIdle,
        Self::SessionExpired,
    ];

    /// The text shown.
    pub fn message(self) -> &'static str {
        match self {
            Self::AccountReady => {
                "Thanks for registering. If that address was new here, we sent it a link and a code to \
                 confirm it. If you already had an account, log in with your existing password."
            }
            Self::LoggedIn => "Welcome back. You are logged in.",
            Self::LoggedOut => "You have been logged out.",
            Self::LogInRequired => "Please log in to continue.",
            Self::ConfirmationSent => {
                "If that address has an account waiting for confirmation, we sent a new link and code."
            }
            Self::Confirmed => "Thank you: your email address is confirmed.",
            Self::MagicLinkSent => {
                "If that address has an account, we sent it a log-in link. It works once, for a few minutes."
            }
            Self::ResetSent => "If that address has an account, we sent it a link to reset the password.",
            Self::PasswordReset => "Your password was reset and every session logged out. Log in with your new password.",
            Self::PasswordChanged => "Your password was changed. Your other sessions were logged out.",
            Self::DisplayNameSaved => "Your display name was saved.",
            Self::EmailChangeRequested => {
                "We sent a confirmation link to the new address. Your current address stays in use until you open it."
            }
            Self::EmailChanged => "Your email address was changed. Your other sessions were logged out.",
            Self::EmailChangeCancelled => "The email change was cancelled.",
            Self::MustChangePassword => "Please choose a new password to continue.",
            Self::SudoGranted => "Password confirmed. You can make sensitive changes for the next few minutes.",
            Self::SecondFactorNeeded => "One more step: enter the code from your authenticator app.",
            Self::LoggedInWithBackupCode => {
                "You are logged in with a backup code. It cannot be used again; see how many are left under Security."
            }
            Self::MfaEnabled => "Two-factor authentication is on. Keep your backup codes somewhere safe.",
            Self::MfaDisabled => "Two-factor authentication is off.",
            Self::BackupCodesRegenerated => "New backup codes are ready; the old ones no longer work.",
            Self::TrustedBrowsersForgotten => "Every trusted browser will be asked for a code at its next log-in.",
            Self::ProviderLinked => "The provider is linked: you can log in with it now.",
            Self::ProviderUnlinked => "The provider is unlinked and can no longer sign you in.",
            Self::PasswordSet => "Your password is set. You can log in with it too.",
            Self::ProviderAddressSent => {
                "If that address can be used, we sent it a confirmation link. Your account works once it is confirmed; \
                 then log in with the same provider."
            }
            Self::ApiTokenCreated => "Your new API token is below. Copy it now: it is not shown again.",
            Self::ApiTokenRevoked => "The API token was revoked; it no longer works.",
            Self::ApiTokensRevoked => "Every API token was revoked.",
            Self::DeletionScheduled => {
                "Your account is scheduled for deletion and every session was logged out. We sent you a mail: \
                 log in before the date it gives to keep your account."
            }
            Self::AccountDeleted => "Your account was deleted.",
            Self::AccountKept => "Your account is kept: the deletion is cancelled.",
            Self::OrganizationCreated => "The organization was created.",
            Self::OrganizationUpdated => "The organization's settings were saved.",
            Self::SlugChanged => "The address changed. The old one keeps leading here for a while.",
            Self::OrganizationDeleted => "The organization was deleted.",
            Self::InvitationSent => "The invitation is on its way.",
            Self::InvitationRevoked => "The invitation was revoked; its link no longer works.",
            Self::RoleChanged => "The member's role was changed.",
            Self::MemberRemoved => "The member was removed from the organization.",
            Self::LeftOrganization => "You left the organization.",
            Self::InvitationAccepted => "Welcome: you joined the organization.",
            Self::ProjectCreated => "The project was created.",
            Self::ProjectDeleted => "The project was deleted.",
            Self::AdminSessionsRevoked => "Every session of the account was ended.",
            Self::AdminUnlocked => "The account is unlocked.",
            Self::AdminSecondFactorsOff => "The account's second factors are off; its owner was mailed.",
            Self::AdminSessionRevoked => "The session was ended.",
            Self::AdminPasswordChangeRequired => "Every session of the account ended; a new password is required at the next log-in.",
            Self::AdminEmailConfirmed => "The account's email address is confirmed.",
            Self::ImpersonationStarted => "You are now working as this user, for at most 30 minutes. Security settings can't be changed.",
            Self::ImpersonationStopped => "You are back in your own account.",
            Self::ImpersonationEnded => "The impersonation has ended. Log in again to continue.",
            Self::SessionEnded => "Your session was ended from another tab, device or by a change to your account. Log in again to continue.",
            Self::SessionIdle => "You were logged out after a while without activity. Log in again to continue.",
            Self::SessionExpired => "Your session reached its time limit. Log in again to continue.",
        }
    }

    /// How it looks.
    pub fn tone(self) -> Tone {
        match self {
            Self::LogInRequired
            | Self::ConfirmationSent
            | Self::MagicLinkSent
            | Self::ResetSent
            | Self::EmailChangeRequested
            | Self::MustChangePassword
            | Self::SecondFactorNeeded
            | Self::LoggedInWithBackupCode
            | Self::ProviderAddressSent
            | Self::DeletionScheduled => Tone::Info,
            Self::AccountReady
            | Self::LoggedIn
            | Self::LoggedOut
            | Self::Confirmed
            | Self::PasswordReset
            | Self::PasswordChanged
            | Self::DisplayNameSaved
            | Self::EmailChanged
            | Self::EmailChangeCancelled
            | Self::SudoGranted
            | Self::MfaEnabled
            | Self::MfaDisabled
            | Self::BackupCodesRegenerated
            | Self::TrustedBrowsersForgotten
            | Self::ProviderLinked
            | Self::ProviderUnlinked
            | Self::PasswordSet
            | Self::ApiTokenCreated
            | Self::ApiTokenRevoked
            | Self::ApiTokensRevoked
            | Self::AccountDeleted
            | Self::AccountKept
            | Self::OrganizationCreated
            | Self::OrganizationUpdated
            | Self::SlugChanged
            | Self::OrganizationDeleted
            | Self::InvitationSent
            | Self::InvitationRevoked
            | Self::RoleChanged
            | Self::MemberRemoved
            | Self::LeftOrganization
            | Self::InvitationAccepted
            | Self::ProjectCreated
            | Self::ProjectDeleted
            | Self::AdminSessionsRevoked
            | Self::AdminUnlocked
            | Self::AdminSecondFactorsOff
            | Self::AdminSessionRevoked
            | Self::AdminPasswordChangeRequired
            | Self::AdminEmailConfirmed
            | Self::ImpersonationStopped => Tone::Success,
            Self::ImpersonationStarted
            | Self::ImpersonationEnded
            | Self::SessionEnded
            | Self::SessionIdle
            | Self::SessionExpired => Tone::Warning,
        }
    }

    #[cfg(feature = "ssr")]
    fn code(self) -> &'static str {
        match self {
            Self::AccountReady => "account_ready",
            Self::LoggedIn => "logged_in",
            Self::LoggedOut => "logged_out",
            Self::LogInRequired => "log_in_required",
            Self::ConfirmationSent => "confirmation_sent",
            Self::Confirmed => "confirmed",
            Self::MagicLinkSent => "magic_link_sent",
            Self::ResetSent => "reset_sent",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::DisplayNameSaved => "display_name_saved",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::EmailChangeCancelled => "email_change_cancelled",
            Self::MustChangePassword => "must_change_password",
            Self::SudoGranted => "sudo_granted",
            Self::SecondFactorNeeded => "second_factor_needed",
            Self::LoggedInWithBackupCode => "logged_in_with_backup_code",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled => "mfa_disabled",
            Self::BackupCodesRegenerated => "backup_codes_regenerated",
            Self::TrustedBrowsersForgotten => "trusted_browsers_forgotten",
            Self::ProviderLinked => "provider_linked",
            Self::ProviderUnlinked => "provider_unlinked",
            Self::PasswordSet => "password_set",
            Self::ProviderAddressSent => "provider_address_sent",
            Self::ApiTokenCreated => "api_token_created",
            Self::ApiTokenRevoked => "api_token_revoked",
            Self::ApiTokensRevoked => "api_tokens_revoked",
            Self::DeletionScheduled => "deletion_scheduled",
            Self::AccountDeleted => "account_deleted",
            Self::AccountKept => "account_kept",
            Self::OrganizationCreated => "organization_created",
            Self::OrganizationUpdated => "organization_updated",
            Self::SlugChanged => "slug_changed",
            Self::OrganizationDeleted => "organization_deleted",
            Self::InvitationSent => "invitation_sent",
            Self::InvitationRevoked => "invitation_revoked",
            Self::RoleChanged => "role_changed",
            Self::MemberRemoved => "member_removed",
            Self::LeftOrganization => "left_organization",
            Self::InvitationAccepted => "invitation_accepted",
            Self::ProjectCreated => "project_created",
            Self::ProjectDeleted => "project_deleted",
            Self::AdminSessionsRevoked => "admin_sessions_revoked",
            Self::AdminUnlocked => "admin_unlocked",
            Self::AdminSecondFactorsOff => "admin_second_factors_off",
            Self::AdminSessionRevoked => "admin_session_revoked",
            Self::AdminPasswordChangeRequired => "admin_password_change_required",
            Self::AdminEmailConfirmed => "admin_email_confirmed",
            Self::ImpersonationStarted => "impersonation_started",
            Self::ImpersonationStopped => "impersonation_stopped",
            Self::ImpersonationEnded => "impersonation_ended",
            Self::SessionEnded => "session_ended",
            Self::SessionIdle => "session_idle",
            Self::SessionExpired => "session_expired",
        }
    }

    #[cfg(feature = "ssr")]
    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|flash| flash.code() == code)
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Setting and taking the flash cookie.

    use std::time::Duration;

    use http::request::Parts;
    use leptos::prelude::*;
    use sigra::http::HostCookies;
    use sigra::Sigra;

    use super::Flash;
    use crate::ssr::set_cookie;

    const COOKIE: &str = "__Host-sigra_flash";
    /// Long enough to survive the redirect, short enough not to surprise later.
    const LIFETIME: Duration = Duration::from_secs(60);

    /// Queues `flash` for the next page the browser loads.
    pub fn set(flash: Flash) {
        if let Some(sigra) = use_context::<Sigra>() {
            set_cookie(cookie(&sigra, flash));
        }
    }

    /// The `Set-Cookie` value that queues `flash`, for routes outside the server functions.
    pub fn cookie(sigra: &Sigra, flash: Flash) -> http::HeaderValue {
        sigra.cookies().signed(COOKIE, flash.code(), LIFETIME)
    }

    /// Takes the queued message, if a valid one came with this request, and clears it.
    pub fn take() -> Option<Flash> {
        let parts = use_context::<Parts>()?;
        sigra::http::find_cookie(&parts.headers, COOKIE)?;
        set_cookie(HostCookies::removal(COOKIE));
        let sigra = use_context::<Sigra>()?;
        sigra
            .cookies()
            .verified(&parts.headers, COOKIE)
            .and_then(Flash::from_code)
    }
}
