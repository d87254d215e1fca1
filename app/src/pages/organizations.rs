//! The organization pages: the user's list, creating one, and each organization's overview,
//! members, projects (the example organization-owned table) and settings. Every page of one
//! organization loads through [`OrgPage`]: an organization the user does not belong to is the
//! 404 page, and a slug given up lately redirects to the same page under the new slug.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::components::account_page::AccountPage;
use crate::components::forms::{ActionError, Field, FormCard, FormError, Submit};
use crate::components::time::Time;
use crate::components::ui::{Banner, Card, RemoveButton, SecondaryButton, TextLink, Tone};
use crate::error::UiError;
use crate::organizations::{
    list_projects, my_organizations, organization_members, organization_overview,
    organization_settings, ChangeMemberRole, ChangeOrganizationSlug, CreateOrganization,
    CreateProject, DeleteOrganization, DeleteProject, InvitationRow, InviteMember, MemberRow,
    MembersView, OrgHeader, OrgSettingsView, OrganizationsView, OverviewView, Permissions,
    ProjectRow, ProjectsView, RemoveMember, RevokeInvitation, Scoped, UpdateOrganization,
};
use crate::paths;

/// `/organizations`: the user's organizations.
#[component]
pub fn OrganizationsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| my_organizations());
    view! {
        <Title text="Organizations" />
        <section class="space-y-6">
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h1 class="text-2xl font-semibold tracking-tight">"Organizations"</h1>
                <TextLink href=paths::NEW_ORGANIZATION>"Create an organization"</TextLink>
            </div>
            <AccountPage data page=organization_list />
        </section>
    }
}

fn organization_list(data: OrganizationsView) -> impl IntoView {
    let OrganizationsView {
        organizations,
        active,
    } = data;
    view! {
        <Card>
            {organizations.is_empty().then(|| view! {
                <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="no-organizations">
                    "You do not belong to an organization yet. Create one, or open an invitation you were mailed."
                </p>
            })}
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="organization-list">
                {organizations.into_iter().map(|org| {
                    let current = (active.as_deref() == Some(org.slug.as_str()))
                        .then(|| view! { <span class="ml-2 rounded bg-indigo-100 px-1.5 py-0.5 text-xs text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200">"current"</span> });
                    view! {
                        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="organization">
                            <div>
                                <TextLink href=paths::organization(&org.slug)>{org.name.clone()}</TextLink>
                                {current}
                                <p class="text-xs text-slate-500 dark:text-slate-400">
                                    {format!("/{} · {}", org.slug, org.role)}
                                    {org.personal.then_some(" · personal")}
                                </p>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </Card>
    }
}

/// `/organizations/new`.
#[component]
pub fn NewOrganizationPage() -> impl IntoView {
    let create = ServerAction::<CreateOrganization>::new();
    // Only to send a signed-out visitor to log in first.
    let data = Resource::new(|| (), |_| my_organizations());
    view! {
        <Title text="Create an organization" />
        <AccountPage data page=move |_| view! {
            <FormCard title="Create an organization">
                <ActionForm action=create attr:class="space-y-4">
                    <FormError action=create />
                    <Field label="Name" name="name" autocomplete="organization"
                        hint=Signal::derive(|| "Its address is made from the name; you can change it later.".to_owned()) />
                    <Submit label="Create organization" pending=create.pending().into() />
                </ActionForm>
            </FormCard>
        } />
    }
}

/// The slug in the address.
fn slug_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()))
}

/// A page of one organization: its tabs, then `page` with its data. A slug given up lately
/// redirects to `to(new slug)`; an organization the user does not belong to is not found.
#[component]
fn OrgPage<T, V, F>(
    data: Resource<Result<Scoped<T>, UiError>>,
    #[prop(optional)] errors: Option<ActionError>,
    to: fn(&str) -> String,
    page: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Copy + Send + Sync + 'static,
{
    let render = move |scoped: Scoped<T>| match scoped {
        Scoped::Ready(data) => page(data).into_any(),
        Scoped::Moved(slug) => view! { <Redirect path=to(&slug) /> }.into_any(),
    };
    match errors {
        Some(errors) => view! { <AccountPage data errors page=render /> }.into_any(),
        None => view! { <AccountPage data page=render /> }.into_any(),
    }
}

/// The organization's name and its tabs.
#[component]
fn OrgTabs(org: OrgHeader) -> impl IntoView {
    let link = "rounded-md px-3 py-1.5 text-sm font-medium hover:bg-slate-100 dark:hover:bg-slate-800 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-800 dark:aria-[current=page]:bg-indigo-950 dark:aria-[current=page]:text-indigo-200";
    let tabs = [
        ("Overview", paths::organization(&org.slug)),
        ("Members", paths::organization_members(&org.slug)),
        ("Projects", paths::organization_projects(&org.slug)),
        ("Settings", paths::organization_settings(&org.slug)),
    ];
    view! {
        <div class="space-y-3">
            <h1 class="text-2xl font-semibold tracking-tight" data-testid="organization-name">{org.name.clone()}</h1>
            <nav aria-label="Organization pages" class="flex flex-wrap gap-1">
                {tabs.into_iter().map(|(label, href)| view! {
                    <leptos_router::components::A href attr:class=link>{label}</leptos_router::components::A>
                }).collect_view()}
            </nav>
        </div>
    }
}

/// `/organizations/:slug`.
#[component]
pub fn OrganizationPage() -> impl IntoView {
    let slug = slug_param();
    let data = Resource::new(move || slug.get(), organization_overview);
    view! {
        <Title text="Organization" />
        <section class="space-y-6">
            <OrgPage data to=|slug| paths::organization(slug) page=overview />
        </section>
    }
}

fn overview(data: OverviewView) -> impl IntoView {
    let OverviewView {
        org,
        members,
        created_at,
    } = data;
    let members = if members == 1 {
        "1 member".to_owned()
    } else {
        format!("{members} members")
    };
    view! {
        <OrgTabs org=org.clone() />
        <Card>
            <dl class="grid grid-cols-1 gap-3 text-sm sm:grid-cols-2">
                <div><dt class="text-slate-500 dark:text-slate-400">"Your role"</dt><dd data-testid="organization-role">{org.role.clone()}</dd></div>
                <div><dt class="text-slate-500 dark:text-slate-400">"Members"</dt><dd>{members}</dd></div>
                <div><dt class="text-slate-500 dark:text-slate-400">"Address"</dt><dd><code>{paths::organization(&org.slug)}</code></dd></div>
                <div><dt class="text-slate-500 dark:text-slate-400">"Created"</dt><dd><Time at=created_at.clone() /></dd></div>
                <div><dt class="text-slate-500 dark:text-slate-400">"Two-factor authentication"</dt>
                    <dd>{if org.members_need_second_factor { "Required of every member" } else { "Up to each member" }}</dd></div>
            </dl>
            {org.may.manage_members.then(|| view! {
                <p class="mt-4 text-sm">
                    <TextLink href=paths::admin_organization(&org.slug)>"Admin view: members' security and activity"</TextLink>
                </p>
            })}
        </Card>
    }
}

/// The forms of the members page, made once so their errors survive re-renders.
#[derive(Clone, Copy)]
struct MemberActions {
    invite: ServerAction<InviteMember>,
    revoke: ServerAction<RevokeInvitation>,
    change_role: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
}

/// `/organizations/:slug/members`: members, their roles, invitations, leaving.
#[component]
pub fn MembersPage() -> impl IntoView {
    let slug = slug_param();
    let actions = MemberActions {
        invite: ServerAction::new(),
        revoke: ServerAction::new(),
        change_role: ServerAction::new(),
        remove: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                slug.get(),
                actions.invite.version().get(),
                actions.revoke.version().get(),
                actions.change_role.version().get(),
                actions.remove.version().get(),
            )
        },
        |(slug, ..)| organization_members(slug),
    );
    let errors = ActionError::first([
        actions.invite.into(),
        actions.revoke.into(),
        actions.change_role.into(),
        actions.remove.into(),
    ]);
    view! {
        <Title text="Members" />
        <section class="space-y-6">
            <OrgPage data errors to=|slug| paths::organization_members(slug) page=move |data| members(data, actions) />
        </section>
    }
}

fn members(data: MembersView, actions: MemberActions) -> impl IntoView {
    let MembersView {
        org,
        members,
        invitations,
        roles,
    } = data;
    let slug = org.slug.clone();
    let may = org.may;
    let invite_form = may.invite.then(|| {
        let roles = roles.clone();
        let slug = slug.clone();
        view! {
            <Card>
                <h2 class="mb-4 text-lg font-semibold">"Invite someone"</h2>
                <ActionForm action=actions.invite attr:class="space-y-4">
                    <input type="hidden" name="slug" value=slug />
                    <Field label="Email address" name="email" kind="email" autocomplete="off" id="field-invite-email" />
                    <div class="space-y-1">
                        <label for="field-invite-role" class="block text-sm font-medium">"Role"</label>
                        <select id="field-invite-role" name="role" class="rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900">
                            {roles.into_iter().map(|role| {
                                let selected = role == "member";
                                view! { <option value=role.clone() selected=selected>{role.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <Submit label="Send invitation" pending=actions.invite.pending().into() />
                </ActionForm>
            </Card>
        }
    });
    let pending = (may.invite && !invitations.is_empty()).then(|| {
        let slug = slug.clone();
        view! {
            <Card>
                <h2 class="mb-4 text-lg font-semibold">"Pending invitations"</h2>
                <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="invitation-list">
                    {invitations.into_iter().map(|invitation| view! {
                        <InvitationItem invitation slug=slug.clone() revoke=actions.revoke />
                    }).collect_view()}
                </ul>
            </Card>
        }
    });
    view! {
        <OrgTabs org=org.clone() />
        {invite_form}
        {pending}
        <Card>
            <h2 class="mb-4 text-lg font-semibold">"Members"</h2>
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="member-list">
                {members.into_iter().map(|member| view! {
                    <MemberItem member slug=slug.clone() roles=roles.clone() may actions />
                }).collect_view()}
            </ul>
        </Card>
    }
}

#[component]
fn InvitationItem(
    invitation: InvitationRow,
    slug: String,
    revoke: ServerAction<RevokeInvitation>,
) -> impl IntoView {
    let about = format!("the invitation of {}", invitation.email);
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="invitation">
            <div>
                <p class="font-medium break-all">{invitation.email}</p>
                <p class="text-xs text-slate-500 dark:text-slate-400">
                    {invitation.role} " · expires "
                    <Time at=invitation.expires_at.clone() />
                </p>
            </div>
            <ActionForm action=revoke>
                <input type="hidden" name="slug" value=slug />
                <input type="hidden" name="id" value=invitation.id />
                <RemoveButton label="Revoke" about />
            </ActionForm>
        </li>
    }
}

#[component]
fn MemberItem(
    member: MemberRow,
    slug: String,
    roles: Vec<String>,
    may: Permissions,
    actions: MemberActions,
) -> impl IntoView {
    let manageable =
        !member.you && may.manage_members && (member.role != "owner" || may.manage_owners);
    let controls = manageable.then(|| {
        let select_id = format!("role-{}", member.user_id);
        let role_label = format!("Role of {}", member.email);
        let current = member.role.clone();
        let (slug_a, slug_b) = (slug.clone(), slug.clone());
        let (id_a, id_b) = (member.user_id.clone(), member.user_id.clone());
        let (email_a, email_b) = (member.email.clone(), member.email.clone());
        view! {
            <div class="flex flex-wrap items-center gap-3">
                <ActionForm action=actions.change_role attr:class="flex items-center gap-2">
                    <input type="hidden" name="slug" value=slug_a />
                    <input type="hidden" name="user_id" value=id_a />
                    <label for=select_id.clone() class="sr-only">{role_label}</label>
                    <select id=select_id name="role" class="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-900">
                        {roles.into_iter().map(|role| {
                            let selected = role == current;
                            view! { <option value=role.clone() selected=selected>{role.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <SecondaryButton label="Change role" about=email_a />
                </ActionForm>
                <ActionForm action=actions.remove>
                    <input type="hidden" name="slug" value=slug_b />
                    <input type="hidden" name="user_id" value=id_b />
                    <RemoveButton label="Remove" about=email_b />
                </ActionForm>
            </div>
        }
    });
    let leave = member.you.then(|| {
        let (slug, id) = (slug.clone(), member.user_id.clone());
        view! {
            <ActionForm action=actions.remove>
                <input type="hidden" name="slug" value=slug />
                <input type="hidden" name="user_id" value=id />
                <RemoveButton label="Leave organization" />
            </ActionForm>
        }
    });
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="member">
            <div>
                <p class="font-medium break-all">{member.email.clone()} {member.you.then_some(" (you)")}</p>
                <p class="text-xs text-slate-500 dark:text-slate-400">
                    <span data-testid="member-role">{member.role.clone()}</span> " · joined "
                    <Time at=member.joined_at.clone() />
                </p>
            </div>
            {controls}
            {leave}
        </li>
    }
}

/// The forms of the projects page.
#[derive(Clone, Copy)]
struct ProjectActions {
    create: ServerAction<CreateProject>,
    delete: ServerAction<DeleteProject>,
}

/// `/organizations/:slug/projects`: the example organization-owned table.
#[component]
pub fn ProjectsPage() -> impl IntoView {
    let slug = slug_param();
    let actions = ProjectActions {
        create: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                slug.get(),
                actions.create.version().get(),
                actions.delete.version().get(),
            )
        },
        |(slug, ..)| list_projects(slug),
    );
    let errors = ActionError::first([actions.create.into(), actions.delete.into()]);
    view! {
        <Title text="Projects" />
        <section class="space-y-6">
            <OrgPage data errors to=|slug| paths::organization_projects(slug) page=move |data| projects(data, actions) />
        </section>
    }
}

fn projects(data: ProjectsView, actions: ProjectActions) -> impl IntoView {
    let ProjectsView { org, projects } = data;
    let slug = org.slug.clone();
    let may_delete = org.may.manage_members;
    let list_slug = slug.clone();
    view! {
        <OrgTabs org=org.clone() />
        <Card>
            <h2 class="mb-4 text-lg font-semibold">"New project"</h2>
            <ActionForm action=actions.create attr:class="space-y-4">
                <input type="hidden" name="slug" value=slug />
                <Field label="Project name" name="name" autocomplete="off" />
                <Submit label="Add project" pending=actions.create.pending().into() />
            </ActionForm>
        </Card>
        <Card>
            <h2 class="mb-4 text-lg font-semibold">"Projects"</h2>
            {projects.is_empty().then(|| view! {
                <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="no-projects">"No projects yet."</p>
            })}
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="project-list">
                {projects.into_iter().map(|project| view! {
                    <ProjectItem project slug=list_slug.clone() may_delete delete=actions.delete />
                }).collect_view()}
            </ul>
        </Card>
    }
}

#[component]
fn ProjectItem(
    project: ProjectRow,
    slug: String,
    may_delete: bool,
    delete: ServerAction<DeleteProject>,
) -> impl IntoView {
    let form = may_delete.then(|| {
        let (id, about) = (project.id.clone(), project.name.clone());
        view! {
            <ActionForm action=delete>
                <input type="hidden" name="slug" value=slug />
                <input type="hidden" name="id" value=id />
                <RemoveButton label="Delete" about />
            </ActionForm>
        }
    });
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="project">
            <div>
                <p class="font-medium">{project.name}</p>
                <p class="text-xs text-slate-500 dark:text-slate-400">
                    "created " <Time at=project.created_at.clone() />
                </p>
            </div>
            {form}
        </li>
    }
}

/// The forms of the settings page.
#[derive(Clone, Copy)]
struct SettingsActions {
    update: ServerAction<UpdateOrganization>,
    change_slug: ServerAction<ChangeOrganizationSlug>,
    delete: ServerAction<DeleteOrganization>,
}

/// `/organizations/:slug/settings`: name, two-factor requirement, slug, deletion.
#[component]
pub fn OrganizationSettingsPage() -> impl IntoView {
    let slug = slug_param();
    let actions = SettingsActions {
        update: ServerAction::new(),
        change_slug: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let data = Resource::new(
        move || (slug.get(), actions.update.version().get()),
        |(slug, _)| organization_settings(slug),
    );
    let errors = ActionError::first([
        actions.update.into(),
        actions.change_slug.into(),
        actions.delete.into(),
    ]);
    view! {
        <Title text="Organization settings" />
        <section class="space-y-6">
            <OrgPage data errors to=|slug| paths::organization_settings(slug) page=move |data| settings(data, actions) />
        </section>
    }
}

fn settings(data: OrgSettingsView, actions: SettingsActions) -> impl IntoView {
    let OrgSettingsView { org, sudo } = data;
    let may = org.may;
    let slug = org.slug.clone();
    let back: &'static str = "To change the address or delete the organization";
    let general = may.update_settings.then(|| {
        let slug = slug.clone();
        let name = org.name.clone();
        view! {
            <Card>
                <h2 class="mb-4 text-lg font-semibold">"General"</h2>
                <ActionForm action=actions.update attr:class="space-y-4">
                    <input type="hidden" name="slug" value=slug />
                    <div class="space-y-1">
                        <label for="field-org-name" class="block text-sm font-medium">"Name"</label>
                        <input id="field-org-name" name="name" required=true value=name autocomplete="organization"
                            class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900" />
                    </div>
                    <label class="flex items-start gap-2 text-sm">
                        <input type="checkbox" name="members_need_second_factor" value="on" checked=org.members_need_second_factor class="mt-1" />
                        <span>"Members must use two-factor authentication. Members without it are asked to set it up before they can open the organization."</span>
                    </label>
                    <Submit label="Save" pending=actions.update.pending().into() />
                </ActionForm>
            </Card>
        }
    });
    let slug_form = may.change_slug.then(|| {
        let slug = slug.clone();
        view! {
            <Card>
                <h2 class="mb-2 text-lg font-semibold">"Address"</h2>
                <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                    "The organization is at " <code>{paths::organization(&slug)}</code>
                    ". After a change the old address keeps leading here for a while, then another organization may take it."
                </p>
                {if sudo {
                    view! {
                        <ActionForm action=actions.change_slug attr:class="space-y-4">
                            <input type="hidden" name="slug" value=slug.clone() />
                            <Field label="New address name" name="new_slug" autocomplete="off"
                                hint=Signal::derive(|| "3 to 63 lowercase letters, digits and dashes.".to_owned()) />
                            <p class="text-sm">"To confirm, type " <strong>{slug.clone()}</strong> " below."</p>
                            <Field label="Current address name" name="confirm_slug" autocomplete="off" />
                            <Submit label="Change address" pending=actions.change_slug.pending().into() />
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <OrgSudoFirst what=back slug=slug.clone() /> }.into_any()
                }}
            </Card>
        }
    });
    let delete_form = (may.delete && !org.personal).then(|| {
        let slug = slug.clone();
        let name = org.name.clone();
        view! {
            <Card>
                <h2 class="mb-2 text-lg font-semibold">"Delete the organization"</h2>
                <Banner tone=Tone::Danger class="mb-4">
                    "Every member loses access at once, and pending invitations stop working."
                </Banner>
                {if sudo {
                    view! {
                        <ActionForm action=actions.delete attr:class="space-y-4">
                            <input type="hidden" name="slug" value=slug.clone() />
                            <p class="text-sm">"To confirm, type " <strong class="break-all">{name.clone()}</strong> " below."</p>
                            <Field label="Organization name" name="confirm_name" autocomplete="off" />
                            <button type="submit" disabled=move || actions.delete.pending().get()
                                class="w-full rounded-md bg-rose-700 px-4 py-2 font-semibold text-white shadow-sm hover:bg-rose-600 disabled:opacity-60">
                                "Delete organization"
                            </button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <OrgSudoFirst what=back slug=slug.clone() /> }.into_any()
                }}
            </Card>
        }
    });
    let nothing = (!may.update_settings && !may.change_slug && !may.delete).then(|| view! {
        <Card>
            <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="settings-not-allowed">
                "Only the organization's owners and admins can change its settings."
            </p>
        </Card>
    });
    view! {
        <OrgTabs org=org.clone() />
        {general}
        {slug_form}
        {delete_form}
        {nothing}
    }
}

/// Sudo first, coming back to this organization's settings.
#[component]
fn OrgSudoFirst(what: &'static str, slug: String) -> impl IntoView {
    view! {
        <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="organization-sudo">
            {what} ", "
            <TextLink href=paths::with_return_to(paths::SUDO, &paths::organization_settings(&slug))>"confirm your password"</TextLink>
            "."
        </p>
    }
}
