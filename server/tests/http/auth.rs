//! Sign-up, log-in and log-out over HTTP, as a browser without JavaScript and as the hydrated
//! page's JSON calls.

use reqwest::StatusCode;

use server::testing::{
    answer_snapshot, clears_session, cookie_pair, location, on_each_engine, session_cookie,
    set_cookies, TestApp, CANARY_PASSWORD,
};

#[tokio::test]
async fn register_log_in_see_the_account_and_log_out() {
    on_each_engine(|app: TestApp| async move {
        let registered = app.register("Ada@Example.com", CANARY_PASSWORD).await;
        assert_eq!(registered.status(), StatusCode::FOUND);
        assert_eq!(location(&registered), "/users/check-email");
        assert_eq!(
            session_cookie(&registered),
            None,
            "registration does not log in"
        );

        let logged_in = app.log_in("ada@example.com", CANARY_PASSWORD, false).await;
        assert_eq!(logged_in.status(), StatusCode::FOUND);
        assert_eq!(location(&logged_in), "/dashboard");
        let cookie = session_cookie(&logged_in).expect("a session cookie");

        let settings = app.get("/users/settings", Some(&cookie)).await;
        assert_eq!(settings.status(), StatusCode::OK);
        let html = settings.text().await.expect("body");
        assert!(
            html.contains("ada@example.com"),
            "the settings page shows the account"
        );

        let me = reqwest::Client::new()
            .get(format!("{}/api/v1/me", app.address))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("sent");
        assert_eq!(me.status(), StatusCode::OK);
        let body: serde_json::Value = me.json().await.expect("json");
        assert_eq!(body["email"], "ada@example.com");

        let logged_out = app
            .post_form("/users/log-out", "/users/settings", &[], Some(&cookie))
            .await;
        assert_eq!(logged_out.status(), StatusCode::FOUND);
        assert_eq!(location(&logged_out), "/");
        assert!(clears_session(&logged_out));
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::UNAUTHORIZED,
            "the old cookie is dead"
        );
        assert_eq!(app.session_rows().await, 0, "log-out deletes the row");
    })
    .await;
}

#[tokio::test]
async fn settings_without_a_session_redirects_to_log_in() {
    on_each_engine(|app: TestApp| async move {
        let response = app.get("/users/settings", None).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            location(&response),
            "/users/log-in?return_to=/users/settings"
        );
        assert_eq!(
            app.get("/api/v1/me", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_byte_identical_answers() {
    on_each_engine(|app: TestApp| async move {
        app.register("known@example.com", CANARY_PASSWORD).await;
        let wrong = app
            .log_in("known@example.com", "not the right password at all", false)
            .await;
        let unknown = app
            .log_in("nobody@example.com", "not the right password at all", false)
            .await;
        let (wrong, unknown) = (answer_snapshot(wrong).await, answer_snapshot(unknown).await);
        assert_eq!(wrong, unknown);
        assert_eq!(
            wrong.0,
            StatusCode::FOUND.as_u16(),
            "a form post goes back to the form"
        );
        assert!(
            wrong
                .1
                .iter()
                .any(|(k, v)| k == "location" && v.ends_with("/users/log-in")),
            "back to the form, with nothing in its address: {:?}",
            wrong.1
        );
        assert!(
            !wrong
                .1
                .iter()
                .any(|(k, v)| k == "set-cookie" && v.starts_with("__Host-sigra_session=")),
            "no session on failure"
        );
    })
    .await;
}

#[tokio::test]
async fn the_hydrated_log_in_gets_one_answer_for_locked_wrong_and_unknown() {
    on_each_engine(|app: TestApp| async move {
        app.register("known@example.com", CANARY_PASSWORD).await;
        app.register("locked@example.com", CANARY_PASSWORD).await;
        let json_log_in = |email: &'static str, password: &'static str| {
            let app = &app;
            async move {
                app.call_json(
                    "/users/log-in",
                    &[("email", email), ("password", password)],
                    None,
                )
                .await
            }
        };
        for _ in 0..5 {
            json_log_in("locked@example.com", "not the right password at all").await;
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE locked_until IS NOT NULL")
                .await,
            1,
            "the account is locked"
        );
        let wrong = answer_snapshot(
            json_log_in("known@example.com", "not the right password at all").await,
        )
        .await;
        let unknown = answer_snapshot(
            json_log_in("nobody@example.com", "not the right password at all").await,
        )
        .await;
        let locked =
            answer_snapshot(json_log_in("locked@example.com", CANARY_PASSWORD).await).await;
        assert_eq!(wrong, unknown, "wrong password vs unknown email");
        assert_eq!(
            wrong, locked,
            "wrong password vs the right one while locked"
        );
        assert_eq!(wrong.0, StatusCode::UNAUTHORIZED.as_u16());
        assert_eq!(wrong.2, br#""InvalidCredentials""#.to_vec());
    })
    .await;
}

#[tokio::test]
async fn a_taken_email_registers_exactly_like_a_new_one() {
    on_each_engine(|app: TestApp| async move {
        let first = answer_snapshot(app.register("taken@example.com", CANARY_PASSWORD).await).await;
        let second = answer_snapshot(
            app.register("Taken@example.com", "a different long passphrase here")
                .await,
        )
        .await;
        assert_eq!(first, second);
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
        // The original password still works; the second registration changed nothing.
        let response = app
            .log_in("taken@example.com", CANARY_PASSWORD, false)
            .await;
        assert!(session_cookie(&response).is_some());
    })
    .await;
}

#[tokio::test]
async fn a_weak_password_is_refused_with_its_reason() {
    on_each_engine(|app: TestApp| async move {
        let form = [("email", "weak@example.com"), ("password", "short")];
        let response = app.call_json("/users/register", &form, None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.text().await.expect("body");
        assert_eq!(body, r#"{"WeakPassword":{"TooShort":{"min":15}}}"#);

        let common = [
            ("email", "weak@example.com"),
            ("password", "weak@example.com"),
        ];
        let body = app
            .call_json("/users/register", &common, None)
            .await
            .text()
            .await
            .expect("body");
        assert_eq!(body, r#"{"WeakPassword":"BasedOnEmail"}"#);
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

        // Without JavaScript the reason comes back with the form, not in its address.
        let response = app
            .post_form("/users/register", "/users/register", &form, None)
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = location(&response);
        assert_eq!(back, format!("{}/users/register", app.address));
        let failed = cookie_pair(&response, "__Host-sigra_failed_post").expect("the failed post");
        let page = app
            .get("/users/register", Some(&failed))
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("at least 15 characters"),
            "the form shows the reason"
        );
    })
    .await;
}

#[tokio::test]
async fn a_malformed_email_is_refused_with_its_reason() {
    on_each_engine(|app: TestApp| async move {
        let form = [("email", "not-an-email"), ("password", CANARY_PASSWORD)];
        let response = app.call_json("/users/register", &form, None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.text().await.expect("body");
        assert_eq!(body, r#"{"InvalidEmail":"Malformed"}"#);
    })
    .await;
}

#[tokio::test]
async fn a_crafted_error_link_cannot_put_words_on_the_page() {
    on_each_engine(|app: TestApp| async move {
        use base64::Engine as _;
        for forged in [
            r#"{"Invalid":"Your account is locked. Call 555-0100."}"#,
            r#"{"Server":{"request_id":"call 555-0100 now"}}"#,
        ] {
            let err = base64::engine::general_purpose::URL_SAFE.encode(forged);
            let page = app
                .get(
                    &format!("/users/log-in?__path=%2Fusers%2Flog-in&__err={err}"),
                    None,
                )
                .await
                .text()
                .await
                .expect("page");
            assert!(!page.contains("555-0100"), "forged text appeared: {forged}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_hydrated_page_gets_json_and_a_client_side_redirect() {
    on_each_engine(|app: TestApp| async move {
        app.register("js@example.com", CANARY_PASSWORD).await;
        let form = [("email", "js@example.com"), ("password", CANARY_PASSWORD)];
        let response = app.call_json("/users/log-in", &form, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key("serverfnredirect"));
        assert!(session_cookie(&response).is_some());

        let wrong = [
            ("email", "js@example.com"),
            ("password", "definitely the wrong password"),
        ];
        let response = app.call_json("/users/log-in", &wrong, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookies(response.headers())
            .iter()
            .all(|c| !c.starts_with("__Host-sigra_session")));
        assert!(response
            .text()
            .await
            .expect("body")
            .contains("InvalidCredentials"));
    })
    .await;
}

#[tokio::test]
async fn log_in_refuses_oversized_passwords_without_hashing() {
    on_each_engine(|app: TestApp| async move {
        app.register("big@example.com", CANARY_PASSWORD).await;
        let huge = "x".repeat(5_000);
        let runs = app.sigra.password_hash_runs();
        let response = app
            .call_json(
                "/users/log-in",
                &[("email", "big@example.com"), ("password", &huge)],
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.sigra.password_hash_runs(),
            runs,
            "refused before any hashing"
        );
        let control = app
            .call_json(
                "/users/log-in",
                &[
                    ("email", "big@example.com"),
                    ("password", "x".repeat(200).as_str()),
                ],
                None,
            )
            .await;
        assert_eq!(control.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.sigra.password_hash_runs(),
            runs + 1,
            "a wrong password of allowed length is hashed"
        );
        let too_big = "x".repeat(70_000);
        let response = app
            .call_json(
                "/users/log-in",
                &[("email", "big@example.com"), ("password", &too_big)],
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    })
    .await;
}

#[tokio::test]
async fn outdated_hashes_are_upgraded_at_log_in() {
    on_each_engine(|app: TestApp| async move {
        app.register("legacy@example.com", CANARY_PASSWORD).await;
        let legacy = bcrypt::hash(CANARY_PASSWORD, 4).expect("bcrypt");
        sqlx::query("UPDATE users SET password_hash = $1")
            .bind(&legacy)
            .execute(app.sigra.db().pool())
            .await
            .expect("update");
        let response = app
            .log_in("legacy@example.com", CANARY_PASSWORD, false)
            .await;
        assert!(
            session_cookie(&response).is_some(),
            "bcrypt hashes still verify"
        );
        let row: (String,) = sqlx::query_as("SELECT password_hash FROM users")
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("row");
        assert!(
            row.0.starts_with("$argon2id$"),
            "upgraded to Argon2id: {}",
            row.0
        );
    })
    .await;
}

#[tokio::test]
async fn every_log_in_and_registration_answer_costs_one_hash_whoever_asks() {
    on_each_engine(|app: TestApp| async move {
        app.register("known@example.com", CANARY_PASSWORD).await;
        let costs = |form: [(&'static str, &'static str); 2], path: &'static str| {
            let app = &app;
            async move {
                let before = app.sigra.password_hash_runs();
                app.call_json(path, &form, None).await;
                app.sigra.password_hash_runs() - before
            }
        };
        let wrong = [
            ("email", "known@example.com"),
            ("password", "not the password at all"),
        ];
        let unknown = [
            ("email", "nobody@example.com"),
            ("password", "not the password at all"),
        ];
        assert_eq!(costs(wrong, "/users/log-in").await, 1, "a wrong password");
        assert_eq!(
            costs(unknown, "/users/log-in").await,
            1,
            "an unknown email: the dummy hash"
        );
        for _ in 0..5 {
            costs(wrong, "/users/log-in").await;
        }
        let locked = [
            ("email", "known@example.com"),
            ("password", CANARY_PASSWORD),
        ];
        assert_eq!(costs(locked, "/users/log-in").await, 1, "a locked account");
        let taken = [
            ("email", "known@example.com"),
            ("password", "a fresh passphrase here"),
        ];
        let new = [
            ("email", "new@example.com"),
            ("password", "a fresh passphrase here"),
        ];
        assert_eq!(costs(taken, "/users/register").await, 1, "a taken address");
        assert_eq!(costs(new, "/users/register").await, 1, "a new address");
    })
    .await;
}

#[tokio::test]
async fn signed_in_visitors_to_log_in_and_registration_go_to_their_account() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("here@example.com").await;
        for page in ["/users/log-in", "/users/register"] {
            let signed_in = app.get(page, Some(&cookie)).await;
            assert_eq!(signed_in.status(), StatusCode::FOUND, "{page}");
            assert_eq!(location(&signed_in), "/users/settings", "{page}");
            let guest = app.get(page, None).await;
            assert_eq!(
                guest.status(),
                StatusCode::OK,
                "{page} stays open to guests"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_signed_out_visitor_to_sudo_goes_to_log_in_and_comes_back_after() {
    on_each_engine(|app: TestApp| async move {
        let guest = app.get("/users/sudo?return_to=/users/sessions", None).await;
        assert_eq!(guest.status(), StatusCode::FOUND);
        assert_eq!(location(&guest), "/users/log-in?return_to=/users/sessions");
        let cookie = app.signed_in("sudo@example.com").await;
        let signed_in = app
            .get("/users/sudo?return_to=/users/sessions", Some(&cookie))
            .await;
        assert_eq!(signed_in.status(), StatusCode::OK, "the page itself");
    })
    .await;
}
