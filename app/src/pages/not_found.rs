use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::ui::TextLink;
use crate::paths;

/// The page for unknown paths, answered with status 404 and the request id.
#[component]
pub fn NotFound() -> impl IntoView {
    mark_not_found();
    // Read on the server and carried to the browser, so hydration sees the same text.
    let request_id = SharedValue::new(request_id);
    view! {
        <Title text="Not found" />
        <section class="space-y-4">
            <h1 class="text-2xl font-semibold">"Page not found"</h1>
            <p class="text-slate-600 dark:text-slate-300">"There is nothing at this address."</p>
            {request_id.into_inner().map(|id| view! { <p class="text-xs text-slate-600 dark:text-slate-400">"Request " <code>{id}</code></p> })}
            <TextLink href=paths::HOME>"Go to the home page"</TextLink>
        </section>
    }
}

/// The page for what the signed-in user may not open (the admin area without a grant),
/// answered with status 403.
#[component]
pub fn Forbidden(
    /// Why, when it is not the usual reason (the page is for administrators).
    #[prop(optional, into)]
    reason: Option<String>,
) -> impl IntoView {
    mark_forbidden();
    let reason =
        reason.unwrap_or_else(|| "This page is for the site's administrators only.".to_owned());
    view! {
        <Title text="Not allowed" />
        <section class="space-y-4" data-testid="forbidden">
            <h1 class="text-2xl font-semibold">"Not allowed"</h1>
            <p class="text-slate-600 dark:text-slate-300">{reason}</p>
            <TextLink href=paths::HOME>"Go to the home page"</TextLink>
        </section>
    }
}

#[cfg(feature = "ssr")]
fn mark_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

#[cfg(feature = "ssr")]
fn mark_not_found() {
    mark_status(http::StatusCode::NOT_FOUND);
}

#[cfg(feature = "ssr")]
fn mark_forbidden() {
    mark_status(http::StatusCode::FORBIDDEN);
}

#[cfg(not(feature = "ssr"))]
fn mark_not_found() {}

#[cfg(not(feature = "ssr"))]
fn mark_forbidden() {}

#[cfg(feature = "ssr")]
fn request_id() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    parts
        .headers
        .get("x-request-id")?
        .to_str()
        .ok()
        .map(str::to_owned)
}

#[cfg(not(feature = "ssr"))]
fn request_id() -> Option<String> {
    None
}
