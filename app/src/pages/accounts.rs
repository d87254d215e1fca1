use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{
    linked_accounts, AccountsView, IdentityView, LinkPendingIdentity, SetFirstPassword,
    UnlinkProvider,
};
use crate::components::account_page::AccountPage;
use crate::components::account_page::BackToSettings;
use crate::components::forms::{ActionError, FormError, Submit};
use crate::components::password_meter::NewPasswordField;
use crate::components::providers::ProviderForm;
use crate::components::time::Time;
use crate::components::ui::{Banner, Card, RemoveButton, SudoFirst, TextLink, Tone};
use crate::pages::register::password_hint;
use crate::paths;

/// The page's forms, created once so their errors survive re-renders.
#[derive(Clone, Copy)]
struct Actions {
    unlink: ServerAction<UnlinkProvider>,
    password: ServerAction<SetFirstPassword>,
    link_pending: ServerAction<LinkPendingIdentity>,
}

/// `/users/settings/accounts`: the log-in providers linked to the account (link another,
/// unlink one; changes under sudo), and a password for an account that has none.
#[component]
pub fn AccountsSettingsPage() -> impl IntoView {
    let actions = Actions {
        unlink: ServerAction::new(),
        password: ServerAction::new(),
        link_pending: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                actions.unlink.version().get(),
                actions.password.version().get(),
                actions.link_pending.version().get(),
            )
        },
        |_| linked_accounts(),
    );
    let errors = ActionError::first([
        actions.unlink.into(),
        actions.password.into(),
        actions.link_pending.into(),
    ]);
    view! {
        <Title text="Log-in methods" />
        <BackToSettings />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Log-in methods"</h1>
            <AccountPage data errors page=move |data: AccountsView| accounts(data, actions) />
        </section>
    }
}

fn accounts(data: AccountsView, actions: Actions) -> impl IntoView {
    let linked: Vec<String> = data.identities.iter().map(|i| i.provider.clone()).collect();
    let to_link: Vec<_> = data
        .providers
        .iter()
        .filter(|p| !linked.contains(&p.name))
        .cloned()
        .collect();
    let sudo = data.sudo;
    view! {
        {data.pending_link.map(|provider| view! {
            <Banner tone=Tone::Info attr:data-testid="pending-link">
                <p>{format!("Your {provider} log-in is waiting to be linked to this account.")}</p>
                <ActionForm action=actions.link_pending attr:class="mt-2">
                    <button type="submit" class="font-medium underline">{format!("Link {provider}")}</button>
                </ActionForm>
            </Banner>
        })}
        <Card>
            <h2 class="mb-2 text-lg font-semibold">"Linked providers"</h2>
            {data.identities.is_empty().then(|| view! {
                <p class="text-sm text-slate-600 dark:text-slate-300">"No provider is linked yet."</p>
            })}
            <ul class="mb-4 divide-y divide-slate-200 dark:divide-slate-800" data-testid="identity-list">
                {data.identities.into_iter().map(|identity| view! { <Identity identity sudo actions /> }).collect_view()}
            </ul>
            {if !sudo {
                view! { <SudoFirst what="To link or unlink a provider" back=paths::ACCOUNTS_SETTINGS /> }.into_any()
            } else {
                view! {
                    <div class="space-y-2">
                        {to_link.into_iter().map(|provider| view! {
                            <ProviderForm provider intent="link" verb="Link" return_to=paths::ACCOUNTS_SETTINGS.to_owned() />
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
        </Card>
        <Card>
            <h2 class="mb-2 text-lg font-semibold">"Password"</h2>
            {if data.password {
                view! {
                    <p class="text-sm">
                        "You can log in with your password. "
                        <TextLink href=paths::PASSWORD_SETTINGS>"Change it"</TextLink>
                    </p>
                }.into_any()
            } else if !sudo {
                view! {
                    <p class="mb-2 text-sm" data-testid="no-password">"Your account has no password: you log in with a provider or a passkey."</p>
                    <SudoFirst what="To set one" back=paths::ACCOUNTS_SETTINGS />
                }.into_any()
            } else {
                view! {
                    <p class="mb-4 text-sm" data-testid="no-password">"Your account has no password. Set one to log in without a provider too."</p>
                    <ActionForm action=actions.password attr:class="space-y-4">
                        <FormError action=actions.password />
                        <NewPasswordField label="New password" name="new_password" hint=password_hint() />
                        <Submit label="Set password" pending=actions.password.pending().into() />
                    </ActionForm>
                }.into_any()
            }}
        </Card>
    }
}

#[component]
fn Identity(identity: IdentityView, sudo: bool, actions: Actions) -> impl IntoView {
    let used = identity
        .last_used_at
        .clone()
        .unwrap_or_else(|| "never".to_owned());
    let id = identity.id.clone();
    let provider = identity.display_name.clone();
    view! {
        <li class="space-y-1 py-3" data-testid="identity" data-provider=identity.provider.clone()>
            <p class="font-medium">{identity.display_name.clone()}</p>
            <p class="text-xs text-slate-500 dark:text-slate-400">
                {identity.email.clone().unwrap_or_default()}
                " · linked " <Time at=identity.linked_at.clone() />
                " · last used " {used}
            </p>
            {sudo.then(move || view! {
                <ActionForm action=actions.unlink>
                    <input type="hidden" name="id" value=id />
                    <RemoveButton label="Unlink" about=provider.clone() />
                </ActionForm>
            })}
        </li>
    }
}
