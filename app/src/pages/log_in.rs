use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::account::LogIn;
use crate::components::forms::{Field, FormCard, FormError, Submit};

/// `/users/log-in`.
#[component]
pub fn LogInPage() -> impl IntoView {
    let log_in = ServerAction::<LogIn>::new();
    view! {
        <Title text="Log in" />
        <FormCard title="Log in">
            <ActionForm action=log_in attr:class="space-y-5">
                <FormError error=Signal::derive(move || log_in.value().get().and_then(Result::err)) />
                <Field label="Email" name="email" kind="email" autocomplete="username" />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" />
                <div class="flex items-center gap-2">
                    <input id="field-remember_me" name="remember_me" type="checkbox" value="on" class="h-4 w-4 rounded border-slate-300 text-indigo-600" />
                    <label for="field-remember_me" class="text-sm">"Remember me on this device for 30 days"</label>
                </div>
                <Submit label="Log in" pending=log_in.pending().into() />
            </ActionForm>
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                "New here? " <A href="/users/register" attr:class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">"Create an account"</A>
            </p>
        </FormCard>
    }
}
