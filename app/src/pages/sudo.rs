use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::account::{sudo_options, EnterSudo};
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::passkeys::PasskeySudo;
use crate::components::providers::ProviderForm;
use crate::components::ui::Loading;
use crate::error::UiError;
use crate::paths;

/// `/users/sudo`: confirm it is you before a sensitive action (the password, a passkey, or a
/// fresh log-in at a linked provider), then go back to it.
#[component]
pub fn SudoPage() -> impl IntoView {
    let sudo = ServerAction::<EnterSudo>::new();
    let options = Resource::new(|| (), |_| sudo_options());
    let return_to = move || paths::requested_return().unwrap_or_else(|| paths::SETTINGS.to_owned());
    view! {
        <Title text="Confirm it is you" />
        <FormCard title="Confirm it is you">
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                "This is a sensitive action. Confirm it is you to continue; you will not be asked again for a few minutes."
            </p>
            <FormError action=sudo />
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    // Nobody to confirm: log in first, then on to where sudo was asked for.
                    let options = match options.await {
                        Err(UiError::Unauthenticated) => {
                            let log_in = paths::with_return_to(paths::LOG_IN, &return_to());
                            return view! { <Redirect path=log_in /> }.into_any();
                        }
                        options => options.ok(),
                    };
                    let password = options.as_ref().is_none_or(|o| o.password);
                    let passkey = options.as_ref().is_some_and(|o| o.passkey);
                    let providers = options.map(|o| o.providers).unwrap_or_default();
                    view! {
                        {password.then(|| view! {
                            <ActionForm action=sudo attr:class="space-y-4">
                                <input type="hidden" name="return_to" value=return_to />
                                <Field label="Password" name="password" kind="password" autocomplete="current-password" autofocus=true />
                                <Submit label="Confirm" pending=sudo.pending().into() />
                            </ActionForm>
                        })}
                        {passkey.then(|| view! {
                            <div class="mt-6 border-t border-slate-200 pt-4 dark:border-slate-800">
                                <PasskeySudo return_to=Signal::derive(return_to) />
                            </div>
                        })}
                        {(!providers.is_empty()).then(|| view! {
                            <div class="mt-6 space-y-2 border-t border-slate-200 pt-4 dark:border-slate-800" data-testid="sudo-providers">
                                {providers.into_iter().map(|provider| view! {
                                    <ProviderForm provider intent="sudo" verb="Log in again with" return_to=return_to() />
                                }).collect_view()}
                            </div>
                        })}
                    }
                    .into_any()
                })}
            </Transition>
        </FormCard>
    }
}
