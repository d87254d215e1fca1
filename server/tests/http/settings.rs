//! Password change, the forced change, and email change.

use reqwest::StatusCode;

use server::testing::{
    form_refusal, location, marked, on_each_engine, session_cookie, TestApp, CANARY_PASSWORD,
};

const NEW_PASSWORD: &str = "a brand new passphrase for tests";

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    on_each_engine(|app: TestApp| async move {
        let here = app.signed_in("change@example.com").await;
        let elsewhere = session_cookie(
            &app.log_in("change@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .expect("session");

        let wrong = [
            ("current_password", "not my password at all"),
            ("new_password", NEW_PASSWORD),
        ];
        let response = app
            .call_json("/users/settings/password", &wrong, Some(&here))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let anonymous = app
            .call_json("/users/settings/password", &wrong, None)
            .await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

        let form = [
            ("current_password", CANARY_PASSWORD),
            ("new_password", NEW_PASSWORD),
        ];
        let response = app
            .post_form(
                "/users/settings/password",
                "/users/settings",
                &form,
                Some(&here),
            )
            .await;
        assert_eq!(location(&response), "/users/settings");
        let renewed = session_cookie(&response).expect("this session gets a new token");
        assert_eq!(app.me(&renewed).await, StatusCode::OK, "this session stays");
        assert_eq!(
            app.me(&here).await,
            StatusCode::UNAUTHORIZED,
            "under a new token: the cookie from before the change is dead"
        );
        assert_eq!(app.session_rows().await, 1);
        assert_eq!(
            app.me(&elsewhere).await,
            StatusCode::UNAUTHORIZED,
            "the others end"
        );
        assert!(
            session_cookie(&app.log_in("change@example.com", NEW_PASSWORD, false).await).is_some()
        );
        assert_eq!(
            app.mailbox("change@example.com").await[0].subject,
            "Your password was changed"
        );
    })
    .await;
}

#[tokio::test]
async fn a_required_password_change_ends_every_session_and_sends_every_page_to_the_form_until_done()
{
    on_each_engine(|app: TestApp| async move {
        let before = app.signed_in("forced@example.com").await;
        let request = sigra::request::RequestContext::default();
        assert!(app
            .sigra
            .account()
            .require_password_change("forced@example.com", &request)
            .await
            .expect("set"));
        let response = app.get("/users/settings", Some(&before)).await;
        assert!(
            location(&response).starts_with("/users/log-in"),
            "the session from before is over: {}",
            location(&response)
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM user_sessions").await, 0);
        let cookie = session_cookie(
            &app.log_in("forced@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .expect("a new session");
        for path in ["/", "/users/settings", "/no/such/page"] {
            let response = app.get(path, Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(location(&response), "/users/settings/password");
        }
        let page = app
            .get("/users/settings/password", Some(&cookie))
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("Please choose a new password before you continue."));

        let form = [
            ("current_password", CANARY_PASSWORD),
            ("new_password", NEW_PASSWORD),
        ];
        let changed = app
            .post_form(
                "/users/settings/password",
                "/users/settings",
                &form,
                Some(&cookie),
            )
            .await;
        let cookie = session_cookie(&changed).expect("the session goes on under a new token");
        assert_eq!(
            app.get("/users/settings", Some(&cookie)).await.status(),
            StatusCode::OK,
            "free again"
        );
    })
    .await;
}

#[tokio::test]
async fn an_email_change_is_confirmed_from_the_new_address() {
    on_each_engine(|app: TestApp| async move {
        let here = app.signed_in("old@example.com").await;
        let elsewhere =
            session_cookie(&app.log_in("old@example.com", CANARY_PASSWORD, false).await)
                .expect("session");

        let wrong = [
            ("new_email", "new@example.com"),
            ("current_password", "not my password at all"),
        ];
        assert_eq!(
            app.call_json("/users/settings/email", &wrong, Some(&here))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );

        let form = [
            ("new_email", "new@example.com"),
            ("current_password", CANARY_PASSWORD),
        ];
        let response = app
            .post_form(
                "/users/settings/email",
                "/users/settings",
                &form,
                Some(&here),
            )
            .await;
        assert_eq!(location(&response), "/users/settings");
        assert_eq!(
            app.mailbox("old@example.com").await[0].subject,
            "An email change was requested"
        );
        let page = app
            .get("/users/settings", Some(&here))
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("waiting for confirmation"),
            "the pending address is shown"
        );

        // The pending address is reserved: registering it creates nothing.
        app.register("new@example.com", "someone else entirely here")
            .await;
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);

        let link = app
            .link_in_mail("new@example.com", "/users/settings/confirm-email/")
            .await;
        let (cookie, page) = app.open_link(&link).await;
        assert_eq!(page, "/users/settings/confirm-email/link");
        let response = app.post_link_form(&page, &cookie, &[], Some(&here)).await;
        assert_eq!(location(&response), "/users/settings");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE email = 'new@example.com'")
                .await,
            1
        );
        assert_eq!(
            app.me(&here).await,
            StatusCode::OK,
            "the confirming session stays"
        );
        assert_eq!(
            app.me(&elsewhere).await,
            StatusCode::UNAUTHORIZED,
            "the others end"
        );
        assert_eq!(
            app.mailbox("old@example.com").await[0].subject,
            "Your email address was changed"
        );
        assert!(
            session_cookie(&app.log_in("new@example.com", CANARY_PASSWORD, false).await).is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn a_pending_email_change_can_be_cancelled_and_its_link_dies() {
    on_each_engine(|app: TestApp| async move {
        let here = app.signed_in("keep@example.com").await;
        let form = [("new_email", "other@example.com"), ("current_password", CANARY_PASSWORD)];
        app.post_form("/users/settings/email", "/users/settings", &form, Some(&here)).await;
        let link = app.link_in_mail("other@example.com", "/users/settings/confirm-email/").await;
        app.post_form("/users/settings/email/cancel", "/users/settings", &[], Some(&here)).await;
        let (cookie, page) = app.open_link(&link).await;
        let response = app.post_link_form(&page, &cookie, &[], Some(&here)).await;
        assert_eq!(form_refusal(&response).1.as_deref(), Some(r#""InvalidToken""#));
        assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'keep@example.com' AND pending_email IS NULL").await, 1);
    })
    .await;
}

#[tokio::test]
async fn asking_for_a_taken_address_looks_the_same_and_mails_nobody_there() {
    on_each_engine(|app: TestApp| async move {
        app.register("taken@example.com", CANARY_PASSWORD).await;
        let here = app.signed_in("asker@example.com").await;
        let form = [
            ("new_email", "taken@example.com"),
            ("current_password", CANARY_PASSWORD),
        ];
        let response = app
            .post_form(
                "/users/settings/email",
                "/users/settings",
                &form,
                Some(&here),
            )
            .await;
        assert_eq!(location(&response), "/users/settings");
        assert!(app
            .mailbox("taken@example.com")
            .await
            .iter()
            .all(|m| m.subject != "Confirm your new email address"));
        let same = [
            ("new_email", "asker@example.com"),
            ("current_password", CANARY_PASSWORD),
        ];
        assert_eq!(
            app.call_json("/users/settings/email", &same, Some(&here))
                .await
                .status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    })
    .await;
}

#[tokio::test]
async fn the_meter_reads_a_password_with_the_server_rules() {
    on_each_engine(|app: TestApp| async move {
        let reading = |password: &'static str, email: Option<&'static str>| {
            let app = &app;
            async move {
                let mut form = vec![("password", password)];
                if let Some(email) = email {
                    form.push(("email", email));
                }
                app.call_json("/api/account/assess-password", &form, None)
                    .await
                    .text()
                    .await
                    .expect("body")
            }
        };
        let strong = reading("Correct-Horse-Battery-Staple-9", None).await;
        assert!(
            strong.contains(r#""label":"Strong""#) && strong.contains(r#""problem":null"#),
            "{strong}"
        );
        let short = reading("abc", None).await;
        assert!(short.contains("TooShort"), "{short}");
        let own = reading("meter.person@example.com", Some("meter.person@example.com")).await;
        assert!(own.contains("BasedOnEmail"), "{own}");
        // Long but guessable: weak on the meter, refused by the policy, bars and word agreeing.
        for guessable in [
            "passwordpassword",
            "aaaaaaaaaaaaaaaa",
            "123456789012345",
            "qwertyuiopasdfgh",
        ] {
            let weak: serde_json::Value =
                serde_json::from_str(&reading(guessable, None).await).expect("json");
            assert_eq!(weak["label"], "Weak", "{guessable}: {weak}");
            assert!(
                weak["score"].as_u64().is_some_and(|s| s <= 2),
                "{guessable}: {weak}"
            );
            assert_eq!(weak["problem"], "Guessable", "{guessable}: {weak}");
        }
        let refused = app
            .register("guessable@example.com", "qwertyuiopasdfgh")
            .await;
        assert!(server::testing::form_refusal(&refused)
            .1
            .is_some_and(|e| e.contains("Guessable")));
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    })
    .await;
}

#[tokio::test]
async fn a_lapsed_email_change_no_longer_reserves_its_address() {
    on_each_engine(|app: TestApp| async move {
        let here = app.signed_in("mover@example.com").await;
        let form = [
            ("new_email", "wanted@example.com"),
            ("current_password", CANARY_PASSWORD),
        ];
        app.post_form(
            "/users/settings/email",
            "/users/settings",
            &form,
            Some(&here),
        )
        .await;
        app.register("wanted@example.com", CANARY_PASSWORD).await;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE email = 'wanted@example.com'")
                .await,
            0,
            "a live reservation holds the address"
        );

        app.advance(std::time::Duration::from_secs(25 * 3600));
        app.register("wanted@example.com", CANARY_PASSWORD).await;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE email = 'wanted@example.com'")
                .await,
            1,
            "after its link expired, the address registers normally"
        );
        app.sigra
            .jobs()
            .schedule_periodic_jobs()
            .await
            .expect("schedule");
        app.deliver_mail().await;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE pending_email IS NOT NULL")
                .await,
            0,
            "the cleanup releases lapsed reservations"
        );
    })
    .await;
}

#[tokio::test]
async fn email_change_requests_are_limited_per_account_and_per_address_mailed() {
    on_each_engine(|app: TestApp| async move {
        let ask = |cookie: String, to: &'static str| {
            let app = &app;
            async move {
                let form = [("new_email", to), ("current_password", CANARY_PASSWORD)];
                app.call_json("/users/settings/email", &form, Some(&cookie))
                    .await
                    .status()
            }
        };
        let one = app.signed_in("one@example.com").await;
        for to in ["a@example.com", "b@example.com", "c@example.com"] {
            assert_eq!(ask(one.clone(), to).await, StatusCode::OK);
        }
        assert_eq!(
            ask(one.clone(), "d@example.com").await,
            StatusCode::TOO_MANY_REQUESTS,
            "a fourth request from one account in 15 minutes"
        );
        assert!(app.mailbox("d@example.com").await.is_empty());

        // Several accounts taking turns (each asks, then cancels to free the address) still
        // get only three links into one inbox.
        for (i, name) in ["two", "three", "four", "five"].into_iter().enumerate() {
            let asker = app.signed_in(&format!("{name}@example.com")).await;
            let status = ask(asker.clone(), "victim@example.com").await;
            if i < 3 {
                assert_eq!(status, StatusCode::OK, "{name}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::TOO_MANY_REQUESTS,
                    "a fourth link to one inbox in 15 minutes, whoever asks"
                );
            }
            app.post_form(
                "/users/settings/email/cancel",
                "/users/settings",
                &[],
                Some(&asker),
            )
            .await;
        }
        assert_eq!(app.mailbox("victim@example.com").await.len(), 3);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'account.email_change.request' \
                 AND metadata LIKE '%rate_limited%'"
            )
            .await,
            2
        );
    })
    .await;
}

#[tokio::test]
async fn a_confirmed_email_change_ends_links_mailed_to_the_old_address_and_every_access_token() {
    use crate::recovery::{api_client_status, magic_link_works, reset_link_works};
    on_each_engine(|app: TestApp| async move {
        let here = app.signed_in("before@example.com").await;
        let mut links = Vec::new();
        for (path, from, mailed) in [
            (
                "/users/log-in/email-link",
                "/users/log-in",
                "/users/log-in/",
            ),
            (
                "/users/reset-password",
                "/users/reset-password",
                "/users/reset-password/",
            ),
        ] {
            app.post_form(path, from, &[("email", "before@example.com")], None)
                .await;
            links.push(app.link_in_mail("before@example.com", mailed).await);
        }
        let (magic, reset) = (&links[0], &links[1]);
        let (status, tokens) = app.api_log_in("before@example.com", CANARY_PASSWORD).await;
        assert_eq!(status, StatusCode::OK);

        let form = [
            ("new_email", "after@example.com"),
            ("current_password", CANARY_PASSWORD),
        ];
        app.post_form(
            "/users/settings/email",
            "/users/settings",
            &form,
            Some(&here),
        )
        .await;
        let link = app
            .link_in_mail("after@example.com", "/users/settings/confirm-email/")
            .await;
        let (cookie, page) = app.open_link(&link).await;
        let response = app.post_link_form(&page, &cookie, &[], Some(&here)).await;
        assert_eq!(location(&response), "/users/settings");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE email = 'after@example.com'")
                .await,
            1
        );

        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_tokens WHERE used_at IS NULL")
                .await,
            0,
            "no live token row is left"
        );
        assert!(
            !magic_link_works(&app, magic).await,
            "the log-in link is dead"
        );
        assert!(
            !reset_link_works(&app, reset).await,
            "the reset link is dead"
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
async fn times_read_as_a_date_in_utc_without_javascript_and_keep_the_instant() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("times@example.com").await;
        let page = app
            .get("/users/settings", Some(&cookie))
            .await
            .text()
            .await
            .expect("page");
        let times: Vec<&str> = page.split("<time ").skip(1).collect();
        assert!(!times.is_empty(), "the page shows times");
        for time in times {
            let (attributes, rest) = time.split_once('>').expect("a whole tag");
            // Without the hydration markers Leptos leaves around reactive text.
            let text = rest
                .split("</time>")
                .next()
                .unwrap_or_default()
                .replace("<!>", "");
            assert!(
                attributes.contains("datetime=\"20") && attributes.contains("Z\""),
                "the exact instant stays machine-readable: {attributes}"
            );
            assert!(
                text.ends_with(" UTC") && !text.contains('Z'),
                "read as a date, in UTC: {text}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_display_name_is_set_shown_greets_in_mail_and_can_be_cleared() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("named@example.com").await;
        let set = |name: &'static str| {
            let (app, cookie) = (&app, cookie.clone());
            async move {
                app.post_form(
                    "/users/settings/display-name",
                    "/users/settings/profile",
                    &[("display_name", name)],
                    Some(&cookie),
                )
                .await
            }
        };
        let saved = set("  Ada Lovelace ").await;
        assert_eq!(location(&saved), "/users/settings");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE display_name = 'Ada Lovelace'")
                .await,
            1,
            "stored trimmed"
        );
        let records = app.audit_records("account.display_name.change").await;
        assert_eq!(records.len(), 1);
        let settings = app
            .get("/users/settings", Some(&cookie))
            .await
            .text()
            .await
            .expect("page");
        assert!(
            marked(&settings, "signed-in-name").contains("Ada Lovelace"),
            "the header"
        );

        // The next mail to the account greets it by name.
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "named@example.com")],
            None,
        )
        .await;
        let mail = app.mailbox("named@example.com").await;
        let reset = mail
            .iter()
            .find(|m| m.subject == "Reset your password")
            .expect("the reset mail");
        assert!(reset.text.starts_with("Hi Ada Lovelace,"), "{}", reset.text);

        // A name that could break a header or a line, or is too long, changes nothing.
        for bad in ["Ada\r\nBcc: everyone@example.com", &"x".repeat(61)] {
            let refused = app
                .post_form(
                    "/users/settings/display-name",
                    "/users/settings/profile",
                    &[("display_name", bad)],
                    Some(&cookie),
                )
                .await;
            assert_eq!(
                form_refusal(&refused).1.as_deref(),
                Some(r#""InvalidDisplayName""#)
            );
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE display_name = 'Ada Lovelace'")
                .await,
            1
        );

        // Blank clears it: the address shows again.
        set("   ").await;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE display_name IS NULL")
                .await,
            1
        );
        let settings = app
            .get("/users/settings", Some(&cookie))
            .await
            .text()
            .await
            .expect("page");
        assert!(marked(&settings, "signed-in-email").contains("named@example.com"));
        assert!(marked(&settings, "signed-in-name").is_empty());
    })
    .await;
}
