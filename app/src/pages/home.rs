use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::capabilities::use_switches;
use crate::components::ui::{Card, Loading, TextLink};
use crate::home::{home_overview, AccountGlance, DevelopmentView, HomeView};
use crate::paths;

/// The landing page: for a guest, what this is and the way in; for a signed-in visitor, their
/// account at a glance. In development it also tells the developer what is running and where
/// to start editing.
#[component]
pub fn HomePage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| home_overview());
    view! {
        <Title text="Welcome" />
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let HomeView { account, development } = overview.await.unwrap_or(HomeView {
                    account: None,
                    development: None,
                });
                view! {
                    <div class="space-y-8">
                        {match account {
                            Some(account) => view! { <Glance account /> }.into_any(),
                            None => view! { <Welcome /> }.into_any(),
                        }}
                        {development.map(|development| view! { <DeveloperGuide development /> })}
                    </div>
                }
            })}
        </Suspense>
    }
}

#[component]
fn Welcome() -> impl IntoView {
    view! {
        <section class="space-y-6">
            <h1 class="text-3xl font-bold tracking-tight sm:text-4xl">"Authentication you can ship."</h1>
            <p class="text-lg text-slate-600 dark:text-slate-300">
                "Sigra for Rust is a Leptos + Axum starter with a hardened core: Argon2id passwords, "
                "database sessions with idle and absolute timeouts, cross-site request refusal, "
                "strict security headers and an audit trail, all enforced on the server."
            </p>
            <div class="flex flex-wrap gap-3">
                <A href=paths::REGISTER attr:class="rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-500">
                    "Create an account"
                </A>
                <A href=paths::LOG_IN attr:class="rounded-md border border-slate-300 px-4 py-2 font-semibold hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
                    "Log in"
                </A>
            </div>
        </section>
    }
}

/// A signed-in visitor's account at a glance, instead of "Create an account".
#[component]
fn Glance(account: AccountGlance) -> impl IntoView {
    view! {
        <section class="space-y-4" data-testid="account-glance">
            <h1 class="text-3xl font-bold tracking-tight">"Welcome back"</h1>
            <Card>
                <dl class="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
                    <dt class="text-slate-500 dark:text-slate-400">"Logged in as"</dt>
                    <dd class="break-all font-medium">{account.email}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Email address"</dt>
                    <dd>{if account.confirmed { "Confirmed" } else { "Not confirmed yet" }}</dd>
                    {use_switches().any_second_factor().then(|| view! {
                        <dt class="text-slate-500 dark:text-slate-400">"Two-factor authentication"</dt>
                        <dd>{account.second_factors.summary()}</dd>
                    })}
                    <dt class="text-slate-500 dark:text-slate-400">"Open sessions"</dt>
                    <dd>{account.sessions}</dd>
                </dl>
            </Card>
            <p class="flex flex-wrap gap-4 text-sm">
                <TextLink href=paths::DASHBOARD>"Go to your dashboard"</TextLink>
                {use_switches().any_second_factor().then(|| view! {
                    <TextLink href=paths::SECURITY_SETTINGS>"Review your security"</TextLink>
                })}
            </p>
        </section>
    }
}

/// For the developer who just cloned the template: what runs, where mail goes, what to edit.
#[component]
fn DeveloperGuide(development: DevelopmentView) -> impl IntoView {
    const CODE: &str = "rounded bg-slate-100 px-1 font-mono text-xs dark:bg-slate-800";
    view! {
        <section class="rounded-xl border border-dashed border-indigo-300 p-6 dark:border-indigo-800" aria-labelledby="developer-guide" data-testid="developer-guide">
            <h2 id="developer-guide" class="mb-1 text-lg font-semibold">"Your development server"</h2>
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-400">"Shown in development only; a production home page is yours to write."</p>
            <dl class="mb-4 grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-[10rem_1fr]">
                <dt class="text-slate-500 dark:text-slate-400">"Address"</dt>
                <dd class="break-all">{development.base_url}</dd>
                <dt class="text-slate-500 dark:text-slate-400">"Database"</dt>
                <dd>{development.database} " (migrations run at start-up)"</dd>
                <dt class="text-slate-500 dark:text-slate-400">"Mail"</dt>
                <dd>
                    {match development.mailbox {
                        Some(mailbox) => view! {
                            "Kept, not sent: read it in the "
                            <a href=mailbox rel="external" class="font-medium text-indigo-700 underline dark:text-indigo-300">"development mailbox"</a>
                        }
                        .into_any(),
                        None => view! { "Sent by SMTP" }.into_any(),
                    }}
                </dd>
            </dl>
            <h3 class="mb-2 text-sm font-semibold">"Where to start editing"</h3>
            <ul class="list-disc space-y-1 pl-5 text-sm">
                <li>"Pages: " <code class=CODE>"app/src/pages/"</code> ", routes in " <code class=CODE>"app/src/lib.rs"</code></li>
                <li>"Shared components and the layout: " <code class=CODE>"app/src/components/"</code></li>
                <li>"Emails: " <code class=CODE>"app/src/emails/mod.rs"</code></li>
                <li>"Configuration: " <code class=CODE>"SIGRA_*"</code> " variables or a TOML file named by " <code class=CODE>"SIGRA_CONFIG"</code></li>
                <li>"A page that needs a session: " <code class=CODE>"app/src/pages/dashboard.rs"</code> " (" <TextLink href=paths::DASHBOARD>"/dashboard"</TextLink> ")"</li>
            </ul>
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">
                "The README explains each part: " <em>"Two commands"</em> ", " <em>"Configuration"</em> ", "
                <em>"Running in production"</em> ", " <em>"Customising"</em> " and " <em>"Testing your app"</em> "."
            </p>
        </section>
    }
}
