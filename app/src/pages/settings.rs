//! `/users/settings` and its sub-pages. Each change has a page of its own, so its form ends in
//! a redirect to a different page, which the router renders fresh (with the new state and the
//! flash message) with or without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_location;

use crate::account::{
    account_overview, AccountDetails, CancelEmailChange, ChangePassword, RequestEmailChange,
};
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::password_meter::NewPasswordField;
use crate::error::UiError;
use crate::pages::register::password_hint;

const CARD: &str = "rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900";
const LINK: &str = "font-medium text-indigo-600 hover:underline dark:text-indigo-400";

/// Loads the account, sending anonymous visitors to log in. The server functions refuse them
/// anyway; the redirect only spares them an error.
#[component]
fn WithAccount<V: IntoView + 'static>(page: fn(AccountDetails) -> V) -> impl IntoView {
    let overview = Resource::new(|| (), |_| account_overview());
    let back_here = StoredValue::new(format!(
        "/users/log-in?return_to={}",
        use_location().pathname.get_untracked()
    ));
    view! {
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(account) => page(account).into_any(),
                    Err(UiError::Unauthenticated) => view! { <Redirect path=back_here.get_value() /> }.into_any(),
                    Err(error) => view! {
                        <p role="alert" class="rounded-md border border-rose-300 bg-rose-50 px-4 py-3 text-rose-900">{error.to_string()}</p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// `/users/settings`.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <WithAccount page=overview />
    }
}

fn overview(account: AccountDetails) -> impl IntoView {
    let session = if account.remembered {
        "Remembered on this device"
    } else {
        "Ends when you close the browser or after 30 idle minutes"
    };
    view! {
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Settings"</h1>
            <div class=CARD>
                <h2 class="mb-4 text-lg font-semibold">"Account"</h2>
                <dl class="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
                    <dt class="text-slate-500 dark:text-slate-400">"Email"</dt>
                    <dd class="break-all">
                        <span class="font-medium" data-testid="account-email">{account.email}</span>
                        {(!account.confirmed).then(|| view! { <span class="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-900">"not confirmed"</span> })}
                        {account.pending_email.map(|pending| view! {
                            <span class="block text-xs text-sky-800 dark:text-sky-300" data-testid="pending-email">
                                "Changing to " {pending} ", waiting for confirmation"
                            </span>
                        })}
                        " " <A href="/users/settings/email" attr:class=LINK>"Change"</A>
                    </dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Password"</dt>
                    <dd><A href="/users/settings/password" attr:class=LINK>"Change your password"</A></dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Two-factor authentication"</dt>
                    <dd>
                        <span data-testid="mfa-status">{if account.mfa_enabled { "On" } else { "Off" }}</span>
                        " " <A href="/users/settings/security" attr:class=LINK>"Manage"</A>
                    </dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Member since"</dt>
                    <dd><time datetime=account.member_since.clone()>{account.member_since.clone()}</time></dd>
                </dl>
            </div>
            <div class=CARD>
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

/// `/users/settings/email`.
#[component]
pub fn EmailSettingsPage() -> impl IntoView {
    view! {
        <Title text="Change your email" />
        <WithAccount page=email_form />
    }
}

fn email_form(account: AccountDetails) -> impl IntoView {
    let change = ServerAction::<RequestEmailChange>::new();
    let cancel = ServerAction::<CancelEmailChange>::new();
    view! {
        <FormCard title="Change your email address">
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                "Now: " <strong>{account.email}</strong> ". We send a link to the new address; nothing changes until you open it."
            </p>
            {account.pending_email.map(|pending| view! {
                <div class="mb-4 rounded-md border border-sky-300 bg-sky-50 px-4 py-3 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-200">
                    "Waiting for confirmation: " <strong>{pending}</strong> "."
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
        </FormCard>
    }
}

/// `/users/settings/password` (also where a required change sends every page).
#[component]
pub fn PasswordSettingsPage() -> impl IntoView {
    view! {
        <Title text="Change your password" />
        <WithAccount page=password_form />
    }
}

fn password_form(account: AccountDetails) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <FormCard title="Change your password">
            {account.must_change_password.then(|| view! {
                <p class="mb-4 rounded-md border border-sky-300 bg-sky-50 px-4 py-3 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-200" data-testid="must-change-password">
                    "Please choose a new password before you continue."
                </p>
            })}
            <ActionForm action=change attr:class="space-y-4">
                <FormError error=Signal::derive(move || change.value().get().and_then(Result::err)) />
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" />
                <NewPasswordField label="New password" name="new_password" hint=password_hint() />
                <Submit label="Change password" pending=change.pending().into() />
            </ActionForm>
            <p class="mt-3 text-xs text-slate-500 dark:text-slate-400">"Changing it logs out your other sessions and mails you a notice."</p>
        </FormCard>
    }
}
