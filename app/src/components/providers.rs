//! Log-in provider buttons: links to `/auth/<name>` for a log-in, small forms posting there
//! to link a provider or re-authenticate with it. They leave the app for the provider, so they
//! are plain links and forms the router does not take over; all work without JavaScript.

use leptos::prelude::*;

use crate::account::{sign_in_providers, ProviderView};
use crate::paths;

const BUTTON: &str = "flex w-full items-center justify-center gap-2 rounded-md border border-slate-300 bg-white px-4 py-2 font-semibold shadow-sm hover:bg-slate-50 dark:border-slate-700 dark:bg-slate-900 dark:hover:bg-slate-800";

/// Where a provider's authorization starts.
fn start_path(provider: &str) -> String {
    format!("/auth/{provider}")
}

#[component]
fn Icon(icon: Option<String>) -> impl IntoView {
    icon.map(|src| view! { <img src=src alt="" class="h-5 w-5" /> })
}

/// "Continue with …" for every configured provider (nothing when none is configured).
#[component]
pub fn ProviderButtons(
    /// "Continue with", "Sign up with".
    verb: &'static str,
    /// Where to go after the log-in.
    #[prop(into)]
    return_to: Signal<String>,
) -> impl IntoView {
    let providers = Resource::new(|| (), |_| sign_in_providers());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let providers = providers.await.unwrap_or_default();
                (!providers.is_empty()).then(|| view! {
                    <div class="mt-6 space-y-2 border-t border-slate-200 pt-4 dark:border-slate-800" data-testid="providers">
                        {providers.into_iter().map(|provider| {
                            let path = start_path(&provider.name);
                            let href = move || {
                                let target = return_to.get();
                                if target.is_empty() { path.clone() } else { paths::with_return_to(&path, &target) }
                            };
                            view! {
                                <a href=href rel="external" class=BUTTON data-provider=provider.name.clone()>
                                    <Icon icon=provider.icon.clone() />
                                    {format!("{verb} {}", provider.display_name)}
                                </a>
                            }
                        }).collect_view()}
                    </div>
                })
            })}
        </Suspense>
    }
}

/// A button that posts to a provider's start, to link it (`intent` "link") or to
/// re-authenticate with it ("sudo"), then come back to `return_to`.
#[component]
pub fn ProviderForm(
    /// The provider.
    provider: ProviderView,
    /// "link" or "sudo".
    intent: &'static str,
    /// The button's words before the provider's name.
    verb: &'static str,
    /// Where to come back to.
    return_to: String,
) -> impl IntoView {
    view! {
        <form method="post" action=start_path(&provider.name)>
            <input type="hidden" name="intent" value=intent />
            <input type="hidden" name="return_to" value=return_to />
            <button type="submit" class=BUTTON data-provider=provider.name.clone()>
                <Icon icon=provider.icon.clone() />
                {format!("{verb} {}", provider.display_name)}
            </button>
        </form>
    }
}
