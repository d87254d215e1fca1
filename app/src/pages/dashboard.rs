//! `/dashboard`: an example of the host's own page behind a log-in, and where a log-in lands
//! unless it was asked to go elsewhere. Copy it for a new page: the server function is the
//! guard (it refuses a request without a live session, so the data never leaves the server),
//! and [`AccountPage`] turns that refusal into a trip to log in and back.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::capabilities::use_switches;
use crate::components::account_page::AccountPage;
use crate::components::ui::{Card, TextLink};
use crate::error::UiError;
use crate::paths;

/// What the dashboard shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    /// The signed-in user's address.
    pub email: String,
    /// The organizations they belong to.
    pub organizations: usize,
}

/// The dashboard's data, for the signed-in user only.
#[server(prefix = "/api", endpoint = "dashboard")]
pub async fn dashboard_overview() -> Result<DashboardView, UiError> {
    let cx = crate::ssr::context().await?;
    // The guard: `Unauthenticated` (401) unless the request carries a live session.
    let current = cx.require_user()?;
    let organizations = if cx.switches().organizations {
        cx.sigra.organizations().list_for_user(current).await?.len()
    } else {
        0
    };
    Ok(DashboardView {
        email: current.user().email.to_string(),
        organizations,
    })
}

/// The page.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| dashboard_overview());
    let switches = use_switches();
    view! {
        <Title text="Dashboard" />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Dashboard"</h1>
            <AccountPage data page=move |dashboard: DashboardView| view! {
                <Card>
                    <p data-testid="dashboard-greeting">"You are logged in as " <strong class="break-all">{dashboard.email}</strong> "."</p>
                    <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">
                        "This page is an example: your app's own pages go here. "
                        "It lives in " <code class="font-mono text-xs">"app/src/pages/dashboard.rs"</code> "."
                    </p>
                </Card>
                <ul class="grid gap-3 text-sm sm:grid-cols-3">
                    <li><TextLink href=paths::SETTINGS>"Account settings"</TextLink></li>
                    {switches.any_second_factor().then(|| view! {
                        <li><TextLink href=paths::SECURITY_SETTINGS>"Two-factor and passkeys"</TextLink></li>
                    })}
                    {switches.organizations.then(|| view! {
                        <li>
                            <TextLink href=paths::ORGANIZATIONS>"Your organizations"</TextLink>
                            " (" {dashboard.organizations} ")"
                        </li>
                    })}
                </ul>
            } />
        </section>
    }
}
