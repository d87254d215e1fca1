//! Outgoing mail: what the core sends ([`Message`]), how the host words it
//! ([`EmailTemplates`]), and how it travels ([`Mailer`]: SMTP in production, the database-backed
//! development mailbox otherwise). Mail is never sent inside a request: flows queue a job in
//! the same transaction as their change, and the job runner delivers it.

mod dev_mailbox;
mod smtp;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use dev_mailbox::{dev_mailbox_routes, DevMailbox, StoredEmail, DEV_MAILBOX_PATH};
pub use smtp::SmtpMailer;

/// A boxed future, so mailers can sit behind `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An absolute link for a mail, built by the core from the configured base URL (templates
/// print it; they never build one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Link(String);

impl Link {
    pub(crate) fn new(url: String) -> Self {
        Self(url)
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Link> for String {
    fn from(link: Link) -> Self {
        link.0
    }
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The mail the core sends. Links are [`Link`]s, absolute, built from the configured base URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Confirm a new account, by link or by code.
    ConfirmEmail {
        /// The confirmation link.
        url: Link,
        /// The 6-digit code.
        code: String,
        /// How long link and code work.
        valid_for_minutes: u64,
    },
    /// Someone tried to register with an address that already has an account.
    RegistrationAttempt {
        /// Where to log in.
        log_in_url: Link,
        /// Where to reset the password.
        reset_url: Link,
    },
    /// A one-time log-in link.
    MagicLink {
        /// The link.
        url: Link,
        /// How long it works.
        valid_for_minutes: u64,
    },
    /// A password reset link.
    ResetPassword {
        /// The link.
        url: Link,
        /// How long it works.
        valid_for_minutes: u64,
        /// The providers an account without a password signs in with (empty when it has
        /// one): the mail says so.
        #[serde(default)]
        signs_in_with: Vec<String>,
    },
    /// The password was changed (by reset or in settings).
    PasswordChanged {
        /// Where to reset it if it was not the owner.
        reset_url: Link,
    },
    /// Confirm a new address (sent to the new address).
    ConfirmEmailChange {
        /// The confirmation link.
        url: Link,
        /// The new address.
        new_email: String,
        /// How long the link works.
        valid_for_minutes: u64,
    },
    /// An email change was requested (sent to the old address).
    EmailChangeRequested {
        /// The address asked for.
        new_email: String,
    },
    /// The email address was changed (sent to the old address).
    EmailChanged {
        /// The address now in use.
        new_email: String,
    },
    /// Too many wrong passwords locked the account for a while.
    AccountLocked {
        /// How long the lock lasts.
        minutes: u64,
        /// Where to reset the password.
        reset_url: Link,
    },
    /// A log-in came from an address none of the user's sessions had used.
    NewSignIn {
        /// The client address.
        ip: String,
        /// "City, CC" when GeoIP knows it.
        location: Option<String>,
        /// "Chrome 120 on macOS".
        device: String,
        /// When (RFC 3339, UTC).
        at: String,
        /// Where to reset the password.
        reset_url: Link,
    },
    /// Two-factor authentication was turned on.
    MfaEnabled,
    /// Two-factor authentication was turned off.
    MfaDisabled {
        /// Where to reset the password if it was not the owner.
        reset_url: Link,
    },
    /// A backup code was used to log in.
    BackupCodeUsed {
        /// Codes left.
        remaining: u32,
    },
    /// A new set of backup codes replaced the old one.
    BackupCodesRegenerated {
        /// Where to reset the password if it was not the owner.
        reset_url: Link,
    },
    /// A passkey was added to the account.
    PasskeyAdded {
        /// Its name.
        name: String,
    },
    /// A sign-in provider was linked to the account.
    ProviderLinked {
        /// The provider's name ("Google").
        provider: String,
    },
    /// A sign-in provider was unlinked from the account.
    ProviderUnlinked {
        /// The provider's name.
        provider: String,
    },
    /// A personal API token was created.
    ApiTokenCreated {
        /// The token's name.
        name: String,
        /// Its scopes, space-separated.
        scopes: String,
        /// Where the user's tokens are listed (and revoked).
        tokens_url: Link,
    },
    /// An invitation to join an organization (sent to the invited address).
    OrganizationInvitation {
        /// The organization's name.
        organization: String,
        /// The inviter's address.
        invited_by: String,
        /// The role it gives.
        role: String,
        /// The link that accepts it.
        url: Link,
        /// How long it works.
        valid_for_days: u64,
    },
    /// The account is scheduled for deletion (every session and token has ended).
    DeletionScheduled {
        /// When it will be deleted (RFC 3339, UTC).
        delete_at: String,
        /// Where signing in keeps the account.
        keep_url: Link,
    },
    /// An operator made an account for this address: choose a password.
    AccountCreated {
        /// Where to choose it (the reset landing, which also confirms the address).
        url: Link,
        /// How long the link works.
        valid_for_minutes: u64,
    },
    /// `server doctor --send-test-mail`: the transport delivers.
    TestMail,
    /// A scheduled deletion was cancelled: the account stays.
    DeletionCancelled,
    /// The account was deleted (sent to the address it had).
    AccountDeleted,
    /// Too many wrong second factors locked the second-factor step for a while.
    MfaLocked {
        /// How long the lock lasts.
        minutes: u64,
        /// Where to reset the password.
        reset_url: Link,
    },
}

impl Message {
    /// A short name for logs and file names (no secrets).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ConfirmEmail { .. } => "confirm_email",
            Self::RegistrationAttempt { .. } => "registration_attempt",
            Self::MagicLink { .. } => "magic_link",
            Self::ResetPassword { .. } => "reset_password",
            Self::PasswordChanged { .. } => "password_changed",
            Self::ConfirmEmailChange { .. } => "confirm_email_change",
            Self::EmailChangeRequested { .. } => "email_change_requested",
            Self::EmailChanged { .. } => "email_changed",
            Self::AccountLocked { .. } => "account_locked",
            Self::NewSignIn { .. } => "new_sign_in",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled { .. } => "mfa_disabled",
            Self::BackupCodeUsed { .. } => "backup_code_used",
            Self::BackupCodesRegenerated { .. } => "backup_codes_regenerated",
            Self::MfaLocked { .. } => "mfa_locked",
            Self::PasskeyAdded { .. } => "passkey_added",
            Self::ProviderLinked { .. } => "provider_linked",
            Self::ProviderUnlinked { .. } => "provider_unlinked",
            Self::ApiTokenCreated { .. } => "api_token_created",
            Self::OrganizationInvitation { .. } => "organization_invitation",
            Self::DeletionScheduled { .. } => "deletion_scheduled",
            Self::AccountCreated { .. } => "account_created",
            Self::TestMail => "test_mail",
            Self::DeletionCancelled => "deletion_cancelled",
            Self::AccountDeleted => "account_deleted",
        }
    }

    /// One of each message with sample values, for previews and template tests.
    pub fn samples(base_url: &str) -> Vec<Message> {
        let link = |path: &str| Link::new(format!("{}{path}", base_url.trim_end_matches('/')));
        vec![
            Self::ConfirmEmail {
                url: link("/users/confirm/SAMPLE-TOKEN"),
                code: "482913".to_owned(),
                valid_for_minutes: 48 * 60,
            },
            Self::RegistrationAttempt {
                log_in_url: link("/users/log-in"),
                reset_url: link("/users/reset-password"),
            },
            Self::MagicLink {
                url: link("/users/log-in/SAMPLE-TOKEN"),
                valid_for_minutes: 10,
            },
            Self::ResetPassword {
                url: link("/users/reset-password/SAMPLE-TOKEN"),
                valid_for_minutes: 60,
                signs_in_with: Vec::new(),
            },
            Self::PasswordChanged {
                reset_url: link("/users/reset-password"),
            },
            Self::ConfirmEmailChange {
                url: link("/users/settings/confirm-email/SAMPLE-TOKEN"),
                new_email: "new.address@example.com".to_owned(),
                valid_for_minutes: 24 * 60,
            },
            Self::EmailChangeRequested {
                new_email: "new.address@example.com".to_owned(),
            },
            Self::EmailChanged {
                new_email: "new.address@example.com".to_owned(),
            },
            Self::AccountLocked {
                minutes: 15,
                reset_url: link("/users/reset-password"),
            },
            Self::NewSignIn {
                ip: "203.0.113.7".to_owned(),
                location: Some("Lyon, FR".to_owned()),
                device: "Firefox 146 on Linux".to_owned(),
                at: "2026-11-27T10:00:00.000Z".to_owned(),
                reset_url: link("/users/reset-password"),
            },
            Self::MfaEnabled,
            Self::MfaDisabled {
                reset_url: link("/users/reset-password"),
            },
            Self::BackupCodeUsed { remaining: 7 },
            Self::BackupCodesRegenerated {
                reset_url: link("/users/reset-password"),
            },
            Self::PasskeyAdded {
                name: "iCloud Keychain".to_owned(),
            },
            Self::MfaLocked {
                minutes: 15,
                reset_url: link("/users/reset-password"),
            },
            Self::ProviderLinked {
                provider: "Google".to_owned(),
            },
            Self::ProviderUnlinked {
                provider: "GitHub".to_owned(),
            },
            Self::ApiTokenCreated {
                name: "Deploy bot".to_owned(),
                scopes: "profile:read sessions:read".to_owned(),
                tokens_url: link("/users/settings/api-tokens"),
            },
            Self::OrganizationInvitation {
                organization: "Acme Labs".to_owned(),
                invited_by: "ada@example.com".to_owned(),
                role: "admin".to_owned(),
                url: link("/invitations/SAMPLE-TOKEN"),
                valid_for_days: 7,
            },
            Self::DeletionScheduled {
                delete_at: "2026-12-20T10:00:00.000Z".to_owned(),
                keep_url: link("/users/log-in"),
            },
            Self::AccountCreated {
                url: link("/users/reset-password/SAMPLE-TOKEN"),
                valid_for_minutes: 48 * 60,
            },
            Self::TestMail,
            Self::DeletionCancelled,
            Self::AccountDeleted,
        ]
    }
}

/// A message in words: subject, HTML body and plain-text body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedEmail {
    /// The subject line.
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The plain-text part.
    pub text: String,
}

/// How the host words each message (Sigra's `EmailTemplates` behaviour).
pub trait EmailTemplates: Send + Sync + 'static {
    /// Renders `message` to `to` for a product called `app_name`.
    fn render(&self, app_name: &str, to: Recipient<'_>, message: &Message) -> RenderedEmail;
}

/// Who a message goes to, as far as its words need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recipient<'a> {
    /// The display name of the account at that address, to greet them by.
    pub name: Option<&'a str>,
}

/// Whole minutes of a token lifetime, for the wording of mail.
pub(crate) fn minutes(duration: std::time::Duration) -> u64 {
    duration.as_secs() / 60
}

/// A rendered message with its recipient and sender.
#[derive(Clone, Debug)]
pub struct OutgoingEmail {
    /// The sender (`Name <address>`).
    pub from: String,
    /// The recipient.
    pub to: String,
    /// The words.
    pub content: RenderedEmail,
}

/// Delivery failed; the job runner retries with backoff.
#[derive(Debug, thiserror::Error)]
#[error("mail delivery failed: {0}")]
pub struct MailError(pub String);

/// A way to deliver mail.
pub trait Mailer: Send + Sync + 'static {
    /// Delivers one message.
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), MailError>>;

    /// Whether the transport can be reached now (`server doctor`); sends nothing.
    fn check(&self) -> BoxFuture<'_, Result<(), MailError>> {
        Box::pin(async { Ok(()) })
    }
}
