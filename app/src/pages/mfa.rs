use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{mfa_challenge, CancelSecondFactor, VerifySecondFactor};
use crate::capabilities::use_switches;
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::passkeys::PasskeySecondFactor;
use crate::components::ui::{Loading, TextLink};
use crate::paths;

/// `/users/mfa`: the second step of a log-in, with an app code or a backup code.
#[component]
pub fn MfaPage() -> impl IntoView {
    let verify = ServerAction::<VerifySecondFactor>::new();
    let cancel = ServerAction::<CancelSecondFactor>::new();
    let challenge = Resource::new(|| (), |_| mfa_challenge());
    let trust_browser = RwSignal::new(false);
    let return_to = move || paths::requested_return().unwrap_or_default();
    view! {
        <Title text="Two-factor authentication" />
        <FormCard title="Two-factor authentication">
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match challenge.await {
                        Ok(challenge) => {
                            let trust_days = challenge.trust_days;
                            // After the code field (or the passkey button, when that is all there is).
                            let trust = move || view! {
                                <div class="flex items-center gap-2">
                                    <input
                                        id="field-trust_browser"
                                        name="trust_browser"
                                        form="mfa-code"
                                        type="checkbox"
                                        value="on"
                                        on:change=move |ev| trust_browser.set(event_target_checked(&ev))
                                        class="h-4 w-4 rounded border-slate-300 text-indigo-600"
                                    />
                                    <label for="field-trust_browser" class="text-sm">
                                        "Trust this browser for " {trust_days} " days (the password is still asked)"
                                    </label>
                                </div>
                            };
                            view! {
                            {challenge.passkey.then(|| view! {
                                <PasskeySecondFactor return_to=Signal::derive(return_to) trust_browser />
                            })}
                            {challenge.totp.then(|| view! {
                                <p class="mb-4 mt-6 text-sm text-slate-600 dark:text-slate-300">
                                    {if challenge.passkey { "Or open" } else { "Open" }}
                                    " your authenticator app and enter the 6-digit code it shows for this site."
                                </p>
                                <ActionForm action=verify attr:id="mfa-code" attr:class="space-y-5">
                                    <FormError action=verify />
                                    <input type="hidden" name="return_to" value=return_to />
                                    <Field
                                        label="Authentication code"
                                        name="code"
                                        autocomplete="one-time-code"
                                        autofocus=true
                                        hint=Signal::derive(|| "Lost your phone? Enter one of your backup codes instead (like abcde-12345).".to_owned())
                                    />
                                    {trust()}
                                    <Submit label="Verify" pending=verify.pending().into() />
                                </ActionForm>
                            })}
                            {(!challenge.totp && use_switches().second_factors).then(|| view! { <div class="mt-5">{trust()}</div> })}
                            <ActionForm action=cancel attr:class="mt-4">
                                <button type="submit" class="text-sm font-medium text-slate-600 hover:underline dark:text-slate-300">"Cancel and log out"</button>
                            </ActionForm>
                            }
                            .into_any()
                        }
                        Err(_) => view! {
                            <FormError action=verify />
                            <p class="mt-4 text-sm" data-testid="mfa-expired">
                                "This log-in has expired or is finished. "
                                <TextLink href=paths::LOG_IN>"Log in again"</TextLink>
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </FormCard>
    }
}
