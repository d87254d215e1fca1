//! The admin area's server functions, each a thin adapter over `sigra.admin()` taking the
//! platform admin proof from [`ssr::platform_admin`], and the types they send to the browser.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::UiError;

#[cfg(feature = "ssr")]
pub mod extensions;
pub(crate) mod impersonation;
pub(crate) mod lens;

#[cfg(feature = "ssr")]
pub(crate) use impersonation::ssr::stop as stop_impersonation_of;
pub use impersonation::{
    admin_impersonate, stop_impersonation, AdminImpersonate, StopImpersonation,
};
pub use lens::{
    admin_organizations, lens_audit, lens_overview, LensMemberView, LensView, OrganizationRowView,
};

/// `/admin`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewView {
    /// Accounts in use.
    pub users: i64,
    /// With a confirmed address.
    pub confirmed: i64,
    /// With an authenticator app or a passkey.
    pub with_second_factor: i64,
    /// Locked now.
    pub locked: i64,
    /// Sessions that have not expired.
    pub active_sessions: i64,
    /// Log-ins in the last 24 hours.
    pub sign_ins_last_day: i64,
}

/// One account in the user list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRowView {
    /// Its id.
    pub id: String,
    /// Its address.
    pub email: String,
    /// The name it goes by, if one was chosen.
    pub display_name: Option<String>,
    /// When it registered (RFC 3339, UTC).
    pub created_at: String,
    /// Whether the address is confirmed.
    pub confirmed: bool,
    /// "authenticator app", "2 passkeys", … or empty.
    pub second_factors: Vec<String>,
    /// Until when it is locked (RFC 3339, UTC), if it is.
    pub locked_until: Option<String>,
    /// Whether it is deleted or scheduled for deletion.
    pub deleted: bool,
    /// What the host adds to the row, as `(label, value)`.
    pub fields: Vec<(String, String)>,
}

/// `/admin/users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersView {
    /// This page of accounts.
    pub users: Vec<UserRowView>,
    /// How many match in all.
    pub total: i64,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// The overview's counts.
#[server(prefix = "/api/admin", endpoint = "overview")]
pub async fn admin_overview() -> Result<OverviewView, UiError> {
    let cx = crate::ssr::context().await?;
    let admin = ssr::platform_admin(&cx).await?;
    let counts = cx.sigra.admin().overview(&admin).await?;
    Ok(OverviewView {
        users: counts.users,
        confirmed: counts.confirmed,
        with_second_factor: counts.with_second_factor,
        locked: counts.locked,
        active_sessions: counts.active_sessions,
        sign_ins_last_day: counts.sign_ins_last_day,
    })
}

/// The user list's GET form, as the page's address carries it: every filter
/// [`sigra::admin::UserQuery::from_params`] knows, by the same names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserFilters {
    /// Part of an address, or an id.
    pub q: Option<String>,
    /// `yes`, `no`, or either.
    pub confirmed: Option<String>,
    /// `yes`, `no`, or either.
    pub second_factor: Option<String>,
    /// `yes`, `no`, or either.
    pub passkeys: Option<String>,
    /// `yes`, `no`, or either.
    pub locked: Option<String>,
    /// `yes`, `all`, or only accounts in use.
    pub deleted: Option<String>,
    /// A linked log-in provider.
    pub provider: Option<String>,
    /// An organization's slug.
    pub organization: Option<String>,
    /// Registered from (a day or a time).
    pub from: Option<String>,
    /// Registered before (a day or a time).
    pub until: Option<String>,
    /// `oldest`, or newest first.
    pub sort: Option<String>,
    /// The page's cursor.
    pub cursor: Option<String>,
}

impl UserFilters {
    /// The names and values, in the form's order.
    pub fn pairs(&self) -> [(&'static str, Option<&str>); 12] {
        [
            ("q", self.q.as_deref()),
            ("confirmed", self.confirmed.as_deref()),
            ("second_factor", self.second_factor.as_deref()),
            ("passkeys", self.passkeys.as_deref()),
            ("locked", self.locked.as_deref()),
            ("deleted", self.deleted.as_deref()),
            ("provider", self.provider.as_deref()),
            ("organization", self.organization.as_deref()),
            ("from", self.from.as_deref()),
            ("until", self.until.as_deref()),
            ("sort", self.sort.as_deref()),
            ("cursor", self.cursor.as_deref()),
        ]
    }

    /// The filters from the page's query parameters (empty ones are absent).
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| get(name).filter(|value| !value.is_empty());
        Self {
            q: get("q"),
            confirmed: get("confirmed"),
            second_factor: get("second_factor"),
            passkeys: get("passkeys"),
            locked: get("locked"),
            deleted: get("deleted"),
            provider: get("provider"),
            organization: get("organization"),
            from: get("from"),
            until: get("until"),
            sort: get("sort"),
            cursor: get("cursor"),
        }
    }
}

/// A page of the user list, filtered by [`UserFilters`].
#[server(prefix = "/api/admin", endpoint = "users")]
pub async fn admin_users(#[server(default)] filters: UserFilters) -> Result<UsersView, UiError> {
    use sigra::admin::UserQuery;

    let cx = crate::ssr::context().await?;
    let admin = ssr::platform_admin(&cx).await?;
    let query = UserQuery::from_params(
        filters
            .pairs()
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| (name, value))),
    );
    let list = cx.sigra.admin().users(&admin, &query).await?;
    Ok(UsersView {
        users: list
            .users
            .into_iter()
            .map(|user| {
                let mut second_factors = Vec::new();
                if user.authenticator_app {
                    second_factors.push("authenticator app".to_owned());
                }
                match user.passkeys {
                    0 => {}
                    1 => second_factors.push("1 passkey".to_owned()),
                    n => second_factors.push(format!("{n} passkeys")),
                }
                UserRowView {
                    id: user.id,
                    email: user.email,
                    display_name: user.display_name,
                    created_at: user.created_at.to_string(),
                    confirmed: user.confirmed_at.is_some(),
                    second_factors,
                    locked_until: user.locked_until.map(|t| t.to_string()),
                    deleted: user.deleted,
                    fields: user
                        .fields
                        .into_iter()
                        .map(|field| (field.label, field.value))
                        .collect(),
                }
            })
            .collect(),
        total: list.total,
        next_cursor: list.next_cursor,
    })
}

/// A passkey on the detail page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    /// Its name.
    pub name: String,
    /// When it was added (RFC 3339, UTC).
    pub created_at: String,
    /// When it last logged in.
    pub last_used_at: Option<String>,
}

/// A session on the detail page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Its id (to end it).
    pub id: String,
    /// `standard`, `remember_me`, `mfa_pending` or `impersonation`.
    pub kind: String,
    /// The browser.
    pub user_agent: Option<String>,
    /// The address it came from, and the place when known.
    pub from: Option<String>,
    /// When it was last used (RFC 3339, UTC).
    pub last_seen_at: String,
}

/// An audit event on the detail page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    /// What happened, in words.
    pub label: String,
    /// Whether it failed.
    pub failed: bool,
    /// When (RFC 3339, UTC).
    pub occurred_at: String,
}

/// `/admin/users/:id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetailView {
    /// The id.
    pub id: String,
    /// The address.
    pub email: String,
    /// When it registered.
    pub created_at: String,
    /// When the address was confirmed.
    pub confirmed_at: Option<String>,
    /// Until when it is locked, if it is.
    pub locked_until: Option<String>,
    /// When it is to be deleted, if scheduled.
    pub deletion_scheduled_at: Option<String>,
    /// Whether it has an authenticator app.
    pub authenticator_app: bool,
    /// Backup codes left.
    pub backup_codes_left: i64,
    /// Its passkeys.
    pub passkeys: Vec<PasskeyView>,
    /// Linked providers.
    pub providers: Vec<String>,
    /// `(name, slug, role)` of each organization.
    pub organizations: Vec<(String, String, String)>,
    /// Live sessions.
    pub sessions: Vec<SessionView>,
    /// Recent audit events.
    pub recent_events: Vec<EventView>,
    /// Whether sudo is open (the actions need it).
    pub sudo: bool,
    /// Whether the admin may work as this account (not a platform admin, not the admin's
    /// own, not being deleted).
    pub impersonable: bool,
    /// The host's badges.
    pub badges: Vec<String>,
    /// The host's sections, as a title and `(label, value)` rows.
    pub sections: Vec<(String, Vec<(String, String)>)>,
}

/// One account, for `/admin/users/:id`.
#[server(prefix = "/api/admin", endpoint = "user")]
pub async fn admin_user(id: String) -> Result<UserDetailView, UiError> {
    let cx = crate::ssr::context().await?;
    let admin = ssr::platform_admin(&cx).await?;
    let user = sigra::users::UserId::from_client(&id);
    let detail = cx.sigra.admin().user(&admin, &user).await?;
    let sudo = cx.sigra.sessions().sudo(cx.require_user()?).is_ok();
    let impersonable = !detail.platform_admin
        && detail.id != admin.user().id.as_str()
        && detail.deletion_scheduled_at.is_none();
    Ok(UserDetailView {
        id: detail.id,
        email: detail.email,
        created_at: detail.created_at.to_string(),
        confirmed_at: detail.confirmed_at.map(|t| t.to_string()),
        locked_until: detail.locked_until.map(|t| t.to_string()),
        deletion_scheduled_at: detail.deletion_scheduled_at.map(|t| t.to_string()),
        authenticator_app: detail.authenticator_app,
        backup_codes_left: detail.backup_codes_left,
        passkeys: detail
            .passkeys
            .into_iter()
            .map(|p| PasskeyView {
                name: p.name,
                created_at: p.created_at.to_string(),
                last_used_at: p.last_used_at.map(|t| t.to_string()),
            })
            .collect(),
        providers: detail.providers,
        organizations: detail.organizations,
        sessions: detail
            .sessions
            .into_iter()
            .map(|s| SessionView {
                id: s.id,
                from: match (s.ip, s.place) {
                    (Some(ip), Some(place)) => Some(format!("{ip} ({place})")),
                    (ip, place) => ip.or(place),
                },
                kind: s.kind,
                user_agent: s.user_agent,
                last_seen_at: s.last_seen_at.to_string(),
            })
            .collect(),
        recent_events: detail
            .recent_events
            .into_iter()
            .map(|e| EventView {
                label: crate::account::action_label(&e.action, e.outcome != "failure").to_owned(),
                failed: e.outcome == "failure",
                occurred_at: e.occurred_at.to_string(),
            })
            .collect(),
        sudo,
        impersonable,
        badges: detail.badges,
        sections: detail
            .sections
            .into_iter()
            .map(|section| {
                let fields = section
                    .fields
                    .into_iter()
                    .map(|field| (field.label, field.value))
                    .collect();
                (section.title, fields)
            })
            .collect(),
    })
}

/// Ends one session of the account `id` (needs sudo).
#[server(prefix = "/api/admin", endpoint = "revoke-session")]
pub async fn admin_revoke_session(id: String, session: String) -> Result<(), UiError> {
    let (cx, admin, sudo, user) = ssr::acting_on(&id).await?;
    let session = sigra::sessions::SessionId::from_client(&session);
    cx.sigra
        .admin()
        .revoke_session(&admin, &sudo, &user, &session, &cx.request)
        .await?;
    crate::flash::ssr::set(crate::flash::Flash::AdminSessionRevoked);
    leptos_axum::redirect(&crate::paths::admin_user(&id));
    Ok(())
}

/// What an admin may do to an account from its page, each under the admin's sudo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountAction {
    /// End every session and API session.
    RevokeSessions,
    /// Lift the password and second-factor locks.
    Unlock,
    /// Turn off the second factors of an owner who lost them (they are mailed).
    TurnOffSecondFactors,
    /// Make the owner choose a new password before anything else (every session ends).
    RequirePasswordChange,
    /// Mark the address confirmed.
    ConfirmEmail,
}

impl AccountAction {
    /// The button's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::RevokeSessions => "End every session",
            Self::Unlock => "Unlock",
            Self::TurnOffSecondFactors => "Turn off two-factor authentication",
            Self::RequirePasswordChange => "Require a new password",
            Self::ConfirmEmail => "Confirm the email address",
        }
    }

    /// The value the form posts.
    pub fn value(self) -> &'static str {
        match self {
            Self::RevokeSessions => "revoke-sessions",
            Self::Unlock => "unlock",
            Self::TurnOffSecondFactors => "turn-off-second-factors",
            Self::RequirePasswordChange => "require-password-change",
            Self::ConfirmEmail => "confirm-email",
        }
    }
}

/// Acts on the account `id` (needs sudo; without it, goes to the sudo page and back), then
/// shows its page again with what happened.
#[server(prefix = "/api/admin", endpoint = "act")]
pub async fn admin_act(id: String, action: AccountAction) -> Result<(), UiError> {
    use crate::flash::Flash;

    let (cx, admin, sudo, user) = ssr::acting_on(&id).await?;
    let accounts = cx.sigra.admin();
    let request = &cx.request;
    let done = match action {
        AccountAction::RevokeSessions => {
            accounts
                .revoke_sessions(&admin, &sudo, &user, request)
                .await?;
            Flash::AdminSessionsRevoked
        }
        AccountAction::Unlock => {
            accounts.unlock(&admin, &sudo, &user, request).await?;
            Flash::AdminUnlocked
        }
        AccountAction::TurnOffSecondFactors => {
            accounts
                .turn_off_second_factors(&admin, &sudo, &user, request)
                .await?;
            Flash::AdminSecondFactorsOff
        }
        AccountAction::RequirePasswordChange => {
            accounts
                .require_password_change(&admin, &sudo, &user, request)
                .await?;
            Flash::AdminPasswordChangeRequired
        }
        AccountAction::ConfirmEmail => {
            accounts
                .confirm_email(&admin, &sudo, &user, request)
                .await?;
            Flash::AdminEmailConfirmed
        }
    };
    crate::flash::ssr::set(done);
    leptos_axum::redirect(&crate::paths::admin_user(&id));
    Ok(())
}

/// The filters of the audit explorer, in the order [`admin_audit`] takes them.
pub const AUDIT_FILTERS: [&str; 7] = [
    "user",
    "organization",
    "action_prefix",
    "outcome",
    "from",
    "until",
    "cursor",
];

/// An event in the explorer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    /// When (RFC 3339, UTC).
    pub occurred_at: String,
    /// What happened, in words.
    pub label: String,
    /// The action's name.
    pub action: String,
    /// Whether it failed.
    pub failed: bool,
    /// Who acted: an address, `system`, or `guest`.
    pub actor: String,
    /// Who or what it was done to.
    pub target: Option<String>,
    /// The organization's name.
    pub organization: Option<String>,
    /// Where the request came from.
    pub ip_address: Option<String>,
}

/// `/admin/audit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    /// Newest first.
    pub events: Vec<AuditEventView>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// A page of the audit explorer. The filters are its GET form's ([`AUDIT_FILTERS`]); the CSV
/// export also takes an exact `action`.
#[server(prefix = "/api/admin", endpoint = "audit")]
pub async fn admin_audit(
    user: Option<String>,
    organization: Option<String>,
    action_prefix: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
) -> Result<AuditView, UiError> {
    use sigra::admin::explorer::AuditQuery;

    let cx = crate::ssr::context().await?;
    let admin = ssr::platform_admin(&cx).await?;
    let values = [
        user,
        organization,
        action_prefix,
        outcome,
        from,
        until,
        cursor,
    ];
    let query = AuditQuery::from_params(
        AUDIT_FILTERS
            .iter()
            .zip(values.iter())
            .filter_map(|(name, value)| value.as_deref().map(|v| (*name, v))),
    );
    let page = cx.sigra.admin().audit_events(&admin, &query).await?;
    Ok(ssr::audit_view(page))
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    //! The admin check for the server functions.

    use sigra::admin::PlatformAdmin;
    use sigra::sessions::Sudo;
    use sigra::users::UserId;

    use crate::error::UiError;
    use crate::ssr::ServerContext;

    /// A page of audit events as the explorer shows them.
    pub fn audit_view(page: sigra::admin::explorer::AuditPage) -> super::AuditView {
        super::AuditView {
            events: page
                .events
                .into_iter()
                .map(|e| super::AuditEventView {
                    label: crate::account::action_label(&e.action, e.outcome != "failure")
                        .to_owned(),
                    failed: e.outcome == "failure",
                    occurred_at: e.occurred_at.to_string(),
                    actor: match e.actor_type.as_str() {
                        "system" => "system".to_owned(),
                        "anonymous" => "guest".to_owned(),
                        _ => e.actor_label.or(e.actor_id).unwrap_or_default(),
                    },
                    target: e.target_label.or(e.target_id),
                    organization: e.organization_label.or(e.organization_id),
                    ip_address: e.ip_address,
                    action: e.action,
                })
                .collect(),
            next_cursor: page.next_cursor,
        }
    }

    /// The platform admin proof for this request.
    ///
    /// # Errors
    /// `Unauthenticated` for a guest; `AdminOnly` for anyone else without a grant.
    pub async fn platform_admin(cx: &ServerContext) -> Result<PlatformAdmin, UiError> {
        let current = cx.require_user()?;
        Ok(cx.sigra.admin().platform_admin(current).await?)
    }

    /// What an action on the account `id` needs: the context, the admin proof, the admin's
    /// sudo (else the browser is sent to enter it and come back), and the account's id.
    ///
    /// # Errors
    /// As [`platform_admin`]; `SudoRequired`.
    pub async fn acting_on(
        id: &str,
    ) -> Result<(ServerContext, PlatformAdmin, Sudo, UserId), UiError> {
        let cx = crate::ssr::context().await?;
        let admin = platform_admin(&cx).await?;
        let sudo = crate::ssr::require_sudo(&cx, &crate::paths::admin_user(id))?;
        Ok((cx, admin, sudo, UserId::from_client(id)))
    }
}
