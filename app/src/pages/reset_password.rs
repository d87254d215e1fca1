use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{reset_link_status, RequestPasswordReset, ResetPassword};
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::password_meter::NewPasswordField;
use crate::pages::links::{NewLink, NewLinkForm, NewLinkOffer};
use crate::pages::register::password_hint;

/// `/users/reset-password`: ask for a reset link.
#[component]
pub fn ResetRequestPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    view! {
        <Title text="Reset your password" />
        <FormCard title="Reset your password">
            <ActionForm action=request attr:class="space-y-5">
                <FormError action=request />
                <p class="text-sm text-slate-600 dark:text-slate-300">"We will mail you a link to choose a new password. It works once, for an hour."</p>
                <Field label="Email" name="email" kind="email" autocomplete="username" autofocus=true />
                <Submit label="Send me a link" pending=request.pending().into() />
            </ActionForm>
        </FormCard>
    }
}

/// `/users/reset-password/choose`: the new password, once the link has landed.
#[component]
pub fn ResetChoosePage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let status = Resource::new(|| (), |_| reset_link_status());
    view! {
        <Title text="Choose a new password" />
        <FormCard title="Choose a new password">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(()) => view! {
                            <ActionForm action=reset attr:class="space-y-5">
                                <FormError action=reset />
                                <NewPasswordField label="New password" name="password" hint=password_hint() />
                                <Submit label="Set my new password" pending=reset.pending().into() />
                            </ActionForm>
                            <NewLinkOffer failed=reset.into() link=NewLink::PasswordReset />
                        }
                        .into_any(),
                        Err(error) => view! {
                            <p role="alert" data-testid="form-error" class="text-sm text-rose-800 dark:text-rose-200">{error.to_string()}</p>
                            <NewLinkForm link=NewLink::PasswordReset />
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </FormCard>
    }
}
