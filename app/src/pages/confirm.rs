use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{ConfirmWithCode, ResendConfirmation};
use crate::components::forms::{Field, FormCard, FormError, Submit};

/// `/users/confirm`: enter the code from the mail, or ask for a new mail.
#[component]
pub fn ConfirmPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmWithCode>::new();
    let resend = ServerAction::<ResendConfirmation>::new();
    view! {
        <Title text="Confirm your email" />
        <FormCard title="Confirm your email address">
            <ActionForm action=confirm attr:class="space-y-5">
                <FormError action=confirm />
                <Field label="Email" name="email" kind="email" autocomplete="username" autofocus=true />
                <Field label="Code from the email" name="code" kind="text" autocomplete="one-time-code" />
                <Submit label="Confirm" pending=confirm.pending().into() />
            </ActionForm>
            <div class="mt-6 border-t border-slate-200 pt-4 dark:border-slate-800">
                <h2 class="mb-3 text-sm font-semibold">"No mail? Get a new link and code."</h2>
                <ActionForm action=resend attr:class="space-y-4">
                    <FormError action=resend />
                    <Field label="Email to send to" name="email" id="resend-email" kind="email" autocomplete="username" />
                    <Submit label="Send a new code" pending=resend.pending().into() />
                </ActionForm>
            </div>
        </FormCard>
    }
}
