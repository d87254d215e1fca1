//! The pages mailed links land on. Each asks for one click, so a mail scanner that fetches
//! the link cannot use it; the token itself waits in a cookie, not in the address.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{ConfirmEmailChange, ConfirmWithLink, LogInWithLink};
use crate::components::forms::{FormCard, FormError, Submit};

/// `/users/confirm/link`.
#[component]
pub fn ConfirmLinkPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmWithLink>::new();
    view! {
        <Title text="Confirm your email" />
        <FormCard title="Confirm your email address">
            <ActionForm action=confirm attr:class="space-y-5">
                <FormError action=confirm />
                <p class="text-sm text-slate-600 dark:text-slate-300">"One click confirms the address this link was sent to."</p>
                <Submit label="Confirm my email address" pending=confirm.pending().into() />
            </ActionForm>
        </FormCard>
    }
}

/// `/users/log-in/link`.
#[component]
pub fn LogInLinkPage() -> impl IntoView {
    let log_in = ServerAction::<LogInWithLink>::new();
    view! {
        <Title text="Log in" />
        <FormCard title="Log in with your link">
            <ActionForm action=log_in attr:class="space-y-5">
                <FormError action=log_in />
                <p class="text-sm text-slate-600 dark:text-slate-300">"The link works once. Continue to log in on this device."</p>
                <Submit label="Log in" pending=log_in.pending().into() />
            </ActionForm>
        </FormCard>
    }
}

/// `/users/settings/confirm-email/link`.
#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmEmailChange>::new();
    view! {
        <Title text="Confirm your new email" />
        <FormCard title="Confirm your new email address">
            <ActionForm action=confirm attr:class="space-y-5">
                <FormError action=confirm />
                <p class="text-sm text-slate-600 dark:text-slate-300">
                    "Confirming switches your account to the address this link was sent to and logs out your other sessions."
                </p>
                <Submit label="Confirm my new address" pending=confirm.pending().into() />
            </ActionForm>
        </FormCard>
    }
}
