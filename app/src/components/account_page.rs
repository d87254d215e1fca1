//! The frame of every page for a signed-in user. The server functions refuse anonymous
//! visitors and unconfirmed changes anyway; the frame turns those refusals into the way out.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::components::forms::{ActionError, FormError};
use crate::components::ui::{Banner, Loading, Tone};
use crate::error::UiError;
use crate::pages::{Forbidden, NotFound};
use crate::paths;

/// Loads the page's data and shows `page` with it. A visitor who is not logged in is sent to
/// log in, and a change refused for want of sudo to re-enter the password; both come back
/// here afterwards. An account with a required step (a new password, a second factor) is sent
/// to that step.
#[component]
pub fn AccountPage<T, V, F>(
    /// The page's data.
    data: Resource<Result<T, UiError>>,
    /// The failures of the page's forms, shown above it. Without JavaScript the server answers
    /// `SudoRequired` with the redirect itself; the hydrated page gets the error and goes there.
    #[prop(optional)]
    errors: Option<ActionError>,
    /// The page, from its data.
    page: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Copy + Send + Sync + 'static,
{
    let here = StoredValue::new(use_location().pathname.get_untracked());
    if let Some(errors) = errors {
        let navigate = use_navigate();
        Effect::new(move |_| {
            if errors.get() == Some(UiError::SudoRequired) {
                navigate(
                    &paths::with_return_to(paths::SUDO, &here.get_value()),
                    NavigateOptions::default(),
                );
            }
        });
    }
    view! {
        {errors.map(|action| view! { <FormError action /> })}
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => page(data).into_any(),
                    Err(UiError::Unauthenticated) => {
                        let log_in = paths::with_return_to(paths::LOG_IN, &here.get_value());
                        view! { <Redirect path=log_in /> }.into_any()
                    }
                    // A step the account must take first (the server refuses everything else
                    // until it is done; a page navigated to in the browser learns it here).
                    Err(UiError::PasswordChangeRequired) => {
                        view! { <Redirect path=paths::PASSWORD_SETTINGS /> }.into_any()
                    }
                    Err(UiError::MfaEnrolmentRequired) => {
                        view! { <Redirect path=paths::SECURITY_SETTINGS /> }.into_any()
                    }
                    Err(UiError::DeletionPending) => {
                        view! { <Redirect path=paths::REACTIVATION /> }.into_any()
                    }
                    // What the page is about does not exist, or is not the user's to see (an
                    // organization they do not belong to): the same 404 either way.
                    Err(UiError::NotFound) => view! { <NotFound /> }.into_any(),
                    Err(UiError::AdminOnly) => view! { <Forbidden /> }.into_any(),
                    Err(error @ UiError::ForbiddenWhileImpersonating) => {
                        view! { <Forbidden reason=error.to_string() /> }.into_any()
                    }
                    Err(error) => view! {
                        <Banner tone=Tone::Danger attr:role="alert">{error.to_string()}</Banner>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// On a page for visitors who are not logged in (log in, register): sends a signed-in one to
/// their account instead, on the server without JavaScript as in the hydrated router.
#[component]
pub fn SignedInGoesToAccount() -> impl IntoView {
    let signed_in = Resource::new(|| (), |_| crate::account::signed_in_as());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                signed_in
                    .await
                    .ok()
                    .flatten()
                    .map(|_| view! { <Redirect path=paths::SETTINGS /> })
            })}
        </Suspense>
    }
}

/// The way back from a settings sub-page to the settings overview.
#[component]
pub fn BackToSettings() -> impl IntoView {
    view! {
        <nav aria-label="Breadcrumb" class="mb-4 text-sm">
            <leptos_router::components::A href=crate::paths::SETTINGS attr:class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
                <span aria-hidden="true">"← "</span>"Settings"
            </leptos_router::components::A>
        </nav>
    }
}
