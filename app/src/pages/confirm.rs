use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{remembered_address, signed_in_as, ConfirmWithCode, ResendConfirmation};
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::ui::Loading;

/// `/users/confirm`: enter the code from the mail, or ask for a new mail. A signed-in visitor
/// is not asked for the address: it is the account's; a guest finds the address they last
/// asked a mail for already filled in.
#[component]
pub fn ConfirmPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmWithCode>::new();
    let resend = ServerAction::<ResendConfirmation>::new();
    let account = Resource::new(|| (), |_| signed_in_as());
    let remembered = Resource::new(|| (), |_| remembered_address());
    view! {
        <Title text="Confirm your email" />
        <FormCard title="Confirm your email address">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    let email = account.await.ok().flatten();
                    let resend_to = email.clone();
                    let typed = remembered.await.ok().flatten();
                    let resend_typed = typed.clone();
                    view! {
                        <ActionForm action=confirm attr:class="space-y-5">
                            <FormError action=confirm />
                            <AddressField email id="field-email" label="Email" typed autofocus=true />
                            <Field label="Code from the email" name="code" kind="text" autocomplete="one-time-code" numeric_code=true />
                            <Submit label="Confirm" pending=confirm.pending().into() />
                        </ActionForm>
                        <div class="mt-6 border-t border-slate-200 pt-4 dark:border-slate-800">
                            <h2 class="mb-3 text-sm font-semibold">"No mail? Get a new link and code."</h2>
                            <ActionForm action=resend attr:class="space-y-4">
                                <FormError action=resend />
                                <AddressField email=resend_to id="resend-email" label="Email to send to" typed=resend_typed autofocus=false />
                                <Submit label="Send a new code" pending=resend.pending().into() />
                            </ActionForm>
                        </div>
                    }
                })}
            </Suspense>
        </FormCard>
    }
}

/// The address a form acts on: the signed-in account's, said and sent along, or a field.
#[component]
fn AddressField(
    email: Option<String>,
    id: &'static str,
    label: &'static str,
    /// The address to start a guest's field with.
    typed: Option<String>,
    autofocus: bool,
) -> impl IntoView {
    match email {
        Some(email) => view! {
            <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="confirming-address">
                "For " <strong class="break-all">{email.clone()}</strong>
            </p>
            <input type="hidden" name="email" value=email />
        }
        .into_any(),
        None => view! {
            <Field label name="email" id kind="email" autocomplete="username" autofocus value=typed />
        }
        .into_any(),
    }
}
