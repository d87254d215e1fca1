//! Form pieces with visible labels and the standard `autocomplete` names, so password managers,
//! screen readers and browser tests all find them.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::components::ui::{Banner, Tone};
use crate::error::UiError;
use crate::plain_forms::TypedValues;

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
    /// The element id, when two forms on one page ask for the same field (ids are unique per
    /// page, and each label must name its own input); `field-{name}` otherwise.
    #[prop(optional)]
    id: Option<&'static str>,
    /// Takes the focus when the page loads: the first field of a page's main form.
    #[prop(optional)]
    autofocus: bool,
    /// May be left blank (every field is required otherwise).
    #[prop(optional)]
    optional: bool,
    /// A six-digit code: the phone's number pad, and the browser checks the shape.
    #[prop(optional)]
    numeric_code: bool,
    /// The value it starts with (what was typed before a failed post comes first).
    #[prop(default = None)]
    value: Option<String>,
) -> impl IntoView {
    let id = id.map_or_else(|| format!("field-{name}"), str::to_owned);
    let hint_id = format!("{id}-hint");
    let described_by = hint.map(|_| hint_id.clone());
    // Without JavaScript a failed post reloads the page: what was typed comes back (never a
    // password).
    let typed = (kind != "password")
        .then(|| use_context::<TypedValues>().and_then(|typed| typed.get(name)))
        .flatten()
        .or(value);
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                value=typed
                inputmode=numeric_code.then_some("numeric")
                pattern=numeric_code.then_some("[0-9]{6}")
                maxlength=numeric_code.then_some("6")
                required=!optional
                autofocus=autofocus
                aria-describedby=described_by
                class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base shadow-sm focus:border-indigo-500 dark:border-slate-700 dark:bg-slate-900"
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
            class="w-full rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white shadow-sm hover:bg-indigo-500 disabled:opacity-60"
        >
            {move || if pending.get() { "Please wait…" } else { label }}
        </button>
    }
}

/// The error of an action's last run, if it failed: one action's, or the first of several.
#[derive(Clone, Copy)]
pub struct ActionError(Signal<Option<UiError>>);

impl ActionError {
    /// The first failure among `errors`.
    pub fn first<const N: usize>(errors: [ActionError; N]) -> Self {
        Self(Signal::derive(move || {
            errors.iter().find_map(|error| error.0.get())
        }))
    }

    /// The error, tracked.
    pub fn get(self) -> Option<UiError> {
        self.0.get()
    }
}

impl<I, O> From<Action<I, Result<O, UiError>>> for ActionError
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    fn from(action: Action<I, Result<O, UiError>>) -> Self {
        Self(Signal::derive(move || {
            action.value().with(|value| {
                value
                    .as_ref()
                    .and_then(|result| result.as_ref().err().cloned())
            })
        }))
    }
}

impl<S> From<ServerAction<S>> for ActionError
where
    S: ServerFn<Error = UiError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    fn from(action: ServerAction<S>) -> Self {
        Action::from(action).into()
    }
}

/// The error of an action's last run, if it failed. Works without JavaScript too: Leptos
/// carries a form's error back in the redirect to the form, and its action starts with it.
/// The error takes the focus, so a keyboard or screen reader user lands on what went wrong:
/// at once in the hydrated page, and on load (before any field's) without JavaScript.
#[component]
pub fn FormError(
    /// The action (or actions) whose error to show.
    #[prop(into)]
    action: ActionError,
) -> impl IntoView {
    let region = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if action.get().is_some() {
            if let Some(region) = region.get() {
                let _ = region.focus();
            }
        }
    });
    move || {
        action.get().map(|error| {
            view! {
                <div node_ref=region tabindex="-1" autofocus=true class="focus:outline-none" data-testid="form-error-region">
                    <Banner tone=Tone::Danger attr:role="alert" attr:data-testid="form-error">
                        {error.to_string()}
                    </Banner>
                </div>
            }
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
