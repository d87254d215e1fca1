use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{LogIn, RequestMagicLink};
use crate::capabilities::use_switches;
use crate::components::account_page::SignedInGoesToAccount;
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::passkeys::PasskeyLogIn;
use crate::components::providers::ProviderButtons;
use crate::components::ui::TextLink;
use crate::paths;

/// `/users/log-in`: password, or a link by mail.
#[component]
pub fn LogInPage() -> impl IntoView {
    let log_in = ServerAction::<LogIn>::new();
    let magic = ServerAction::<RequestMagicLink>::new();
    let return_to = move || paths::requested_return().unwrap_or_default();
    let switches = use_switches();
    view! {
        <Title text="Log in" />
        <SignedInGoesToAccount />
        <FormCard title="Log in">
            <ActionForm action=log_in attr:class="space-y-5">
                <FormError action=log_in />
                <input type="hidden" name="return_to" value=return_to />
                // `webauthn` lets the browser offer passkeys as autofill here.
                <Field label="Email" name="email" kind="email" autocomplete="username webauthn" autofocus=true />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" />
                <div class="flex items-center gap-2">
                    <input id="field-remember_me" name="remember_me" type="checkbox" value="on" class="h-4 w-4 rounded border-slate-300 text-indigo-600" />
                    <label for="field-remember_me" class="text-sm">"Remember me on this device for 30 days"</label>
                </div>
                <Submit label="Log in" pending=log_in.pending().into() />
            </ActionForm>
            {switches.passkeys.then(|| view! { <PasskeyLogIn return_to=Signal::derive(return_to) /> })}
            {switches.oauth.then(|| view! { <ProviderButtons verb="Continue with" return_to=Signal::derive(return_to) /> })}
            <p class="mt-4 text-sm">
                <TextLink href=paths::RESET_PASSWORD>"Forgot your password?"</TextLink>
            </p>
            {switches.magic_links.then(|| view! {
            <details class="mt-6 border-t border-slate-200 pt-4 dark:border-slate-800">
                <summary class="cursor-pointer text-sm font-medium">"Email me a log-in link instead"</summary>
                <ActionForm action=magic attr:class="mt-4 space-y-4">
                    <FormError action=magic />
                    <Field label="Email for the link" name="email" id="magic-link-email" kind="email" autocomplete="username" />
                    <Submit label="Send me a link" pending=magic.pending().into() />
                </ActionForm>
            </details>
            })}
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                "New here? " <TextLink href=paths::REGISTER>"Create an account"</TextLink>
                " · " <TextLink href=paths::CONFIRM>"Confirm your email"</TextLink>
            </p>
        </FormCard>
    }
}
