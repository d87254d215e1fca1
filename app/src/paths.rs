//! The path of every page the app links or redirects to. The router's `path!` wants literals,
//! so the routes spell them again; a test checks that each path here is one the router serves.

/// The landing page.
pub const HOME: &str = "/";
/// Registration.
pub const REGISTER: &str = "/users/register";
/// Log-in with a password (or a passkey), and where the mailed link is asked for.
pub const LOG_IN: &str = "/users/log-in";
/// Where a mailed log-in link lands.
pub const LOG_IN_LINK: &str = "/users/log-in/link";
/// The second step of a log-in.
pub const MFA: &str = "/users/mfa";
/// Where every "we sent you a mail" form ends.
pub const CHECK_EMAIL: &str = "/users/check-email";
/// Confirming the address with a code, or asking for a new mail.
pub const CONFIRM: &str = "/users/confirm";
/// Where a mailed confirmation link lands.
pub const CONFIRM_LINK: &str = "/users/confirm/link";
/// Asking for a password reset.
pub const RESET_PASSWORD: &str = "/users/reset-password";
/// Choosing the new password once the reset link has landed.
pub const RESET_PASSWORD_CHOOSE: &str = "/users/reset-password/choose";
/// The example page behind a log-in, where a log-in lands by default.
pub const DASHBOARD: &str = "/dashboard";
/// Where a log-in goes when it was not sent from a page to return to.
pub const AFTER_LOG_IN: &str = DASHBOARD;
/// The account overview.
pub const SETTINGS: &str = "/users/settings";
/// The display name.
pub const PROFILE_SETTINGS: &str = "/users/settings/profile";
/// Changing the email address.
pub const EMAIL_SETTINGS: &str = "/users/settings/email";
/// Changing the password (also the forced change).
pub const PASSWORD_SETTINGS: &str = "/users/settings/password";
/// Second factors and passkeys.
pub const SECURITY_SETTINGS: &str = "/users/settings/security";
/// Personal API tokens.
pub const API_TOKENS: &str = "/users/settings/api-tokens";
/// Deleting the account.
pub const DELETE_ACCOUNT: &str = "/users/settings/delete";
/// Downloading everything the site holds about the account.
pub const EXPORT_DATA: &str = "/users/settings/export";
/// Where that page's form posts; the answer is the file (served by the server, not a page).
pub const EXPORT_DOWNLOAD: &str = "/users/settings/export/download";
/// Keeping an account that is scheduled for deletion (the only page it can use).
pub const REACTIVATION: &str = "/users/reactivation";
/// Where a mailed link confirming a new address lands.
pub const CONFIRM_EMAIL_CHANGE_LINK: &str = "/users/settings/confirm-email/link";
/// The user's sessions and security feed.
pub const SESSIONS: &str = "/users/sessions";
/// Re-entering the password before a sensitive action.
pub const SUDO: &str = "/users/sudo";
/// Linked log-in providers, and a password for an account without one.
pub const ACCOUNTS_SETTINGS: &str = "/users/settings/accounts";
/// An account has the provider's address: prove it, then link.
pub const OAUTH_LINK: &str = "/users/oauth/link";
/// The provider gave no address: give one.
pub const OAUTH_EMAIL: &str = "/users/oauth/email";
/// A provider log-in that did not work.
pub const OAUTH_ERROR: &str = "/users/oauth/error";

/// The user's organizations, and where one is created.
pub const ORGANIZATIONS: &str = "/organizations";
/// Creating an organization.
pub const NEW_ORGANIZATION: &str = "/organizations/new";
/// The admin area's overview.
pub const ADMIN: &str = "/admin";
/// The admin area's user list.
pub const ADMIN_USERS: &str = "/admin/users";
/// The audit explorer.
pub const ADMIN_AUDIT: &str = "/admin/audit";
/// The explorer's CSV export (served by the server, not a page), with the same filters.
pub const ADMIN_AUDIT_EXPORT: &str = "/admin/audit/export.csv";

/// The stream an open page follows to learn that its session ended (server-sent events).
pub const LIVE_SESSION: &str = "/api/live/session";
/// The stream an admin's list follows to learn that the data changed (server-sent events).
pub const LIVE_ADMIN: &str = "/api/live/admin";
/// Where a page whose session ended goes: it queues the message and sends on to log-in.
pub const SESSION_ENDED: &str = "/users/session-ended";

/// One account in the admin area.
pub fn admin_user(id: &str) -> String {
    format!("{ADMIN_USERS}/{id}")
}

/// The platform admins' list of organizations.
pub const ADMIN_ORGANIZATIONS: &str = "/admin/organizations";

/// The organization lens: one organization's admin view.
pub fn admin_organization(slug: &str) -> String {
    format!("{ADMIN_ORGANIZATIONS}/{slug}")
}

/// The organization lens's audit events.
pub fn admin_organization_audit(slug: &str) -> String {
    format!("{ADMIN_ORGANIZATIONS}/{slug}/audit")
}

/// The organization lens's CSV export (served by the server, not a page).
pub fn admin_organization_audit_export(slug: &str) -> String {
    format!("{ADMIN_ORGANIZATIONS}/{slug}/audit/export.csv")
}

/// The page an invitation link leads to (the landing keeps the token in the link cookie).
pub const INVITATION: &str = "/invitations/accept";

/// An organization's overview.
pub fn organization(slug: &str) -> String {
    format!("{ORGANIZATIONS}/{slug}")
}

/// An organization's members and invitations.
pub fn organization_members(slug: &str) -> String {
    format!("{ORGANIZATIONS}/{slug}/members")
}

/// An organization's settings.
pub fn organization_settings(slug: &str) -> String {
    format!("{ORGANIZATIONS}/{slug}/settings")
}

/// An organization's projects (the example organization-owned table).
pub fn organization_projects(slug: &str) -> String {
    format!("{ORGANIZATIONS}/{slug}/projects")
}

/// The query parameter naming where a page sends the browser on to when it is done.
const RETURN_TO: &str = "return_to";

/// `page`, told to send the browser on to `target` (a local path) afterwards.
pub fn with_return_to(page: &str, target: &str) -> String {
    format!("{page}?{RETURN_TO}={}", encode_query_value(target))
}

/// Where the page that sent the browser here wants it back, from the current address (the
/// server honours only local paths).
pub fn requested_return() -> Option<String> {
    use leptos::prelude::With as _;
    leptos_router::hooks::use_query_map().with(|query| query.get(RETURN_TO))
}

/// Percent-encodes all but the characters a path keeps as they are, so a `&` or `#` in
/// `target` cannot end the value early.
pub(crate) fn encode_query_value(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_targets_keep_their_path_and_cannot_end_the_query() {
        assert_eq!(
            with_return_to(SUDO, SESSIONS),
            "/users/sudo?return_to=/users/sessions"
        );
        assert_eq!(
            with_return_to(LOG_IN, "/a?b=c&d#e"),
            "/users/log-in?return_to=/a%3Fb%3Dc%26d%23e"
        );
    }

    #[cfg(feature = "ssr")]
    #[tokio::test]
    async fn every_page_path_is_served_by_the_router() {
        let served: Vec<String> = leptos_axum::generate_route_list(crate::App)
            .iter()
            .map(|route| route.path().to_owned())
            .collect();
        let named = [
            HOME,
            REGISTER,
            LOG_IN,
            LOG_IN_LINK,
            MFA,
            CHECK_EMAIL,
            CONFIRM,
            CONFIRM_LINK,
            RESET_PASSWORD,
            RESET_PASSWORD_CHOOSE,
            SETTINGS,
            EMAIL_SETTINGS,
            PASSWORD_SETTINGS,
            SECURITY_SETTINGS,
            API_TOKENS,
            CONFIRM_EMAIL_CHANGE_LINK,
            SESSIONS,
            SUDO,
            ACCOUNTS_SETTINGS,
            OAUTH_LINK,
            OAUTH_EMAIL,
            OAUTH_ERROR,
            ORGANIZATIONS,
            NEW_ORGANIZATION,
            ADMIN,
            ADMIN_USERS,
            ADMIN_AUDIT,
            ADMIN_ORGANIZATIONS,
            INVITATION,
            DELETE_ACCOUNT,
            EXPORT_DATA,
            REACTIVATION,
        ];
        let scoped = [
            organization("{slug}"),
            organization_members("{slug}"),
            organization_settings("{slug}"),
            organization_projects("{slug}"),
            admin_user("{id}"),
            admin_organization("{slug}"),
            admin_organization_audit("{slug}"),
        ];
        for path in &scoped {
            assert!(
                served.iter().any(|route| route == path),
                "{path} is not a route: {served:?}"
            );
        }
        // The core names pages too, in its mails and its HTTP layer's redirects.
        use sigra::http::{pages, MailedLink};
        let named_by_core = [
            pages::LOG_IN,
            pages::RESET_PASSWORD,
            pages::PASSWORD_CHANGE,
            pages::SECURITY_SETTINGS,
            pages::SUDO,
            pages::ACCOUNTS_SETTINGS,
            pages::OAUTH_LINK,
            pages::OAUTH_EMAIL,
            pages::OAUTH_ERROR,
            pages::API_TOKENS,
        ]
        .into_iter()
        .chain(MailedLink::ALL.map(MailedLink::page));
        for path in named.into_iter().chain(named_by_core) {
            assert!(
                served.iter().any(|route| route == path),
                "{path} is not a route: {served:?}"
            );
        }
    }
}
