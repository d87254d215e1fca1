use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{password_rules, Register};
use crate::capabilities::use_switches;
use crate::components::account_page::SignedInGoesToAccount;
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::password_meter::NewPasswordField;
use crate::components::providers::ProviderButtons;
use crate::components::ui::TextLink;
use crate::paths;

/// `/users/register`.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let register = ServerAction::<Register>::new();
    view! {
        <Title text="Create an account" />
        <SignedInGoesToAccount />
        <FormCard title="Create an account">
            <ActionForm action=register attr:class="space-y-5">
                <FormError action=register />
                <Field label="Email" name="email" kind="email" autocomplete="username" autofocus=true />
                <NewPasswordField label="Password" name="password" hint=password_hint() />
                <Submit label="Create account" pending=register.pending().into() />
            </ActionForm>
            {use_switches().oauth.then(|| view! { <ProviderButtons verb="Sign up with" return_to=Signal::derive(String::new) /> })}
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                "Already registered? " <TextLink href=paths::LOG_IN>"Log in"</TextLink>
            </p>
        </FormCard>
    }
}

/// The password hint, with the configured minimum.
pub fn password_hint() -> Signal<String> {
    let rules = Resource::new(|| (), |_| password_rules());
    Signal::derive(move || {
        let min = rules
            .get()
            .and_then(Result::ok)
            .map_or(15, |r| r.min_length);
        format!("At least {min} characters. Spaces and any characters are welcome; a passphrase works well.")
    })
}
