//! The admin area over HTTP: who may open it (every `/admin` page and admin server function,
//! enumerated, for a guest, a user, an organization's owner and a platform admin), and the
//! user list's search, filters, paging and counts.

use reqwest::StatusCode;
use sigra::admin::grants::GrantChange;
use sigra::request::RequestContext;

use crate::organizations::create_project;
use server::testing::{location, on_each_engine, TestApp, CANARY_PASSWORD};

/// Confirms the account at `email` and makes it a platform admin, as the operator would.
pub(crate) async fn make_admin(app: &TestApp, email: &str) {
    confirm(app, email).await;
    let granted = app
        .sigra
        .admin()
        .grant(email, &RequestContext::command("test"))
        .await
        .expect("granted");
    assert_eq!(granted, GrantChange::Done);
}

async fn confirm(app: &TestApp, email: &str) {
    sqlx::query("UPDATE users SET confirmed_at = 1 WHERE email = $1")
        .bind(email)
        .execute(app.sigra.db().pool())
        .await
        .expect("confirmed");
}

#[tokio::test]
async fn the_admin_area_sends_a_guest_to_log_in_refuses_everyone_without_a_grant_and_opens_for_a_platform_admin(
) {
    on_each_engine(|app: TestApp| async move {
        let user = app.signed_in("user@example.com").await;
        let owner = app.signed_in("owner@example.com").await;
        app.post_form(
            "/api/user-organizations/create",
            "/organizations/new",
            &[("name", "Acme")],
            Some(&owner),
        )
        .await;
        let admin = app.signed_in("admin@example.com").await;
        make_admin(&app, "admin@example.com").await;
        let target: String =
            sqlx::query_scalar("SELECT id FROM users WHERE email = 'user@example.com'")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("an id");

        let pages: Vec<String> = leptos_axum::generate_route_list(app::App)
            .iter()
            .map(|route| route.path().to_owned())
            .filter(|path| path == "/admin" || path.starts_with("/admin/"))
            // The organization lens opens to an organization's own admins too (admin_lens.rs).
            .filter(|path| !path.contains("{slug}"))
            .map(|path| path.replace("{id}", &target))
            .collect();
        assert!(pages.len() >= 3, "{pages:?}");
        for page in &pages {
            let guest = app.get(page, None).await;
            assert_eq!(guest.status(), StatusCode::FOUND, "{page}");
            assert!(location(&guest).starts_with("/users/log-in"), "{page}");
            for (who, cookie) in [("a user", &user), ("an organization's owner", &owner)] {
                let refused = app.get(page, Some(cookie)).await;
                assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{page} for {who}");
            }
            assert_eq!(
                app.get(page, Some(&admin)).await.status(),
                StatusCode::OK,
                "{page} for the admin"
            );
        }

        let functions: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .filter(|path| path.starts_with("/api/admin/"))
            .collect();
        assert!(functions.len() >= 6, "{functions:?}");
        let before = app.account_snapshot().await;
        for path in functions {
            // What each takes, and whether it changes an account (which needs the admin's
            // sudo, not yet entered here).
            let (form, acts): (Vec<(&str, &str)>, bool) =
                match path.trim_start_matches("/api/admin/") {
                    "overview" | "users" | "audit" | "organizations" => (vec![], false),
                    "user" => (vec![("id", &target)], false),
                    "act" => (vec![("id", &target), ("action", "unlock")], true),
                    "impersonate" => (vec![("id", &target)], true),
                    "revoke-session" => (vec![("id", &target), ("session", "s")], true),
                    _ => panic!("{path} has no case here: add one"),
                };
            assert_eq!(
                app.call_json(path, &form, None).await.status(),
                StatusCode::UNAUTHORIZED,
                "{path} for a guest"
            );
            for (who, cookie) in [("a user", &user), ("an organization's owner", &owner)] {
                assert_eq!(
                    app.call_json(path, &form, Some(cookie)).await.status(),
                    StatusCode::FORBIDDEN,
                    "{path} for {who}"
                );
            }
            let expected = if acts {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::OK
            };
            assert_eq!(
                app.call_json(path, &form, Some(&admin)).await.status(),
                expected,
                "{path} for the admin without sudo"
            );
        }
        assert_eq!(app.account_snapshot().await, before, "nothing changed");

        // The grant taken away, the next request is refused.
        app.sigra
            .admin()
            .revoke("admin@example.com", &RequestContext::command("test"))
            .await
            .expect("revoked");
        assert_eq!(
            app.get("/admin", Some(&admin)).await.status(),
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

#[tokio::test]
async fn only_a_confirmed_account_can_be_granted_and_each_grant_and_revocation_is_audited_once() {
    on_each_engine(|app: TestApp| async move {
        app.signed_in("ada@example.com").await;
        let command = RequestContext::command("test");
        let admin = app.sigra.admin();
        assert!(matches!(
            admin.grant("ada@example.com", &command).await,
            Err(sigra::Error::Unconfirmed)
        ));
        assert_eq!(
            admin
                .grant("nobody@example.com", &command)
                .await
                .expect("ok"),
            GrantChange::NoAccount
        );
        confirm(&app, "ada@example.com").await;
        assert_eq!(
            admin.grant("ADA@example.com", &command).await.expect("ok"),
            GrantChange::Done
        );
        assert_eq!(
            admin.grant("ada@example.com", &command).await.expect("ok"),
            GrantChange::Unchanged
        );
        let listed = admin.grants().await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].email, "ada@example.com");
        assert_eq!(
            admin.revoke("ada@example.com", &command).await.expect("ok"),
            GrantChange::Done
        );
        assert_eq!(
            admin.revoke("ada@example.com", &command).await.expect("ok"),
            GrantChange::Unchanged
        );
        for action in ["admin.grant", "admin.revoke"] {
            assert_eq!(
                app.count(&format!(
                    "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' \
                     AND actor_type = 'system' \
                     AND target_id = (SELECT id FROM users WHERE email = 'ada@example.com')"
                ))
                .await,
                1,
                "{action}"
            );
        }
    })
    .await;
}

/// The addresses on the user list page a GET with `query` shows.
async fn listed(app: &TestApp, cookie: &str, query: &str) -> (Vec<String>, String) {
    let response = app
        .get(&format!("/admin/users?{query}"), Some(cookie))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let body = response.text().await.expect("body");
    let total = texts(&body, "user-total").pop().unwrap_or_default();
    (texts(&body, "user-email"), total)
}

/// The text at the start of each element with `data-testid` `id`.
pub(crate) fn texts(body: &str, id: &str) -> Vec<String> {
    body.split(&format!("data-testid=\"{id}\""))
        .skip(1)
        .filter_map(|rest| rest.split_once('>'))
        .filter_map(|(_, rest)| rest.split('<').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_user_list_searches_filters_and_pages_newest_first_with_the_total() {
    on_each_engine(|app: TestApp| async move {
        let admin = app.signed_in("admin@example.com").await;
        make_admin(&app, "admin@example.com").await;
        for n in 0..27 {
            app.register(&format!("user{n:02}@example.com"), CANARY_PASSWORD)
                .await;
            app.advance(std::time::Duration::from_millis(5));
        }
        let pool = app.sigra.db().pool();
        for sql in [
            "UPDATE users SET confirmed_at = 1 WHERE email = 'user03@example.com'",
            "UPDATE users SET locked_until = 99999999999999 WHERE email = 'user04@example.com'",
            "UPDATE users SET deleted_at = 1 WHERE email = 'user05@example.com'",
            "INSERT INTO user_totp (user_id, secret_sealed, key_id, confirmed_at, created_at) \
             SELECT id, 'sealed', 'k1', 1, 1 FROM users WHERE email = 'user06@example.com'",
            "INSERT INTO user_passkeys (id, user_id, credential_id, passkey, name, sign_count, created_at) \
             SELECT 'pk1', id, 'cred1', '{}', 'Laptop', 0, 1 FROM users WHERE email = 'user08@example.com'",
        ] {
            sqlx::query(sql).execute(pool).await.expect("arranged");
        }

        let (first, total) = listed(&app, &admin, "").await;
        assert_eq!(total, "27 users match", "28 accounts, one deleted");
        assert_eq!(first.len(), 25);
        assert_eq!(first[0], "user26@example.com", "newest first");
        let page = app
            .get("/admin/users", Some(&admin))
            .await
            .text()
            .await
            .expect("body");
        let next = page
            .split("href=\"/admin/users?cursor=")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a next page link")
            .to_owned();
        let (second, _) = listed(&app, &admin, &format!("cursor={next}")).await;
        assert_eq!(second, ["user00@example.com", "admin@example.com"]);

        let (found, total) = listed(&app, &admin, "q=USER1").await;
        assert_eq!(total, "10 users match");
        assert!(found.iter().all(|email| email.starts_with("user1")));
        let (nothing, _) = listed(&app, &admin, "q=%25").await;
        assert!(nothing.is_empty(), "a % is a character, not a wildcard");
        let id: String =
            sqlx::query_scalar("SELECT id FROM users WHERE email = 'user07@example.com'")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("an id");
        let (by_id, total) = listed(&app, &admin, &format!("q={id}")).await;
        assert_eq!(by_id, ["user07@example.com"]);
        assert_eq!(total, "1 user matches");

        for (query, expected) in [
            (
                "confirmed=yes",
                vec!["user03@example.com", "admin@example.com"],
            ),
            ("locked=yes", vec!["user04@example.com"]),
            ("deleted=yes", vec!["user05@example.com"]),
            (
                "second_factor=yes",
                vec!["user08@example.com", "user06@example.com"],
            ),
            ("passkeys=yes", vec!["user08@example.com"]),
        ] {
            let (found, _) = listed(&app, &admin, query).await;
            assert_eq!(found, expected, "{query}");
        }

        let overview = app
            .get("/admin", Some(&admin))
            .await
            .text()
            .await
            .expect("body");
        let counts = texts(&overview, "admin-count");
        // Users, confirmed, with a second factor, locked, active sessions, log-ins today.
        assert_eq!(counts, ["27", "2", "2", "1", "1", "1"]);
    })
    .await;
}

#[tokio::test]
async fn the_user_list_filters_by_provider_organization_and_registration_time_and_sorts_oldest_first(
) {
    on_each_engine(|app: TestApp| async move {
        app.signed_in("admin@example.com").await;
        make_admin(&app, "admin@example.com").await;
        let day = std::time::Duration::from_secs(24 * 3600);
        // One account a day after the admin (the test clock moves only when told).
        for name in ["ann", "bob", "cat", "dan"] {
            app.advance(day);
            app.register(&format!("{name}@example.com"), CANARY_PASSWORD)
                .await;
        }
        sqlx::query(
            "INSERT INTO user_identities (id, user_id, provider, subject, created_at) \
             SELECT 'i1', id, 'github', 's1', 1 FROM users WHERE email = 'bob@example.com'",
        )
        .execute(app.sigra.db().pool())
        .await
        .expect("linked");
        let cat = server::testing::session_cookie(
            &app.log_in("cat@example.com", CANARY_PASSWORD, false).await,
        )
        .expect("logged in");
        // Four days on, the admin logs in again.
        let admin = server::testing::session_cookie(
            &app.log_in("admin@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .expect("logged in");
        app.create_organization(&cat, "Acme Rockets").await;
        let first_day: i64 = app.count("SELECT MIN(created_at) FROM users").await;
        // An RFC 3339 time `days` after the admin registered.
        let day_of = |days: i64| {
            sigra::clock::Timestamp::from_millis(first_day + days * 24 * 3600 * 1000).to_string()
        };

        for (query, expected) in [
            ("provider=github".to_owned(), vec!["bob@example.com"]),
            ("provider=google".to_owned(), vec![]),
            (
                "organization=acme-rockets".to_owned(),
                vec!["cat@example.com"],
            ),
            ("organization=nobody-s".to_owned(), vec![]),
            (
                format!("from={}&until={}", day_of(2), day_of(4)),
                vec!["cat@example.com", "bob@example.com"],
            ),
            (
                "sort=oldest".to_owned(),
                vec![
                    "admin@example.com",
                    "ann@example.com",
                    "bob@example.com",
                    "cat@example.com",
                    "dan@example.com",
                ],
            ),
            (
                format!("sort=oldest&from={}", day_of(3)),
                vec!["cat@example.com", "dan@example.com"],
            ),
            (
                "sort=sideways&until=not-a-day".to_owned(),
                vec![
                    "dan@example.com",
                    "cat@example.com",
                    "bob@example.com",
                    "ann@example.com",
                    "admin@example.com",
                ],
            ),
        ] {
            let (found, total) = listed(&app, &admin, &query).await;
            assert_eq!(found, expected, "{query}");
            let matches = if expected.len() == 1 {
                "1 user matches".to_owned()
            } else {
                format!("{} users match", expected.len())
            };
            assert_eq!(total, matches, "{query}");
        }

        // Oldest first pages forward without repeating or skipping.
        for n in 0..30 {
            app.register(&format!("more{n:02}@example.com"), CANARY_PASSWORD)
                .await;
            app.advance(std::time::Duration::from_millis(5));
        }
        let page = app
            .get("/admin/users?sort=oldest", Some(&admin))
            .await
            .text()
            .await
            .expect("body");
        let (first, _) = listed(&app, &admin, "sort=oldest").await;
        let next = page
            .split("href=\"/admin/users?sort=oldest&amp;cursor=")
            .nth(1)
            .or_else(|| page.split("href=\"/admin/users?sort=oldest&cursor=").nth(1))
            .and_then(|rest| rest.split('"').next())
            .expect("a next page link keeping the order")
            .to_owned();
        let (second, _) = listed(&app, &admin, &format!("sort=oldest&cursor={next}")).await;
        assert_eq!(first.len() + second.len(), 35);
        assert_eq!(first[0], "admin@example.com");
        assert_eq!(
            second.last().map(String::as_str),
            Some("more29@example.com")
        );
        assert!(first.iter().all(|email| !second.contains(email)));
    })
    .await;
}

#[tokio::test]
async fn an_admin_action_needs_the_admins_sudo_changes_only_its_target_and_is_audited_with_the_admin_as_actor(
) {
    on_each_engine(|app: TestApp| async move {
        let target = app.signed_in("target@example.com").await;
        let bystander = app.signed_in("bystander@example.com").await;
        let mut admin = app.signed_in("admin@example.com").await;
        make_admin(&app, "admin@example.com").await;
        let pool = app.sigra.db().pool();
        for sql in [
            "UPDATE users SET locked_until = 99999999999999, failed_login_attempts = 9 \
             WHERE email <> 'admin@example.com'",
            "INSERT INTO user_totp (user_id, secret_sealed, key_id, confirmed_at, created_at) \
             SELECT id, 'sealed', 'k1', 1, 1 FROM users WHERE email <> 'admin@example.com'",
        ] {
            sqlx::query(sql).execute(pool).await.expect("arranged");
        }
        let id: String =
            sqlx::query_scalar("SELECT id FROM users WHERE email = 'target@example.com'")
                .fetch_one(pool)
                .await
                .expect("an id");
        let page = format!("/admin/users/{id}");
        let refused = app
            .post_form(
                "/api/admin/act",
                &page,
                &[("id", &id), ("action", "unlock")],
                Some(&admin),
            )
            .await;
        assert!(
            location(&refused).starts_with("/users/sudo?return_to="),
            "sent to confirm the password first"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE locked_until IS NULL")
                .await,
            1,
            "only the admin was never locked"
        );

        app.enter_sudo(&mut admin, &page).await;
        for action in [
            "unlock",
            "turn-off-second-factors",
            "revoke-sessions",
            "require-password-change",
            "confirm-email",
        ] {
            let done = app
                .post_form(
                    "/api/admin/act",
                    &page,
                    &[("id", &id), ("action", action)],
                    Some(&admin),
                )
                .await;
            assert_eq!(location(&done), page, "{action}");
        }
        let made_up = app
            .post_form(
                "/api/admin/act",
                &page,
                &[("id", &id), ("action", "grant-admin")],
                Some(&admin),
            )
            .await;
        assert_ne!(location(&made_up), page, "an action the page does not offer is refused");
        let state = |email: &str| {
            format!(
                "SELECT (CASE WHEN locked_until IS NULL THEN 1 ELSE 0 END) \
                 + (SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id) * 10 \
                 + (SELECT COUNT(*) FROM user_sessions s WHERE s.user_id = u.id) * 100 \
                 FROM users u WHERE email = '{email}'"
            )
        };
        assert_eq!(
            app.count(&state("target@example.com")).await,
            1,
            "unlocked, no app, no session"
        );
        let flags = |email: &str| {
            format!(
                "SELECT must_change_password * 10 + (CASE WHEN confirmed_at IS NULL THEN 0 ELSE 1 END)                  FROM users WHERE email = '{email}'"
            )
        };
        assert_eq!(
            app.count(&flags("target@example.com")).await,
            11,
            "a new password is required and the address is confirmed"
        );
        assert_eq!(
            app.count(&flags("bystander@example.com")).await,
            0,
            "untouched"
        );
        assert_eq!(
            app.count(&state("bystander@example.com")).await,
            110,
            "untouched"
        );
        assert_eq!(app.me(&target).await, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(&bystander).await, StatusCode::OK);
        for action in [
            "account.unlock",
            "mfa.disable",
            "session.revoke_all",
            "account.password_change_required",
            "auth.confirmation_verify.success",
        ] {
            assert_eq!(
                app.count(&format!(
                    "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' \
                     AND actor_type = 'user' \
                     AND actor_id = (SELECT id FROM users WHERE email = 'admin@example.com') \
                     AND target_id = '{id}'"
                ))
                .await,
                1,
                "{action}"
            );
        }
        let mail = app.mailbox("target@example.com").await;
        assert!(
            mail.iter()
                .any(|m| m.subject.contains("Two-factor authentication")),
            "the owner is told their second factors are off: {:?}",
            mail.iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
    })
    .await;
}

#[tokio::test]
async fn the_hosts_additions_show_on_the_user_list_and_the_account_page_as_text() {
    on_each_engine(|app: TestApp| async move {
        let ada = app.signed_in("ada@example.com").await;
        let acme = app.create_organization(&ada, "Acme").await;
        let hostile = "<script>alert(1)</script>";
        for name in ["Rockets", hostile] {
            create_project(&app, &ada, &acme, name).await;
        }
        app.signed_in("bob@example.com").await;
        let admin = app.signed_in("admin@example.com").await;
        make_admin(&app, "admin@example.com").await;

        let list = app
            .get("/admin/users?q=ada", Some(&admin))
            .await
            .text()
            .await
            .expect("body");
        assert_eq!(texts(&list, "user-field"), ["Projects: 2"]);
        let list = app
            .get("/admin/users?q=bob", Some(&admin))
            .await
            .text()
            .await
            .expect("body");
        assert!(
            texts(&list, "user-field").is_empty(),
            "no projects, no field"
        );

        let ada_id: String =
            sqlx::query_scalar("SELECT id FROM users WHERE email = 'ada@example.com'")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("id");
        let page = app
            .get(&format!("/admin/users/{ada_id}"), Some(&admin))
            .await
            .text()
            .await
            .expect("body");
        assert_eq!(texts(&page, "admin-user-badge"), ["Organization owner"]);
        assert_eq!(texts(&page, "admin-user-section"), ["Projects"]);
        assert!(page.contains("Rockets"));
        assert!(!page.contains(hostile), "host text is escaped");
        assert!(page.contains("&lt;script&gt;"), "and still shown");
    })
    .await;
}

#[tokio::test]
async fn an_admin_ends_one_session_of_an_account_and_only_a_session_of_that_account() {
    on_each_engine(|app: TestApp| async move {
        let first = app.signed_in("target@example.com").await;
        let second = server::testing::session_cookie(
            &app.log_in("target@example.com", CANARY_PASSWORD, false).await,
        )
        .expect("a second session");
        let bystander = app.signed_in("bystander@example.com").await;
        let mut admin = app.signed_in("admin@example.com").await;
        make_admin(&app, "admin@example.com").await;
        let id_of = |email: &'static str| {
            let pool = app.sigra.db().pool().clone();
            async move {
                let id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_one(&pool)
                    .await
                    .expect("an id");
                id
            }
        };
        let (target, other) = (id_of("target@example.com").await, id_of("bystander@example.com").await);
        let session_of = |user: String| {
            let pool = app.sigra.db().pool().clone();
            async move {
                let id: String = sqlx::query_scalar(
                    "SELECT id FROM user_sessions WHERE user_id = $1 ORDER BY created_at, id LIMIT 1",
                )
                .bind(user)
                .fetch_one(&pool)
                .await
                .expect("a session");
                id
            }
        };
        let (oldest, bystanders) = (session_of(target.clone()).await, session_of(other).await);
        let page = format!("/admin/users/{target}");
        app.enter_sudo(&mut admin, &page).await;

        // Another account's session named on this account's page: not found, nothing ended.
        let foreign = app
            .call_json(
                "/api/admin/revoke-session",
                &[("id", &target), ("session", &bystanders)],
                Some(&admin),
            )
            .await;
        assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.me(&bystander).await, StatusCode::OK);

        let done = app
            .post_form(
                "/api/admin/revoke-session",
                &page,
                &[("id", &target), ("session", &oldest)],
                Some(&admin),
            )
            .await;
        assert_eq!(location(&done), page);
        assert_eq!(app.me(&first).await, StatusCode::UNAUTHORIZED, "that session ended");
        assert_eq!(app.me(&second).await, StatusCode::OK, "the other goes on");
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'session.delete' \
                 AND actor_id = (SELECT id FROM users WHERE email = 'admin@example.com') \
                 AND target_id = '{target}' AND metadata LIKE '%{oldest}%'"
            ))
            .await,
            1
        );
    })
    .await;
}
