use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{list_sessions, EventRow, RevokeOtherSessions, RevokeSession, SessionRow};
use crate::components::account_page::AccountPage;
use crate::components::forms::ActionError;
use crate::components::time::Time;
use crate::components::ui::{Card, RemoveButton, SecondaryButton};

/// `/users/sessions`: where the account is logged in, and what happened to it lately.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let view_data = Resource::new(
        move || (revoke.version().get(), revoke_others.version().get()),
        |_| list_sessions(),
    );
    let errors = ActionError::first([revoke.into(), revoke_others.into()]);
    view! {
        <Title text="Sessions" />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Sessions"</h1>
            <AccountPage data=view_data errors page=move |data| view! {
                <Card>
                    <div class="mb-4 flex flex-wrap items-center justify-between gap-3">
                        <h2 class="text-lg font-semibold">"Where you are logged in"</h2>
                        <ActionForm action=revoke_others>
                            <SecondaryButton label="Log out everywhere else" />
                        </ActionForm>
                    </div>
                    <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="session-list">
                        {data.sessions.into_iter().map(|session| view! { <SessionItem session revoke /> }).collect_view()}
                    </ul>
                </Card>
                <Card>
                    <h2 class="mb-4 text-lg font-semibold">"Recent security activity"</h2>
                    <ul class="space-y-2 text-sm" data-testid="security-events">
                        {data.events.into_iter().map(|event| view! { <EventItem event /> }).collect_view()}
                    </ul>
                </Card>
            } />
        </section>
    }
}

#[component]
fn SessionItem(session: SessionRow, revoke: ServerAction<RevokeSession>) -> impl IntoView {
    let details = [session.ip.clone(), session.location.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let about = if details.is_empty() {
        session.device.clone()
    } else {
        format!("{}, {}", session.device, details.replace(" · ", ", "))
    };
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="session">
            <div>
                <p class="font-medium">
                    {session.device.clone()}
                    {session.current.then(|| view! { <span class="ml-2 rounded bg-emerald-100 px-1.5 py-0.5 text-xs text-emerald-900" data-testid="this-device">"This device"</span> })}
                    {session.remembered.then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700">"Remembered"</span> })}
                    {session.by_administrator.then(|| view! { <span class="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-900" data-testid="by-administrator">"An administrator, working as you"</span> })}
                </p>
                <p class="text-xs text-slate-500 dark:text-slate-400">
                    {details} " · last active " <Time at=session.last_active.clone() />
                </p>
            </div>
            {(!session.current).then(|| view! {
                <ActionForm action=revoke>
                    <input type="hidden" name="id" value=session.id.clone() />
                    <RemoveButton label="Log out" about=about />
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn EventItem(event: EventRow) -> impl IntoView {
    let mark = if event.failed {
        "text-rose-700 dark:text-rose-300"
    } else {
        ""
    };
    view! {
        <li class="flex flex-wrap justify-between gap-2">
            <span class=format!("font-medium {mark}")>{event.label}</span>
            <span class="text-xs text-slate-500 dark:text-slate-400">
                <Time at=event.at.clone() /> " · " {event.source}
            </span>
        </li>
    }
}
