//! Secrets the site shows exactly once (backup codes, a new API token, an authenticator key),
//! with the ways to keep them: copy, download, print. Copy and print need the page to be
//! interactive, so their buttons wait for it; the download is a plain link and works without
//! JavaScript.

use leptos::prelude::*;

const BUTTON: &str = "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:bg-slate-900 dark:hover:bg-slate-800";

/// A button that copies `text`, saying so once it has.
#[component]
pub fn CopyButton(
    /// What is copied.
    text: String,
    /// The button's words.
    #[prop(default = "Copy")]
    label: &'static str,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <button type="button" class=BUTTON disabled=move || !hydrated.get()
            on:click=move |_| copied.set(crate::clipboard::copy(&text))>
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

/// Backup codes just made: shown once, with copy, download and print, and a confirmation that
/// they were saved. Until it is given, leaving the page asks first.
#[component]
pub fn BackupCodes(codes: Vec<String>) -> impl IntoView {
    let saved = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        let guard = window_event_listener(leptos::ev::beforeunload, move |event| {
            if !saved.get_untracked() {
                event.prevent_default();
            }
        });
        on_cleanup(move || guard.remove());
    });
    let text = backup_codes_text(&codes);
    let download = format!("data:text/plain;charset=utf-8,{}", percent_encode(&text));
    move || {
        (!saved.get()).then(|| {
            let (codes, text, download) = (codes.clone(), text.clone(), download.clone());
            view! {
                <div class="rounded-xl border border-emerald-300 bg-emerald-50 p-6 dark:border-emerald-800 dark:bg-emerald-950" data-testid="new-backup-codes">
                    <h2 class="mb-2 text-lg font-semibold">"Your backup codes"</h2>
                    <p class="mb-4 text-sm" data-testid="backup-codes-warning">
                        <strong>"They are shown only this once."</strong>
                        " Save them somewhere safe now, away from your phone. Each one logs you in once if you lose your authenticator."
                    </p>
                    <ul class="mb-4 grid grid-cols-2 gap-2 font-mono text-base">
                        {codes.into_iter().map(|code| view! { <li data-testid="backup-code">{code}</li> }).collect_view()}
                    </ul>
                    <div class="flex flex-wrap gap-2 print:hidden">
                        <CopyButton text label="Copy codes" />
                        <a href=download download="backup-codes.txt" rel="external" class=BUTTON data-testid="download-backup-codes">"Download"</a>
                        <button type="button" class=BUTTON disabled=move || !hydrated.get() on:click=move |_| print()>"Print"</button>
                    </div>
                    // Without JavaScript, loading the page again is what hides the codes.
                    <form method="get" class="mt-4 print:hidden" on:submit=move |event| {
                        event.prevent_default();
                        saved.set(true);
                    }>
                        <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-500">
                            "I have saved these codes"
                        </button>
                    </form>
                </div>
            }
        })
    }
}

/// A key to type by hand, in groups of four, with a copy button for the whole.
#[component]
pub fn GroupedKey(key: String) -> impl IntoView {
    let grouped = key
        .as_bytes()
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <span class="inline-flex flex-wrap items-center gap-2">
            <code class="break-all rounded bg-slate-100 px-1 font-mono dark:bg-slate-800" data-testid="totp-secret" data-key=key.clone()>{grouped}</code>
            <CopyButton text=key label="Copy key" />
        </span>
    }
}

#[cfg(feature = "hydrate")]
fn print() {
    if let Some(window) = leptos::web_sys::window() {
        let _ = window.print();
    }
}

#[cfg(not(feature = "hydrate"))]
fn print() {}

/// The text file the download holds.
fn backup_codes_text(codes: &[String]) -> String {
    let mut text =
        String::from("Backup codes\n\nEach code logs you in once. Keep them somewhere safe.\n\n");
    for code in codes {
        text.push_str(code);
        text.push('\n');
    }
    text
}

/// Everything but letters, digits and `-` as `%XX`, for a `data:` address.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || byte == b'-' {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_download_holds_every_code_on_its_own_line() {
        let codes = vec!["abcde-12345".to_owned(), "fghij-67890".to_owned()];
        let text = backup_codes_text(&codes);
        assert!(text.ends_with("abcde-12345\nfghij-67890\n"), "{text}");
        assert_eq!(percent_encode("a b\n-1"), "a%20b%0A-1");
    }
}
