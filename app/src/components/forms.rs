//! Form pieces with visible labels and the standard `autocomplete` names, so password managers,
//! screen readers and browser tests all find them.

use leptos::prelude::*;

use crate::error::UiError;

/// A labelled input.
#[component]
pub fn Field(
    /// The visible label.
    label: &'static str,
    /// The form field name (the server function argument).
    name: &'static str,
    /// The input type.
    #[prop(default = "text")]
    kind: &'static str,
    /// The `autocomplete` token.
    autocomplete: &'static str,
    /// Help text under the input.
    #[prop(optional, into)]
    hint: Option<Signal<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let described_by = hint.map(|_| hint_id.clone());
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=true
                aria-describedby=described_by
                class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 dark:border-slate-700 dark:bg-slate-900"
            />
            {hint.map(|hint| view! { <p id=hint_id class="text-xs text-slate-500 dark:text-slate-400">{hint}</p> })}
        </div>
    }
}

/// The primary button of a form.
#[component]
pub fn Submit(
    /// The button text.
    label: &'static str,
    /// Whether the action is running (the button shows it and ignores clicks).
    pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            class="w-full rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white shadow-sm hover:bg-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/60 disabled:opacity-60"
        >
            {move || if pending.get() { "Please wait…" } else { label }}
        </button>
    }
}

/// The error of the form's last submission, if it failed. Works without JavaScript too: Leptos
/// carries the error back in the redirect to the form, and the action starts with it.
#[component]
pub fn FormError(
    /// The error to show, if any.
    #[prop(into)]
    error: Signal<Option<UiError>>,
) -> impl IntoView {
    move || {
        error.get().map(|error| view! {
            <p role="alert" data-testid="form-error" class="rounded-md border border-rose-300 bg-rose-50 px-4 py-3 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-200">
                {error.to_string()}
            </p>
        })
    }
}

/// A card holding a form, with its title.
#[component]
pub fn FormCard(
    /// The heading.
    title: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="mx-auto max-w-md rounded-xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8 dark:border-slate-800 dark:bg-slate-900">
            <h1 class="mb-6 text-2xl font-semibold tracking-tight">{title}</h1>
            {children()}
        </section>
    }
}
