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
pub mod routes;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "passkeys")]
pub mod webauthn;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

use crate::components::layout::Layout;
use crate::pages::{HomePage, LogInPage, NotFound};
use crate::routes::*;

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

/// Marks the page as hydrated (interactive), for tests and styles to tell it from the
/// server-rendered page; the browser entry point calls it once the whole page is hydrated.
pub fn mark_hydrated() {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}

/// The application: routes inside the shared layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    capabilities::provide_site();
    let site_name = capabilities::use_site_name();
    plain_forms::provide_failed_post();
    view! {
        <Title formatter=move |page: String| format!("{page} · {site_name}") />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view={Lazy::<DashboardRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/register") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/log-in") view=LogInPage ssr=SsrMode::Async />
                    <Route path=path!("/users/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/email") view={Lazy::<EmailSettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/profile") view={Lazy::<ProfileSettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/password") view={Lazy::<PasswordSettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/check-email") view={Lazy::<CheckEmailRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/sessions") view={Lazy::<SessionsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/sudo") view={Lazy::<SudoRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/mfa") view={Lazy::<MfaRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/security") view={Lazy::<SecuritySettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/api-tokens") view={Lazy::<ApiTokensRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/delete") view={Lazy::<DeleteAccountRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/export") view={Lazy::<ExportDataRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/reactivation") view={Lazy::<ReactivationRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/confirm") view={Lazy::<ConfirmRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/confirm/link") view={Lazy::<ConfirmLinkRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/log-in/link") view={Lazy::<LogInLinkRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/reset-password") view={Lazy::<ResetRequestRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/reset-password/choose") view={Lazy::<ResetChooseRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/confirm-email/link") view={Lazy::<ConfirmEmailChangeRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/settings/accounts") view={Lazy::<AccountsSettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/oauth/link") view={Lazy::<OAuthLinkRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/oauth/email") view={Lazy::<OAuthEmailRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/users/oauth/error") view={Lazy::<OAuthErrorRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/organizations") view={Lazy::<OrganizationsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/organizations/new") view={Lazy::<NewOrganizationRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/organizations/:slug") view={Lazy::<OrganizationRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/organizations/:slug/members") view={Lazy::<MembersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/organizations/:slug/projects") view={Lazy::<ProjectsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/organizations/:slug/settings") view={Lazy::<OrganizationSettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/invitations/accept") view={Lazy::<InvitationRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin") view={Lazy::<AdminOverviewRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view={Lazy::<AdminUsersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/users/:id") view={Lazy::<AdminUserRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view={Lazy::<AdminAuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/organizations") view={Lazy::<AdminOrganizationsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/organizations/:slug") view={Lazy::<AdminOrganizationRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/organizations/:slug/audit") view={Lazy::<AdminOrganizationAuditRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}
