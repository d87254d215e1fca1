use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::SecondFactorsView;
use crate::account::{
    list_passkeys, security_overview, ConfirmTotpSetup, DeletePasskey, DisableTotp,
    ForgetTrustedBrowsers, PasskeyRow, RegenerateBackupCodes, RenamePasskey, SecurityView,
    StartTotpSetup, TotpSetupView,
};
use crate::capabilities::use_switches;
use crate::components::account_page::AccountPage;
use crate::components::account_page::BackToSettings;
use crate::components::forms::FormError;
use crate::components::forms::{ActionError, Field, Submit};
use crate::components::passkeys::{
    add_passkey_action, remove_last_passkey_action, AddPasskey, Ceremony, PasskeyButton,
};
use crate::components::shown_once::{BackupCodes, GroupedKey};
use crate::components::time::Time;
use crate::components::ui::{Banner, Card, RemoveButton, SecondaryButton, SudoFirst, Tone};
use crate::error::UiError;
use crate::paths;

/// The page's forms, created once so their errors and results survive re-renders.
#[derive(Clone, Copy)]
struct Actions {
    start: ServerAction<StartTotpSetup>,
    confirm: ServerAction<ConfirmTotpSetup>,
    regenerate: ServerAction<RegenerateBackupCodes>,
    disable: ServerAction<DisableTotp>,
    forget: ServerAction<ForgetTrustedBrowsers>,
    rename: ServerAction<RenamePasskey>,
    delete: ServerAction<DeletePasskey>,
    /// The passkey ceremony, run in the browser.
    add_passkey: Ceremony,
    /// The name typed for the next passkey, kept across reloads of the page's data.
    passkey_name: RwSignal<String>,
    /// Bumped when a passkey confirmed the removal of the last second factor.
    last_removed: RwSignal<u32>,
}

impl Actions {
    fn errors(self) -> ActionError {
        ActionError::first([
            self.start.into(),
            self.confirm.into(),
            self.regenerate.into(),
            self.disable.into(),
            self.forget.into(),
            self.rename.into(),
            self.delete.into(),
            self.add_passkey.into(),
        ])
    }

    fn versions(self) -> [usize; 9] {
        [
            self.last_removed.get() as usize,
            self.start.version().get(),
            self.confirm.version().get(),
            self.regenerate.version().get(),
            self.disable.version().get(),
            self.forget.version().get(),
            self.rename.version().get(),
            self.delete.version().get(),
            self.add_passkey.version().get(),
        ]
    }
}

/// `/users/settings/security`: two-factor authentication. Changes need the password re-entered
/// (sudo); the page says so and links there.
#[component]
pub fn SecuritySettingsPage() -> impl IntoView {
    let passkey_name = RwSignal::new(String::new());
    let actions = Actions {
        start: ServerAction::new(),
        confirm: ServerAction::new(),
        regenerate: ServerAction::new(),
        disable: ServerAction::new(),
        forget: ServerAction::new(),
        rename: ServerAction::new(),
        delete: ServerAction::new(),
        add_passkey: add_passkey_action(passkey_name),
        passkey_name,
        last_removed: RwSignal::new(0),
    };
    let switches = use_switches();
    let view_data = Resource::new(
        move || actions.versions(),
        move |_| async move {
            let passkeys = if switches.passkeys {
                list_passkeys().await?
            } else {
                Vec::new()
            };
            Ok::<_, UiError>((security_overview().await?, passkeys))
        },
    );
    view! {
        <Title text="Security" />
        <BackToSettings />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Two-factor authentication"</h1>
            <AccountPage data=view_data errors=actions.errors() page=move |(data, passkeys): (SecurityView, Vec<PasskeyRow>)| {
                let sudo = data.sudo;
                let factors = SecondFactorsView {
                    app: data.totp_enabled && switches.second_factors,
                    passkeys: u32::try_from(passkeys.len()).unwrap_or(u32::MAX),
                };
                view! {
                    <p class="text-sm">
                        "Two-factor authentication: " <strong data-testid="second-factor-summary">{factors.summary()}</strong>
                        <span class="block text-slate-600 dark:text-slate-400">
                            "An authenticator app or a passkey each turns it on; with either, a log-in with a password asks for one of them too."
                        </span>
                    </p>
                    {switches.second_factors.then(|| security(data, actions))}
                    {switches.passkeys.then(|| view! { <Passkeys passkeys sudo actions /> })}
                }
            } />
        </section>
    }
}

fn security(data: SecurityView, actions: Actions) -> impl IntoView {
    let status = if data.totp_enabled { "On" } else { "Off" };
    view! {
        {data.new_backup_codes.map(|codes| view! { <BackupCodes codes /> })}
        {(data.required && !data.totp_enabled).then(|| view! {
            <Banner tone=Tone::Warning attr:data-testid="mfa-required">
                "This site requires two-factor authentication. Set up an authenticator app to continue."
            </Banner>
        })}
        <Card>
            <h2 class="mb-2 text-lg font-semibold">"Authenticator app"</h2>
            <p class="mb-4 text-sm">
                "Status: " <strong data-testid="totp-status">{status}</strong>
                {data.totp_enabled.then(|| view! {
                    " · " <span data-testid="backup-codes-left">{data.backup_codes_left}</span> " backup codes left"
                })}
            </p>
            {if !data.sudo {
                view! { <SudoFirst what="To make changes" back=paths::SECURITY_SETTINGS /> }.into_any()
            } else if data.totp_enabled {
                enabled(actions).into_any()
            } else if let Some(setup) = data.setup {
                view! { <Setup setup actions /> }.into_any()
            } else {
                view! {
                    <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                        "After your password, log-ins will ask for a 6-digit code from an app such as 1Password, Google Authenticator or Aegis."
                    </p>
                    <ActionForm action=actions.start>
                        <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-500">"Set up an authenticator app"</button>
                    </ActionForm>
                }
                .into_any()
            }}
        </Card>
    }
}

#[component]
fn Setup(setup: TotpSetupView, actions: Actions) -> impl IntoView {
    view! {
        <ol class="mb-4 list-decimal space-y-2 pl-5 text-sm">
            <li>"Scan this code with your authenticator app."</li>
            <li>"Or type the key by hand: " <GroupedKey key=setup.secret /></li>
            <li>"Enter the 6-digit code the app shows."</li>
        </ol>
        // The SVG is drawn on the server from the otpauth URI; it carries no user text.
        <div class="mb-4 w-52 rounded bg-white p-2" data-testid="totp-qr" role="img" aria-label="QR code for your authenticator app" inner_html=setup.qr_svg></div>
        <a href=setup.uri class="mb-4 block text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">"Open in an authenticator app on this device"</a>
        <ActionForm action=actions.confirm attr:class="space-y-4">
            <Field label="Code from the app" name="code" autocomplete="one-time-code" numeric_code=true />
            <Submit label="Turn on two-factor authentication" pending=actions.confirm.pending().into() />
        </ActionForm>
    }
}

fn enabled(actions: Actions) -> impl IntoView {
    view! {
        <div class="space-y-6">
            <details class="border-t border-slate-200 pt-4 dark:border-slate-800">
                <summary class="cursor-pointer text-sm font-medium">"Make new backup codes"</summary>
                <ActionForm action=actions.regenerate attr:class="mt-4 space-y-4">
                    <Field label="Code from your app" name="code" id="regenerate-code" autocomplete="one-time-code" numeric_code=true />
                    <Submit label="Make new backup codes" pending=actions.regenerate.pending().into() />
                </ActionForm>
            </details>
            <details class="border-t border-slate-200 pt-4 dark:border-slate-800">
                <summary class="cursor-pointer text-sm font-medium">"Turn off two-factor authentication"</summary>
                <ActionForm action=actions.disable attr:class="mt-4 space-y-4">
                    <Field label="Code from your app, or a backup code" name="code" id="disable-code" autocomplete="one-time-code" />
                    <Submit label="Turn off" pending=actions.disable.pending().into() />
                </ActionForm>
            </details>
            <div class="border-t border-slate-200 pt-4 dark:border-slate-800">
                <p class="mb-2 text-sm text-slate-600 dark:text-slate-300">"Browsers you told to skip the code for a while:"</p>
                <ActionForm action=actions.forget>
                    <SecondaryButton label="Forget all trusted browsers" />
                </ActionForm>
            </div>
        </div>
    }
}

#[component]
fn Passkeys(passkeys: Vec<PasskeyRow>, sudo: bool, actions: Actions) -> impl IntoView {
    view! {
        <Card>
            <h2 class="mb-2 text-lg font-semibold">"Passkeys"</h2>
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                "Log in with your fingerprint, face or device PIN instead of a password. A passkey also counts as a second factor."
            </p>
            <ul class="mb-4 divide-y divide-slate-200 dark:divide-slate-800" data-testid="passkey-list">
                {passkeys.into_iter().map(|passkey| view! { <PasskeyItem passkey sudo actions /> }).collect_view()}
            </ul>
            {if sudo {
                view! { <AddPasskey action=actions.add_passkey name=actions.passkey_name /> }.into_any()
            } else {
                view! { <SudoFirst what="To add or change passkeys" back=paths::SECURITY_SETTINGS /> }.into_any()
            }}
        </Card>
    }
}

#[component]
fn PasskeyItem(passkey: PasskeyRow, sudo: bool, actions: Actions) -> impl IntoView {
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
                        <ActionForm action=actions.rename attr:class="mt-2 flex items-end gap-2">
                            <input type="hidden" name="id" value=rename_id />
                            <label class="text-sm">
                                <span class="sr-only">"New name for " {name.clone()}</span>
                                <input name="name" type="text" required=true maxlength="60" value=name class="rounded-md border border-slate-300 px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-900" />
                            </label>
                            <SecondaryButton label="Save" about=rename_about.clone() />
                        </ActionForm>
                    </details>
                    {if last {
                        view! { <RemoveLast id=delete_id done=actions.last_removed /> }.into_any()
                    } else {
                        view! {
                            <details data-testid="remove-passkey">
                                <summary class="cursor-pointer list-none text-sm font-medium text-rose-700 hover:underline dark:text-rose-300">
                                    "Remove" <span class="sr-only">" " {remove_about.clone()}</span>
                                </summary>
                                <div class="mt-2 space-y-2 rounded-md border border-rose-200 p-3 dark:border-rose-900">
                                    <p class="text-sm">"Remove this passkey? You will no longer be able to log in with it."</p>
                                    <ActionForm action=actions.delete>
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
