use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::EnterSudo;
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::paths;

/// `/users/sudo`: re-enter the password before a sensitive action, then go back to it.
#[component]
pub fn SudoPage() -> impl IntoView {
    let sudo = ServerAction::<EnterSudo>::new();
    let return_to = move || paths::requested_return().unwrap_or_else(|| paths::SETTINGS.to_owned());
    view! {
        <Title text="Confirm your password" />
        <FormCard title="Confirm your password">
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                "This is a sensitive action. Enter your password to continue; you will not be asked again for a few minutes."
            </p>
            <ActionForm action=sudo attr:class="space-y-4">
                <FormError action=sudo />
                <input type="hidden" name="return_to" value=return_to />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" />
                <Submit label="Confirm" pending=sudo.pending().into() />
            </ActionForm>
        </FormCard>
    }
}
