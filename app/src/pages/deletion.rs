//! `/users/settings/delete` and `/users/reactivation`: deleting the account, and keeping one
//! that is scheduled for deletion.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{
    deletion_overview, reactivation_overview, DeleteAccount, DeletionView, KeepAccount, LogOut,
    ReactivationView,
};
use crate::components::account_page::AccountPage;
use crate::components::account_page::BackToSettings;
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::ui::{Banner, TextLink, Tone};
use crate::paths;

/// `/users/settings/delete`: asks for sudo first, then the password (where the account has
/// one) and the address typed back.
#[component]
pub fn DeleteAccountPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| deletion_overview());
    view! {
        <Title text="Delete your account" />
        <BackToSettings />
        <AccountPage data page=delete_form />
    }
}

fn delete_form(data: DeletionView) -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    let when = match data.grace_days {
        0 => "at once".to_owned(),
        1 => "after 1 day".to_owned(),
        days => format!("after {days} days"),
    };
    let keep = (data.grace_days > 0)
        .then_some(" Until then, logging in lets you keep it; we mail you the date.");
    view! {
        <FormCard title="Delete your account">
            <Banner tone=Tone::Danger class="mb-4">
                "Your account will be deleted " {when.clone()} ". Every session ends now, on every device, "
                "and every API token and app log-in stops working." {keep}
                " Your second factors, passkeys and linked providers are removed with it."
            </Banner>
            {(!data.sole_owner_of.is_empty()).then(|| view! {
                <Banner tone=Tone::Info class="mb-4" attr:data-testid="sole-owner">
                    "You are the only owner of " {data.sole_owner_of.join(", ")}
                    ". Make another member an owner, or delete the organization, before deleting your account."
                </Banner>
            })}
            {if data.sudo {
                view! {
                    <ActionForm action=delete attr:class="space-y-4">
                        <FormError action=delete />
                        <p class="text-sm text-slate-600 dark:text-slate-300">
                            "To confirm, type " <strong class="break-all">{data.email}</strong> " below."
                        </p>
                        <Field label="Your email address" name="confirm_email" kind="email" autocomplete="off" />
                        {data.has_password.then(|| view! {
                            <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" />
                        })}
                        <button
                            type="submit"
                            disabled=move || delete.pending().get()
                            class="w-full rounded-md bg-rose-700 px-4 py-2 font-semibold text-white shadow-sm hover:bg-rose-600 disabled:opacity-60"
                        >
                            {move || if delete.pending().get() { "Please wait…" } else { "Delete my account" }}
                        </button>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! {
                    <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="delete-sudo">
                        "To delete your account, "
                        <TextLink href=paths::with_return_to(paths::SUDO, paths::DELETE_ACCOUNT)>"confirm it is you"</TextLink>
                        " first."
                    </p>
                }
                .into_any()
            }}
        </FormCard>
    }
}

/// `/users/reactivation`: the only page an account scheduled for deletion can use.
#[component]
pub fn ReactivationPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| reactivation_overview());
    view! {
        <Title text="Keep your account" />
        <AccountPage data page=keep_form />
    }
}

fn keep_form(data: ReactivationView) -> impl IntoView {
    let keep = ServerAction::<KeepAccount>::new();
    let log_out = ServerAction::<LogOut>::new();
    view! {
        <FormCard title="Keep your account?">
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                "The account " <strong class="break-all">{data.email}</strong> " is scheduled for deletion"
                {data.delete_at.map(|at| view! {
                    " on " <time datetime=at.clone() data-testid="delete-at">{at.clone()}</time>
                })}
                ". Keep it to use it again; otherwise, log out and it will be deleted then."
            </p>
            <ActionForm action=keep attr:class="space-y-4">
                <FormError action=keep />
                <Submit label="Keep my account" pending=keep.pending().into() />
            </ActionForm>
            <ActionForm action=log_out attr:class="mt-3">
                <button type="submit" class="w-full text-sm font-medium text-slate-600 underline dark:text-slate-300">
                    "Log out and let it be deleted"
                </button>
            </ActionForm>
        </FormCard>
    }
}
