//! `/users/settings` and its sub-pages. Each change has a page of its own, so its form ends in
//! a redirect to a different page, which the router renders fresh (with the new state and the
//! flash message) with or without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{
    account_overview, AccountDetails, CancelEmailChange, ChangeDisplayName, ChangePassword,
    RequestEmailChange,
};
use crate::capabilities::use_switches;
use crate::components::account_page::AccountPage;
use crate::components::account_page::BackToSettings;
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::password_meter::NewPasswordField;
use crate::components::time::Time;
use crate::components::ui::{Banner, Card, TextLink, Tone};
use crate::error::UiError;
use crate::pages::register::password_hint;
use crate::paths;

fn account() -> Resource<Result<AccountDetails, UiError>> {
    Resource::new(|| (), |_| account_overview())
}

/// `/users/settings`.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <AccountPage data=account() page=overview />
    }
}

fn overview(account: AccountDetails) -> impl IntoView {
    let switches = use_switches();
    let session = if account.remembered {
        "Remembered on this device"
    } else {
        "Ends when you close the browser or after 30 idle minutes"
    };
    view! {
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Settings"</h1>
            <Card>
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
                        " " <TextLink href=paths::EMAIL_SETTINGS>"Change"</TextLink>
                    </dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Display name"</dt>
                    <dd>
                        {match account.display_name {
                            Some(name) => view! { <span class="font-medium" data-testid="display-name">{name}</span> }.into_any(),
                            None => view! { <span class="text-slate-500 dark:text-slate-400" data-testid="display-name">"None: your email address is shown"</span> }.into_any(),
                        }}
                        " " <TextLink href=paths::PROFILE_SETTINGS>"Change"<span class="sr-only">" your display name"</span></TextLink>
                    </dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Password"</dt>
                    <dd><TextLink href=paths::PASSWORD_SETTINGS>"Change your password"</TextLink></dd>
                    {switches.oauth.then(|| view! {
                        <dt class="text-slate-500 dark:text-slate-400">"Log-in providers"</dt>
                        <dd><TextLink href=paths::ACCOUNTS_SETTINGS>"Manage log-in methods"</TextLink></dd>
                    })}
                    {switches.any_second_factor().then(|| view! {
                        <dt class="text-slate-500 dark:text-slate-400">"Two-factor authentication"</dt>
                        <dd>
                            <span data-testid="mfa-status">{account.second_factors.summary()}</span>
                            " " <TextLink href=paths::SECURITY_SETTINGS>"Manage"</TextLink>
                        </dd>
                    })}
                    {switches.api_tokens.then(|| view! {
                        <dt class="text-slate-500 dark:text-slate-400">"API tokens"</dt>
                        <dd><TextLink href=paths::API_TOKENS>"Create and revoke tokens"</TextLink></dd>
                    })}
                    <dt class="text-slate-500 dark:text-slate-400">"Your data"</dt>
                    <dd><TextLink href=paths::EXPORT_DATA>"Download everything we hold about you"</TextLink></dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Delete account"</dt>
                    <dd><TextLink href=paths::DELETE_ACCOUNT>"Delete your account"</TextLink></dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Member since"</dt>
                    <dd><Time at=account.member_since.clone() /></dd>
                </dl>
            </Card>
            <Card>
                <h2 class="mb-4 text-lg font-semibold">"This session"</h2>
                <dl class="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
                    <dt class="text-slate-500 dark:text-slate-400">"Logged in"</dt>
                    <dd><Time at=account.signed_in_at.clone() /></dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Duration"</dt>
                    <dd>{session}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">"Ends at the latest"</dt>
                    <dd><Time at=account.session_ends_by.clone() /></dd>
                </dl>
            </Card>
        </section>
    }
}

/// `/users/settings/profile`: the display name.
#[component]
pub fn ProfileSettingsPage() -> impl IntoView {
    view! {
        <Title text="Your display name" />
        <BackToSettings />
        <AccountPage data=account() page=profile_form />
    }
}

fn profile_form(account: AccountDetails) -> impl IntoView {
    let change = ServerAction::<ChangeDisplayName>::new();
    view! {
        <FormCard title="Your display name">
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                "Shown in the header and used to greet you in mail, instead of your address. Leave it blank to use your address."
            </p>
            <ActionForm action=change attr:class="space-y-4">
                <FormError action=change />
                <Field
                    label="Display name"
                    name="display_name"
                    autocomplete="name"
                    autofocus=true
                    optional=true
                    value=account.display_name
                    hint=Signal::derive(|| "At most 60 characters.".to_owned())
                />
                <Submit label="Save" pending=change.pending().into() />
            </ActionForm>
        </FormCard>
    }
}

/// `/users/settings/email`.
#[component]
pub fn EmailSettingsPage() -> impl IntoView {
    view! {
        <Title text="Change your email" />
        <BackToSettings />
        <AccountPage data=account() page=email_form />
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
                <Banner tone=Tone::Info class="mb-4">
                    "Waiting for confirmation: " <strong>{pending}</strong> "."
                    <ActionForm action=cancel attr:class="mt-2">
                        <button type="submit" class="font-medium underline">"Cancel the change"</button>
                    </ActionForm>
                </Banner>
            })}
            <ActionForm action=change attr:class="space-y-4">
                <FormError action=change />
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
        <BackToSettings />
        <AccountPage data=account() page=password_form />
    }
}

fn password_form(account: AccountDetails) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <FormCard title="Change your password">
            {account.must_change_password.then(|| view! {
                <Banner tone=Tone::Info class="mb-4" attr:data-testid="must-change-password">
                    "Please choose a new password before you continue."
                </Banner>
            })}
            <ActionForm action=change attr:class="space-y-4">
                <FormError action=change />
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" />
                <NewPasswordField label="New password" name="new_password" hint=password_hint() />
                <Submit label="Change password" pending=change.pending().into() />
            </ActionForm>
            <p class="mt-3 text-xs text-slate-500 dark:text-slate-400">"Changing it logs out your other sessions and mails you a notice."</p>
        </FormCard>
    }
}
