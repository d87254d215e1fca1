//! What the account pages tell people after they act: a failed form without JavaScript comes
//! back clean and filled in, "check your email" names the address and sends again, a dead link
//! offers a new one, repeated failed log-ins point to the mailbox, and a log-in lands on the
//! example page behind it. Nothing here may depend on whether an account exists.

use reqwest::StatusCode;

use server::testing::{
    answer_snapshot, cookie_pair, failed_post, form_refusal, location, marked, on_each_engine,
    session_cookie, set_cookies, TestApp, CANARY_PASSWORD,
};

const WRONG: &str = "not the right password at all";

/// The `name=value` pairs of the cookies a response sets, as the browser sends them back.
fn jar(response: &reqwest::Response) -> String {
    set_cookies(response.headers())
        .iter()
        .filter(|c| !c.contains("Max-Age=0"))
        .filter_map(|c| c.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    app.get(path, cookie).await.text().await.expect("page")
}

#[tokio::test]
async fn a_failed_form_without_javascript_comes_back_to_a_clean_address_with_what_was_typed_but_no_password(
) {
    on_each_engine(|app: TestApp| async move {
        app.register("typed@example.com", CANARY_PASSWORD).await;
        let refused = app
            .post_form(
                "/users/log-in?return_to=%2Fusers%2Fsessions",
                "/users/log-in?return_to=%2Fusers%2Fsessions",
                &[("email", "typed@example.com"), ("password", WRONG)],
                None,
            )
            .await;
        assert_eq!(refused.status(), StatusCode::FOUND);
        assert_eq!(
            location(&refused),
            format!("{}/users/log-in?return_to=%2Fusers%2Fsessions", app.address),
            "the address keeps its own query and nothing else"
        );
        let failed = failed_post(&refused).expect("the failed post travels in a cookie");
        assert_eq!(
            failed["values"],
            serde_json::json!([["email", "typed@example.com"]])
        );
        assert!(!failed.to_string().contains(WRONG), "never the password");

        let cookie = cookie_pair(&refused, "__Host-sigra_failed_post").expect("cookie");
        let back = app.get("/users/log-in", Some(&cookie)).await;
        assert!(
            set_cookies(back.headers())
                .iter()
                .any(|c| c.starts_with("__Host-sigra_failed_post=;") && c.contains("Max-Age=0")),
            "the page takes it once"
        );
        let html = back.text().await.expect("page");
        assert!(
            html.contains(r#"value="typed@example.com""#),
            "the email is filled in"
        );
        assert!(
            html.contains("Invalid email or password."),
            "the error is shown"
        );
        assert!(!html.contains(WRONG));

        // A failed post another form made shows nothing here; a forged one nothing anywhere.
        let plain = page(&app, "/users/log-in", None).await;
        assert!(!plain.contains("Invalid email or password."));
        let (name, value) = cookie.split_once('=').expect("pair");
        let (message, _tag) = value.rsplit_once('.').expect("signed");
        let forged = page(
            &app,
            "/users/log-in",
            Some(&format!("{name}={message}.AAAA")),
        )
        .await;
        assert!(
            !forged.contains("Invalid email or password."),
            "a forged echo is ignored"
        );
    })
    .await;
}

#[tokio::test]
async fn after_registering_the_next_page_names_the_address_and_sends_the_mail_again() {
    on_each_engine(|app: TestApp| async move {
        let registered = app.register("new@example.com", CANARY_PASSWORD).await;
        assert_eq!(location(&registered), "/users/check-email");
        let cookie = jar(&registered);
        let html = page(&app, "/users/check-email", Some(&cookie)).await;
        assert!(
            marked(&html, "sent-to").contains("new@example.com"),
            "the page names the address"
        );
        assert!(
            html.contains(r#"href="/dev/mailbox""#),
            "and the development mailbox"
        );
        assert!(html.contains("Send it again"));
        let confirm = page(&app, "/users/confirm", Some(&cookie)).await;
        assert!(
            confirm.contains(r#"value="new@example.com""#),
            "the confirmation form has the address filled in"
        );

        let again = app
            .post_form(
                "/users/check-email/resend",
                "/users/check-email",
                &[],
                Some(&cookie),
            )
            .await;
        assert_eq!(location(&again), "/users/check-email");
        assert_eq!(
            app.mailbox("new@example.com").await.len(),
            2,
            "a second mail"
        );

        // Without the reminder (or with a forged one) nothing is sent.
        let forgotten = app
            .post_form("/users/check-email/resend", "/users/check-email", &[], None)
            .await;
        assert_eq!(
            form_refusal(&forgotten).1.as_deref(),
            Some(r#""IncompleteForm""#)
        );
        let (name, value) = cookie
            .split("; ")
            .find(|c| c.starts_with("__Host-sigra_sent_to="))
            .and_then(|c| c.split_once('='))
            .expect("the reminder");
        let (_, tag) = value.rsplit_once('.').expect("signed");
        use base64::Engine as _;
        let other = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"["Confirmation","victim@example.com"]"#);
        let forged = app
            .post_form(
                "/users/check-email/resend",
                "/users/check-email",
                &[],
                Some(&format!("{name}={other}.{tag}")),
            )
            .await;
        assert_eq!(
            form_refusal(&forged).1.as_deref(),
            Some(r#""IncompleteForm""#)
        );
        assert_eq!(
            app.mailbox("new@example.com").await.len(),
            2,
            "no more mail"
        );
    })
    .await;
}

#[tokio::test]
async fn logging_out_forgets_the_address_a_mail_was_asked_for() {
    on_each_engine(|app: TestApp| async move {
        let session = app.signed_in("leaving@example.com").await;
        let asked = app
            .post_form(
                "/users/confirm/resend",
                "/users/confirm",
                &[("email", "leaving@example.com")],
                Some(&session),
            )
            .await;
        let reminder = cookie_pair(&asked, "__Host-sigra_sent_to").expect("remembered");
        let out = app
            .post_form(
                "/users/log-out",
                "/users/settings",
                &[],
                Some(&format!("{session}; {reminder}")),
            )
            .await;
        assert!(
            set_cookies(out.headers())
                .iter()
                .any(|c| c.starts_with("__Host-sigra_sent_to=;") && c.contains("Max-Age=0")),
            "the log-out clears the reminder"
        );
    })
    .await;
}

#[tokio::test]
async fn sending_again_answers_the_same_for_an_address_without_an_account() {
    on_each_engine(|app: TestApp| async move {
        app.register("real@example.com", CANARY_PASSWORD).await;
        let ask = |email: &'static str| {
            let app = &app;
            async move {
                let asked = app
                    .post_form(
                        "/users/log-in/email-link",
                        "/users/log-in",
                        &[("email", email)],
                        None,
                    )
                    .await;
                let cookie = jar(&asked);
                answer_snapshot(
                    app.post_form(
                        "/users/check-email/resend",
                        "/users/check-email",
                        &[],
                        Some(&cookie),
                    )
                    .await,
                )
                .await
            }
        };
        let known = ask("real@example.com").await;
        let unknown = ask("ghost@example.com").await;
        assert_eq!(known, unknown);
        assert_eq!(
            app.mailbox("real@example.com").await.len(),
            3,
            "confirmation and two links"
        );
        assert!(app.mailbox("ghost@example.com").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_used_link_offers_a_new_one_on_its_own_page() {
    on_each_engine(|app: TestApp| async move {
        let registered = app.register("again@example.com", CANARY_PASSWORD).await;
        let reminder = jar(&registered);
        let link = app
            .link_in_mail("again@example.com", "/users/confirm/")
            .await;
        let (cookie, page_path) = app.open_link(&link).await;
        app.post_link_form(&page_path, &cookie, &[], None).await;
        let used = app.post_link_form(&page_path, &cookie, &[], None).await;
        let failed = cookie_pair(&used, "__Host-sigra_failed_post").expect("refused");
        let html = page(&app, &page_path, Some(&format!("{failed}; {reminder}"))).await;
        assert!(html.contains("Get a new link"), "the offer is on the page");
        assert!(
            html.contains(r#"value="again@example.com""#),
            "with the address filled in"
        );
        assert!(html.contains("Send a new link and code"));
    })
    .await;
}

#[tokio::test]
async fn repeated_failed_log_ins_point_to_the_mailbox_alike_for_any_address() {
    on_each_engine(|app: TestApp| async move {
        app.register("owner@example.com", CANARY_PASSWORD).await;
        let third_answer = |email: &'static str| {
            let app = &app;
            async move {
                let mut cookie = String::new();
                let mut answers = Vec::new();
                for _ in 0..3 {
                    let response = app
                        .call_json(
                            "/users/log-in",
                            &[("email", email), ("password", WRONG)],
                            Some(&cookie),
                        )
                        .await;
                    cookie = jar(&response);
                    answers.push(response.text().await.expect("body"));
                }
                (answers, cookie)
            }
        };
        let (known, cookie) = third_answer("owner@example.com").await;
        let (unknown, _) = third_answer("nobody@example.com").await;
        assert_eq!(
            known, unknown,
            "the same answers, whether or not the account exists"
        );
        assert_eq!(known[0], r#""InvalidCredentials""#);
        assert_eq!(
            known[2], r#""InvalidCredentialsAgain""#,
            "the third says to check the mail"
        );

        // A log-in that works starts the count again.
        let logged_in = app
            .call_json(
                "/users/log-in",
                &[
                    ("email", "owner@example.com"),
                    ("password", CANARY_PASSWORD),
                ],
                Some(&cookie),
            )
            .await;
        assert!(session_cookie(&logged_in).is_some());
        assert!(set_cookies(logged_in.headers())
            .iter()
            .any(|c| c.starts_with("__Host-sigra_failed_log_ins=;") && c.contains("Max-Age=0")));
    })
    .await;
}

#[tokio::test]
async fn a_log_in_lands_on_the_dashboard_which_only_a_session_can_see() {
    on_each_engine(|app: TestApp| async move {
        let guest = app.get("/dashboard", None).await;
        assert_eq!(guest.status(), StatusCode::FOUND);
        assert_eq!(location(&guest), "/users/log-in?return_to=/dashboard");
        let data = app.call_json("/api/dashboard", &[], None).await;
        assert_eq!(
            data.status(),
            StatusCode::UNAUTHORIZED,
            "the data never leaves the server"
        );

        app.register("dash@example.com", CANARY_PASSWORD).await;
        let logged_in = app.log_in("dash@example.com", CANARY_PASSWORD, false).await;
        assert_eq!(location(&logged_in), "/dashboard");
        let cookie = session_cookie(&logged_in).expect("session");
        let html = page(&app, "/dashboard", Some(&cookie)).await;
        assert!(
            marked(&html, "dashboard-greeting").contains("dash@example.com"),
            "the page shows the account"
        );
    })
    .await;
}

#[tokio::test]
async fn the_home_page_shows_a_signed_in_visitor_their_account_and_the_developer_what_runs() {
    on_each_engine(|app: TestApp| async move {
        let guest = page(&app, "/", None).await;
        assert!(guest.contains("Authentication you can ship."));
        assert!(guest.contains("Your development server"));
        assert!(guest.contains(r#"href="/dev/mailbox""#));

        let cookie = app.signed_in("home@example.com").await;
        let signed_in = page(&app, "/", Some(&cookie)).await;
        assert!(
            !signed_in.contains("Authentication you can ship."),
            "no sign-up pitch"
        );
        assert!(signed_in.contains("home@example.com"));
        assert!(signed_in.contains("account-glance"));
    })
    .await;
}
