//! The pages mailed links land on. Each asks for one click, so a mail scanner that fetches
//! the link cannot use it; the token itself waits in a cookie, not in the address.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{
    remembered_address, ConfirmEmailChange, ConfirmWithLink, LogInWithLink, RequestMagicLink,
    RequestPasswordReset, ResendConfirmation,
};
use crate::components::forms::{ActionError, Field, FormCard, FormError, Submit};
use crate::components::ui::TextLink;
use crate::error::UiError;
use crate::paths;

/// `/users/confirm/link`.
#[component]
pub fn ConfirmLinkPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmWithLink>::new();
    view! {
        <Title text="Confirm your email" />
        <FormCard title="Confirm your email address">
            <ActionForm action=confirm attr:class="space-y-5">
                <FormError action=confirm />
                <p class="text-sm text-slate-600 dark:text-slate-300">"One click confirms the address this link was sent to."</p>
                <Submit label="Confirm my email address" pending=confirm.pending().into() />
            </ActionForm>
            <NewLinkOffer failed=confirm.into() link=NewLink::Confirmation />
        </FormCard>
    }
}

/// `/users/log-in/link`.
#[component]
pub fn LogInLinkPage() -> impl IntoView {
    let log_in = ServerAction::<LogInWithLink>::new();
    view! {
        <Title text="Log in" />
        <FormCard title="Log in with your link">
            <ActionForm action=log_in attr:class="space-y-5">
                <FormError action=log_in />
                <p class="text-sm text-slate-600 dark:text-slate-300">"The link works once. Continue to log in on this device."</p>
                <Submit label="Log in" pending=log_in.pending().into() />
            </ActionForm>
            <NewLinkOffer failed=log_in.into() link=NewLink::LogIn />
        </FormCard>
    }
}

/// `/users/settings/confirm-email/link`.
#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmEmailChange>::new();
    view! {
        <Title text="Confirm your new email" />
        <FormCard title="Confirm your new email address">
            <ActionForm action=confirm attr:class="space-y-5">
                <FormError action=confirm />
                <p class="text-sm text-slate-600 dark:text-slate-300">
                    "Confirming switches your account to the address this link was sent to and logs out your other sessions."
                </p>
                <Submit label="Confirm my new address" pending=confirm.pending().into() />
            </ActionForm>
            {move || (ActionError::from(confirm).get() == Some(UiError::InvalidToken)).then(|| view! {
                <p class="mt-4 text-sm">
                    <TextLink href=paths::EMAIL_SETTINGS>"Ask for a new link in your email settings"</TextLink>
                </p>
            })}
        </FormCard>
    }
}

/// Which mail a used or expired link can be replaced with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum NewLink {
    /// A new confirmation link and code.
    Confirmation,
    /// A new log-in link.
    LogIn,
    /// A new password reset link.
    PasswordReset,
}

/// Once a link is refused as used or expired, the way to a new one right there: the address
/// (filled in when this browser asked for the last mail) and one button.
#[component]
pub fn NewLinkOffer(failed: ActionError, link: NewLink) -> impl IntoView {
    move || (failed.get() == Some(UiError::InvalidToken)).then(|| view! { <NewLinkForm link /> })
}

/// The form asking for a new link of the kind `link`.
#[component]
pub fn NewLinkForm(link: NewLink) -> impl IntoView {
    let remembered = Resource::new(|| (), |_| remembered_address());
    let fields = move |label: &'static str, pending: Signal<bool>| {
        view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let typed = remembered.await.ok().flatten();
                    view! { <Field label="Email" name="email" id="new-link-email" kind="email" autocomplete="username" value=typed /> }
                })}
            </Suspense>
            <Submit label pending />
        }
    };
    let form = match link {
        NewLink::Confirmation => {
            let send = ServerAction::<ResendConfirmation>::new();
            view! {
                <ActionForm action=send attr:class="space-y-4">
                    <FormError action=send />
                    {fields("Send a new link and code", send.pending().into())}
                </ActionForm>
            }
            .into_any()
        }
        NewLink::LogIn => {
            let send = ServerAction::<RequestMagicLink>::new();
            view! {
                <ActionForm action=send attr:class="space-y-4">
                    <FormError action=send />
                    {fields("Send a new log-in link", send.pending().into())}
                </ActionForm>
            }
            .into_any()
        }
        NewLink::PasswordReset => {
            let send = ServerAction::<RequestPasswordReset>::new();
            view! {
                <ActionForm action=send attr:class="space-y-4">
                    <FormError action=send />
                    {fields("Send a new reset link", send.pending().into())}
                </ActionForm>
            }
            .into_any()
        }
    };
    view! {
        <div class="mt-6 border-t border-slate-200 pt-4 dark:border-slate-800" data-testid="new-link">
            <h2 class="mb-3 text-sm font-semibold">"Get a new link"</h2>
            {form}
        </div>
    }
}
