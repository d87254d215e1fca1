//! The passkey components of a build without the `passkeys` feature. The capability is off
//! for good there (the core refuses to switch it on), so the pages never show these; they
//! exist so the pages compile unchanged, and render nothing.

use leptos::prelude::*;

/// Nothing: no passkeys in this build.
#[component]
pub fn PasskeyLogIn(#[prop(into)] return_to: Signal<String>) -> impl IntoView {
    let _ = return_to;
}

/// Nothing: no passkeys in this build.
#[component]
pub fn PasskeySecondFactor(
    #[prop(into)] return_to: Signal<String>,
    trust_browser: RwSignal<bool>,
) -> impl IntoView {
    let _ = (return_to, trust_browser);
}

/// Nothing: no passkeys in this build.
#[component]
pub fn PasskeySudo(#[prop(into)] return_to: Signal<String>) -> impl IntoView {
    let _ = return_to;
}

/// Nothing: no passkeys in this build.
#[component]
pub fn PasskeysSection(changed: RwSignal<u32>, page_changes: Signal<usize>) -> impl IntoView {
    let _ = (changed, page_changes);
}
