//! Passkey buttons: log in (with autofill suggestions where the browser offers them), finish a
//! log-in as the second factor, and add a passkey in settings. Each explains itself when the
//! browser cannot use passkeys; without JavaScript the buttons stay disabled and say why.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::account::{
    finish_passkey_registration, log_in_with_passkey, start_passkey_log_in,
    start_passkey_registration, start_passkey_second_factor, verify_passkey_second_factor,
};
use crate::components::forms::FormError;
use crate::error::UiError;
use crate::webauthn::{self, Mediation};

const BUTTON: &str = "w-full rounded-md border border-slate-300 bg-white px-4 py-2 font-semibold shadow-sm hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-indigo-500/60 disabled:opacity-60 dark:border-slate-700 dark:bg-slate-900 dark:hover:bg-slate-800";

/// Whether passkeys work here: unknown until the page is interactive.
fn support_signal() -> RwSignal<Option<bool>> {
    let support = RwSignal::new(None);
    Effect::new(move |_| support.set(Some(webauthn::supported())));
    support
}

/// Why the button is disabled, when it is.
#[component]
fn SupportNote(support: RwSignal<Option<bool>>) -> impl IntoView {
    move || {
        let note = match support.get() {
            None => Some("Passkeys need JavaScript, which is off or still loading.".to_owned()),
            Some(false) => Some(UiError::PasskeysUnsupported.to_string()),
            Some(true) => None,
        };
        note.map(|note| {
            view! {
                <p class="mt-2 text-xs text-slate-500 dark:text-slate-400" data-testid="passkey-support">{note}</p>
            }
        })
    }
}

/// A passkey button: disabled (with the reason) where passkeys cannot work, busy while its
/// ceremony runs, and the ceremony's failure shown in `error`.
#[component]
fn PasskeyButton<F, Fut>(
    label: &'static str,
    error: RwSignal<Option<UiError>>,
    ceremony: F,
) -> impl IntoView
where
    F: Fn() -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = Result<(), UiError>> + 'static,
{
    let support = support_signal();
    let busy = RwSignal::new(false);
    let click = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            if let Err(e) = ceremony().await {
                error.set(Some(e));
            }
            busy.set(false);
        });
    };
    view! {
        <button type="button" class=BUTTON on:click=click disabled=move || support.get() != Some(true) || busy.get()>
            {label}
        </button>
        <SupportNote support />
    }
}

/// A passwordless log-in, shown as `mediation` says; on success the browser goes on.
async fn log_in(mediation: Mediation, return_to: Signal<String>) -> Result<(), UiError> {
    let challenge = start_passkey_log_in().await?;
    let response = webauthn::get(&challenge.options, mediation).await?;
    let target = log_in_with_passkey(
        challenge.ceremony,
        response,
        Some(return_to.get_untracked()),
    )
    .await?;
    webauthn::go_to(&target);
    Ok(())
}

/// "Sign in with a passkey", plus autofill suggestions on the email field (its
/// `autocomplete` must include `webauthn`).
#[component]
pub fn PasskeyLogIn(
    /// Where to go afterwards.
    #[prop(into)]
    return_to: Signal<String>,
) -> impl IntoView {
    let error = RwSignal::new(None::<UiError>);
    Effect::new(move |_| {
        spawn_local(async move {
            if webauthn::conditional_available().await {
                // Ignoring the suggestions (or pressing the button, which cancels them) is no error.
                match log_in(Mediation::Conditional, return_to).await {
                    Err(UiError::PasskeyCancelled) | Ok(()) => {}
                    Err(e) => error.set(Some(e)),
                }
            }
        });
    });
    // The suggestions belong to this page; a page reached without a reload must not inherit them.
    on_cleanup(webauthn::abort_pending);
    view! {
        <div class="mt-6 space-y-2 border-t border-slate-200 pt-4 dark:border-slate-800">
            <FormError error />
            <PasskeyButton label="Sign in with a passkey" error ceremony=move || log_in(Mediation::Modal, return_to) />
        </div>
    }
}

/// "Use a passkey" on the second-factor page.
#[component]
pub fn PasskeySecondFactor(
    /// Where to go afterwards.
    #[prop(into)]
    return_to: Signal<String>,
    /// Whether "trust this browser" is ticked.
    trust_browser: RwSignal<bool>,
) -> impl IntoView {
    let error = RwSignal::new(None::<UiError>);
    let ceremony = move || async move {
        let challenge = start_passkey_second_factor().await?;
        let response = webauthn::get(&challenge.options, Mediation::Modal).await?;
        let trust = trust_browser.get_untracked().then(|| "on".to_owned());
        let target = verify_passkey_second_factor(
            challenge.ceremony,
            response,
            trust,
            Some(return_to.get_untracked()),
        )
        .await?;
        webauthn::go_to(&target);
        Ok(())
    };
    view! {
        <div class="space-y-2">
            <FormError error />
            <PasskeyButton label="Use a passkey" error ceremony />
        </div>
    }
}

/// "Add a passkey", with an optional name; calls `added` once it is stored. Failures (a sudo
/// refusal included) go to `error`, like the page's other actions.
#[component]
pub fn AddPasskey(
    /// Runs after a passkey was added.
    added: Callback<()>,
    /// Where failures are shown.
    error: RwSignal<Option<UiError>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let ceremony = move || async move {
        let challenge = start_passkey_registration().await?;
        let response = webauthn::create(&challenge.options).await?;
        let chosen = Some(name.get_untracked()).filter(|n| !n.trim().is_empty());
        finish_passkey_registration(challenge.ceremony, response, chosen).await?;
        name.set(String::new());
        added.run(());
        Ok(())
    };
    view! {
        <div class="space-y-3">
            <div class="space-y-1">
                <label for="field-passkey-name" class="block text-sm font-medium">"Name (optional)"</label>
                <input
                    id="field-passkey-name"
                    type="text"
                    maxlength="60"
                    placeholder="Work laptop"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base shadow-sm dark:border-slate-700 dark:bg-slate-900"
                />
            </div>
            <PasskeyButton label="Add a passkey" error ceremony />
        </div>
    }
}
