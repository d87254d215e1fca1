//! One file per page.

mod accounts;
mod admin;
mod admin_lens;
mod api_tokens;
mod check_email;
mod confirm;
pub(crate) mod dashboard;
mod deletion;
mod export;
mod home;
mod invitation;
mod links;
mod log_in;
mod mfa;
mod not_found;
mod oauth;
mod organizations;
mod register;
mod reset_password;
mod security;
mod sessions;
mod settings;
mod sudo;

pub use accounts::AccountsSettingsPage;
pub use admin::{AdminAuditPage, AdminOverviewPage, AdminUserPage, AdminUsersPage};
pub use admin_lens::{AdminOrganizationAuditPage, AdminOrganizationPage, AdminOrganizationsPage};
pub use api_tokens::ApiTokensPage;
pub use check_email::CheckEmailPage;
pub use confirm::ConfirmPage;
pub use dashboard::DashboardPage;
pub use deletion::{DeleteAccountPage, ReactivationPage};
pub use export::ExportDataPage;
pub use home::HomePage;
pub use invitation::InvitationPage;
pub use links::{ConfirmEmailChangePage, ConfirmLinkPage, LogInLinkPage};
pub use log_in::LogInPage;
pub use mfa::MfaPage;
pub use not_found::{Forbidden, NotFound};
pub use oauth::{OAuthEmailPage, OAuthErrorPage, OAuthLinkPage};
pub use organizations::{
    MembersPage, NewOrganizationPage, OrganizationPage, OrganizationSettingsPage,
    OrganizationsPage, ProjectsPage,
};
pub use register::RegisterPage;
pub use reset_password::{ResetChoosePage, ResetRequestPage};
pub use security::SecuritySettingsPage;
pub use sessions::SessionsPage;
pub use settings::{EmailSettingsPage, PasswordSettingsPage, ProfileSettingsPage, SettingsPage};
pub use sudo::SudoPage;
