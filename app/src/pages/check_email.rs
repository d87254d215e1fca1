use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::ui::TextLink;
use crate::paths;

/// `/users/check-email`: where every "we sent you a mail" form ends. The flash says which mail;
/// the page says what to do next, the same whether or not anything was sent.
#[component]
pub fn CheckEmailPage() -> impl IntoView {
    view! {
        <Title text="Check your email" />
        <section class="mx-auto max-w-md space-y-4">
            <h1 class="text-2xl font-semibold tracking-tight">"Check your email"</h1>
            <p class="text-slate-600 dark:text-slate-300">
                "Mail usually arrives within a minute. If it does not, look in your spam folder, or try again in a few minutes."
            </p>
            <p class="text-sm">
                <TextLink href=paths::LOG_IN>"Back to log in"</TextLink>
            </p>
        </section>
    }
}
