//! The optional capabilities this deployment offers (`capabilities.*` in the configuration),
//! and its name, as the pages see them. A capability that is off is gone, not hidden: its pages answer the
//! "not found" page with 404, its server functions answer 404 before they run, and no page
//! links to it. The server reads the switches from the core's configuration; the browser reads
//! what the server rendered with, so both draw the same page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::pages::NotFound;

/// Which optional capabilities are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switches {
    /// Logging in with a mailed link.
    pub magic_links: bool,
    /// Passkeys: log-in, second step and sudo.
    pub passkeys: bool,
    /// Provider log-in and linked accounts.
    pub oauth: bool,
    /// An authenticator app, backup codes and trusted browsers.
    pub second_factors: bool,
    /// Organizations and invitations.
    pub organizations: bool,
    /// The admin area.
    pub admin: bool,
    /// Personal API tokens.
    pub api_tokens: bool,
    /// JWT for API clients.
    pub jwt: bool,
}

impl Default for Switches {
    /// Everything on: what a page sees before the root has provided the switches.
    fn default() -> Self {
        Self {
            magic_links: true,
            passkeys: true,
            oauth: true,
            second_factors: true,
            organizations: true,
            admin: true,
            api_tokens: true,
            jwt: true,
        }
    }
}

/// What a page or a server function needs to exist.
pub type Needs = fn(&Switches) -> bool;

impl Switches {
    /// The security page and the log-in's second step: a factor to set up or answer.
    pub fn any_second_factor(&self) -> bool {
        self.second_factors || self.passkeys
    }

    /// The admin area's organization views.
    pub fn organization_admin(&self) -> bool {
        self.admin && self.organizations
    }
}

/// The site's name (`SIGRA_APP_NAME`), for the header, the footer and page titles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteName(pub String);

/// Reads the switches and the site's name once at the root, in one value the page carries to
/// the browser. Call once, in `App`.
pub fn provide_site() {
    let (switches, name) = SharedValue::new(current).into_inner();
    provide_context(switches);
    provide_context(name);
}

/// The switches, as provided at the root.
pub fn use_switches() -> Switches {
    use_context::<Switches>().unwrap_or_default()
}

/// The site's name, as provided at the root.
pub fn use_site_name() -> String {
    use_context::<SiteName>()
        .map(|name| name.0)
        .unwrap_or_default()
}

#[cfg(feature = "ssr")]
fn current() -> (Switches, SiteName) {
    match use_context::<sigra::Sigra>() {
        Some(sigra) => (
            ssr::switches(&sigra.config().capabilities),
            SiteName(sigra.config().app_name.clone()),
        ),
        None => (Switches::default(), SiteName(String::new())),
    }
}

#[cfg(not(feature = "ssr"))]
fn current() -> (Switches, SiteName) {
    (Switches::default(), SiteName(String::new()))
}

/// A page that exists only when `needs` says so; otherwise the "not found" page (404).
pub fn page_when<V: IntoView + 'static>(
    needs: Needs,
    page: fn() -> V,
) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        if needs(&use_switches()) {
            page().into_any()
        } else {
            view! { <NotFound /> }.into_any()
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The switches from the core's configuration, and the middleware that answers 404 for the
    //! server functions of a capability that is off.

    use std::collections::HashMap;
    use std::sync::LazyLock;

    use axum::extract::{Request, State};
    use axum::middleware::Next;
    use axum::response::{IntoResponse as _, Response};
    use http::Method;
    use leptos::server_fn::ServerFn;
    use sigra::config::{Capabilities, Capability};
    use sigra::http::AppError;
    use sigra::Sigra;

    use super::{Needs, Switches};
    use crate::{account, admin, organizations};

    /// The switches of a configuration.
    pub fn switches(capabilities: &Capabilities) -> Switches {
        Switches {
            magic_links: capabilities.has(Capability::MagicLinks),
            passkeys: capabilities.has(Capability::Passkeys),
            oauth: capabilities.has(Capability::OAuth),
            second_factors: capabilities.has(Capability::SecondFactors),
            organizations: capabilities.has(Capability::Organizations),
            admin: capabilities.has(Capability::Admin),
            api_tokens: capabilities.has(Capability::ApiTokens),
            jwt: capabilities.has(Capability::Jwt),
        }
    }

    fn path<F: ServerFn>() -> &'static str {
        F::PATH
    }

    /// Every server function that belongs to an optional capability, with what it needs.
    /// Those of the core every deployment has are in [`core_server_fns`]; a test checks that
    /// each registered server function is in one of the two lists.
    pub fn optional_server_fns() -> Vec<(Needs, &'static str)> {
        use account::oauth;
        let magic_links: Needs = |s| s.magic_links;
        let provider: Needs = |s| s.oauth;
        let second_factors: Needs = |s| s.second_factors;
        let any_factor: Needs = Switches::any_second_factor;
        let orgs: Needs = |s| s.organizations;
        let admin_area: Needs = |s| s.admin;
        let org_admin: Needs = Switches::organization_admin;
        let tokens: Needs = |s| s.api_tokens;
        let fns = vec![
            (magic_links, path::<account::RequestMagicLink>()),
            (magic_links, path::<account::LogInWithLink>()),
            (provider, path::<oauth::SignInProviders>()),
            (provider, path::<oauth::LinkedAccounts>()),
            (provider, path::<oauth::UnlinkProvider>()),
            (provider, path::<oauth::SetFirstPassword>()),
            (provider, path::<oauth::PendingIdentity>()),
            (provider, path::<oauth::LinkPendingIdentity>()),
            (provider, path::<oauth::GiveProviderAddress>()),
            (second_factors, path::<account::VerifySecondFactor>()),
            (second_factors, path::<account::StartTotpSetup>()),
            (second_factors, path::<account::ConfirmTotpSetup>()),
            (second_factors, path::<account::RegenerateBackupCodes>()),
            (second_factors, path::<account::DisableTotp>()),
            (second_factors, path::<account::ForgetTrustedBrowsers>()),
            (any_factor, path::<account::mfa::MfaChallenge>()),
            (any_factor, path::<account::CancelSecondFactor>()),
            (any_factor, path::<account::mfa::SecurityOverview>()),
            (orgs, path::<organizations::MyOrganizations>()),
            (orgs, path::<organizations::CreateOrganization>()),
            (orgs, path::<organizations::SwitchOrganization>()),
            (orgs, path::<organizations::OrganizationOverview>()),
            (orgs, path::<organizations::OrganizationMembers>()),
            (orgs, path::<organizations::OrganizationSettings>()),
            (orgs, path::<organizations::InviteMember>()),
            (orgs, path::<organizations::RevokeInvitation>()),
            (orgs, path::<organizations::ChangeMemberRole>()),
            (orgs, path::<organizations::RemoveMember>()),
            (orgs, path::<organizations::UpdateOrganization>()),
            (orgs, path::<organizations::ChangeOrganizationSlug>()),
            (orgs, path::<organizations::DeleteOrganization>()),
            (orgs, path::<organizations::projects::ListProjects>()),
            (orgs, path::<organizations::projects::CreateProject>()),
            (orgs, path::<organizations::projects::DeleteProject>()),
            (
                orgs,
                path::<organizations::invitations::InvitationDetails>(),
            ),
            (orgs, path::<organizations::invitations::AcceptInvitation>()),
            (
                orgs,
                path::<organizations::invitations::JoinWithNewAccount>(),
            ),
            (admin_area, path::<admin::AdminOverview>()),
            (admin_area, path::<admin::AdminUsers>()),
            (admin_area, path::<admin::AdminUser>()),
            (admin_area, path::<admin::AdminRevokeSession>()),
            (admin_area, path::<admin::AdminAct>()),
            (admin_area, path::<admin::AdminAudit>()),
            (admin_area, path::<admin::impersonation::AdminImpersonate>()),
            (org_admin, path::<admin::lens::AdminOrganizations>()),
            (org_admin, path::<admin::lens::LensOverview>()),
            (org_admin, path::<admin::lens::LensAudit>()),
            (tokens, path::<account::api_tokens::ListApiTokens>()),
            (tokens, path::<account::api_tokens::CreateApiToken>()),
            (tokens, path::<account::api_tokens::RevokeApiToken>()),
            (tokens, path::<account::api_tokens::RevokeAllApiTokens>()),
        ];
        #[cfg(feature = "passkeys")]
        let fns = {
            use account::passkeys;
            let passkey: Needs = |s| s.passkeys;
            [
                fns,
                vec![
                    (passkey, path::<passkeys::ListPasskeys>()),
                    (passkey, path::<passkeys::StartPasskeyRegistration>()),
                    (passkey, path::<passkeys::FinishPasskeyRegistration>()),
                    (passkey, path::<passkeys::RenamePasskey>()),
                    (passkey, path::<passkeys::DeletePasskey>()),
                    (passkey, path::<passkeys::StartPasskeyConfirmation>()),
                    (passkey, path::<passkeys::StartPasskeyLogIn>()),
                    (passkey, path::<passkeys::LogInWithPasskey>()),
                    (passkey, path::<passkeys::StartPasskeySecondFactor>()),
                    (passkey, path::<passkeys::VerifyPasskeySecondFactor>()),
                    (passkey, path::<passkeys::StartPasskeySudo>()),
                    (passkey, path::<passkeys::EnterSudoWithPasskey>()),
                ],
            ]
            .concat()
        };
        fns
    }

    /// The server functions every deployment has: registration and password log-in,
    /// confirmation, recovery, settings, sessions, sudo with a password, deletion and export,
    /// and ending an impersonation (an admin area switched off mid-impersonation still lets
    /// the admin out).
    pub fn core_server_fns() -> Vec<&'static str> {
        use account::{check_email, deletion, export, oauth, security, session, settings};
        vec![
            path::<session::Register>(),
            path::<session::LogIn>(),
            path::<session::LogOut>(),
            path::<session::SignedInAs>(),
            path::<session::SessionState>(),
            path::<account::confirmation::ResendConfirmation>(),
            path::<account::confirmation::ConfirmWithCode>(),
            path::<account::confirmation::ConfirmWithLink>(),
            path::<account::recovery::RequestPasswordReset>(),
            path::<account::recovery::ResetLinkStatus>(),
            path::<account::recovery::ResetPassword>(),
            path::<check_email::CheckEmailOverview>(),
            path::<check_email::RememberedAddress>(),
            path::<check_email::ResendMail>(),
            path::<settings::AccountOverview>(),
            path::<settings::ChangeDisplayName>(),
            path::<settings::ChangePassword>(),
            path::<settings::RequestEmailChange>(),
            path::<settings::CancelEmailChange>(),
            path::<settings::ConfirmEmailChange>(),
            path::<settings::PasswordRules>(),
            path::<settings::AssessPassword>(),
            path::<security::ListSessions>(),
            path::<security::RevokeSession>(),
            path::<security::RevokeOtherSessions>(),
            path::<security::EnterSudo>(),
            path::<oauth::SudoOptions>(),
            path::<deletion::DeletionOverview>(),
            path::<deletion::DeleteAccount>(),
            path::<deletion::ReactivationOverview>(),
            path::<deletion::KeepAccount>(),
            path::<export::ExportOverview>(),
            path::<admin::impersonation::StopImpersonation>(),
            path::<crate::home::HomeOverview>(),
            path::<crate::pages::dashboard::DashboardOverview>(),
        ]
    }

    /// The optional server functions by path, with the method each is called with (a page
    /// may share a server function's path: `/users/log-in/link` is both).
    static OPTIONAL: LazyLock<HashMap<&'static str, (Needs, Method)>> = LazyLock::new(|| {
        let methods: HashMap<&str, Method> = leptos::server_fn::axum::server_fn_paths().collect();
        optional_server_fns()
            .into_iter()
            .filter_map(|(needs, path)| Some((path, (needs, methods.get(path)?.clone()))))
            .collect()
    });

    /// Middleware in front of the server functions: one of a capability that is off answers
    /// 404 before it runs, as if it had never been built.
    pub async fn hide_switched_off(
        State(sigra): State<Sigra>,
        request: Request,
        next: Next,
    ) -> Response {
        if let Some((needs, method)) = OPTIONAL.get(request.uri().path()) {
            if request.method() == method && !needs(&switches(&sigra.config().capabilities)) {
                return AppError(sigra::Error::NotFound).into_response();
            }
        }
        next.run(request).await
    }

    #[cfg(test)]
    mod tests {
        use std::collections::BTreeSet;

        use super::*;

        #[test]
        fn every_server_function_is_of_the_core_or_of_a_named_capability() {
            let optional: BTreeSet<&str> = optional_server_fns().iter().map(|(_, p)| *p).collect();
            let core: BTreeSet<&str> = core_server_fns().into_iter().collect();
            assert!(
                optional.is_disjoint(&core),
                "{:?}",
                optional.intersection(&core)
            );
            let unlisted: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
                .map(|(path, _)| path)
                .filter(|path| !optional.contains(path) && !core.contains(path))
                .collect();
            assert!(
                unlisted.is_empty(),
                "server functions of no capability (add each to optional_server_fns or core_server_fns): {unlisted:?}"
            );
        }

        #[test]
        fn the_switches_mirror_the_configuration() {
            let everything = Capability::ALL
                .into_iter()
                .fold(Capabilities::default(), |set, c| set.with(c, true));
            let all = switches(&everything);
            if Capability::ALL.iter().all(|c| c.compiled()) {
                assert_eq!(all, Switches::default());
            }
            // Each capability this build has turns its own switch.
            for capability in Capability::ALL.into_iter().filter(|c| c.compiled()) {
                let off = switches(&everything.with(capability, false));
                assert_ne!(off, all, "{capability} has no switch");
            }
        }
    }
}
