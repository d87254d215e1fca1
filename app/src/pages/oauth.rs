//! The pages a provider log-in can end on besides the app itself: an account to prove before
//! linking, an address to give, and a failure.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{pending_identity, GiveProviderAddress, LinkPendingIdentity, PendingView};
use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::ui::{Banner, Loading, TextLink, Tone};
use crate::error::UiError;
use crate::paths;

fn nothing_waiting() -> AnyView {
    view! {
        <Banner tone=Tone::Info attr:data-testid="nothing-waiting">
            "Nothing is waiting in this browser (it lasts 15 minutes). Start again from the log-in page."
        </Banner>
    }
    .into_any()
}

/// `/users/oauth/link`: an account already uses the provider's address. Its owner proves it
/// (logs in to it here, any way it allows), then links the provider with one click.
#[component]
pub fn OAuthLinkPage() -> impl IntoView {
    let link = ServerAction::<LinkPendingIdentity>::new();
    let pending = Resource::new(|| (), |_| pending_identity());
    view! {
        <Title text="Link your log-in" />
        <FormCard title="Link your log-in">
            <FormError action=link />
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match pending.await {
                        Ok(Some(pending)) if !pending.needs_address => prove(pending, link),
                        Ok(_) => nothing_waiting(),
                        Err(error) => view! { <Banner tone=Tone::Danger attr:role="alert">{error.to_string()}</Banner> }.into_any(),
                    }
                })}
            </Transition>
        </FormCard>
    }
}

fn prove(pending: PendingView, link: ServerAction<LinkPendingIdentity>) -> AnyView {
    let provider = pending.provider.clone();
    if pending.linkable {
        return view! {
            <p class="mb-4 text-sm">{format!("You proved this account. Link {provider} to it, and log in with {provider} from now on.")}</p>
            <ActionForm action=link>
                <Submit label="Link the provider" pending=link.pending().into() />
            </ActionForm>
        }
        .into_any();
    }
    let email = pending.email.unwrap_or_default();
    view! {
        <p class="mb-4 text-sm" data-testid="prove-account">
            {format!("An account already uses {email}. To link {provider} to it, first show it is yours: log in to it (with its password, a passkey, or a link we mail to it). Then come back here.")}
        </p>
        {pending.signed_in.then(|| view! {
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">"You are logged in already; log out and log in to that account again, here, to prove it."</p>
        })}
        <p class="text-sm">
            <TextLink href=paths::with_return_to(paths::LOG_IN, paths::OAUTH_LINK)>"Log in to that account"</TextLink>
        </p>
    }
    .into_any()
}

/// `/users/oauth/email`: the provider gave no address. The one given here is confirmed by
/// mail before the account can be used.
#[component]
pub fn OAuthEmailPage() -> impl IntoView {
    let give = ServerAction::<GiveProviderAddress>::new();
    let pending = Resource::new(|| (), |_| pending_identity());
    view! {
        <Title text="Your email address" />
        <FormCard title="Your email address">
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match pending.await {
                        Ok(Some(pending)) if pending.needs_address => view! {
                            <p class="mb-4 text-sm">
                                {format!("{} did not tell us your email address. Enter it: we send a link to confirm it, and your account works once it is confirmed.", pending.provider)}
                            </p>
                            <ActionForm action=give attr:class="space-y-4">
                                <FormError action=give />
                                <Field label="Email" name="email" kind="email" autocomplete="email" />
                                <Submit label="Send the link" pending=give.pending().into() />
                            </ActionForm>
                        }.into_any(),
                        _ => nothing_waiting(),
                    }
                })}
            </Transition>
        </FormCard>
    }
}

/// `/users/oauth/error?code=…`: a provider log-in that did not work, in fixed words chosen by
/// the code (nothing a provider or a link wrote is shown).
#[component]
pub fn OAuthErrorPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let message = move || {
        let error = match query.with(|q| q.get("code")).as_deref() {
            Some("oauth_cancelled") => UiError::OAuthCancelled,
            Some("unconfirmed") => UiError::Unconfirmed,
            Some("internal") => UiError::Server { request_id: None },
            _ => UiError::OAuthFailed,
        };
        error.to_string()
    };
    view! {
        <Title text="Log-in did not work" />
        <FormCard title="Log-in did not work">
            <Banner tone=Tone::Danger attr:role="alert" attr:data-testid="oauth-error">{message}</Banner>
            <p class="mt-4 text-sm">
                <TextLink href=paths::LOG_IN>"Back to log in"</TextLink>
            </p>
        </FormCard>
    }
}
