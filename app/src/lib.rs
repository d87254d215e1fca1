//! The Leptos host: pages, components and server functions. It owns the look and the wording;
//! every decision about credentials and sessions is made by the `sigra` core on the server.
//!
//! Server-only code lives in `ssr` modules behind the `ssr` feature; the same components
//! hydrate in the browser under `hydrate`.

pub mod account;
pub mod admin;
pub mod capabilities;
pub mod clipboard;
pub mod components;
#[cfg(feature = "ssr")]
pub mod emails;
pub mod error;
pub mod flash;
pub mod home;
pub mod live;
pub mod organizations;
pub mod pages;
pub mod paths;
pub mod plain_forms;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "passkeys")]
pub mod webauthn;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::capabilities::{page_when, Switches};
use crate::components::layout::Layout;
use crate::pages::{
    AccountsSettingsPage, AdminAuditPage, AdminOrganizationAuditPage, AdminOrganizationPage,
    AdminOrganizationsPage, AdminOverviewPage, AdminUserPage, AdminUsersPage, ApiTokensPage,
    CheckEmailPage, ConfirmEmailChangePage, ConfirmLinkPage, ConfirmPage, DashboardPage,
    DeleteAccountPage, EmailSettingsPage, ExportDataPage, HomePage, InvitationPage, LogInLinkPage,
    LogInPage, MembersPage, MfaPage, NewOrganizationPage, NotFound, OAuthEmailPage, OAuthErrorPage,
    OAuthLinkPage, OrganizationPage, OrganizationSettingsPage, OrganizationsPage,
    PasswordSettingsPage, ProfileSettingsPage, ProjectsPage, ReactivationPage, RegisterPage,
    ResetChoosePage, ResetRequestPage, SecuritySettingsPage, SessionsPage, SettingsPage, SudoPage,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta
                    name="description"
                    content="Create an account, log in, and manage sessions, two-factor authentication, passkeys and organizations."
                />
                // Browsers that cannot use the SVG take the .ico; home screens take the PNG.
                <link rel="icon" href="/favicon.ico" sizes="48x48" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="apple-touch-icon" href="/apple-touch-icon.png" />
                <AutoReload options=options.clone() />
                // The content-hashed names when the site was built with them (hash.txt).
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// The application: routes inside the shared layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    capabilities::provide_site();
    let site_name = capabilities::use_site_name();
    plain_forms::provide_failed_post();
    // Effects run only in the browser, once the page is interactive: tests and styles can tell
    // a hydrated page from a server-rendered one.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=move |page: String| format!("{page} · {site_name}") />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/users/register") view=RegisterPage ssr=SsrMode::Async />
                    <Route path=path!("/users/log-in") view=LogInPage ssr=SsrMode::Async />
                    <Route path=path!("/users/settings") view=SettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/email") view=EmailSettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/profile") view=ProfileSettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/password") view=PasswordSettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/users/check-email") view=CheckEmailPage ssr=SsrMode::Async />
                    <Route path=path!("/users/sessions") view=SessionsPage ssr=SsrMode::Async />
                    <Route path=path!("/users/sudo") view=SudoPage ssr=SsrMode::Async />
                    <Route path=path!("/users/mfa") view=page_when(Switches::any_second_factor, MfaPage) ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/security") view=page_when(Switches::any_second_factor, SecuritySettingsPage) ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/api-tokens") view=page_when(|s| s.api_tokens, ApiTokensPage) ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/delete") view=DeleteAccountPage ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/export") view=ExportDataPage ssr=SsrMode::Async />
                    <Route path=path!("/users/reactivation") view=ReactivationPage ssr=SsrMode::Async />
                    <Route path=path!("/users/confirm") view=ConfirmPage ssr=SsrMode::Async />
                    <Route path=path!("/users/confirm/link") view=ConfirmLinkPage ssr=SsrMode::Async />
                    <Route path=path!("/users/log-in/link") view=page_when(|s| s.magic_links, LogInLinkPage) ssr=SsrMode::Async />
                    <Route path=path!("/users/reset-password") view=ResetRequestPage ssr=SsrMode::Async />
                    <Route path=path!("/users/reset-password/choose") view=ResetChoosePage ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/confirm-email/link") view=ConfirmEmailChangePage ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/accounts") view=page_when(|s| s.oauth, AccountsSettingsPage) ssr=SsrMode::Async />
                    <Route path=path!("/users/oauth/link") view=page_when(|s| s.oauth, OAuthLinkPage) ssr=SsrMode::Async />
                    <Route path=path!("/users/oauth/email") view=page_when(|s| s.oauth, OAuthEmailPage) ssr=SsrMode::Async />
                    <Route path=path!("/users/oauth/error") view=page_when(|s| s.oauth, OAuthErrorPage) ssr=SsrMode::Async />
                    <Route path=path!("/organizations") view=page_when(|s| s.organizations, OrganizationsPage) ssr=SsrMode::Async />
                    <Route path=path!("/organizations/new") view=page_when(|s| s.organizations, NewOrganizationPage) ssr=SsrMode::Async />
                    <Route path=path!("/organizations/:slug") view=page_when(|s| s.organizations, OrganizationPage) ssr=SsrMode::Async />
                    <Route path=path!("/organizations/:slug/members") view=page_when(|s| s.organizations, MembersPage) ssr=SsrMode::Async />
                    <Route path=path!("/organizations/:slug/projects") view=page_when(|s| s.organizations, ProjectsPage) ssr=SsrMode::Async />
                    <Route path=path!("/organizations/:slug/settings") view=page_when(|s| s.organizations, OrganizationSettingsPage) ssr=SsrMode::Async />
                    <Route path=path!("/invitations/accept") view=page_when(|s| s.organizations, InvitationPage) ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=page_when(|s| s.admin, AdminOverviewPage) ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view=page_when(|s| s.admin, AdminUsersPage) ssr=SsrMode::Async />
                    <Route path=path!("/admin/users/:id") view=page_when(|s| s.admin, AdminUserPage) ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=page_when(|s| s.admin, AdminAuditPage) ssr=SsrMode::Async />
                    <Route path=path!("/admin/organizations") view=page_when(Switches::organization_admin, AdminOrganizationsPage) ssr=SsrMode::Async />
                    <Route path=path!("/admin/organizations/:slug") view=page_when(Switches::organization_admin, AdminOrganizationPage) ssr=SsrMode::Async />
                    <Route path=path!("/admin/organizations/:slug/audit") view=page_when(Switches::organization_admin, AdminOrganizationAuditPage) ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}
