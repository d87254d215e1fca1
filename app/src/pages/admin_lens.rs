//! The organization lens: `/admin/organizations` (platform admins: every organization) and
//! `/admin/organizations/:slug` with its `/audit` (platform admins, and the organization's own
//! owners and admins; anyone else gets the 404 page).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::admin::audit_list;
use crate::admin::{
    admin_organizations, lens_audit, lens_overview, LensMemberView, LensView, OrganizationRowView,
};
use crate::components::account_page::AccountPage;
use crate::components::ui::{Card, TextLink};
use crate::paths;

/// `/admin/organizations`: the live organizations, searched by name or slug.
#[component]
pub fn AdminOrganizationsPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|q| q.get("q").filter(|v| !v.is_empty())));
    let data = Resource::new(move || q.get(), admin_organizations);
    view! {
        <Title text="Organizations · Admin" />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Organizations"</h1>
            <Card>
                <Form method="GET" action="" attr:class="flex flex-wrap items-end gap-3" attr:role="search">
                    <div class="min-w-[14rem] flex-1 space-y-1">
                        <label for="filter-org" class="block text-sm font-medium">"Name or slug"</label>
                        <input id="filter-org" name="q" type="search" value=q.get_untracked().unwrap_or_default() autocomplete="off"
                            class="block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 dark:border-slate-700 dark:bg-slate-900" />
                    </div>
                    <button type="submit" class="rounded-md bg-indigo-600 px-4 py-1.5 font-semibold text-white hover:bg-indigo-500">"Search"</button>
                </Form>
            </Card>
            <AccountPage data page=organization_list />
        </section>
    }
}

fn organization_list(rows: Vec<OrganizationRowView>) -> impl IntoView {
    view! {
        <Card>
            {rows.is_empty().then(|| view! { <p class="text-sm text-slate-500 dark:text-slate-400">"No organization matches."</p> })}
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="organization-list">
                {rows.into_iter().map(|row| view! { <OrganizationItem row /> }).collect_view()}
            </ul>
        </Card>
    }
}

#[component]
fn OrganizationItem(row: OrganizationRowView) -> impl IntoView {
    let members = if row.members == 1 {
        "1 member".to_owned()
    } else {
        format!("{} members", row.members)
    };
    view! {
        <li class="py-2">
            <span data-testid="organization-name"><TextLink href=paths::admin_organization(&row.slug)>{row.name.clone()}</TextLink></span>
            <p class="text-xs text-slate-500 dark:text-slate-400">
                <code>{row.slug.clone()}</code>
                {format!(" · {members} · created {}", row.created_at)}
                {row.personal.then_some(" · personal")}
            </p>
        </li>
    }
}

/// `/admin/organizations/:slug`: the members and invitations of one organization.
#[component]
pub fn AdminOrganizationPage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()));
    let data = Resource::new(move || slug.get(), lens_overview);
    view! {
        <Title text="Organization · Admin" />
        <section class="space-y-6">
            <AccountPage data page=lens />
        </section>
    }
}

fn lens(data: LensView) -> impl IntoView {
    let LensView {
        name,
        slug,
        by_platform_admin,
        members_need_second_factor,
        members,
        pending_invitations,
    } = data;
    view! {
        <h1 class="text-2xl font-semibold tracking-tight break-all" data-testid="lens-name">{name}</h1>
        <p class="flex gap-4 text-sm">
            {by_platform_admin.then(|| view! { <TextLink href=paths::ADMIN_ORGANIZATIONS>"All organizations"</TextLink> })}
            <TextLink href=paths::admin_organization_audit(&slug)>"This organization's activity"</TextLink>
            <TextLink href=paths::organization(&slug)>"Open the organization"</TextLink>
        </p>
        <Card>
            <p class="mb-3 text-sm text-slate-600 dark:text-slate-300">
                {format!(
                    "{} · {} pending invitation{} · two-factor authentication {}",
                    if members.len() == 1 { "1 member".to_owned() } else { format!("{} members", members.len()) },
                    pending_invitations,
                    if pending_invitations == 1 { "" } else { "s" },
                    if members_need_second_factor { "required" } else { "up to each member" },
                )}
            </p>
            <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="lens-members">
                {members.into_iter().map(|member| view! { <MemberItem member linked=by_platform_admin /> }).collect_view()}
            </ul>
        </Card>
    }
}

#[component]
fn MemberItem(member: LensMemberView, linked: bool) -> impl IntoView {
    let email = if linked {
        view! { <TextLink href=paths::admin_user(&member.user_id)>{member.email.clone()}</TextLink> }.into_any()
    } else {
        view! { <span>{member.email.clone()}</span> }.into_any()
    };
    view! {
        <li class="py-2" data-testid="lens-member">
            <p>{email} " · " {member.role.clone()}</p>
            <p class="text-xs text-slate-500 dark:text-slate-400">
                {format!(
                    "joined {} · {}",
                    member.joined_at,
                    if member.second_factor { "two-factor on" } else { "no second factor" }
                )}
            </p>
        </li>
    }
}

/// `/admin/organizations/:slug/audit`: the organization's audit events, newest first.
#[component]
pub fn AdminOrganizationAuditPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()));
    let cursor = Memo::new(move |_| query.with(|q| q.get("cursor").filter(|v| !v.is_empty())));
    let data = Resource::new(
        move || (slug.get(), cursor.get()),
        |(slug, cursor)| lens_audit(slug, cursor),
    );
    view! {
        <Title text="Organization activity · Admin" />
        <section class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Activity"</h1>
            <p class="text-sm"><TextLink href=paths::admin_organization(&slug.get_untracked())>"Back to the organization"</TextLink></p>
            <AccountPage data page=move |data| audit_list(
                data,
                String::new(),
                paths::admin_organization_audit(&slug.get_untracked()),
                Some(paths::admin_organization_audit_export(&slug.get_untracked())),
            ) />
        </section>
    }
}
