//! Email confirmation by link and by code, its limits, and the block mode.

use reqwest::StatusCode;

use server::testing::{
    form_refusal, location, on_each_engine, on_each_engine_with, session_cookie, Setup, TestApp,
    CANARY_PASSWORD,
};

async fn confirmed(app: &TestApp, email: &str) -> bool {
    app.count(&format!(
        "SELECT COUNT(*) FROM users WHERE email = '{email}' AND confirmed_at IS NOT NULL"
    ))
    .await
        == 1
}

fn code_in(text: &str) -> String {
    let at = text.find("Or enter this code: ").expect("a code") + "Or enter this code: ".len();
    text[at..at + 7].replace(' ', "")
}

#[tokio::test]
async fn the_mailed_link_confirms_the_address_once() {
    on_each_engine(|app: TestApp| async move {
        app.register("confirm@example.com", CANARY_PASSWORD).await;
        let mail = app.mailbox("confirm@example.com").await;
        assert_eq!(mail.len(), 1);
        assert_eq!(mail[0].subject, "Confirm your email address");
        assert!(
            mail[0].html.contains("/users/confirm/"),
            "the HTML part carries the link too"
        );

        let link = app
            .link_in_mail("confirm@example.com", "/users/confirm/")
            .await;
        let (cookie, page) = app.open_link(&link).await;
        assert_eq!(page, "/users/confirm/link");
        assert!(
            !page.contains(link.trim_start_matches("/users/confirm/")),
            "the token leaves the URL"
        );
        let landing = app.get(&page, Some(&cookie)).await;
        assert_eq!(landing.status(), StatusCode::OK);
        assert_eq!(landing.headers()["referrer-policy"], "no-referrer");
        assert!(
            !confirmed(&app, "confirm@example.com").await,
            "opening the link alone changes nothing"
        );

        let response = app
            .post_link_form("/users/confirm/link", &cookie, &[], None)
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(location(&response), "/users/log-in");
        assert!(confirmed(&app, "confirm@example.com").await);

        let again = app
            .post_link_form("/users/confirm/link", &cookie, &[], None)
            .await;
        assert_eq!(
            form_refusal(&again),
            (
                "/users/confirm/link".to_owned(),
                Some(r#""InvalidToken""#.to_owned())
            ),
            "the second use is refused"
        );
    })
    .await;
}

#[tokio::test]
async fn the_mailed_code_confirms_and_wrong_codes_are_limited() {
    on_each_engine(|app: TestApp| async move {
        app.register("code@example.com", CANARY_PASSWORD).await;
        let code = code_in(&app.mailbox("code@example.com").await[0].text);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let attempt = |code: String| {
            let app = &app;
            async move {
                app.call_json(
                    "/users/confirm/code",
                    &[("email", "code@example.com"), ("code", &code)],
                    None,
                )
                .await
                .status()
            }
        };
        assert_eq!(attempt(wrong.to_owned()).await, StatusCode::BAD_REQUEST);
        assert_eq!(attempt(code.clone()).await, StatusCode::OK);
        assert!(confirmed(&app, "code@example.com").await);

        app.register("limited@example.com", CANARY_PASSWORD).await;
        let code = code_in(&app.mailbox("limited@example.com").await[0].text);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            let status = app
                .call_json(
                    "/users/confirm/code",
                    &[("email", "limited@example.com"), ("code", wrong)],
                    None,
                )
                .await
                .status();
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
        let status = app
            .call_json(
                "/users/confirm/code",
                &[("email", "limited@example.com"), ("code", &code)],
                None,
            )
            .await
            .status();
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "after five wrong codes the right one is dead too"
        );
        assert!(!confirmed(&app, "limited@example.com").await);
        let unknown = app
            .call_json(
                "/users/confirm/code",
                &[("email", "nobody@example.com"), ("code", "123456")],
                None,
            )
            .await;
        assert_eq!(
            unknown.status(),
            StatusCode::BAD_REQUEST,
            "unknown addresses look like wrong codes"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_wrong_codes_are_evaluated_no_more_than_five_times() {
    on_each_engine(|app: TestApp| async move {
        app.register("parallel@example.com", CANARY_PASSWORD).await;
        let code = code_in(&app.mailbox("parallel@example.com").await[0].text);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let app = std::sync::Arc::new(app);
        let guesses: Vec<_> = (0..20)
            .map(|_| {
                let app = std::sync::Arc::clone(&app);
                tokio::spawn(async move {
                    app.call_json(
                        "/users/confirm/code",
                        &[("email", "parallel@example.com"), ("code", wrong)],
                        None,
                    )
                    .await
                    .status()
                })
            })
            .collect();
        for guess in guesses {
            assert_eq!(guess.await.expect("joined"), StatusCode::BAD_REQUEST);
        }
        assert_eq!(
            app.count("SELECT attempts FROM user_tokens WHERE purpose = 'confirm_code'")
                .await,
            5,
            "only five guesses were compared with the code"
        );
        let right = app
            .call_json(
                "/users/confirm/code",
                &[("email", "parallel@example.com"), ("code", &code)],
                None,
            )
            .await;
        assert_eq!(right.status(), StatusCode::BAD_REQUEST, "the code is dead");
        assert!(!confirmed(&app, "parallel@example.com").await);
    })
    .await;
}

#[tokio::test]
async fn resending_is_limited_per_address_and_says_nothing() {
    on_each_engine(|app: TestApp| async move {
        app.register("resend@example.com", CANARY_PASSWORD).await;
        for _ in 0..5 {
            let response = app
                .post_form(
                    "/users/confirm/resend",
                    "/users/confirm",
                    &[("email", "resend@example.com")],
                    None,
                )
                .await;
            assert_eq!(location(&response), "/users/check-email");
        }
        assert_eq!(
            app.mailbox("resend@example.com").await.len(),
            3,
            "three confirmation mails per window"
        );
        app.advance(std::time::Duration::from_secs(16 * 60));
        app.post_form(
            "/users/confirm/resend",
            "/users/confirm",
            &[("email", "resend@example.com")],
            None,
        )
        .await;
        assert_eq!(
            app.mailbox("resend@example.com").await.len(),
            4,
            "the window moved on"
        );
        let unknown = app
            .post_form(
                "/users/confirm/resend",
                "/users/confirm",
                &[("email", "ghost@example.com")],
                None,
            )
            .await;
        assert_eq!(location(&unknown), "/users/check-email");
        assert!(app.mailbox("ghost@example.com").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_unconfirmed_account_may_log_in_with_a_banner_by_default() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("banner@example.com").await;
        let state = app
            .call_json("/api/session/state", &[], Some(&cookie))
            .await
            .text()
            .await
            .expect("body");
        assert!(state.contains(r#""unconfirmed":true"#), "{state}");
    })
    .await;
}

#[tokio::test]
async fn block_mode_refuses_log_in_until_the_address_is_confirmed() {
    let setup = || Setup {
        env: vec![("SIGRA_CONFIRMATION_MODE", "block".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        app.register("blocked@example.com", CANARY_PASSWORD).await;
        let form = [
            ("email", "blocked@example.com"),
            ("password", CANARY_PASSWORD),
        ];
        let refused = app.call_json("/users/log-in", &form, None).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.text().await.expect("body").contains("Unconfirmed"));
        let wrong = app
            .call_json(
                "/users/log-in",
                &[
                    ("email", "blocked@example.com"),
                    ("password", "wrong wrong wrong wrong"),
                ],
                None,
            )
            .await;
        assert_eq!(
            wrong.status(),
            StatusCode::UNAUTHORIZED,
            "without the password nothing is revealed"
        );

        let link = app
            .link_in_mail("blocked@example.com", "/users/confirm/")
            .await;
        let (cookie, _) = app.open_link(&link).await;
        app.post_link_form("/users/confirm/link", &cookie, &[], None)
            .await;
        let response = app
            .log_in("blocked@example.com", CANARY_PASSWORD, false)
            .await;
        assert!(session_cookie(&response).is_some());
    })
    .await;
}

#[tokio::test]
async fn registering_a_taken_address_mails_its_owner() {
    on_each_engine(|app: TestApp| async move {
        app.register("owner@example.com", CANARY_PASSWORD).await;
        app.register("owner@example.com", "another long passphrase here")
            .await;
        let mail = app.mailbox("owner@example.com").await;
        assert_eq!(mail.len(), 2);
        assert_eq!(
            mail[0].subject,
            "Someone tried to register with your address"
        );
    })
    .await;
}

#[tokio::test]
async fn the_link_and_the_code_live_forty_eight_hours() {
    on_each_engine(|app: TestApp| async move {
        let emails = [
            "link-in-time@example.com",
            "code-in-time@example.com",
            "link-late@example.com",
            "code-late@example.com",
        ];
        let mut links = Vec::new();
        let mut codes = Vec::new();
        for email in emails {
            app.register(email, CANARY_PASSWORD).await;
            links.push(app.link_in_mail(email, "/users/confirm/").await);
            codes.push(code_in(&app.mailbox(email).await[0].text));
        }
        let by_link = |link: String| {
            let app = &app;
            async move {
                let (cookie, page) = app.open_link(&link).await;
                let response = app.post_link_form(&page, &cookie, &[], None).await;
                location(&response) == "/users/log-in"
            }
        };
        let by_code = |email: &'static str, code: String| {
            let app = &app;
            async move {
                app.call_json(
                    "/users/confirm/code",
                    &[("email", email), ("code", &code)],
                    None,
                )
                .await
                .status()
                    == StatusCode::OK
            }
        };

        app.advance(std::time::Duration::from_secs(48 * 3600 - 1));
        assert!(by_link(links[0].clone()).await, "the link, a second before");
        assert!(
            by_code(emails[1], codes[1].clone()).await,
            "the code, a second before"
        );
        assert!(confirmed(&app, emails[0]).await && confirmed(&app, emails[1]).await);

        app.advance(std::time::Duration::from_secs(2));
        assert!(!by_link(links[2].clone()).await, "the link, a second after");
        assert!(
            !by_code(emails[3], codes[3].clone()).await,
            "the code, a second after"
        );
        assert!(!confirmed(&app, emails[2]).await && !confirmed(&app, emails[3]).await);
    })
    .await;
}

#[tokio::test]
async fn a_signed_in_account_is_not_asked_for_its_own_address_and_the_code_confirms_it() {
    on_each_engine(|app: TestApp| async move {
        let guest = app
            .get("/users/confirm", None)
            .await
            .text()
            .await
            .expect("page");
        assert!(guest.contains("id=\"field-email\""), "a guest types it");

        let cookie = app.signed_in("mine@example.com").await;
        let page = app
            .get("/users/confirm", Some(&cookie))
            .await
            .text()
            .await
            .expect("page");
        assert!(!page.contains("id=\"field-email\""), "no address field");
        assert!(!page.contains("id=\"resend-email\""), "nor for a new mail");
        assert!(
            page.contains("type=\"hidden\" name=\"email\" value=\"mine@example.com\""),
            "the account's address goes with the form"
        );
        assert!(page.contains("data-testid=\"confirming-address\""));

        // The form as the page posts it confirms the account.
        let code = code_in(&app.mailbox("mine@example.com").await[0].text);
        let done = app
            .post_form(
                "/users/confirm/code",
                "/users/confirm",
                &[("email", "mine@example.com"), ("code", &code)],
                Some(&cookie),
            )
            .await;
        assert_eq!(location(&done), "/users/settings");
        assert!(confirmed(&app, "mine@example.com").await);
    })
    .await;
}
