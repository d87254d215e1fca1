//! Magic-link log-in and password reset: enumeration safety, single use, expiry, purpose.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;

use server::testing::{
    answer_snapshot, clears_session, form_refusal, location, on_each_engine, session_cookie,
    TestApp, CANARY_PASSWORD,
};

const NEW_PASSWORD: &str = "a brand new passphrase for tests";

#[tokio::test]
async fn known_and_unknown_addresses_get_identical_answers() {
    on_each_engine(|app: TestApp| async move {
        app.register("known@example.com", CANARY_PASSWORD).await;
        for (path, from) in [
            ("/users/reset-password", "/users/reset-password"),
            ("/users/log-in/email-link", "/users/log-in"),
        ] {
            let known = answer_snapshot(
                app.post_form(path, from, &[("email", "known@example.com")], None)
                    .await,
            )
            .await;
            let unknown = answer_snapshot(
                app.post_form(path, from, &[("email", "unknown@example.com")], None)
                    .await,
            )
            .await;
            assert_eq!(known, unknown, "{path}");
        }
        assert!(app.mailbox("unknown@example.com").await.is_empty());
        assert_eq!(
            app.mailbox("known@example.com").await.len(),
            3,
            "confirmation, reset link, log-in link"
        );
    })
    .await;
}

#[tokio::test]
async fn a_magic_link_logs_in_once_and_confirms_the_address() {
    on_each_engine(|app: TestApp| async move {
        app.register("magic@example.com", CANARY_PASSWORD).await;
        app.post_form(
            "/users/log-in/email-link",
            "/users/log-in",
            &[("email", "magic@example.com")],
            None,
        )
        .await;
        let link = app
            .link_in_mail("magic@example.com", "/users/log-in/")
            .await;
        let (cookie, page) = app.open_link(&link).await;
        assert_eq!(page, "/users/log-in/link");
        let response = app
            .post_link_form("/users/log-in/link", &cookie, &[], None)
            .await;
        assert_eq!(location(&response), "/dashboard");
        let session = session_cookie(&response).expect("a session");
        assert_eq!(app.me(&session).await, StatusCode::OK);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE confirmed_at IS NOT NULL")
                .await,
            1
        );

        let again = app
            .post_link_form("/users/log-in/link", &cookie, &[], None)
            .await;
        assert!(session_cookie(&again).is_none(), "single use");
    })
    .await;
}

#[tokio::test]
async fn a_magic_link_expires_after_ten_minutes() {
    on_each_engine(|app: TestApp| async move {
        app.register("late@example.com", CANARY_PASSWORD).await;
        let mut links = Vec::new();
        for _ in 0..2 {
            app.post_form(
                "/users/log-in/email-link",
                "/users/log-in",
                &[("email", "late@example.com")],
                None,
            )
            .await;
            links.push(app.link_in_mail("late@example.com", "/users/log-in/").await);
        }
        let (in_time, late) = (&links[1], &links[0]);
        assert_ne!(in_time, late);

        app.advance(Duration::from_secs(10 * 60 - 1));
        let (cookie, _) = app.open_link(in_time).await;
        let response = app
            .post_link_form("/users/log-in/link", &cookie, &[], None)
            .await;
        assert!(session_cookie(&response).is_some(), "just in time");

        app.advance(Duration::from_secs(2));
        let (cookie, _) = app.open_link(late).await;
        let response = app
            .post_link_form("/users/log-in/link", &cookie, &[], None)
            .await;
        assert!(session_cookie(&response).is_none());
        assert_eq!(
            form_refusal(&response),
            (
                "/users/log-in/link".to_owned(),
                Some(r#""InvalidToken""#.to_owned())
            ),
            "the link page says the link is dead"
        );
    })
    .await;
}

#[tokio::test]
async fn a_reset_sets_the_password_ends_every_session_and_does_not_log_in() {
    on_each_engine(|app: TestApp| async move {
        let old_session = app.signed_in("reset@example.com").await;
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "reset@example.com")],
            None,
        )
        .await;
        let link = app
            .link_in_mail("reset@example.com", "/users/reset-password/")
            .await;
        let (cookie, page) = app.open_link(&link).await;
        assert_eq!(page, "/users/reset-password/choose");
        let form = app.get(&page, Some(&cookie)).await;
        assert_eq!(form.headers()["referrer-policy"], "no-referrer");
        assert!(form.text().await.expect("page").contains("New password"));

        let weak = app
            .post_link_form(&page, &cookie, &[("password", "short")], None)
            .await;
        assert_eq!(
            form_refusal(&weak).0,
            "/users/reset-password/choose",
            "errors return to the form"
        );
        assert!(
            form_refusal(&weak)
                .1
                .is_some_and(|error| error.contains("WeakPassword")),
            "with the reason"
        );

        let response = app
            .post_link_form(&page, &cookie, &[("password", NEW_PASSWORD)], None)
            .await;
        assert_eq!(location(&response), "/users/log-in");
        assert!(
            session_cookie(&response).is_none(),
            "a reset does not log in"
        );
        assert!(clears_session(&response));
        assert_eq!(
            app.me(&old_session).await,
            StatusCode::UNAUTHORIZED,
            "every session ended"
        );
        assert!(session_cookie(
            &app.log_in("reset@example.com", CANARY_PASSWORD, false)
                .await
        )
        .is_none());
        assert!(
            session_cookie(&app.log_in("reset@example.com", NEW_PASSWORD, false).await).is_some()
        );
        assert_eq!(
            app.mailbox("reset@example.com").await[0].subject,
            "Your password was changed"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_uses_of_one_reset_link_let_exactly_one_win() {
    on_each_engine(|app: TestApp| async move {
        app.register("race@example.com", CANARY_PASSWORD).await;
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "race@example.com")],
            None,
        )
        .await;
        let link = app
            .link_in_mail("race@example.com", "/users/reset-password/")
            .await;
        let (cookie, page) = app.open_link(&link).await;
        let attempts = (0..10).map(|i| {
            let (app, cookie, page) = (&app, cookie.clone(), page.clone());
            async move {
                let password = format!("{NEW_PASSWORD} number {i}");
                let response = app
                    .post_link_form(&page, &cookie, &[("password", &password)], None)
                    .await;
                if location(&response) == "/users/log-in" {
                    return Some(password);
                }
                // Every loser gets the designed refusal: back to the form, the link is dead.
                assert_eq!(
                    form_refusal(&response),
                    (page.clone(), Some(r#""InvalidToken""#.to_owned())),
                    "{}",
                    response.status()
                );
                None
            }
        });
        let winners: Vec<String> = join_all(attempts).await.into_iter().flatten().collect();
        assert_eq!(winners.len(), 1, "exactly one use wins");
        assert!(
            session_cookie(&app.log_in("race@example.com", &winners[0], false).await).is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn a_token_only_works_for_its_own_purpose_and_time() {
    on_each_engine(|app: TestApp| async move {
        app.register("purpose@example.com", CANARY_PASSWORD).await;
        let confirm_link = app
            .link_in_mail("purpose@example.com", "/users/confirm/")
            .await;
        let (confirm_cookie, _) = app.open_link(&confirm_link).await;
        let response = app
            .post_link_form(
                "/users/reset-password/choose",
                &confirm_cookie,
                &[("password", NEW_PASSWORD)],
                None,
            )
            .await;
        assert_eq!(
            form_refusal(&response).1.as_deref(),
            Some(r#""InvalidToken""#),
            "a confirmation token is no reset token"
        );
        assert!(
            session_cookie(&app.log_in("purpose@example.com", NEW_PASSWORD, false).await).is_none()
        );

        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "purpose@example.com")],
            None,
        )
        .await;
        let reset_link = app
            .link_in_mail("purpose@example.com", "/users/reset-password/")
            .await;
        app.advance(Duration::from_secs(3600 + 1));
        let (cookie, page) = app.open_link(&reset_link).await;
        let response = app
            .post_link_form(&page, &cookie, &[("password", NEW_PASSWORD)], None)
            .await;
        assert_eq!(
            form_refusal(&response).1.as_deref(),
            Some(r#""InvalidToken""#),
            "an hour-old reset link is dead"
        );
    })
    .await;
}

#[tokio::test]
async fn reset_mail_is_limited_per_address() {
    on_each_engine(|app: TestApp| async move {
        app.register("flood@example.com", CANARY_PASSWORD).await;
        for _ in 0..20 {
            app.post_form(
                "/users/reset-password",
                "/users/reset-password",
                &[("email", "flood@example.com")],
                None,
            )
            .await;
        }
        let resets = app
            .mailbox("flood@example.com")
            .await
            .into_iter()
            .filter(|m| m.subject == "Reset your password")
            .count();
        assert_eq!(resets, 3);
    })
    .await;
}

#[tokio::test]
async fn mailed_links_use_the_configured_origin_not_the_host_header() {
    on_each_engine(|app: TestApp| async move {
        app.register("host@example.com", CANARY_PASSWORD).await;
        reqwest::Client::new()
            .post(format!("{}/users/reset-password", app.address))
            .header("host", "evil.test")
            .header("x-forwarded-host", "evil.test")
            .header("origin", "http://localhost:3000")
            .form(&[("email", "host@example.com")])
            .send()
            .await
            .expect("sent");
        let mail = app.mailbox("host@example.com").await;
        let reset = mail
            .iter()
            .find(|m| m.subject == "Reset your password")
            .expect("a reset mail");
        assert!(
            reset
                .text
                .contains("http://localhost:3000/users/reset-password/"),
            "{}",
            reset.text
        );
        assert!(!reset.text.contains("evil.test"));
    })
    .await;
}

/// Whether a mailed log-in link still logs in.
pub(crate) async fn magic_link_works(app: &TestApp, link: &str) -> bool {
    let (cookie, page) = app.open_link(link).await;
    let response = app.post_link_form(&page, &cookie, &[], None).await;
    session_cookie(&response).is_some()
}

/// Whether a mailed reset link still sets a password.
pub(crate) async fn reset_link_works(app: &TestApp, link: &str) -> bool {
    let (cookie, page) = app.open_link(link).await;
    let response = app
        .post_link_form(
            &page,
            &cookie,
            &[("password", "yet another passphrase here")],
            None,
        )
        .await;
    location(&response) == "/users/log-in"
}

/// The `/api/v1/me` status for a JWT access token, and the refresh status for its refresh token.
pub(crate) async fn api_client_status(
    app: &TestApp,
    tokens: &serde_json::Value,
) -> (StatusCode, StatusCode) {
    let me = app
        .api(
            reqwest::Method::GET,
            "/api/v1/me",
            tokens["access_token"].as_str(),
            None,
        )
        .await
        .status();
    let refresh = app
        .api(
            reqwest::Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(serde_json::json!({ "refresh_token": tokens["refresh_token"] })),
        )
        .await
        .status();
    (me, refresh)
}

#[tokio::test]
async fn a_reset_ends_every_mailed_link_and_every_access_token_of_the_account() {
    on_each_engine(|app: TestApp| async move {
        app.register("ends@example.com", CANARY_PASSWORD).await;
        let ask = |path: &'static str, from: &'static str| {
            let app = &app;
            async move {
                app.post_form(path, from, &[("email", "ends@example.com")], None)
                    .await;
            }
        };
        ask("/users/log-in/email-link", "/users/log-in").await;
        let magic = app.link_in_mail("ends@example.com", "/users/log-in/").await;
        ask("/users/reset-password", "/users/reset-password").await;
        let other_reset = app
            .link_in_mail("ends@example.com", "/users/reset-password/")
            .await;
        ask("/users/reset-password", "/users/reset-password").await;
        let reset = app
            .link_in_mail("ends@example.com", "/users/reset-password/")
            .await;
        assert_ne!(reset, other_reset);
        let (status, tokens) = app.api_log_in("ends@example.com", CANARY_PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            api_client_status(&app, &tokens).await.0,
            StatusCode::OK,
            "alive before"
        );
        let (status, tokens) = app.api_log_in("ends@example.com", CANARY_PASSWORD).await;
        assert_eq!(status, StatusCode::OK);

        let (cookie, page) = app.open_link(&reset).await;
        let response = app
            .post_link_form(&page, &cookie, &[("password", NEW_PASSWORD)], None)
            .await;
        assert_eq!(location(&response), "/users/log-in");

        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_tokens WHERE used_at IS NULL")
                .await,
            0,
            "no live token row is left"
        );
        assert!(
            !magic_link_works(&app, &magic).await,
            "the log-in link is dead"
        );
        assert!(
            !reset_link_works(&app, &other_reset).await,
            "the other reset link is dead"
        );
        assert_eq!(
            api_client_status(&app, &tokens).await,
            (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED),
            "the access token and its refresh family end with the epoch"
        );
    })
    .await;
}

#[tokio::test]
async fn magic_links_are_mailed_three_times_per_address_per_fifteen_minutes() {
    on_each_engine(|app: TestApp| async move {
        app.register("thrice@example.com", CANARY_PASSWORD).await;
        let ask = || async {
            answer_snapshot(
                app.post_form(
                    "/users/log-in/email-link",
                    "/users/log-in",
                    &[("email", "thrice@example.com")],
                    None,
                )
                .await,
            )
            .await
        };
        let links = || async {
            app.mailbox("thrice@example.com")
                .await
                .iter()
                .filter(|mail| mail.text.contains("/users/log-in/"))
                .count()
        };
        let first = ask().await;
        for _ in 0..2 {
            assert_eq!(ask().await, first);
        }
        assert_eq!(links().await, 3);
        assert_eq!(ask().await, first, "the fourth answer is the same");
        assert_eq!(links().await, 3, "and sends nothing");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_tokens WHERE purpose = 'magic_link'")
                .await,
            3,
            "nor makes a token"
        );
        app.advance(Duration::from_secs(15 * 60));
        ask().await;
        assert_eq!(links().await, 4, "the window has passed");
    })
    .await;
}
