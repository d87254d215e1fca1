use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::paths;

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Welcome" />
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
