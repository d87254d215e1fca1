//! Account deletion (security.md Z7): asked for under sudo with the password and the address
//! typed back; every session, mailed link, API token, refresh family and access token ends at
//! once; during the grace period logging in leads only to keeping the account; the job runner
//! carries it out with each strategy, removes second factors and passkeys, and frees the
//! address; a cancellation holds off a new request for a day.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sigra::hooks::{HookError, LifecycleHooks};
use sigra::mail::BoxFuture;
use sigra::testing::{Hook, Hooks};
use sigra::users::UserId;
use tokio::sync::Notify;

use server::testing::{
    form_refusal, location, on_each_engine, on_each_engine_with, session_cookie, Setup, TestApp,
    CANARY_PASSWORD,
};

const DELETE: &str = "/users/settings/delete";
const REACTIVATION: &str = "/users/reactivation";
const DAY: Duration = Duration::from_secs(24 * 3600);

fn user(email: &str) -> String {
    format!("(SELECT id FROM users WHERE email = '{email}')")
}

/// Posts the deletion form (as a browser without JavaScript).
async fn ask_to_delete(
    app: &TestApp,
    cookie: &str,
    typed: &str,
    password: &str,
) -> reqwest::Response {
    app.post_form(
        DELETE,
        DELETE,
        &[("confirm_email", typed), ("current_password", password)],
        Some(cookie),
    )
    .await
}

/// The deletion the account has scheduled, if any (unix milliseconds).
async fn scheduled_at(app: &TestApp, email: &str) -> Option<i64> {
    let at: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT deletion_scheduled_at FROM users WHERE email = '{email}'"
    ))
    .fetch_one(app.sigra.db().pool())
    .await
    .expect("the account");
    at
}

async fn actions(app: &TestApp, action: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"
    ))
    .await
}

/// Signs `email` in, enters sudo, and asks for the deletion; the answer must succeed.
async fn scheduled(app: &TestApp, email: &str) -> String {
    let mut cookie = app.signed_in(email).await;
    app.enter_sudo(&mut cookie, DELETE).await;
    let done = ask_to_delete(app, &cookie, email, CANARY_PASSWORD).await;
    assert_eq!(
        location(&done),
        "/users/log-in",
        "{:?}",
        form_refusal(&done)
    );
    cookie
}

#[tokio::test]
async fn a_deletion_needs_sudo_the_password_and_the_address_typed_back_and_ends_every_credential_at_once(
) {
    on_each_engine(|app: TestApp| async move {
        let email = "leaving@example.com";
        let mut cookie = app.signed_in(email).await;
        let other_session = session_cookie(&app.log_in(email, CANARY_PASSWORD, true).await)
            .expect("a second session");
        let api_token = app
            .create_api_token(&mut cookie, "script", &["profile:read"])
            .await;
        let (_, tokens) = app.api_log_in(email, CANARY_PASSWORD).await;
        let access = tokens["access_token"].as_str().expect("access").to_owned();
        let refresh = tokens["refresh_token"].as_str().expect("refresh").to_owned();
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", email)],
            None,
        )
        .await;
        let live_links = format!(
            "SELECT COUNT(*) FROM user_tokens WHERE user_id = {} AND used_at IS NULL",
            user(email)
        );
        assert!(app.count(&live_links).await > 0);

        // Sudo first: without it the form sends the browser to re-enter the password.
        let stale = Duration::from_secs(6 * 60);
        app.advance(stale);
        let refused = ask_to_delete(&app, &cookie, email, CANARY_PASSWORD).await;
        assert!(location(&refused).starts_with("/users/sudo?return_to="), "{}", location(&refused));
        app.enter_sudo(&mut cookie, DELETE).await;

        // The address typed back must be the account's; the password must be right.
        let mistyped = ask_to_delete(&app, &cookie, "leavin@example.com", CANARY_PASSWORD).await;
        assert!(form_refusal(&mistyped).1.is_some_and(|e| e.contains("ConfirmationMismatch")));
        let wrong = ask_to_delete(&app, &cookie, email, "not the password at all").await;
        assert!(form_refusal(&wrong).1.is_some_and(|e| e.contains("WrongPassword")));
        let counted = app
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'security.invalid_credentials' AND metadata LIKE '%account_deletion%'")
            .await;
        assert_eq!(counted, 1, "a wrong password counts toward the lockout like any other");
        assert_eq!(scheduled_at(&app, email).await, None, "nothing changed");
        assert_eq!(app.me(&other_session).await, StatusCode::OK);

        // Typed in another case, it is the same address.
        let now = app.sigra.now().as_millis();
        let done = ask_to_delete(&app, &cookie, "Leaving@Example.com", CANARY_PASSWORD).await;
        assert_eq!(location(&done), "/users/log-in");
        assert!(server::testing::clears_session(&done));
        assert_eq!(scheduled_at(&app, email).await, Some(now + 14 * 86_400_000));
        for session in [&cookie, &other_session] {
            assert_eq!(app.me(session).await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(app.session_rows().await, 0);
        assert_eq!(app.count(&live_links).await, 0, "mailed links are dead");
        for bearer in [&api_token, &access] {
            let answer = app.api(Method::GET, "/api/v1/me", Some(bearer), None).await;
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{bearer}");
        }
        let refreshed = app
            .api(Method::POST, "/api/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh })))
            .await;
        assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM jwt_refresh_families WHERE revoked_at IS NULL").await,
            0
        );
        assert_eq!(actions(&app, "account.deletion.schedule").await, 1);
        let mail = app.mailbox(email).await;
        assert_eq!(mail[0].subject, "Your Sigra account will be deleted");
        assert!(mail[0].text.contains("http://localhost:3000/users/log-in"), "{}", mail[0].text);
    })
    .await;
}

#[tokio::test]
async fn signing_in_during_the_grace_period_leads_only_to_keeping_the_account() {
    on_each_engine(|app: TestApp| async move {
        let email = "wavering@example.com";
        scheduled(&app, email).await;
        let cookie = session_cookie(&app.log_in(email, CANARY_PASSWORD, false).await)
            .expect("logging in still works");

        // Pages go to the reactivation page; other calls and the JSON API are refused.
        for page in ["/users/settings", "/users/sessions", DELETE] {
            let answer = app.get(page, Some(&cookie)).await;
            assert_eq!(location(&answer), REACTIVATION, "{page}");
        }
        let listed = app
            .call_json("/api/account/sessions", &[], Some(&cookie))
            .await;
        assert_eq!(listed.status(), StatusCode::FORBIDDEN);
        assert_eq!(listed.text().await.expect("body"), r#""DeletionPending""#);
        let me = app
            .api_with_session(Method::GET, "/api/v1/me", &cookie, None)
            .await;
        assert_eq!(me.status(), StatusCode::FORBIDDEN);
        let body: Value = me.json().await.expect("json");
        assert_eq!(body["error"], "account_deletion_pending");
        // An API client logging in gets tokens that are refused the same way.
        let (_, tokens) = app.api_log_in(email, CANARY_PASSWORD).await;
        let access = tokens["access_token"].as_str().expect("an access token");
        let answer = app.api(Method::GET, "/api/v1/me", Some(access), None).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN);
        let body: Value = answer.json().await.expect("json");
        assert_eq!(body["error"], "account_deletion_pending");
        let page = app.get(REACTIVATION, Some(&cookie)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        assert!(html.contains("Keep my account"), "{html}");

        let kept = app
            .post_form("/users/reactivation/keep", REACTIVATION, &[], Some(&cookie))
            .await;
        assert_eq!(location(&kept), "/users/settings");
        assert_eq!(scheduled_at(&app, email).await, None);
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::OK,
            "the account works again"
        );
        assert_eq!(actions(&app, "account.deletion.cancel").await, 1);
        assert_eq!(
            app.mailbox(email).await[0].subject,
            "Your Sigra account will not be deleted"
        );

        // A new request waits a day after the cancellation.
        let mut cookie = cookie;
        app.enter_sudo(&mut cookie, DELETE).await;
        let early = ask_to_delete(&app, &cookie, email, CANARY_PASSWORD).await;
        assert!(form_refusal(&early)
            .1
            .is_some_and(|e| e.contains("DeletionCooldown")));
        assert_eq!(scheduled_at(&app, email).await, None);
        app.advance(DAY);
        let mut cookie = session_cookie(&app.log_in(email, CANARY_PASSWORD, false).await)
            .expect("a new day, a new session");
        app.enter_sudo(&mut cookie, DELETE).await;
        let later = ask_to_delete(&app, &cookie, email, CANARY_PASSWORD).await;
        assert_eq!(location(&later), "/users/log-in");
        assert!(scheduled_at(&app, email).await.is_some());
    })
    .await;
}

/// Schedules a deletion for an account with a second factor and a passkey, lets the grace
/// period end and the job runner run; returns the account's id.
async fn deleted_by_the_job_runner(app: &TestApp, email: &str) -> String {
    let mut cookie = app.signed_in(email).await;
    crate::mfa::enrol(app, &mut cookie).await;
    crate::passkeys::register(app, &mut cookie, "Laptop").await;
    let id = app
        .count(&format!(
            "SELECT COUNT(*) FROM users WHERE email = '{email}'"
        ))
        .await;
    assert_eq!(id, 1);
    let id: String = sqlx::query_scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .fetch_one(app.sigra.db().pool())
        .await
        .expect("id");
    app.enter_sudo(&mut cookie, DELETE).await;
    let done = ask_to_delete(app, &cookie, email, CANARY_PASSWORD).await;
    assert_eq!(
        location(&done),
        "/users/log-in",
        "{:?}",
        form_refusal(&done)
    );
    app.sigra
        .jobs()
        .schedule_periodic_jobs()
        .await
        .expect("schedule");
    app.advance(14 * DAY - Duration::from_secs(1));
    app.deliver_mail().await;
    assert_eq!(
        actions(app, "account.deletion.execute").await,
        0,
        "not before its time"
    );
    // The cleanup job's next turn, an hour later.
    app.advance(Duration::from_secs(3600));
    app.deliver_mail().await;
    assert_eq!(actions(app, "account.deletion.execute").await, 1);
    for table in [
        "user_totp",
        "user_backup_codes",
        "user_passkeys",
        "user_sessions",
        "api_tokens",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE user_id = '{id}'"
            ))
            .await,
            0,
            "{table}"
        );
    }
    let last = app.mailbox(email).await;
    assert_eq!(
        last[0].subject, "Your Sigra account was deleted",
        "a last mail to the address it had"
    );
    // The address is free: a new registration gets a new account, and the old password
    // opens nothing.
    let again = app.log_in(email, CANARY_PASSWORD, false).await;
    assert!(session_cookie(&again).is_none());
    app.signed_in(email).await;
    let new_id: String =
        sqlx::query_scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("a new account");
    assert_ne!(new_id, id);
    id
}

fn with_strategy(strategy: &'static str) -> impl Fn() -> Setup {
    move || Setup {
        env: vec![("SIGRA_DELETION_STRATEGY", strategy.to_owned())],
        ..Setup::default()
    }
}

#[tokio::test]
async fn the_soft_strategy_keeps_the_row_marked_deleted_with_its_old_address_on_record() {
    on_each_engine_with(with_strategy("soft"), |app: TestApp| async move {
        let id = deleted_by_the_job_runner(&app, "soft@example.com").await;
        let row: (String, Option<String>, Option<String>, Option<i64>) = sqlx::query_as(&format!(
            "SELECT email, deleted_email, password_hash, deleted_at FROM users WHERE id = '{id}'"
        ))
        .fetch_one(app.sigra.db().pool())
        .await
        .expect("the row stays");
        assert_eq!(row.0, format!("deleted-{id}@deleted.invalid"));
        assert_eq!(row.1.as_deref(), Some("soft@example.com"));
        assert_eq!(row.2, None);
        assert!(row.3.is_some());
    })
    .await;
}

#[tokio::test]
async fn the_anonymise_strategy_keeps_the_row_with_nothing_personal_and_the_trail_keeps_the_id() {
    on_each_engine_with(with_strategy("anonymise"), |app: TestApp| async move {
        let id = deleted_by_the_job_runner(&app, "anon@example.com").await;
        let row: (String, Option<String>, Option<String>, Option<String>) = sqlx::query_as(&format!(
            "SELECT email, deleted_email, password_hash, pending_email FROM users WHERE id = '{id}'"
        ))
        .fetch_one(app.sigra.db().pool())
        .await
        .expect("the row stays");
        assert_eq!(row.0, format!("deleted-{id}@deleted.invalid"));
        assert_eq!((row.1, row.2, row.3), (None, None, None));
        let executed = app
            .count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'account.deletion.execute' AND target_id = '{id}' AND metadata LIKE '%anonymise%'"
            ))
            .await;
        assert_eq!(executed, 1);
    })
    .await;
}

#[tokio::test]
async fn the_hard_strategy_deletes_the_row_and_the_trail_keeps_the_id() {
    on_each_engine_with(with_strategy("hard"), |app: TestApp| async move {
        let id = deleted_by_the_job_runner(&app, "hard@example.com").await;
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM users WHERE id = '{id}'"))
                .await,
            0
        );
        assert!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE actor_id = '{id}'"
            ))
            .await
                > 0,
            "the trail outlives the account"
        );
    })
    .await;
}

#[tokio::test]
async fn with_no_grace_period_the_account_is_deleted_at_once() {
    let setup = || Setup {
        env: vec![("SIGRA_DELETION_GRACE_PERIOD", "0s".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let email = "now@example.com";
        scheduled(&app, email).await;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL")
                .await,
            1
        );
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM users WHERE email = '{email}'"
            ))
            .await,
            0
        );
        assert_eq!(actions(&app, "account.deletion.execute").await, 1);
        let mail = app.mailbox(email).await;
        assert_eq!(
            mail.len(),
            2,
            "the welcome mail and the last one, no 'will be deleted'"
        );
        assert_eq!(mail[0].subject, "Your Sigra account was deleted");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keeping_the_account_after_the_job_runner_took_it_changes_nothing() {
    // The keep request reads its session, then waits while the job runner deletes the
    // account; the cancellation must find nothing to cancel.
    let reached = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let armed = Arc::new(AtomicBool::new(false));
    let setup = || {
        let (reached, release, armed) = (
            Arc::clone(&reached),
            Arc::clone(&release),
            Arc::clone(&armed),
        );
        let hold: Hook = Arc::new(move || {
            let (reached, release, armed) = (
                Arc::clone(&reached),
                Arc::clone(&release),
                Arc::clone(&armed),
            );
            Box::pin(async move {
                if armed.swap(false, Ordering::SeqCst) {
                    reached.notify_one();
                    release.notified().await;
                }
            })
        });
        Setup {
            test_hooks: Hooks {
                after_session_read: Some(hold),
            },
            ..Setup::default()
        }
    };
    on_each_engine_with(setup, |app: TestApp| {
        let (reached, release, armed) =
            (Arc::clone(&reached), Arc::clone(&release), Arc::clone(&armed));
        async move {
            let email = "race@example.com";
            scheduled(&app, email).await;
            app.sigra.jobs().schedule_periodic_jobs().await.expect("schedule");
            app.advance(14 * DAY - Duration::from_secs(60));
            let cookie =
                session_cookie(&app.log_in(email, CANARY_PASSWORD, false).await).expect("s");
            app.advance(Duration::from_secs(60));
            armed.store(true, Ordering::SeqCst);
            let keep = app.post_form("/users/reactivation/keep", REACTIVATION, &[], Some(&cookie));
            let run = async {
                reached.notified().await;
                app.deliver_mail().await;
                release.notify_one();
            };
            let (kept, ()) = tokio::join!(keep, run);
            assert_ne!(location(&kept), "", "the keep request answered");
            assert_eq!(actions(&app, "account.deletion.execute").await, 1);
            assert_eq!(actions(&app, "account.deletion.cancel").await, 0, "nothing was kept");
            assert_eq!(
                app.count("SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL AND deletion_cancelled_at IS NULL")
                    .await,
                1
            );
            assert_eq!(app.me(&cookie).await, StatusCode::UNAUTHORIZED);
        }
    })
    .await;
}

/// A host that will not let accounts go while they own something in its own tables.
struct RefusingHooks;

impl LifecycleHooks for RefusingHooks {
    fn on_delete<'a>(
        &'a self,
        _conn: &'a mut sqlx::AnyConnection,
        _user: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        Box::pin(async { Err(HookError("the user still owns invoices".to_owned())) })
    }
}

#[tokio::test]
async fn a_hook_that_refuses_the_deletion_leaves_the_account_as_it_was() {
    let setup = || Setup {
        hooks: Some(Arc::new(RefusingHooks)),
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let email = "owner@example.com";
        let mut cookie = app.signed_in(email).await;
        app.enter_sudo(&mut cookie, DELETE).await;
        let before = app.account_snapshot().await;
        let refused = ask_to_delete(&app, &cookie, email, CANARY_PASSWORD).await;
        assert!(form_refusal(&refused).1.is_some(), "{}", location(&refused));
        assert_eq!(app.account_snapshot().await, before);
        assert_eq!(scheduled_at(&app, email).await, None);
        assert_eq!(app.me(&cookie).await, StatusCode::OK);
        assert_eq!(actions(&app, "account.deletion.schedule").await, 0);
    })
    .await;
}

#[tokio::test]
async fn a_cross_site_deletion_form_is_refused_and_changes_nothing() {
    on_each_engine(|app: TestApp| async move {
        let email = "csrf@example.com";
        let mut cookie = app.signed_in(email).await;
        app.enter_sudo(&mut cookie, DELETE).await;
        let forged = app
            .post_form_with(
                DELETE,
                DELETE,
                &[
                    ("confirm_email", email),
                    ("current_password", CANARY_PASSWORD),
                ],
                Some(&cookie),
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://evil.example"),
                ],
            )
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert_eq!(scheduled_at(&app, email).await, None);
        assert_eq!(app.me(&cookie).await, StatusCode::OK);
    })
    .await;
}

/// The session behind a cookie, as the core sees it.
async fn authenticated(app: &TestApp, cookie: &str) -> sigra::sessions::Authenticated {
    let token = cookie.trim_start_matches("__Host-sigra_session=");
    let token = sigra::crypto::PresentedToken::parse(token).expect("a token");
    match app.sigra.sessions().authenticate_session(&token).await {
        Ok(sigra::sessions::SessionCheck::Active(current, _)) => current,
        other => panic!("not an active session: {other:?}"),
    }
}

/// Signs `email` up and in; the account's id.
async fn account(app: &TestApp, email: &str) -> UserId {
    let cookie = app.signed_in(email).await;
    authenticated(app, &cookie).await.user().id.clone()
}

#[tokio::test]
async fn the_only_owner_of_an_organization_others_belong_to_deletes_the_account_only_after_naming_another_owner(
) {
    on_each_engine(|app: TestApp| async move {
        let request = sigra::request::RequestContext::command("test");
        let owner_email = "founder@example.com";
        let mut cookie = app.signed_in(owner_email).await;
        let colleague = account(&app, "colleague@example.com").await;
        let orgs = app.sigra.organizations();
        let founded = orgs
            .create(&authenticated(&app, &cookie).await, "Acme Rockets", &request)
            .await
            .expect("created");
        orgs.add_member(&founded.admin().expect("owner"), &colleague, sigra::organizations::Role::MEMBER, &request)
            .await
            .expect("added");
        // An organization nobody else joined goes with the account.
        orgs.create(&authenticated(&app, &cookie).await, "Solo Studio", &request)
            .await
            .expect("created");

        app.enter_sudo(&mut cookie, DELETE).await;
        let page = app.call_json("/api/account/deletion", &[], Some(&cookie)).await;
        let view: Value = page.json().await.expect("json");
        assert_eq!(view["sole_owner_of"], json!(["Acme Rockets"]), "the page says so");
        let refused = ask_to_delete(&app, &cookie, owner_email, CANARY_PASSWORD).await;
        assert!(form_refusal(&refused).1.is_some_and(|e| e.contains("SoleOwner")), "{:?}", form_refusal(&refused));
        assert_eq!(scheduled_at(&app, owner_email).await, None);

        let admin = orgs
            .member_by_id(&authenticated(&app, &cookie).await, &founded.organization().id)
            .await
            .expect("member")
            .admin()
            .expect("owner");
        orgs.change_role(&admin, &colleague, sigra::organizations::Role::OWNER, &request)
            .await
            .expect("a second owner");
        let done = ask_to_delete(&app, &cookie, owner_email, CANARY_PASSWORD).await;
        assert_eq!(location(&done), "/users/log-in", "{:?}", form_refusal(&done));

        app.sigra.jobs().schedule_periodic_jobs().await.expect("schedule");
        app.advance(14 * DAY + Duration::from_secs(3600));
        app.deliver_mail().await;
        assert_eq!(actions(&app, "account.deletion.execute").await, 1);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM organizations WHERE name = 'Solo Studio' AND deleted_at IS NOT NULL").await,
            1,
            "the organization only it belonged to went with it"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM organizations WHERE name = 'Acme Rockets' AND deleted_at IS NULL").await,
            1
        );
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM organization_memberships WHERE user_id = '{}'",
                colleague.as_str()
            ))
            .await,
            1
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM organization_memberships m JOIN users u ON u.id = m.user_id WHERE u.deleted_at IS NOT NULL").await,
            0,
            "a deleted account belongs to nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn an_organization_left_with_no_other_owner_during_the_grace_period_passes_to_its_longest_standing_admin(
) {
    on_each_engine(|app: TestApp| async move {
        let request = sigra::request::RequestContext::command("test");
        let leaving = "leaving-owner@example.com";
        let cookie = app.signed_in(leaving).await;
        let staying_owner = app.signed_in("staying-owner@example.com").await;
        let staying = authenticated(&app, &staying_owner).await.user().id.clone();
        let member = account(&app, "member@example.com").await;
        let admin_id = account(&app, "admin@example.com").await;
        let orgs = app.sigra.organizations();
        let org = orgs
            .create(&authenticated(&app, &cookie).await, "Shared Works", &request)
            .await
            .expect("created");
        let admin = org.admin().expect("owner");
        for (user, role) in [
            (&staying, sigra::organizations::Role::OWNER),
            (&member, sigra::organizations::Role::MEMBER),
            (&admin_id, sigra::organizations::Role::ADMIN),
        ] {
            orgs.add_member(&admin, user, role, &request)
                .await
                .expect("added");
        }
        scheduled_with(&app, leaving, cookie).await;
        // During the grace period the other owner leaves: the leaving account is the only owner.
        let other = orgs
            .member_by_id(&authenticated(&app, &staying_owner).await, &org.organization().id)
            .await
            .expect("member");
        orgs.leave(&other, &request).await.expect("left");

        app.sigra.jobs().schedule_periodic_jobs().await.expect("schedule");
        app.advance(14 * DAY + Duration::from_secs(3600));
        app.deliver_mail().await;
        assert_eq!(actions(&app, "account.deletion.execute").await, 1);
        let owners: Vec<String> = sqlx::query_scalar(
            "SELECT u.email FROM organization_memberships m JOIN users u ON u.id = m.user_id WHERE m.role = 'owner'",
        )
        .fetch_all(app.sigra.db().pool())
        .await
        .expect("owners");
        assert_eq!(owners, ["admin@example.com"], "an admin before an older member");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'organization.member_role_change' AND actor_type = 'system'").await,
            1
        );
    })
    .await;
}

/// Enters sudo on `cookie` and asks to delete `email`'s account.
async fn scheduled_with(app: &TestApp, email: &str, mut cookie: String) {
    app.enter_sudo(&mut cookie, DELETE).await;
    let done = ask_to_delete(app, &cookie, email, CANARY_PASSWORD).await;
    assert_eq!(
        location(&done),
        "/users/log-in",
        "{:?}",
        form_refusal(&done)
    );
}
