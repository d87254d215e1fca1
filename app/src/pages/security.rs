use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{
    security_overview, ConfirmTotpSetup, DisableTotp, ForgetTrustedBrowsers, RegenerateBackupCodes,
    SecurityView, StartTotpSetup, TotpSetupView,
};
use crate::capabilities::use_switches;
use crate::components::account_page::AccountPage;
use crate::components::account_page::BackToSettings;
use crate::components::forms::{ActionError, Field, Submit};
use crate::components::passkeys::PasskeysSection;
use crate::components::shown_once::{BackupCodes, GroupedKey};
use crate::components::ui::{Banner, Card, SecondaryButton, SudoFirst, Tone};
use crate::paths;

/// The page's forms, created once so their errors and results survive re-renders.
#[derive(Clone, Copy)]
struct Actions {
    start: ServerAction<StartTotpSetup>,
    confirm: ServerAction<ConfirmTotpSetup>,
    regenerate: ServerAction<RegenerateBackupCodes>,
    disable: ServerAction<DisableTotp>,
    forget: ServerAction<ForgetTrustedBrowsers>,
    /// Bumped by the passkeys section after each change, which the summary counts.
    passkeys_changed: RwSignal<u32>,
}

impl Actions {
    fn errors(self) -> ActionError {
        ActionError::first([
            self.start.into(),
            self.confirm.into(),
            self.regenerate.into(),
            self.disable.into(),
            self.forget.into(),
        ])
    }

    fn versions(self) -> [usize; 6] {
        [
            self.passkeys_changed.get() as usize,
            self.start.version().get(),
            self.confirm.version().get(),
            self.regenerate.version().get(),
            self.disable.version().get(),
            self.forget.version().get(),
        ]
    }

    /// How many of the page's own forms have completed: the passkeys section reloads on them.
    fn own_changes(self) -> usize {
        self.versions()[1..].iter().sum()
    }
}

/// `/users/settings/security`: two-factor authentication. Changes need the password re-entered
/// (sudo); the page says so and links there.
#[component]
pub fn SecuritySettingsPage() -> impl IntoView {
    let actions = Actions {
        start: ServerAction::new(),
        confirm: ServerAction::new(),
        regenerate: ServerAction::new(),
        disable: ServerAction::new(),
        forget: ServerAction::new(),
        passkeys_changed: RwSignal::new(0),
    };
    let switches = use_switches();
    let view_data = Resource::new(move || actions.versions(), |_| security_overview());
    view! {
        <Title text="Security" />
        <BackToSettings />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Two-factor authentication"</h1>
            <AccountPage data=view_data errors=actions.errors() page=move |data: SecurityView| {
                let factors = data.second_factors;
                view! {
                    <p class="text-sm">
                        "Two-factor authentication: " <strong data-testid="second-factor-summary">{factors.summary()}</strong>
                        <span class="block text-slate-600 dark:text-slate-400">
                            "An authenticator app or a passkey each turns it on; with either, a log-in with a password asks for one of them too."
                        </span>
                    </p>
                    {switches.second_factors.then(|| security(data, actions))}
                }
            } />
            // Outside the page's data, so its forms outlive the page's reloads.
            {switches.passkeys.then(|| view! {
                <PasskeysSection changed=actions.passkeys_changed page_changes=Signal::derive(move || actions.own_changes()) />
            })}
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
