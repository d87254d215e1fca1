//! Passkey buttons: log in (with autofill suggestions where the browser offers them), finish a
//! log-in as the second factor, confirm it is you for sudo, and the security page's passkeys
//! section (add, rename, remove). Compiled with the `passkeys` feature only (see
//! `passkeys_left_out.rs`). Each ceremony is an action: its
//! button is disabled while it runs, and its failure shows like a form's. Each button explains
//! itself when the browser cannot use passkeys; without JavaScript the buttons stay disabled
//! and say why.
//!
//! The ceremonies' futures hold browser objects, so their actions are `new_unsync`: they run
//! on the thread that made them, the browser's only one. Their closures hold only handles
//! (signals, actions), which any server thread may drop.

use leptos::prelude::*;

use crate::account::passkeys::PasskeysView;
use crate::account::{
    delete_passkey, enter_sudo_with_passkey, finish_passkey_registration, list_passkeys,
    log_in_with_passkey, start_passkey_confirmation, start_passkey_log_in,
    start_passkey_registration, start_passkey_second_factor, start_passkey_sudo,
    verify_passkey_second_factor, DeletePasskey, PasskeyRow, RenamePasskey,
};
use crate::components::account_page::AccountPage;
use crate::components::forms::{ActionError, FormError};
use crate::components::time::Time;
use crate::components::ui::{Card, RemoveButton, SecondaryButton, SudoFirst};
use crate::error::UiError;
use crate::paths;
use crate::webauthn::{self, Mediation};

/// A ceremony run from a button.
type Ceremony = Action<(), Result<(), UiError>>;

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
fn PasskeyButton(label: &'static str, ceremony: Ceremony) -> impl IntoView {
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
    // busy; ignoring them (or pressing the button, which cancels them) is no error. Nor is a
    // browser that offers autofill and then refuses the request (Chromium's headless shell
    // does, having no authenticator of its own): nobody asked for it, and the button may
    // still work, for example with a security key.
    let autofill: Ceremony = Action::new_unsync(move |()| async move {
        if !webauthn::conditional_available().await {
            return Ok(());
        }
        match log_in(Mediation::Conditional, return_to).await {
            Err(UiError::PasskeyCancelled | UiError::PasskeysUnsupported) => Ok(()),
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
/// The section owns the action and the name: the action's failures (a sudo refusal included)
/// show with the section's other errors, its completion reloads the section's data, and the
/// name survives that reload.
fn add_passkey_action(name: RwSignal<String>) -> Ceremony {
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
fn remove_last_passkey_action(id: String, done: RwSignal<u32>) -> Ceremony {
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
fn AddPasskey(
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

/// The security page's passkeys: the list (rename, remove) and "Add a passkey", under sudo.
/// Its forms are made once, outside the reloads of its data, so their errors and the name
/// typed survive them; each change bumps `changed`, which the page's summary counts. It
/// reloads when `page_changes` moves too: the page's own changes (an authenticator app set up
/// or turned off) decide whether a passkey is the last second factor.
#[component]
pub fn PasskeysSection(changed: RwSignal<u32>, page_changes: Signal<usize>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let forms = Forms {
        rename: ServerAction::new(),
        delete: ServerAction::new(),
        add: add_passkey_action(name),
        name,
        last_removed: RwSignal::new(0),
    };
    let data = Resource::new(
        move || (forms.versions(), page_changes.get()),
        |_| list_passkeys(),
    );
    Effect::watch(
        move || forms.versions(),
        move |_, _, _| changed.update(|n| *n += 1),
        false,
    );
    view! {
        <AccountPage data errors=forms.errors() page=move |view: PasskeysView| view! {
            <Passkeys passkeys=view.passkeys sudo=view.sudo forms />
        } />
    }
}

/// The section's forms.
#[derive(Clone, Copy)]
struct Forms {
    rename: ServerAction<RenamePasskey>,
    delete: ServerAction<DeletePasskey>,
    /// The registration ceremony, run in the browser.
    add: Ceremony,
    /// The name typed for the next passkey.
    name: RwSignal<String>,
    /// Bumped when a passkey confirmed the removal of the last second factor.
    last_removed: RwSignal<u32>,
}

impl Forms {
    fn errors(self) -> ActionError {
        ActionError::first([self.rename.into(), self.delete.into(), self.add.into()])
    }

    fn versions(self) -> [usize; 4] {
        [
            self.last_removed.get() as usize,
            self.rename.version().get(),
            self.delete.version().get(),
            self.add.version().get(),
        ]
    }
}

#[component]
fn Passkeys(passkeys: Vec<PasskeyRow>, sudo: bool, forms: Forms) -> impl IntoView {
    view! {
        <Card>
            <h2 class="mb-2 text-lg font-semibold">"Passkeys"</h2>
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                "Log in with your fingerprint, face or device PIN instead of a password. A passkey also counts as a second factor."
            </p>
            <ul class="mb-4 divide-y divide-slate-200 dark:divide-slate-800" data-testid="passkey-list">
                {passkeys.into_iter().map(|passkey| view! { <PasskeyItem passkey sudo forms /> }).collect_view()}
            </ul>
            {if sudo {
                view! { <AddPasskey action=forms.add name=forms.name /> }.into_any()
            } else {
                view! { <SudoFirst what="To add or change passkeys" back=paths::SECURITY_SETTINGS /> }.into_any()
            }}
        </Card>
    }
}

#[component]
fn PasskeyItem(passkey: PasskeyRow, sudo: bool, forms: Forms) -> impl IntoView {
    let used = passkey
        .last_used_at
        .clone()
        .unwrap_or_else(|| "never".to_owned());
    let (rename_id, delete_id, name) =
        (passkey.id.clone(), passkey.id.clone(), passkey.name.clone());
    let (rename_about, remove_about) = (passkey.name.clone(), passkey.name.clone());
    let last = passkey.last_second_factor;
    view! {
        <li class="space-y-2 py-3" data-testid="passkey">
            <p class="font-medium" data-testid="passkey-name">{passkey.name.clone()}</p>
            <p class="text-xs text-slate-500 dark:text-slate-400">
                "Added " <Time at=passkey.created_at.clone() /> " · last used " {used}
            </p>
            {sudo.then(move || view! {
                <div class="flex flex-wrap items-start gap-4">
                    <details class="group" data-testid="rename-passkey">
                        <summary class="cursor-pointer list-none text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300">
                            "Rename" <span class="sr-only">" " {rename_about.clone()}</span>
                        </summary>
                        <ActionForm action=forms.rename attr:class="mt-2 flex items-end gap-2">
                            <input type="hidden" name="id" value=rename_id />
                            <label class="text-sm">
                                <span class="sr-only">"New name for " {name.clone()}</span>
                                <input name="name" type="text" required=true maxlength="60" value=name class="rounded-md border border-slate-300 px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-900" />
                            </label>
                            <SecondaryButton label="Save" about=rename_about.clone() />
                        </ActionForm>
                    </details>
                    {if last {
                        view! { <RemoveLast id=delete_id done=forms.last_removed /> }.into_any()
                    } else {
                        view! {
                            <details data-testid="remove-passkey">
                                <summary class="cursor-pointer list-none text-sm font-medium text-rose-700 hover:underline dark:text-rose-300">
                                    "Remove" <span class="sr-only">" " {remove_about.clone()}</span>
                                </summary>
                                <div class="mt-2 space-y-2 rounded-md border border-rose-200 p-3 dark:border-rose-900">
                                    <p class="text-sm">"Remove this passkey? You will no longer be able to log in with it."</p>
                                    <ActionForm action=forms.delete>
                                        <input type="hidden" name="id" value=delete_id />
                                        <RemoveButton label="Yes, remove it" about=remove_about.clone() />
                                    </ActionForm>
                                </div>
                            </details>
                        }
                        .into_any()
                    }}
                </div>
            })}
        </li>
    }
}

/// Removing the account's last second factor: a passkey must confirm it, as an app code must
/// confirm turning the app off.
#[component]
fn RemoveLast(id: String, done: RwSignal<u32>) -> impl IntoView {
    let confirm = remove_last_passkey_action(id, done);
    view! {
        <div class="w-full space-y-2" data-testid="remove-last-passkey">
            <p class="text-sm text-slate-600 dark:text-slate-300">
                "This passkey is your only second factor: removing it turns two-factor authentication off. Confirm with a passkey to remove it."
            </p>
            <FormError action=confirm />
            <PasskeyButton label="Confirm with a passkey and remove" ceremony=confirm />
        </div>
    }
}
