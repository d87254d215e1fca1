//! The admin area: `/admin` (counts) and `/admin/users` (search and filters). Platform admins
//! only: a guest is sent to log in, anyone else gets the 403 page.

use crate::capabilities::use_switches;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use leptos_router::hooks::use_params_map;

use crate::admin::{
    admin_audit, admin_overview, admin_user, admin_users, AccountAction, AdminAct,
    AdminImpersonate, AdminRevokeSession, AuditEventView, AuditView, OverviewView, SessionView,
    UserDetailView, UserFilters, UserRowView, UsersView, AUDIT_FILTERS,
};
use crate::components::account_page::AccountPage;
use crate::components::forms::ActionError;
use crate::components::time::Time;
use crate::components::ui::{Card, SecondaryButton, TextLink};
use crate::paths;

/// `/admin`.
#[component]
pub fn AdminOverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| admin_overview());
    view! {
        <Title text="Admin" />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Admin"</h1>
            <AccountPage data page=overview />
        </section>
    }
}

fn overview(data: OverviewView) -> impl IntoView {
    let counts = [
        ("Users", data.users),
        ("Confirmed", data.confirmed),
        ("With two-factor authentication", data.with_second_factor),
        ("Locked", data.locked),
        ("Active sessions", data.active_sessions),
        ("Log-ins in the last day", data.sign_ins_last_day),
    ];
    view! {
        <Card>
            <dl class="grid grid-cols-2 gap-4 sm:grid-cols-3" data-testid="admin-counts">
                {counts.into_iter().map(|(label, n)| view! {
                    <div>
                        <dt class="text-sm text-slate-500 dark:text-slate-400">{label}</dt>
                        <dd class="text-2xl font-semibold" data-testid="admin-count">{n}</dd>
                    </div>
                }).collect_view()}
            </dl>
        </Card>
        <p class="flex gap-4">
            <TextLink href=paths::ADMIN_USERS>"Find a user"</TextLink>
            <TextLink href=paths::ADMIN_AUDIT>"Audit trail"</TextLink>
            {use_switches().organizations.then(|| view! {
                <TextLink href=paths::ADMIN_ORGANIZATIONS>"Organizations"</TextLink>
            })}
        </p>
    }
}

/// `/admin/users`: a GET form, so the filters live in the address (shareable, and working
/// without JavaScript); hydrated, the router applies them without reloading the page.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| query.with(|q| UserFilters::from_query(|name| q.get(name))));
    let data = Resource::new(move || filters.get(), admin_users);
    crate::live::on_admin_change(move || data.refetch());
    view! {
        <Title text="Users · Admin" />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Users"</h1>
            <SearchForm filters=filters.get_untracked() />
            <AccountPage data page=move |data| user_list(data, &filters.get_untracked()) />
        </section>
    }
}

#[component]
fn SearchForm(filters: UserFilters) -> impl IntoView {
    let UserFilters {
        q,
        confirmed,
        second_factor,
        passkeys,
        locked,
        deleted,
        provider,
        organization,
        from,
        until,
        sort,
        cursor: _,
    } = filters;
    let select = |id: &'static str,
                  label: &'static str,
                  current: Option<String>,
                  choices: &'static [(&'static str, &'static str)]| {
        view! {
            <div class="space-y-1">
                <label for=format!("filter-{id}") class="block text-sm font-medium">{label}</label>
                <select id=format!("filter-{id}") name=id class="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900">
                    {choices.iter().map(|(value, text)| {
                        let selected = current.as_deref().unwrap_or_default() == *value;
                        view! { <option value=*value selected=selected>{*text}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let field = |id: &'static str,
                 label: &'static str,
                 kind: &'static str,
                 current: Option<String>| {
        view! {
            <div class="space-y-1">
                <label for=format!("filter-{id}") class="block text-sm font-medium">{label}</label>
                <input id=format!("filter-{id}") name=id type=kind value=current.unwrap_or_default() autocomplete="off"
                    class="block w-40 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900" />
            </div>
        }
    };
    let either: &'static [(&str, &str)] = &[("", "Either"), ("yes", "Yes"), ("no", "No")];
    view! {
        <Card>
            <Form method="GET" action="" attr:class="flex flex-wrap items-end gap-3" attr:role="search">
                <div class="min-w-[14rem] flex-1 space-y-1">
                    <label for="filter-q" class="block text-sm font-medium">"Email or id"</label>
                    <input id="filter-q" name="q" type="search" value=q.unwrap_or_default() autocomplete="off"
                        class="block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 dark:border-slate-700 dark:bg-slate-900" />
                </div>
                {select("confirmed", "Confirmed", confirmed, either)}
                {select("second_factor", "Two-factor", second_factor, either)}
                {select("passkeys", "Passkeys", passkeys, either)}
                {select("locked", "Locked", locked, either)}
                {select("deleted", "Deleted", deleted, &[("", "Not deleted"), ("yes", "Deleted"), ("all", "Both")])}
                {field("provider", "Provider", "text", provider)}
                {field("organization", "Organization (slug)", "text", organization)}
                {field("from", "Registered from", "date", from)}
                {field("until", "Registered before", "date", until)}
                {select("sort", "Order", sort, &[("", "Newest first"), ("oldest", "Oldest first")])}
                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-1.5 font-semibold text-white hover:bg-indigo-500">"Search"</button>
            </Form>
        </Card>
    }
}

fn user_list(data: UsersView, filters: &UserFilters) -> impl IntoView {
    let UsersView {
        users,
        total,
        next_cursor,
    } = data;
    let next = next_cursor.map(|cursor| {
        let mut params: Vec<String> = filters
            .pairs()
            .into_iter()
            .filter(|(name, _)| *name != "cursor")
            .filter_map(|(name, value)| {
                value.map(|value| format!("{name}={}", paths::encode_query_value(value)))
            })
            .collect();
        params.push(format!("cursor={}", paths::encode_query_value(&cursor)));
        format!("{}?{}", paths::ADMIN_USERS, params.join("&"))
    });
    let matches = if total == 1 {
        "1 user matches".to_owned()
    } else {
        format!("{total} users match")
    };
    view! {
        <Card>
            <p class="mb-3 text-sm text-slate-600 dark:text-slate-300" data-testid="user-total">{matches}</p>
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="user-list">
                {users.into_iter().map(|user| view! { <UserItem user /> }).collect_view()}
            </ul>
            {next.map(|href| view! {
                <p class="mt-4 text-sm"><TextLink href>"Next page"</TextLink></p>
            })}
        </Card>
    }
}

#[component]
fn UserItem(user: UserRowView) -> impl IntoView {
    let mut badges = Vec::new();
    if !user.confirmed {
        badges.push("unconfirmed".to_owned());
    }
    badges.extend(user.second_factors.iter().cloned());
    if let Some(until) = &user.locked_until {
        badges.push(format!("locked until {until}"));
    }
    if user.deleted {
        badges.push("deleted".to_owned());
    }
    view! {
        <li class="py-3" data-testid="user">
            <p class="font-medium break-all">
                <TextLink href=paths::admin_user(&user.id)><span data-testid="user-email">{user.email.clone()}</span></TextLink>
                {user.display_name.clone().map(|name| view! { <span class="block text-xs text-slate-600 dark:text-slate-400" data-testid="user-display-name">{name}</span> })}
            </p>
            <p class="text-xs text-slate-500 dark:text-slate-400">
                <code>{user.id.clone()}</code> " · registered "
                <Time at=user.created_at.clone() />
                {(!badges.is_empty()).then(|| format!(" · {}", badges.join(" · ")))}
            </p>
            {(!user.fields.is_empty()).then(|| view! {
                <p class="text-xs text-slate-500 dark:text-slate-400">
                    {user.fields.into_iter().map(|(label, value)| view! {
                        <span class="mr-3" data-testid="user-field">{format!("{label}: {value}")}</span>
                    }).collect_view()}
                </p>
            })}
        </li>
    }
}

/// The actions of the detail page, made once so their errors survive re-renders.
#[derive(Clone, Copy)]
struct UserActions {
    act: ServerAction<AdminAct>,
    revoke_session: ServerAction<AdminRevokeSession>,
    impersonate: ServerAction<AdminImpersonate>,
}

/// `/admin/users/:id`: one account, and what an admin may do to it (after re-entering their
/// password).
#[component]
pub fn AdminUserPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let actions = UserActions {
        act: ServerAction::new(),
        revoke_session: ServerAction::new(),
        impersonate: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                id.get(),
                actions.act.version().get(),
                actions.revoke_session.version().get(),
            )
        },
        |(id, ..)| admin_user(id),
    );
    let errors = ActionError::first([
        actions.act.into(),
        actions.revoke_session.into(),
        actions.impersonate.into(),
    ]);
    view! {
        <Title text="User · Admin" />
        <section class="space-y-6">
            <p class="text-sm"><TextLink href=paths::ADMIN_USERS>"All users"</TextLink></p>
            <AccountPage data errors page=move |data| user_detail(data, actions) />
        </section>
    }
}

/// One session of the account, with a button to end it once the admin is in sudo.
#[component]
fn SessionItem(
    session: SessionView,
    user: String,
    end: Option<ServerAction<AdminRevokeSession>>,
) -> impl IntoView {
    let about = format!(
        "{} · {} · last seen {}",
        session.kind,
        session.user_agent.clone().unwrap_or_default(),
        session.last_seen_at
    );
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-2" data-testid="admin-user-session">
            <span>{about.clone()} {session.from.clone().map(|from| format!(" · {from}"))}</span>
            {end.map(|action| view! {
                <ActionForm action>
                    <input type="hidden" name="id" value=user />
                    <input type="hidden" name="session" value=session.id />
                    <SecondaryButton label="End" about=about />
                </ActionForm>
            })}
        </li>
    }
}

/// One action on the account: a form with its id and what to do.
#[component]
fn ActForm(action: ServerAction<AdminAct>, id: String, what: AccountAction) -> impl IntoView {
    view! {
        <ActionForm action>
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="action" value=what.value() />
            <SecondaryButton label=what.label() />
        </ActionForm>
    }
}

fn user_detail(data: UserDetailView, actions: UserActions) -> impl IntoView {
    let status = [
        ("Registered", Some(data.created_at.clone())),
        (
            "Address confirmed",
            Some(
                data.confirmed_at
                    .clone()
                    .unwrap_or_else(|| "not yet".to_owned()),
            ),
        ),
        ("Locked until", data.locked_until.clone()),
        ("Deletion scheduled for", data.deletion_scheduled_at.clone()),
    ];
    let mut factors = Vec::new();
    if data.authenticator_app {
        factors.push(format!(
            "Authenticator app ({} backup codes left)",
            data.backup_codes_left
        ));
    }
    factors.extend(data.passkeys.iter().map(|p| {
        let used = p
            .last_used_at
            .clone()
            .map_or_else(|| "never used".to_owned(), |at| format!("last used {at}"));
        format!("Passkey “{}”, added {}, {used}", p.name, p.created_at)
    }));
    let has_factors = !factors.is_empty();
    let id = data.id.clone();
    let actions_card = if data.sudo {
        let mut offered = vec![AccountAction::RevokeSessions, AccountAction::Unlock];
        if has_factors {
            offered.push(AccountAction::TurnOffSecondFactors);
        }
        offered.push(AccountAction::RequirePasswordChange);
        if data.confirmed_at.is_none() {
            offered.push(AccountAction::ConfirmEmail);
        }
        let impersonate = data.impersonable.then(|| {
            let id = id.clone();
            view! {
                <ActionForm action=actions.impersonate>
                    <input type="hidden" name="id" value=id />
                    <SecondaryButton label="Impersonate" />
                </ActionForm>
            }
        });
        view! {
            <div class="flex flex-wrap gap-3" data-testid="admin-actions">
                {offered.into_iter().map(|what| view! { <ActForm action=actions.act id=id.clone() what /> }).collect_view()}
                {impersonate}
            </div>
        }
        .into_any()
    } else {
        view! {
            <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="admin-sudo">
                "To act on this account, "
                <TextLink href=paths::with_return_to(paths::SUDO, &paths::admin_user(&id))>"confirm your password"</TextLink>
                "."
            </p>
        }
        .into_any()
    };
    view! {
        <h1 class="text-2xl font-semibold tracking-tight break-all" data-testid="admin-user-email">{data.email.clone()}</h1>
        {(!data.badges.is_empty()).then(|| view! {
            <p class="flex flex-wrap gap-2">
                {data.badges.iter().map(|badge| view! {
                    <span class="rounded-full bg-indigo-100 px-2 py-0.5 text-xs font-medium text-indigo-900 dark:bg-indigo-900 dark:text-indigo-100" data-testid="admin-user-badge">{badge.clone()}</span>
                }).collect_view()}
            </p>
        })}
        <p class="text-sm"><TextLink href=format!("{}?user={}", paths::ADMIN_AUDIT, data.id)>"All of this account's activity"</TextLink></p>
        <p class="text-xs text-slate-500 dark:text-slate-400"><code>{data.id.clone()}</code></p>
        <Card>
            <h2 class="mb-3 text-lg font-semibold">"Actions"</h2>
            {actions_card}
        </Card>
        <Card>
            <h2 class="mb-3 text-lg font-semibold">"Status"</h2>
            <dl class="grid grid-cols-1 gap-2 text-sm sm:grid-cols-2">
                {status.into_iter().filter_map(|(label, value)| value.map(|value| view! {
                    <div><dt class="text-slate-500 dark:text-slate-400">{label}</dt><dd>{value}</dd></div>
                })).collect_view()}
            </dl>
        </Card>
        <Card>
            <h2 class="mb-3 text-lg font-semibold">"Log-in methods"</h2>
            <ul class="space-y-1 text-sm" data-testid="admin-user-factors">
                {factors.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
                {data.providers.iter().map(|p| view! { <li>{format!("Signs in with {p}")}</li> }).collect_view()}
            </ul>
        </Card>
        <Card>
            <h2 class="mb-3 text-lg font-semibold">"Organizations"</h2>
            <ul class="space-y-1 text-sm">
                {data.organizations.iter().map(|(name, slug, role)| view! {
                    <li>{format!("{name} (/{slug}), {role}")}</li>
                }).collect_view()}
            </ul>
        </Card>
        <Card>
            <h2 class="mb-3 text-lg font-semibold">"Sessions"</h2>
            <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="admin-user-sessions">
                {data.sessions.iter().map(|session| view! {
                    <SessionItem session=session.clone() user=data.id.clone() end=data.sudo.then_some(actions.revoke_session) />
                }).collect_view()}
            </ul>
        </Card>
        <Card>
            <h2 class="mb-3 text-lg font-semibold">"Recent activity"</h2>
            <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800">
                {data.recent_events.iter().map(|e| view! {
                    <li class="py-2">
                        {e.label.clone()} {e.failed.then_some(" (failed)")} " · "
                        <Time at=e.occurred_at.clone() />
                    </li>
                }).collect_view()}
            </ul>
        </Card>
        {data.sections.into_iter().map(|(title, fields)| view! {
            <Card>
                <h2 class="mb-3 text-lg font-semibold" data-testid="admin-user-section">{title}</h2>
                <dl class="grid grid-cols-1 gap-2 text-sm sm:grid-cols-2">
                    {fields.into_iter().map(|(label, value)| view! {
                        <div><dt class="text-slate-500 dark:text-slate-400">{label}</dt><dd>{value}</dd></div>
                    }).collect_view()}
                </dl>
            </Card>
        }).collect_view()}
    }
}

/// The explorer's filters in the address, in [`AUDIT_FILTERS`] order.
type AuditFilters = [Option<String>; 7];

/// `/admin/audit`: the audit trail, filtered by a GET form (shareable, working without
/// JavaScript), newest first, with a CSV export of the same filters.
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| AUDIT_FILTERS.map(|name| q.get(name).filter(|v| !v.is_empty())))
    });
    let data = Resource::new(
        move || filters.get(),
        |[user, organization, action_prefix, outcome, from, until, cursor]: AuditFilters| {
            admin_audit(
                user,
                organization,
                action_prefix,
                outcome,
                from,
                until,
                cursor,
            )
        },
    );
    // New events arrive at the top: follow them on the first page only.
    crate::live::on_admin_change(move || {
        if filters.with_untracked(|[.., cursor]| cursor.is_none()) {
            data.refetch();
        }
    });
    view! {
        <Title text="Audit trail · Admin" />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Audit trail"</h1>
            <AuditForm filters=filters.get_untracked() />
            <AccountPage data page=move |data| audit_list(
                data,
                audit_query_string(&filters.get_untracked()),
                paths::ADMIN_AUDIT.to_owned(),
                Some(paths::ADMIN_AUDIT_EXPORT.to_owned()),
            ) />
        </section>
    }
}

/// The filters as a query string (without the cursor), for the next page and the export.
fn audit_query_string(filters: &AuditFilters) -> String {
    AUDIT_FILTERS
        .iter()
        .zip(filters.iter())
        .filter(|(name, value)| **name != "cursor" && value.is_some())
        .map(|(name, value)| {
            format!(
                "{name}={}",
                paths::encode_query_value(value.as_deref().unwrap_or_default())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[component]
fn AuditForm(filters: AuditFilters) -> impl IntoView {
    let [user, organization, action_prefix, outcome, from, until, _] = filters;
    let areas: &[(&str, &str)] = &[
        ("", "Everything"),
        ("auth.", "Log-in and registration"),
        ("session.", "Sessions"),
        ("mfa.", "Two-factor authentication"),
        ("passkey.", "Passkeys"),
        ("oauth.", "Log-in providers"),
        ("api.", "API tokens and keys"),
        ("account.", "Account changes"),
        ("organization.", "Organizations"),
        ("admin.", "Administration"),
    ];
    let outcomes: &[(&str, &str)] = &[
        ("", "Either"),
        ("success", "Succeeded"),
        ("failure", "Failed"),
    ];
    let choice = |current: Option<String>, value: &'static str, text: &'static str| {
        let selected = current.as_deref().unwrap_or_default() == value;
        view! { <option value=value selected=selected>{text}</option> }
    };
    let input = "block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 dark:border-slate-700 dark:bg-slate-900";
    view! {
        <Card>
            <Form method="GET" action="" attr:class="grid grid-cols-1 gap-3 sm:grid-cols-2" attr:role="search">
                <div class="space-y-1">
                    <label for="audit-area" class="block text-sm font-medium">"Area"</label>
                    <select id="audit-area" name="action_prefix" class=input>
                        {areas.iter().map(|(value, text)| choice(action_prefix.clone(), value, text)).collect_view()}
                    </select>
                </div>
                <div class="space-y-1">
                    <label for="audit-outcome" class="block text-sm font-medium">"Outcome"</label>
                    <select id="audit-outcome" name="outcome" class=input>
                        {outcomes.iter().map(|(value, text)| choice(outcome.clone(), value, text)).collect_view()}
                    </select>
                </div>
                <div class="space-y-1">
                    <label for="audit-user" class="block text-sm font-medium">"User id"</label>
                    <input id="audit-user" name="user" value=user.unwrap_or_default() autocomplete="off" class=input />
                </div>
                <div class="space-y-1">
                    <label for="audit-organization" class="block text-sm font-medium">"Organization id"</label>
                    <input id="audit-organization" name="organization" value=organization.unwrap_or_default() autocomplete="off" class=input />
                </div>
                <div class="space-y-1">
                    <label for="audit-from" class="block text-sm font-medium">"From (UTC)"</label>
                    <input id="audit-from" name="from" type="date" value=from.unwrap_or_default() class=input />
                </div>
                <div class="space-y-1">
                    <label for="audit-until" class="block text-sm font-medium">"Until (UTC, not included)"</label>
                    <input id="audit-until" name="until" type="date" value=until.unwrap_or_default() class=input />
                </div>
                <div>
                    <button type="submit" class="rounded-md bg-indigo-600 px-4 py-1.5 font-semibold text-white hover:bg-indigo-500">"Filter"</button>
                </div>
            </Form>
        </Card>
    }
}

/// A page of audit events: `filter` is the query string of the filters (kept by the next
/// page's link, `page`, and by the export, when there is one).
pub(super) fn audit_list(
    data: AuditView,
    filter: String,
    page: String,
    export: Option<String>,
) -> impl IntoView {
    let AuditView {
        events,
        next_cursor,
    } = data;
    let join = |extra: String| {
        let query = [filter.clone(), extra]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("&");
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    };
    let export = export.map(|export| format!("{export}{}", join(String::new())));
    let next = next_cursor.map(|cursor| {
        format!(
            "{page}{}",
            join(format!("cursor={}", paths::encode_query_value(&cursor)))
        )
    });
    view! {
        <Card>
            {export.map(|export| view! {
                <p class="mb-3 text-sm">
                    // A download from the server, not a page: the router leaves it alone.
                    <a href=export rel="external" download="" class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
                        "Export these events as CSV"
                    </a>
                </p>
            })}
            {events.is_empty().then(|| view! {
                <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="no-events">"No events match."</p>
            })}
            <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="audit-list">
                {events.into_iter().map(|event| view! { <AuditItem event /> }).collect_view()}
            </ul>
            {next.map(|href| view! {
                <p class="mt-4 text-sm"><TextLink href>"Older events"</TextLink></p>
            })}
        </Card>
    }
}

#[component]
fn AuditItem(event: AuditEventView) -> impl IntoView {
    let mut details = vec![format!("by {}", event.actor)];
    if let Some(target) = &event.target {
        details.push(format!("on {target}"));
    }
    if let Some(organization) = &event.organization {
        details.push(format!("in {organization}"));
    }
    if let Some(ip) = &event.ip_address {
        details.push(format!("from {ip}"));
    }
    view! {
        <li class="py-2" data-testid="audit-event">
            <p>
                <span class="font-medium" data-testid="audit-label">{event.label.clone()}</span>
                {event.failed.then_some(" (failed)")}
                " · " <code class="text-xs" data-testid="audit-action">{event.action.clone()}</code>
            </p>
            <p class="text-xs text-slate-500 dark:text-slate-400">
                <Time at=event.occurred_at.clone() />
                {format!(" · {}", details.join(" · "))}
            </p>
        </li>
    }
}
