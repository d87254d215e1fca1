use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::account::{
    list_api_tokens, ApiTokenRow, ApiTokensView, CreateApiToken, RevokeAllApiTokens, RevokeApiToken,
};
use crate::components::account_page::AccountPage;
use crate::components::account_page::BackToSettings;
use crate::components::forms::{ActionError, Field, Submit};
use crate::components::shown_once::CopyButton;
use crate::components::ui::{Card, RemoveButton, SecondaryButton, TextLink};
use crate::paths;

/// The page's forms, created once so their errors survive re-renders.
#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    revoke_all: ServerAction<RevokeAllApiTokens>,
}

/// `/users/settings/api-tokens`: personal API tokens for scripts and other programs. Creating
/// and revoking need the password re-entered (sudo); a new token is shown once.
#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let actions = Actions {
        create: ServerAction::new(),
        revoke: ServerAction::new(),
        revoke_all: ServerAction::new(),
    };
    let query = use_query_map();
    let view_data = Resource::new(
        move || {
            (
                actions.create.version().get(),
                actions.revoke.version().get(),
                actions.revoke_all.version().get(),
                query.with(|q| q.get("cursor")),
            )
        },
        |(_, _, _, cursor)| list_api_tokens(cursor),
    );
    let errors = ActionError::first([
        actions.create.into(),
        actions.revoke.into(),
        actions.revoke_all.into(),
    ]);
    view! {
        <Title text="API tokens" />
        <BackToSettings />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"API tokens"</h1>
            <AccountPage data=view_data errors page=move |data: ApiTokensView| page(data, actions) />
        </section>
    }
}

fn page(data: ApiTokensView, actions: Actions) -> impl IntoView {
    let sudo = data.sudo;
    let new_token = data.new_token.clone();
    let tokens = data.tokens.clone();
    let next_cursor = data.next_cursor.clone();
    view! {
        {new_token.map(|token| view! { <NewToken token /> })}
        <Card>
            <h2 class="mb-2 text-lg font-semibold">"Create a token"</h2>
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                "A token lets a script or another program use the API as you, within the scopes you choose. "
                "It can never change your password, email or two-factor settings, or make other tokens."
            </p>
            {if sudo {
                view! { <CreateForm data action=actions.create /> }.into_any()
            } else {
                view! { <SudoFirst what="To create or revoke tokens" /> }.into_any()
            }}
        </Card>
        <Card>
            <div class="mb-4 flex flex-wrap items-center justify-between gap-3">
                <h2 class="text-lg font-semibold">"Your tokens"</h2>
                {(sudo && !tokens.is_empty()).then(|| view! {
                    <ActionForm action=actions.revoke_all>
                        <SecondaryButton label="Revoke all" />
                    </ActionForm>
                })}
            </div>
            {tokens.is_empty().then(|| view! {
                <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="no-api-tokens">"No tokens yet."</p>
            })}
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="api-token-list">
                {tokens.into_iter().map(|token| view! { <TokenItem token sudo revoke=actions.revoke /> }).collect_view()}
            </ul>
            {next_cursor.map(|cursor| view! {
                <p class="mt-4 text-sm">
                    <TextLink href=format!("{}?cursor={cursor}", paths::API_TOKENS)>"Older tokens"</TextLink>
                </p>
            })}
        </Card>
    }
}

#[component]
fn CreateForm(data: ApiTokensView, action: ServerAction<CreateApiToken>) -> impl IntoView {
    let never = (!data.expiry_required).then(|| view! { <option value="">"Never"</option> });
    let choices: Vec<u64> = [7, 30, 90, 365]
        .into_iter()
        .filter(|days| data.max_days.is_none_or(|max| *days <= max))
        .collect();
    view! {
        <ActionForm action attr:class="space-y-4">
            <Field label="Name" name="name" autocomplete="off" />
            <fieldset class="space-y-1">
                <legend class="text-sm font-medium">"Scopes"</legend>
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" name="scopes[]" value="*" />
                    <span><code>"*"</code>" (everything, including scopes added later)"</span>
                </label>
                {data.scopes.into_iter().map(|scope| view! {
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="scopes[]" value=scope.clone() />
                        <code>{scope}</code>
                    </label>
                }).collect_view()}
            </fieldset>
            <div class="space-y-1">
                <label for="field-expires" class="block text-sm font-medium">"Expires"</label>
                <select id="field-expires" name="expires_in_days" class="rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900">
                    {choices.into_iter().map(|days| view! { <option value=days.to_string()>{format!("In {days} days")}</option> }).collect_view()}
                    {never}
                </select>
            </div>
            <Submit label="Create token" pending=action.pending().into() />
        </ActionForm>
    }
}

/// The token just made, shown this once, with a copy button where the page is interactive.
#[component]
fn NewToken(token: String) -> impl IntoView {
    view! {
        <div class="rounded-xl border border-emerald-300 bg-emerald-50 p-6 dark:border-emerald-800 dark:bg-emerald-950" data-testid="new-api-token">
            <h2 class="mb-2 text-lg font-semibold">"Your new token"</h2>
            <p class="mb-4 text-sm">"Copy it now and keep it somewhere safe: it is not shown again."</p>
            <div class="flex flex-wrap items-center gap-2">
                <input readonly=true value=token.clone() aria-label="New API token" data-testid="new-api-token-value"
                    class="min-w-0 flex-1 rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-sm dark:border-slate-700 dark:bg-slate-900" />
                <CopyButton text=token />
            </div>
        </div>
    }
}

#[component]
fn TokenItem(
    token: ApiTokenRow,
    sudo: bool,
    revoke: ServerAction<RevokeApiToken>,
) -> impl IntoView {
    let expires = match (&token.expires_at, token.expired) {
        (Some(at), true) => format!("expired {at}"),
        (Some(at), false) => format!("expires {at}"),
        (None, _) => "never expires".to_owned(),
    };
    let used = token
        .last_used_at
        .clone()
        .map_or_else(|| "never used".to_owned(), |at| format!("last used {at}"));
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="api-token">
            <div>
                <p class="font-medium" data-testid="api-token-name">{token.name.clone()}</p>
                <p class="text-xs text-slate-500 dark:text-slate-400">
                    <code>{token.scopes.clone()}</code> " · " {expires} " · " {used}
                </p>
            </div>
            {sudo.then(|| view! {
                <ActionForm action=revoke>
                    <input type="hidden" name="id" value=token.id.clone() />
                    <RemoveButton label="Revoke" about=token.name.clone() />
                </ActionForm>
            })}
        </li>
    }
}

/// Changes need the password re-entered first: a link to do it and come back.
#[component]
fn SudoFirst(what: &'static str) -> impl IntoView {
    view! {
        <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="api-tokens-sudo">
            {what} ", "
            <TextLink href=paths::with_return_to(paths::SUDO, paths::API_TOKENS)>"confirm your password"</TextLink>
            "."
        </p>
    }
}
