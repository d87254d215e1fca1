//! A new-password field with a live strength meter. While the user types (after a short pause)
//! the hydrated page asks the server for a reading: the same policy the server applies on
//! submit, against the email typed in the same form or the signed-in user's. Without JavaScript
//! it is a plain field and the server still enforces every rule.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsCast as _;
use leptos::web_sys::HtmlInputElement;

use crate::account::{assess_password, PasswordReading, StrengthWord};

/// The pause after the last keystroke before the server is asked.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// A labelled `new-password` input with a strength meter.
#[component]
pub fn NewPasswordField(
    /// The visible label.
    label: &'static str,
    /// The form field name.
    name: &'static str,
    /// Help text under the input.
    #[prop(into)]
    hint: Signal<String>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let meter_id = format!("{id}-meter");
    let reading = RwSignal::new(None::<PasswordReading>);
    let latest = StoredValue::new(0_u64);
    let timer = StoredValue::new(None::<TimeoutHandle>);

    // A reading may still be on its way when the page goes away.
    on_cleanup(move || {
        if let Some(Some(handle)) = timer.try_get_value() {
            handle.clear();
        }
    });

    let on_input = move |ev: leptos::ev::Event| {
        let password = event_target_value(&ev);
        let email = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            .and_then(|input| input.form())
            .and_then(|form| {
                form.query_selector("input[name=email], input[name=new_email]")
                    .ok()
                    .flatten()
            })
            .and_then(|el| el.dyn_into::<HtmlInputElement>().ok())
            .map(|input| input.value())
            .filter(|value| !value.is_empty());
        if let Some(handle) = timer.get_value() {
            handle.clear();
        }
        if password.is_empty() {
            reading.set(None);
            return;
        }
        latest.update_value(|n| *n += 1);
        let ticket = latest.get_value();
        let handle = set_timeout_with_handle(
            move || {
                spawn_local(async move {
                    if let Ok(result) = assess_password(password, email).await {
                        // Answers can arrive out of order (only the newest counts), or after
                        // the page has gone (then nothing is shown).
                        if latest.try_get_value() == Some(ticket) {
                            reading.try_set(Some(result));
                        }
                    }
                });
            },
            DEBOUNCE,
        )
        .ok();
        timer.set_value(handle);
    };

    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type="password"
                autocomplete="new-password"
                required=true
                aria-describedby=format!("{hint_id} {meter_id}")
                on:input=on_input
                class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base shadow-sm focus:border-indigo-500 dark:border-slate-700 dark:bg-slate-900"
            />
            <div id=meter_id aria-live="polite" data-testid="password-meter">
                {move || reading.get().map(|r| view! { <Meter reading=r /> })}
            </div>
            <p id=hint_id class="text-xs text-slate-500 dark:text-slate-400">{hint}</p>
        </div>
    }
}

#[component]
fn Meter(reading: PasswordReading) -> impl IntoView {
    let (word, bar) = match reading.label {
        StrengthWord::Weak => ("Weak", "bg-rose-500"),
        StrengthWord::Fair => ("Fair", "bg-amber-500"),
        StrengthWord::Strong => ("Strong", "bg-emerald-500"),
    };
    let bars = (1..=4_u8)
        .map(|i| {
            let class = if i <= reading.score.max(1) {
                bar
            } else {
                "bg-slate-200 dark:bg-slate-700"
            };
            view! { <span class=format!("h-1.5 flex-1 rounded {class}")></span> }
        })
        .collect_view();
    view! {
        <div class="flex gap-1 pt-1" aria-hidden="true">{bars}</div>
        <p class="text-xs">
            <span class="font-medium" data-testid="password-strength">{word}</span>
            {reading.problem.map(|p| view! { <span class="text-rose-700 dark:text-rose-300">" · " {p.to_string()}</span> })}
        </p>
    }
}
