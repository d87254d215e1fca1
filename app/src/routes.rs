//! The routes' pages, grouped in areas that each sit behind one split point. In the release
//! build (`scripts/build-site.sh`, with the feature `split-routes`) an area's code is its own
//! wasm chunks, loaded when one of its pages is first visited and preloaded with the bundle for
//! the page the server renders. The home and log-in pages are not here: they are in the bundle
//! itself, so the first page a visitor sees needs nothing more (their code is small; as a chunk
//! it would have cost more bytes and requests than it saves). One split point per area rather
//! than per page, because the split puts code shared by several split points in chunks of
//! their own: a split point per page made the log-in page load about a hundred small files.
//! Without the feature (`cargo leptos watch`) the routes are one bundle: a split build needs the
//! wasm split step, which only the release build runs. The tests build the server with it.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::capabilities::{page_when, Switches};
use crate::pages::*;

/// Per area: an enum naming its pages, the function that renders one (the split point) and the
/// name `leptos::lazy` gives its loader, and a route type per page (`Route => Page`, or `Route => Page when needs` for a page that exists
/// only when its capability is on, otherwise "not found").
macro_rules! page_areas {
    ($($(#[$doc:meta])* $area:ident in $render:ident, preloaded by $preload:ident {
        $($route:ident => $page:ident $(when $needs:expr)?;)*
    })*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy)]
        #[repr(u8)]
        // Each variant is named after the route type it stands for.
        #[allow(clippy::enum_variant_names)]
        enum $area {
            $($route,)*
        }

        #[cfg_attr(feature = "split-routes", leptos::lazy)]
        fn $render(page: $area) -> AnyView {
            match page {
                $($area::$route => page_areas!(@page $page $($needs)?),)*
            }
        }

        $(
            #[doc = concat!("The route of [`", stringify!($page), "`].")]
            pub struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                // Hydration claims the server's HTML at once, so the area's code must be
                // loaded before the page is chosen (`leptos::lazy` names this function).
                async fn preload() {
                    #[cfg(all(feature = "split-routes", feature = "hydrate"))]
                    $preload().await;
                }

                async fn view(_route: Self) -> AnyView {
                    #[cfg(feature = "split-routes")]
                    let view = $render($area::$route).await;
                    #[cfg(not(feature = "split-routes"))]
                    let view = $render($area::$route);
                    view
                }
            }
        )*
    )*};
    (@page $page:ident) => {
        $page().into_any()
    };
    (@page $page:ident $needs:expr) => {
        page_when($needs, $page)()
    };
}

page_areas! {
    /// Reached signed out: sign-up, the pages mailed links open, and the provider sign-in pages.
    SignedOutPages in signed_out_page, preloaded by __preload_signed_out_page {
        RegisterRoute => RegisterPage;
        CheckEmailRoute => CheckEmailPage;
        ReactivationRoute => ReactivationPage;
        ConfirmRoute => ConfirmPage;
        ConfirmLinkRoute => ConfirmLinkPage;
        LogInLinkRoute => LogInLinkPage when |s| s.magic_links;
        ResetRequestRoute => ResetRequestPage;
        ResetChooseRoute => ResetChoosePage;
        ConfirmEmailChangeRoute => ConfirmEmailChangePage;
        OAuthLinkRoute => OAuthLinkPage when |s| s.oauth;
        OAuthEmailRoute => OAuthEmailPage when |s| s.oauth;
        OAuthErrorRoute => OAuthErrorPage when |s| s.oauth;
        InvitationRoute => InvitationPage when |s| s.organizations;
    }

    /// The signed-in account: dashboard, settings, sessions, second factors, and the second
    /// step of a log-in (which shares the second factors' code).
    AccountPages in account_page, preloaded by __preload_account_page {
        DashboardRoute => DashboardPage;
        SettingsRoute => SettingsPage;
        EmailSettingsRoute => EmailSettingsPage;
        ProfileSettingsRoute => ProfileSettingsPage;
        PasswordSettingsRoute => PasswordSettingsPage;
        SessionsRoute => SessionsPage;
        SudoRoute => SudoPage;
        MfaRoute => MfaPage when Switches::any_second_factor;
        SecuritySettingsRoute => SecuritySettingsPage when Switches::any_second_factor;
        ApiTokensRoute => ApiTokensPage when |s| s.api_tokens;
        DeleteAccountRoute => DeleteAccountPage;
        ExportDataRoute => ExportDataPage;
        AccountsSettingsRoute => AccountsSettingsPage when |s| s.oauth;
    }

    /// A member's organizations.
    OrganizationPages in organization_page, preloaded by __preload_organization_page {
        OrganizationsRoute => OrganizationsPage when |s| s.organizations;
        NewOrganizationRoute => NewOrganizationPage when |s| s.organizations;
        OrganizationRoute => OrganizationPage when |s| s.organizations;
        MembersRoute => MembersPage when |s| s.organizations;
        ProjectsRoute => ProjectsPage when |s| s.organizations;
        OrganizationSettingsRoute => OrganizationSettingsPage when |s| s.organizations;
    }

    /// The admin area.
    AdminPages in admin_page, preloaded by __preload_admin_page {
        AdminOverviewRoute => AdminOverviewPage when |s| s.admin;
        AdminUsersRoute => AdminUsersPage when |s| s.admin;
        AdminUserRoute => AdminUserPage when |s| s.admin;
        AdminAuditRoute => AdminAuditPage when |s| s.admin;
        AdminOrganizationsRoute => AdminOrganizationsPage when Switches::organization_admin;
        AdminOrganizationRoute => AdminOrganizationPage when Switches::organization_admin;
        AdminOrganizationAuditRoute => AdminOrganizationAuditPage when Switches::organization_admin;
    }
}
