//! The look the pages share, each piece styled once: cards, links, banners, small buttons and
//! the loading line.

use leptos::prelude::*;
use leptos_router::components::A;

/// What a banner says, which sets its colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Something worked.
    Success,
    /// Something to know.
    Info,
    /// Something to do.
    Warning,
    /// Something failed.
    Danger,
}

impl Tone {
    fn colours(self) -> &'static str {
        match self {
            Self::Success => "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-200",
            Self::Info => "border-sky-300 bg-sky-50 text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-200",
            Self::Warning => "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200",
            Self::Danger => "border-rose-300 bg-rose-50 text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-200",
        }
    }
}

/// A boxed message. Give it `attr:role` ("alert", "status") when it reports on something the
/// user did, and `attr:data-testid` where tests look for it.
#[component]
pub fn Banner(
    /// Its colours.
    tone: Tone,
    /// Classes for its place on the page (margins).
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    let class = format!(
        "rounded-md border px-4 py-3 text-sm {} {class}",
        tone.colours()
    );
    view! { <div class=class.trim_end().to_owned()>{children()}</div> }
}

/// A white panel holding one part of a page.
#[component]
pub fn Card(children: Children) -> impl IntoView {
    view! {
        <div class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            {children()}
        </div>
    }
}

/// A link to another page of the app, in the accent colour.
#[component]
pub fn TextLink(
    /// Where it goes.
    #[prop(into)]
    href: String,
    children: Children,
) -> impl IntoView {
    view! {
        // The router marks a link to the page being shown `aria-current="page"`; it is drawn
        // underlined, so the header's navigation says where you are.
        <A href attr:class="font-medium text-indigo-600 hover:underline aria-[current=page]:underline aria-[current=page]:decoration-2 aria-[current=page]:underline-offset-4 dark:text-indigo-400">
            {children()}
        </A>
    }
}

/// The accessible name of a button repeated down a list: its text, then what it acts on
/// ("Log out Firefox 120 on Windows"), so a screen reader's list of buttons tells them apart.
fn named(label: &'static str, about: Option<String>) -> Option<String> {
    about.map(|about| format!("{label} {about}"))
}

/// A small outlined submit button, for actions beside the main one.
#[component]
pub fn SecondaryButton(
    /// The button text.
    label: &'static str,
    /// What it acts on, when the button repeats down a list.
    #[prop(optional, into)]
    about: Option<String>,
) -> impl IntoView {
    view! {
        <button type="submit" aria-label=named(label, about) class="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
            {label}
        </button>
    }
}

/// A red text button that takes something away (a session, a passkey).
#[component]
pub fn RemoveButton(
    /// The button text.
    label: &'static str,
    /// What it acts on, when the button repeats down a list.
    #[prop(optional, into)]
    about: Option<String>,
) -> impl IntoView {
    view! {
        <button type="submit" aria-label=named(label, about) class="text-sm font-medium text-rose-700 hover:underline dark:text-rose-300">
            {label}
        </button>
    }
}

/// Changes need the password re-entered first: a link to do it and come back to `back`.
#[component]
pub fn SudoFirst(
    /// What needs it ("To make changes").
    what: &'static str,
    /// The page to come back to.
    back: &'static str,
) -> impl IntoView {
    view! {
        <p class="text-sm text-slate-600 dark:text-slate-300">
            {what} ", "
            <TextLink href=crate::paths::with_return_to(crate::paths::SUDO, back)>"confirm your password"</TextLink>
            "."
        </p>
    }
}

/// What a page shows while its data is on the way.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="text-slate-500">"Loading…"</p> }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_banner_carries_the_attributes_given_to_it() {
        let html = view! {
            <Banner tone=Tone::Danger class="mb-4" attr:role="alert" attr:data-testid="form-error">
                "Wrong."
            </Banner>
        }
        .to_html();
        assert!(html.starts_with("<div"), "{html}");
        for part in [
            r#"role="alert""#,
            r#"data-testid="form-error""#,
            "rounded-md border px-4 py-3 text-sm border-rose-300",
            "dark:text-rose-200 mb-4",
            "Wrong.",
        ] {
            assert!(html.contains(part), "{part} missing in {html}");
        }
    }
}
