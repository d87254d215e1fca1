//! Impersonation (security.md Z5, S2): a platform admin, under their own sudo, works as another
//! user in a real session of that user; every security change is refused there (each server
//! function enumerated), every audit row names the admin as actor and the user as effective
//! user, and stopping, a timeout or logging out goes back to the admin's own session, with a
//! new token, or to the log-in page when that session has ended too.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::admin::make_admin;
use server::testing::{
    clears_session, location, on_each_engine, session_cookie, set_cookies, TestApp, CANARY_PASSWORD,
};

const KEPT_ASIDE: &str = "__Host-sigra_impersonator=";
const MINUTE: Duration = Duration::from_secs(60);

/// An admin and a user: the admin's session cookie (sudo entered on the user's page) and the
/// two ids.
struct Cast {
    admin: String,
    admin_id: String,
    user_id: String,
}

async fn cast(app: &TestApp) -> Cast {
    app.signed_in("user@example.com").await;
    let mut admin = app.signed_in("admin@example.com").await;
    make_admin(app, "admin@example.com").await;
    let user_id = id_of(app, "user@example.com").await;
    app.enter_sudo(&mut admin, &format!("/admin/users/{user_id}"))
        .await;
    Cast {
        admin,
        admin_id: id_of(app, "admin@example.com").await,
        user_id,
    }
}

async fn id_of(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(app.sigra.db().pool())
        .await
        .expect("an id")
}

async fn impersonate(app: &TestApp, admin: &str, user_id: &str) -> Response {
    app.post_form(
        "/api/admin/impersonate",
        &format!("/admin/users/{user_id}"),
        &[("id", user_id)],
        Some(admin),
    )
    .await
}

/// The `name=value` of the kept-aside admin session a response sets, if it sets one.
fn kept_aside(response: &Response) -> Option<String> {
    set_cookies(response.headers())
        .into_iter()
        .filter(|c| c.starts_with(KEPT_ASIDE))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair != KEPT_ASIDE)
}

fn clears_kept_aside(response: &Response) -> bool {
    set_cookies(response.headers())
        .iter()
        .any(|c| c.starts_with(&format!("{KEPT_ASIDE};")) && c.contains("Max-Age=0"))
}

/// Starts impersonating the cast's user: the browser's cookies afterwards (the impersonation's
/// session and the kept-aside admin session), each also alone.
async fn started(app: &TestApp, cast: &Cast) -> (String, String, String) {
    let response = impersonate(app, &cast.admin, &cast.user_id).await;
    assert_eq!(location(&response), "/users/settings", "{response:?}");
    let session = session_cookie(&response).expect("the user's session");
    let kept = kept_aside(&response).expect("the admin's session kept aside");
    (format!("{session}; {kept}"), session, kept)
}

/// How many impersonation sessions there are.
async fn impersonations(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM user_sessions WHERE kind = 'impersonation'")
        .await
}

async fn me(app: &TestApp, cookie: &str) -> Option<Value> {
    let response = app
        .api_with_session(reqwest::Method::GET, "/api/v1/me", cookie, None)
        .await;
    (response.status() == StatusCode::OK).then_some(())?;
    response.json().await.ok()
}

async fn audit_rows(app: &TestApp, action: &str) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "SELECT actor_type, COALESCE(actor_id, '-'), COALESCE(effective_user_id, '-'), metadata \
         FROM audit_events WHERE action = $1 ORDER BY occurred_at, id",
    )
    .bind(action)
    .fetch_all(app.sigra.db().pool())
    .await
    .expect("audit rows")
}

#[tokio::test]
async fn an_admin_under_sudo_works_as_the_user_and_every_audit_row_names_the_admin_as_actor() {
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        let (browser, _, _) = started(&app, &cast).await;

        let seen = me(&app, &browser).await.expect("logged in");
        assert_eq!(seen["email"], "user@example.com", "the user's own account");
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM user_sessions WHERE user_id = '{}' AND kind = 'impersonation' \
                 AND impersonator_user_id = '{}'",
                cast.user_id, cast.admin_id
            ))
            .await,
            1,
            "a real session of the user that remembers the admin"
        );
        assert_eq!(
            me(&app, &cast.admin).await,
            None,
            "starting replaced the admin's own token (privilege change)"
        );

        let start = audit_rows(&app, "admin.impersonation.start").await;
        assert_eq!(start.len(), 1);
        assert_eq!((&start[0].1, &start[0].2), (&cast.admin_id, &cast.user_id));
        let created = audit_rows(&app, "session.create").await;
        let last = created.last().expect("the impersonation's session");
        assert_eq!((&last.1, &last.2), (&cast.admin_id, &cast.user_id));

        // Something the user may do, done by the admin: audited as the admin in the user's
        // account, whichever service wrote the row.
        app.create_organization(&browser, "Made by support").await;
        let rows = audit_rows(&app, "organization.create").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].0.as_str(), &rows[0].1, &rows[0].2),
            ("admin", &cast.admin_id, &cast.user_id)
        );

        // The owner sees the administrator's session among their own.
        let own = session_cookie(&app.log_in("user@example.com", CANARY_PASSWORD, false).await)
            .expect("the owner logs in");
        let sessions = app.get("/users/sessions", Some(&own)).await.text().await.expect("page");
        assert_eq!(
            sessions.matches("data-testid=\"by-administrator\"").count(),
            1,
            "marked on the owner's sessions page"
        );

        // The banner says whose account this is, on every page.
        let page = app.get("/users/settings", Some(&browser)).await;
        let body = page.text().await.expect("page");
        assert!(body.contains("impersonation-banner"), "the banner is shown");
        assert!(body.contains("user@example.com"));
    })
    .await;
}

#[tokio::test]
async fn every_security_change_is_refused_while_impersonating_and_each_refusal_is_audited() {
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        let (browser, _, _) = started(&app, &cast).await;
        let before = app.account_snapshot().await;

        let functions: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .filter(|path| {
                [
                    "/users/settings/",
                    "/users/sudo",
                    "/users/sessions/",
                    "/users/oauth/link/",
                    "/api/admin/",
                    "/api/organization-admin/",
                ]
                .iter()
                .any(|prefix| path.starts_with(prefix))
            })
            .collect();
        assert!(functions.len() >= 25, "{functions:?}");
        for path in functions {
            let form: Vec<(&str, &str)> = match path {
                "/users/settings/password" => vec![
                    ("current_password", CANARY_PASSWORD),
                    ("new_password", "a brand new passphrase"),
                ],
                "/users/settings/email" => vec![
                    ("new_email", "taken-over@example.com"),
                    ("current_password", CANARY_PASSWORD),
                ],
                "/users/settings/delete" => vec![
                    ("confirm_email", "user@example.com"),
                    ("current_password", CANARY_PASSWORD),
                ],
                "/users/settings/api-tokens/create" => vec![("name", "exfiltrate")],
                "/users/settings/display-name" => vec![("display_name", "Support was here")],
                "/users/settings/security/totp-confirm"
                | "/users/settings/security/backup-codes"
                | "/users/settings/security/totp-disable" => vec![("code", "123456")],
                "/users/settings/security/passkey-finish" | "/users/sudo/passkey" => {
                    vec![("ceremony", "c"), ("response", "{}")]
                }
                "/users/settings/security/passkey-rename" => vec![("id", "p"), ("name", "n")],
                "/users/settings/security/passkey-delete"
                | "/users/settings/api-tokens/revoke"
                | "/users/settings/accounts/unlink"
                | "/users/sessions/revoke" => vec![("id", "x")],
                "/users/settings/accounts/password" => {
                    vec![("new_password", "a brand new passphrase")]
                }
                "/users/sudo" => vec![("password", CANARY_PASSWORD)],
                "/api/admin/user" | "/api/admin/impersonate" => vec![("id", &cast.user_id)],
                "/api/admin/act" => vec![("id", &cast.user_id), ("action", "unlock")],
                "/api/admin/revoke-session" => vec![("id", &cast.user_id), ("session", "s")],
                "/users/settings/email/cancel"
                | "/users/settings/confirm-email/link"
                | "/users/settings/api-tokens/revoke-all"
                | "/users/settings/security/totp-start"
                | "/users/settings/security/forget-browsers"
                | "/users/settings/security/passkey-start"
                | "/users/settings/security/passkey-confirm-start"
                | "/users/sudo/passkey-start"
                | "/users/sessions/revoke-others"
                | "/users/oauth/link/confirm"
                | "/api/admin/overview"
                | "/api/admin/users"
                | "/api/admin/audit"
                | "/api/admin/organizations" => vec![],
                "/api/organization-admin/overview" | "/api/organization-admin/audit" => {
                    vec![("slug", "made-by-support")]
                }
                _ => panic!("{path} has no case here: add one"),
            };
            let refused = app.call_json(path, &form, Some(&browser)).await;
            let status = refused.status();
            let body = refused.text().await.unwrap_or_default();
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
            assert!(
                body.to_lowercase().contains("impersonating"),
                "{path} says why: {body}"
            );
        }
        assert_eq!(app.account_snapshot().await, before, "nothing changed");
        let denied = audit_rows(&app, "admin.impersonation.denied").await;
        for attempted in ["password_change", "email_change", "sudo", "oauth_link"] {
            assert!(
                denied.iter().any(|row| row.3.contains(attempted)
                    && row.1 == cast.admin_id
                    && row.2 == cast.user_id),
                "{attempted} refused and audited: {denied:?}"
            );
        }

        // The admin area is the admin's own, not the impersonation's, and says so.
        let admin_area = app.get("/admin", Some(&browser)).await;
        assert_eq!(admin_area.status(), StatusCode::FORBIDDEN);
        let body = admin_area.text().await.unwrap_or_default();
        assert!(body.contains("while impersonating"), "{body}");
        // The JSON API's security endpoints need sudo too.
        let token = app
            .api_with_session(
                reqwest::Method::POST,
                "/api/v1/api-tokens",
                &browser,
                Some(serde_json::json!({ "name": "CI", "scopes": ["profile:read"] })),
            )
            .await;
        assert_eq!(token.status(), StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn stopping_goes_back_to_the_admins_own_session_with_a_new_token() {
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        let (browser, session, kept) = started(&app, &cast).await;

        let stopped = app
            .post_form(
                "/api/impersonation/stop",
                "/users/settings",
                &[],
                Some(&browser),
            )
            .await;
        assert_eq!(location(&stopped), format!("/admin/users/{}", cast.user_id));
        assert!(clears_kept_aside(&stopped), "the kept-aside cookie goes");
        let back = session_cookie(&stopped).expect("the admin's session, with a new token");
        let own = me(&app, &back).await.expect("the admin's own session");
        assert_eq!(own["email"], "admin@example.com");

        assert_eq!(me(&app, &session).await, None, "the impersonation is over");
        let kept_token = kept.replace(KEPT_ASIDE, "__Host-sigra_session=");
        assert_eq!(
            me(&app, &kept_token).await,
            None,
            "the kept-aside token is spent"
        );
        assert_eq!(impersonations(&app).await, 0);
        let rows = audit_rows(&app, "admin.impersonation.stop").await;
        assert_eq!(rows.len(), 1);
        assert_eq!((&rows[0].1, &rows[0].2), (&cast.admin_id, &cast.user_id));
        assert!(rows[0].3.contains("\"restored\":true"), "{}", rows[0].3);

        // Replaying the stop with the old cookies changes nothing.
        let replayed = app
            .post_form(
                "/api/impersonation/stop",
                "/users/settings",
                &[],
                Some(&browser),
            )
            .await;
        assert!(session_cookie(&replayed).is_none(), "{replayed:?}");
        assert_eq!(audit_rows(&app, "admin.impersonation.stop").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn logging_out_of_an_impersonation_stops_it() {
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        let (browser, session, _) = started(&app, &cast).await;
        let out = app
            .post_form("/users/log-out", "/users/settings", &[], Some(&browser))
            .await;
        assert_eq!(location(&out), format!("/admin/users/{}", cast.user_id));
        let back = session_cookie(&out).expect("the admin's session");
        assert_eq!(
            me(&app, &back).await.expect("back")["email"],
            "admin@example.com"
        );
        assert_eq!(me(&app, &session).await, None);
        assert_eq!(audit_rows(&app, "admin.impersonation.stop").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn stopping_when_the_admins_own_session_has_ended_asks_to_log_in_again() {
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        let (browser, _, _) = started(&app, &cast).await;
        sqlx::query("DELETE FROM user_sessions WHERE user_id = $1")
            .bind(&cast.admin_id)
            .execute(app.sigra.db().pool())
            .await
            .expect("the admin's sessions ended elsewhere");

        let stopped = app
            .post_form(
                "/api/impersonation/stop",
                "/users/settings",
                &[],
                Some(&browser),
            )
            .await;
        assert_eq!(location(&stopped), "/users/log-in");
        assert!(clears_session(&stopped) && clears_kept_aside(&stopped));
        assert_eq!(
            app.session_rows().await,
            1,
            "only the user's own session is left"
        );
        let rows = audit_rows(&app, "admin.impersonation.stop").await;
        assert!(rows[0].3.contains("\"restored\":false"), "{}", rows[0].3);
    })
    .await;
}

#[tokio::test]
async fn a_kept_aside_cookie_of_another_session_does_not_become_the_admins() {
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        let (_, session, _) = started(&app, &cast).await;
        // Someone else's live session in the kept-aside cookie: stopping does not hand it over
        // as the admin's.
        let other = app.signed_in("other@example.com").await;
        let forged = other.replace("__Host-sigra_session=", KEPT_ASIDE);
        let stopped = app
            .post_form(
                "/api/impersonation/stop",
                "/users/settings",
                &[],
                Some(&format!("{session}; {forged}")),
            )
            .await;
        assert_eq!(location(&stopped), "/users/log-in");
        assert!(session_cookie(&stopped).is_none());
        assert!(
            me(&app, &other).await.is_some(),
            "that session is untouched"
        );
    })
    .await;
}

#[tokio::test]
async fn an_impersonation_ends_after_fifteen_idle_minutes_or_thirty_in_all_and_gives_the_browser_back(
) {
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        let (browser, _, _) = started(&app, &cast).await;
        app.advance(14 * MINUTE);
        assert_eq!(
            me(&app, &browser).await.expect("still on")["email"],
            "user@example.com"
        );
        app.advance(15 * MINUTE);
        let response = app
            .api_with_session(reqwest::Method::GET, "/api/v1/me", &browser, None)
            .await;
        assert!(clears_kept_aside(&response), "{response:?}");
        let back = session_cookie(&response).expect("the admin's own session comes back");
        let seen: Value = response.json().await.expect("json");
        assert_eq!(
            seen["email"], "admin@example.com",
            "this request is the admin's"
        );
        assert_eq!(
            me(&app, &back).await.expect("alive")["email"],
            "admin@example.com"
        );
        let rows = audit_rows(&app, "admin.impersonation.timeout_expire").await;
        assert_eq!(rows.len(), 1);
        assert_eq!((&rows[0].1, &rows[0].2), (&cast.admin_id, &cast.user_id));
        assert!(rows[0].3.contains("idle"), "{}", rows[0].3);

        // A busy impersonation still ends 30 minutes after it started.
        let mut admin = back;
        app.enter_sudo(&mut admin, &format!("/admin/users/{}", cast.user_id))
            .await;
        let again = Cast { admin, ..cast };
        let (browser, _, _) = started(&app, &again).await;
        for _ in 0..2 {
            app.advance(14 * MINUTE);
            assert!(me(&app, &browser).await.is_some());
        }
        app.advance(2 * MINUTE);
        let over = app
            .api_with_session(reqwest::Method::GET, "/api/v1/me", &browser, None)
            .await;
        let seen: Value = over.json().await.unwrap_or_default();
        assert_ne!(seen["email"], "user@example.com");
        let rows = audit_rows(&app, "admin.impersonation.timeout_expire").await;
        assert!(rows[1].3.contains("absolute"), "{rows:?}");
    })
    .await;
}

#[tokio::test]
async fn revoking_the_admins_grant_ends_their_impersonation_at_the_next_request() {
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        let (browser, session, _) = started(&app, &cast).await;
        app.sigra
            .admin()
            .revoke(
                "admin@example.com",
                &sigra::request::RequestContext::command("test"),
            )
            .await
            .expect("revoked");
        let seen = me(&app, &browser).await.expect("the admin's own session");
        assert_eq!(seen["email"], "admin@example.com", "no longer the user");
        assert_eq!(me(&app, &session).await, None, "the impersonation is over");
        assert_eq!(impersonations(&app).await, 0);
        let rows = audit_rows(&app, "admin.impersonation.stop").await;
        assert_eq!(rows.len(), 1);
        assert_eq!((&rows[0].1, &rows[0].2), (&cast.admin_id, &cast.user_id));
        assert!(rows[0].3.contains("grant_revoked"), "{}", rows[0].3);
    })
    .await;
}

#[tokio::test]
async fn an_impersonation_nobody_comes_back_to_is_audited_when_the_cleanup_ends_it() {
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        let (_, session, _) = started(&app, &cast).await;
        app.sigra
            .jobs()
            .schedule_periodic_jobs()
            .await
            .expect("scheduled");
        app.advance(16 * MINUTE);
        app.deliver_mail().await;
        assert_eq!(impersonations(&app).await, 0, "the cleanup ended it");
        let rows = audit_rows(&app, "admin.impersonation.timeout_expire").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!((&rows[0].1, &rows[0].2), (&cast.admin_id, &cast.user_id));
        assert!(rows[0].3.contains("idle"), "{}", rows[0].3);
        assert_eq!(me(&app, &session).await, None);
        assert_eq!(
            audit_rows(&app, "admin.impersonation.timeout_expire")
                .await
                .len(),
            1,
            "once"
        );
    })
    .await;
}

#[tokio::test]
async fn platform_admins_the_admins_own_account_and_accounts_being_deleted_cannot_be_impersonated()
{
    on_each_engine(|app: TestApp| async move {
        let cast = cast(&app).await;
        app.signed_in("colleague@example.com").await;
        make_admin(&app, "colleague@example.com").await;
        let colleague = id_of(&app, "colleague@example.com").await;
        sqlx::query("UPDATE users SET deletion_scheduled_at = 1 WHERE id = $1")
            .bind(&cast.user_id)
            .execute(app.sigra.db().pool())
            .await
            .expect("scheduled");
        for (target, reason) in [
            (&colleague, "platform_admin"),
            (&cast.admin_id, "own_account"),
            (&cast.user_id, "deletion_scheduled"),
        ] {
            let refused = app
                .call_json(
                    "/api/admin/impersonate",
                    &[("id", target)],
                    Some(&cast.admin),
                )
                .await;
            assert_eq!(refused.status(), StatusCode::CONFLICT, "{reason}");
            assert!(session_cookie(&refused).is_none());
            let denied = audit_rows(&app, "admin.impersonation.denied").await;
            assert!(
                denied.last().is_some_and(|row| row.3.contains(reason)),
                "{reason}: {denied:?}"
            );
        }
        assert_eq!(impersonations(&app).await, 0);
    })
    .await;
}

#[tokio::test]
async fn starting_needs_a_platform_admin_with_sudo_and_a_same_site_request() {
    on_each_engine(|app: TestApp| async move {
        let user = app.signed_in("user@example.com").await;
        let admin = app.signed_in("admin@example.com").await;
        make_admin(&app, "admin@example.com").await;
        let other = app.signed_in("other@example.com").await;
        let user_id = id_of(&app, "user@example.com").await;

        let no_sudo = impersonate(&app, &admin, &user_id).await;
        assert!(
            location(&no_sudo).starts_with("/users/sudo?return_to="),
            "{no_sudo:?}"
        );
        let not_admin = app
            .call_json("/api/admin/impersonate", &[("id", &user_id)], Some(&other))
            .await;
        assert_eq!(not_admin.status(), StatusCode::FORBIDDEN);

        let mut admin = admin;
        app.enter_sudo(&mut admin, &format!("/admin/users/{user_id}"))
            .await;
        let forged = app
            .post_form_with(
                "/api/admin/impersonate",
                &format!("/admin/users/{user_id}"),
                &[("id", &user_id)],
                Some(&admin),
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert_eq!(impersonations(&app).await, 0, "nothing started");
        assert!(me(&app, &user).await.is_some());
    })
    .await;
}
