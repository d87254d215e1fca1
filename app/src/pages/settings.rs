use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::account::{
    account_overview, AccountDetails, CancelEmailChange, ChangePassword, RequestEmailChange,
};
use crate::components::forms::{Field, FormError, Submit};
use crate::components::password_meter::NewPasswordField;
use crate::error::UiError;
use crate::pages::register::password_hint;

/// `/users/settings`: the signed-in account. The server functions refuse anonymous callers;
/// the redirect here only spares them an error.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| account_overview());
    view! {
        <Title text="Settings" />
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(account) => view! { <Settings account /> }.into_any(),
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

const CARD: &str = "rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900";

#[component]
fn Settings(account: AccountDetails) -> impl IntoView {
    let must_change = account.must_change_password;
    view! {
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Settings"</h1>
            {must_change.then(|| view! {
                <p class="rounded-md border border-sky-300 bg-sky-50 px-4 py-3 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-200" data-testid="must-change-password">
                    "Please choose a new password before you continue."
                </p>
                <PasswordCard />
            })}
            <Overview account=account.clone() />
            <EmailCard account />
            {(!must_change).then(|| view! { <PasswordCard /> })}
        </section>
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
        <div class=CARD>
            <h2 class="mb-4 text-lg font-semibold">"Account"</h2>
            <dl class="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
                <dt class="text-slate-500 dark:text-slate-400">"Email"</dt>
                <dd class="font-medium break-all">
                    <span data-testid="account-email">{account.email}</span>
                    {(!account.confirmed).then(|| view! { <span class="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-900">"not confirmed"</span> })}
                </dd>
                <dt class="text-slate-500 dark:text-slate-400">"Member since"</dt>
                <dd><time datetime=account.member_since.clone()>{account.member_since.clone()}</time></dd>
                <dt class="text-slate-500 dark:text-slate-400">"This session"</dt>
                <dd>{session} " · signed in " <time datetime=account.signed_in_at.clone()>{account.signed_in_at.clone()}</time></dd>
                <dt class="text-slate-500 dark:text-slate-400">"Session ends at the latest"</dt>
                <dd><time datetime=account.session_ends_by.clone()>{account.session_ends_by.clone()}</time></dd>
            </dl>
        </div>
    }
}

#[component]
fn EmailCard(account: AccountDetails) -> impl IntoView {
    let change = ServerAction::<RequestEmailChange>::new();
    let cancel = ServerAction::<CancelEmailChange>::new();
    view! {
        <div class=CARD>
            <h2 class="mb-4 text-lg font-semibold">"Email address"</h2>
            {account.pending_email.map(|pending| view! {
                <div class="mb-4 rounded-md border border-sky-300 bg-sky-50 px-4 py-3 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-200" data-testid="pending-email">
                    "Waiting for confirmation: " <strong>{pending}</strong> ". Open the link we sent there."
                    <ActionForm action=cancel attr:class="mt-2">
                        <button type="submit" class="font-medium underline">"Cancel the change"</button>
                    </ActionForm>
                </div>
            })}
            <ActionForm action=change attr:class="space-y-4">
                <FormError error=Signal::derive(move || change.value().get().and_then(Result::err)) />
                <Field label="New email" name="new_email" kind="email" autocomplete="email" />
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" />
                <Submit label="Change email" pending=change.pending().into() />
            </ActionForm>
        </div>
    }
}

#[component]
fn PasswordCard() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <div class=CARD id="password">
            <h2 class="mb-4 text-lg font-semibold">"Password"</h2>
            <ActionForm action=change attr:class="space-y-4">
                <FormError error=Signal::derive(move || change.value().get().and_then(Result::err)) />
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" />
                <NewPasswordField label="New password" name="new_password" hint=password_hint() />
                <Submit label="Change password" pending=change.pending().into() />
            </ActionForm>
            <p class="mt-3 text-xs text-slate-500 dark:text-slate-400">"Changing it logs out your other sessions and mails you a notice."</p>
        </div>
    }
}
