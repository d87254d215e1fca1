//! The frame around every page: header with the session and any flash message, then footer.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use leptos::server_fn::ServerFn;

use crate::account::{session_state, LogOut, SessionSnapshot};
use crate::admin::StopImpersonation;
use crate::capabilities::{use_site_name, use_switches};
use crate::components::ui::{Banner, SecondaryButton, TextLink, Tone};
use crate::flash::Flash;
use crate::organizations::{OrganizationsView, SwitchOrganization};
use crate::paths;

/// Header, flash and footer around the routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    crate::plain_forms::forget_failed_post_on_navigation();
    // Refetched after every navigation (log-in and registration end in one; log-out is a full
    // page load): the header follows the session, and a message set by the last redirect is
    // taken exactly once. It is read under a single <Transition>: a resource read under two
    // suspense boundaries can stall server rendering (leptos-rs/leptos#4851).
    let state = Resource::new(move || location.pathname.get(), |_| session_state());
    crate::live::follow_session(move || {
        state
            .get()
            .map(|snapshot| snapshot.is_ok_and(|snapshot| snapshot.email.is_some()))
    });
    view! {
        <div class="flex min-h-screen flex-col">
            // The first stop of the keyboard: past the header to the page's own content. The
            // browser's own fragment navigation moves the focus there (the router leaves
            // `rel="external"` links alone).
            <a
                href="#main"
                rel="external"
                class="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:z-50 focus:rounded-md focus:bg-white focus:px-4 focus:py-2 focus:font-medium focus:text-indigo-700 dark:focus:bg-slate-900 dark:focus:text-indigo-300"
            >
                "Skip to main content"
            </a>
            <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
                <Transition fallback=|| view! { <Nav email=None display_name=None organizations=OrganizationsView::default() admin=false /> }>
                    {move || Suspend::new(async move {
                        let SessionSnapshot { email, display_name, unconfirmed, flash, organizations, admin, impersonating } = state.await.unwrap_or(SessionSnapshot {
                            email: None,
                            display_name: None,
                            unconfirmed: false,
                            flash: None,
                            organizations: OrganizationsView::default(),
                            admin: false,
                            impersonating: false,
                        });
                        let impersonated = email.clone().filter(|_| impersonating);
                        view! {
                            {impersonated.map(|email| view! { <ImpersonationBanner email /> })}
                            <Nav email display_name organizations admin />
                            {flash.map(|flash| view! { <FlashBanner flash /> })}
                            {unconfirmed.then(|| view! { <ConfirmBanner /> })}
                        }
                    })}
                </Transition>
            </header>
            <main id="main" tabindex="-1" class="mx-auto w-full max-w-3xl flex-1 px-4 py-8 focus:outline-none sm:py-12">{children()}</main>
            <footer class="border-t border-slate-200 py-6 text-center text-sm text-slate-500 dark:border-slate-800 dark:text-slate-400">
                {use_site_name()} " · built on Sigra for Rust"
            </footer>
        </div>
    }
}

#[component]
fn Nav(
    email: Option<String>,
    display_name: Option<String>,
    organizations: OrganizationsView,
    admin: bool,
) -> impl IntoView {
    let log_out_url = <LogOut as ServerFn>::PATH;
    let switches = use_switches();
    let links = match email {
        Some(email) => view! {
            <AccountMenu email=email.clone() display_name=display_name.clone() admin />
            <div class="hidden flex-wrap items-center gap-3 text-sm sm:flex">
                {match display_name {
                    // The name the account goes by, with the address on hover.
                    Some(name) => view! {
                        <span class="font-medium text-slate-700 dark:text-slate-200" title=email data-testid="signed-in-name">{name}</span>
                    }
                    .into_any(),
                    None => view! {
                        <span class="text-slate-600 dark:text-slate-300" data-testid="signed-in-email">{email}</span>
                    }
                    .into_any(),
                }}
                {(!organizations.organizations.is_empty()).then(|| view! { <OrganizationSwitcher organizations /> })}
                {switches.organizations.then(|| view! { <TextLink href=paths::ORGANIZATIONS>"Organizations"</TextLink> })}
                {admin.then(|| view! { <TextLink href=paths::ADMIN>"Admin"</TextLink> })}
                <TextLink href=paths::SETTINGS>"Settings"</TextLink>
                <TextLink href=paths::SESSIONS>"Sessions"</TextLink>
                // A plain form: logging out reloads the page, so no state of the old session
                // survives in the browser.
                <form method="post" action=log_out_url>
                    <SecondaryButton label="Log out" />
                </form>
            </div>
        }
        .into_any(),
        None => view! {
            <div class="flex items-center gap-3 text-sm">
                <A href=paths::LOG_IN attr:class="font-medium hover:underline">"Log in"</A>
                <A href=paths::REGISTER attr:class="rounded-md bg-indigo-600 px-3 py-1.5 font-medium text-white hover:bg-indigo-500">
                    "Register"
                </A>
            </div>
        }
        .into_any(),
    };
    view! {
        <nav class="mx-auto flex max-w-3xl items-center justify-between gap-3 px-4 py-3 sm:flex-wrap" aria-label="Main">
            <A href=paths::HOME attr:class="text-lg font-semibold tracking-tight text-indigo-600 dark:text-indigo-400">{use_site_name()}</A>
            {links}
        </nav>
    }
}

/// On a phone the header is one row: the name, and an account menu behind the user's initial
/// (a disclosure, so it opens without JavaScript too). It is the same navigation as the wide
/// header's, which a phone hides.
#[component]
fn AccountMenu(email: String, display_name: Option<String>, admin: bool) -> impl IntoView {
    let log_out_url = <LogOut as ServerFn>::PATH;
    let switches = use_switches();
    let initial = display_name
        .as_deref()
        .unwrap_or(&email)
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    // A link followed in the hydrated page keeps this header: close the menu behind it.
    let menu = NodeRef::<leptos::html::Details>::new();
    let close = move |_| {
        if let Some(menu) = menu.get() {
            let _ = menu.remove_attribute("open");
        }
    };
    const ITEM: &str = "block rounded px-2 py-2 font-medium hover:bg-slate-100 aria-[current=page]:underline aria-[current=page]:decoration-2 aria-[current=page]:underline-offset-4 dark:hover:bg-slate-800";
    view! {
        <details node_ref=menu class="relative sm:hidden" data-testid="account-menu">
            <summary class="flex cursor-pointer list-none items-center rounded-full">
                <span aria-hidden="true" class="grid h-9 w-9 place-items-center rounded-full bg-indigo-600 font-semibold text-white">{initial}</span>
                <span class="sr-only">"Account menu"</span>
            </summary>
            <div class="absolute right-0 z-20 mt-2 w-64 rounded-lg border border-slate-200 bg-white p-2 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900">
                {display_name.map(|name| view! { <p class="truncate px-2 pt-1 font-medium">{name}</p> })}
                <p class="truncate px-2 py-1 text-slate-600 dark:text-slate-300">{email}</p>
                <ul class="border-y border-slate-200 py-1 dark:border-slate-700" on:click=close>
                    <li><A href=paths::SETTINGS attr:class=ITEM>"Settings"</A></li>
                    <li><A href=paths::SESSIONS attr:class=ITEM>"Sessions"</A></li>
                    {switches.any_second_factor().then(|| view! { <li><A href=paths::SECURITY_SETTINGS attr:class=ITEM>"Security"</A></li> })}
                    {switches.organizations.then(|| view! { <li><A href=paths::ORGANIZATIONS attr:class=ITEM>"Organizations"</A></li> })}
                    {admin.then(|| view! { <li><A href=paths::ADMIN attr:class=ITEM>"Admin"</A></li> })}
                </ul>
                <form method="post" action=log_out_url class="px-2 pt-2">
                    <SecondaryButton label="Log out" />
                </form>
            </div>
        </details>
    }
}

/// The organization the session works in, and a switch to another: a plain form without
/// JavaScript (the server redirects to the organization), a server action once hydrated (the
/// router follows the same redirect without a full reload).
#[component]
fn OrganizationSwitcher(organizations: OrganizationsView) -> impl IntoView {
    let switch = ServerAction::<SwitchOrganization>::new();
    let OrganizationsView {
        organizations,
        active,
    } = organizations;
    let choose = active.is_none().then(
        || view! { <option value="" disabled=true selected=true>"Choose an organization"</option> },
    );
    view! {
        <ActionForm action=switch attr:class="flex items-center gap-1" attr:data-testid="organization-switcher">
            <label for="organization-switcher" class="sr-only">"Organization"</label>
            <select
                id="organization-switcher"
                name="slug"
                required=true
                class="max-w-[12rem] rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-900"
            >
                {choose}
                {organizations.into_iter().map(|org| {
                    let selected = active.as_deref() == Some(org.slug.as_str());
                    view! { <option value=org.slug selected=selected>{org.name}</option> }
                }).collect_view()}
            </select>
            <SecondaryButton label="Switch" />
        </ActionForm>
    }
}

/// Says, on every page of an impersonation, whose account this is and how to leave it. A
/// plain form, as logging out is: stopping reloads the page, so nothing of the user's session
/// stays in the browser.
#[component]
fn ImpersonationBanner(email: String) -> impl IntoView {
    let stop_url = <StopImpersonation as ServerFn>::PATH;
    view! {
        <div class="bg-amber-100 text-amber-950 dark:bg-amber-900 dark:text-amber-50" role="region" aria-label="Impersonation" data-testid="impersonation-banner">
            <div class="mx-auto flex max-w-3xl flex-wrap items-center justify-between gap-3 px-4 py-2 text-sm">
                <p>"You are logged in as " <strong>{email}</strong> " by impersonation. Security settings can't be changed."</p>
                <form method="post" action=stop_url>
                    <SecondaryButton label="Stop impersonating" />
                </form>
            </div>
        </div>
    }
}

#[component]
fn ConfirmBanner() -> impl IntoView {
    view! {
        <div class="mx-auto max-w-3xl px-4 pb-3">
            <Banner tone=Tone::Warning attr:data-testid="confirm-banner">
                "Please confirm your email address: open the link we sent you, or "
                <A href=paths::CONFIRM attr:class="font-medium underline">"enter the code or get a new one"</A>
                "."
            </Banner>
        </div>
    }
}

/// What the last action did. It goes with the next navigation; once the page is interactive
/// it can also be dismissed at once.
#[component]
fn FlashBanner(flash: Flash) -> impl IntoView {
    let shown = RwSignal::new(true);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Show when=move || shown.get()>
            <div class="mx-auto flex max-w-3xl items-start gap-2 px-4 pb-3">
                <Banner tone=flash.tone() class="flex-1" attr:role="status" attr:data-testid="flash">
                    {flash.message()}
                </Banner>
                <Show when=move || hydrated.get()>
                    <button
                        type="button"
                        aria-label="Dismiss this message"
                        data-testid="flash-dismiss"
                        class="rounded-md px-2 py-1 text-lg leading-none text-slate-500 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-800"
                        on:click=move |_| shown.set(false)
                    >
                        "×"
                    </button>
                </Show>
            </div>
        </Show>
    }
}
