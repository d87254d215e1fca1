//! Passkey buttons: log in (with autofill suggestions where the browser offers them), finish a
//! log-in as the second factor, and add a passkey in settings. Each ceremony is an action: its
//! button is disabled while it runs, and its failure shows like a form's. Each button explains
//! itself when the browser cannot use passkeys; without JavaScript the buttons stay disabled
//! and say why.
//!
//! The ceremonies' futures hold browser objects, so their actions are `new_unsync`: they run
//! on the thread that made them, the browser's only one. Their closures hold only handles
//! (signals, actions), which any server thread may drop.

use leptos::prelude::*;

use crate::account::{
    delete_passkey, enter_sudo_with_passkey, finish_passkey_registration, log_in_with_passkey,
    start_passkey_confirmation, start_passkey_log_in, start_passkey_registration,
    start_passkey_second_factor, start_passkey_sudo, verify_passkey_second_factor,
};
use crate::components::forms::{ActionError, FormError};
use crate::error::UiError;
use crate::webauthn::{self, Mediation};

/// A ceremony run from a button.
pub type Ceremony = Action<(), Result<(), UiError>>;

const BUTTON: &str = "w-full rounded-md border border-slate-300 bg-white px-4 py-2 font-semibold shadow-sm hover:bg-slate-50 disabled:opacity-60 dark:border-slate-700 dark:bg-slate-900 dark:hover:bg-slate-800";

/// Whether passkeys work here: unknown until the page is interactive.
fn support_signal() -> RwSignal<Option<bool>> {
    let support = RwSignal::new(None);
    Effect::new(move |_| support.set(Some(webauthn::supported())));
    support
}

/// Why the button is disabled, when it is. While the page loads nothing is said (the button
/// is only waiting); a browser without JavaScript is told through `<noscript>`, and one without
/// WebAuthn once the page knows.
#[component]
fn SupportNote(support: RwSignal<Option<bool>>) -> impl IntoView {
    const NOTE: &str = "mt-2 text-xs text-slate-600 dark:text-slate-400";
    move || {
        match support.get() {
        None => view! {
            <noscript>
                <p class=NOTE data-testid="passkey-support">"Passkeys need JavaScript, which is off in this browser."</p>
            </noscript>
        }
        .into_any(),
        Some(false) => view! {
            <p class=NOTE data-testid="passkey-support">{UiError::PasskeysUnsupported.to_string()}</p>
        }
        .into_any(),
        Some(true) => ().into_any(),
    }
    }
}

/// A passkey button: disabled (with the reason) where passkeys cannot work, and while its
/// ceremony runs.
#[component]
pub fn PasskeyButton(label: &'static str, ceremony: Ceremony) -> impl IntoView {
    let support = support_signal();
    let pending = ceremony.pending();
    view! {
        <button
            type="button"
            class=BUTTON
            on:click=move |_| {
                ceremony.dispatch(());
            }
            disabled=move || support.get() != Some(true) || pending.get()
        >
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

/// "Log in with a passkey", plus autofill suggestions on the email field (its
/// `autocomplete` must include `webauthn`).
#[component]
pub fn PasskeyLogIn(
    /// Where to go afterwards.
    #[prop(into)]
    return_to: Signal<String>,
) -> impl IntoView {
    let modal: Ceremony = Action::new_unsync(move |()| log_in(Mediation::Modal, return_to));
    // The suggestions wait for as long as the page is open, so they do not keep the button
    // busy; ignoring them (or pressing the button, which cancels them) is no error.
    let autofill: Ceremony = Action::new_unsync(move |()| async move {
        if !webauthn::conditional_available().await {
            return Ok(());
        }
        match log_in(Mediation::Conditional, return_to).await {
            Err(UiError::PasskeyCancelled) => Ok(()),
            outcome => outcome,
        }
    });
    Effect::new(move |_| {
        autofill.dispatch(());
    });
    // The suggestions belong to this page; a page reached without a reload must not inherit them.
    on_cleanup(webauthn::abort_pending);
    view! {
        <div class="mt-6 space-y-2 border-t border-slate-200 pt-4 dark:border-slate-800">
            <FormError action=ActionError::first([modal.into(), autofill.into()]) />
            <PasskeyButton label="Log in with a passkey" ceremony=modal />
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
    let verify: Ceremony = Action::new_unsync(move |()| async move {
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
    });
    view! {
        <div class="space-y-2">
            <FormError action=verify />
            <PasskeyButton label="Use a passkey" ceremony=verify />
        </div>
    }
}

/// "Use a passkey" on the sudo page.
#[component]
pub fn PasskeySudo(
    /// Where to go afterwards.
    #[prop(into)]
    return_to: Signal<String>,
) -> impl IntoView {
    let confirm: Ceremony = Action::new_unsync(move |()| async move {
        let challenge = start_passkey_sudo().await?;
        let response = webauthn::get(&challenge.options, Mediation::Modal).await?;
        let target = enter_sudo_with_passkey(
            challenge.ceremony,
            response,
            Some(return_to.get_untracked()),
        )
        .await?;
        webauthn::go_to(&target);
        Ok(())
    });
    view! {
        <div class="space-y-2">
            <FormError action=confirm />
            <PasskeyButton label="Use a passkey" ceremony=confirm />
        </div>
    }
}

/// Registers a new passkey under the `name` typed (blank for the default), then clears it.
/// The page owns the action and the name: the action's failures (a sudo refusal included) show
/// with the page's other errors, its completion reloads the page's data, and the name survives
/// that reload.
pub fn add_passkey_action(name: RwSignal<String>) -> Ceremony {
    Action::new_unsync(move |()| async move {
        let chosen = Some(name.get_untracked()).filter(|n| !n.trim().is_empty());
        let challenge = start_passkey_registration().await?;
        let response = webauthn::create(&challenge.options).await?;
        finish_passkey_registration(challenge.ceremony, response, chosen).await?;
        name.set(String::new());
        Ok(())
    })
}

/// Removes the account's last second factor, passkey `id`, once a passkey confirms it; then
/// bumps `done` so the page reloads its data.
pub fn remove_last_passkey_action(id: String, done: RwSignal<u32>) -> Ceremony {
    Action::new_unsync(move |()| {
        let id = id.clone();
        async move {
            let challenge = start_passkey_confirmation().await?;
            let response = webauthn::get(&challenge.options, Mediation::Modal).await?;
            delete_passkey(id, Some(challenge.ceremony), Some(response)).await?;
            done.update(|n| *n += 1);
            Ok(())
        }
    })
}

/// "Add a passkey", with an optional name (see [`add_passkey_action`]).
#[component]
pub fn AddPasskey(
    /// The registration ceremony.
    action: Ceremony,
    /// The name typed for the new passkey.
    name: RwSignal<String>,
) -> impl IntoView {
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
            <PasskeyButton label="Add a passkey" ceremony=action />
        </div>
    }
}
