use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::account::{account_overview, AccountDetails};
use crate::error::UiError;

/// `/users/settings`: the signed-in account. The server function refuses anonymous callers;
/// the redirect here only spares them an error.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| account_overview());
    view! {
        <Title text="Settings" />
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(account) => view! { <Overview account /> }.into_any(),
                    Err(UiError::Unauthenticated) => view! { <Redirect path="/users/log-in" /> }.into_any(),
                    Err(error) => view! {
                        <p role="alert" class="rounded-md border border-rose-300 bg-rose-50 px-4 py-3 text-rose-900">{error.to_string()}</p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Overview(account: AccountDetails) -> impl IntoView {
    let session = if account.remembered {
        "Remembered on this device"
    } else {
        "Ends when you close the browser or after 30 idle minutes"
    };
    view! {
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Settings"</h1>
            <div class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
                <h2 class="mb-4 text-lg font-semibold">"Account"</h2>
                <dl class="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
                    <dt class="text-slate-500 dark:text-slate-400">"Email"</dt>
                    <dd class="font-medium break-all" data-testid="account-email">{account.email}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Member since"</dt>
                    <dd><time datetime=account.member_since.clone()>{account.member_since.clone()}</time></dd>
                </dl>
            </div>
            <div class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
                <h2 class="mb-4 text-lg font-semibold">"This session"</h2>
                <dl class="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
                    <dt class="text-slate-500 dark:text-slate-400">"Signed in"</dt>
                    <dd><time datetime=account.signed_in_at.clone()>{account.signed_in_at.clone()}</time></dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Duration"</dt>
                    <dd>{session}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Ends at the latest"</dt>
                    <dd><time datetime=account.session_ends_by.clone()>{account.session_ends_by.clone()}</time></dd>
                </dl>
            </div>
        </section>
    }
}
