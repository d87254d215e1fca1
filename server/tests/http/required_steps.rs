//! Required steps (a password change an operator asked for, a second factor the site requires)
//! hold back every call but the step's own: pages, server functions and the JSON API.

use reqwest::StatusCode;
use serde_json::Value;
use sigra::request::RequestContext;

use server::testing::{
    location, on_each_engine, on_each_engine_with, session_cookie, Setup, TestApp, CANARY_PASSWORD,
};

const PASSWORD_PAGE: &str = "/users/settings/password";
const SECURITY_PAGE: &str = "/users/settings/security";
const NEW_PASSWORD: &str = "a brand new passphrase for tests";

/// A signed-in session of an account an operator has told to change its password.
async fn forced(app: &TestApp, email: &str) -> String {
    app.signed_in(email).await;
    assert!(app
        .sigra
        .account()
        .require_password_change(email, &RequestContext::command("test"))
        .await
        .expect("set"));
    session_cookie(&app.log_in(email, CANARY_PASSWORD, false).await).expect("a session")
}

async fn get_api_me(app: &TestApp, cookie: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .expect("sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_required_password_change_refuses_every_other_call_and_api_request_until_done() {
    on_each_engine(|app: TestApp| async move {
        let cookie = forced(&app, "forced@example.com").await;

        let (status, body) = get_api_me(&app, &cookie).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "the JSON API");
        assert_eq!(body["error"], "password_change_required");

        let listed = app
            .call_json("/api/account/sessions", &[], Some(&cookie))
            .await;
        assert_eq!(listed.status(), StatusCode::FORBIDDEN, "a server function");
        assert_eq!(
            listed.text().await.expect("body"),
            r#""PasswordChangeRequired""#,
            "in the encoding the hydrated page reads"
        );

        // A change through another form is refused and changes nothing, with or without
        // JavaScript.
        let email_change = [
            ("new_email", "elsewhere@example.com"),
            ("current_password", CANARY_PASSWORD),
        ];
        let refused = app
            .call_json("/users/settings/email", &email_change, Some(&cookie))
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let refused = app
            .post_form(
                "/users/settings/email",
                "/users/settings/email",
                &email_change,
                Some(&cookie),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&refused), PASSWORD_PAGE, "sent to the step");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE pending_email IS NOT NULL")
                .await,
            0
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'account.email_change.request'"
            )
            .await,
            0
        );
        assert!(app.mailbox("elsewhere@example.com").await.is_empty());

        // What the step itself needs still answers.
        for (path, form) in [
            ("/api/session/state", vec![]),
            ("/api/account/overview", vec![]),
            ("/api/account/password-rules", vec![]),
            (
                "/api/account/assess-password",
                vec![("password", "some words here")],
            ),
        ] {
            let response = app.call_json(path, &form, Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }

        let changed = app
            .call_json(
                PASSWORD_PAGE,
                &[
                    ("current_password", CANARY_PASSWORD),
                    ("new_password", NEW_PASSWORD),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(changed.status(), StatusCode::OK);
        let cookie = session_cookie(&changed).expect("a new token");
        let (status, body) = get_api_me(&app, &cookie).await;
        assert_eq!(status, StatusCode::OK, "free again: {body}");
        assert_eq!(body["email"], "forced@example.com");
    })
    .await;
}

#[tokio::test]
async fn a_required_password_change_still_lets_the_account_sign_out() {
    on_each_engine(|app: TestApp| async move {
        let cookie = forced(&app, "leave@example.com").await;
        let response = app
            .post_form(
                "/users/log-out",
                "/users/settings/password",
                &[],
                Some(&cookie),
            )
            .await;
        assert_eq!(location(&response), "/");
        assert_eq!(app.session_rows().await, 0);
        assert_eq!(app.me(&cookie).await, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn required_mfa_refuses_every_other_call_and_api_request_until_a_factor_is_set_up() {
    let setup = || Setup {
        env: vec![("SIGRA_MFA_REQUIRED", "true".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let mut cookie = app.signed_in("must@example.com").await;
        let other = session_cookie(&app.log_in("must@example.com", CANARY_PASSWORD, false).await)
            .expect("a second session");

        let (status, body) = get_api_me(&app, &cookie).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"], "mfa_enrolment_required");
        let listed = app
            .call_json("/api/account/sessions", &[], Some(&cookie))
            .await;
        assert_eq!(listed.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            listed.text().await.expect("body"),
            r#""MfaEnrolmentRequired""#
        );

        // Sudo (which the set-up needs) still works; signing the other sessions out does not.
        app.enter_sudo(&mut cookie, SECURITY_PAGE).await;
        let refused = app
            .post_form(
                "/users/sessions/revoke-others",
                "/users/sessions",
                &[],
                Some(&cookie),
            )
            .await;
        assert_eq!(location(&refused), SECURITY_PAGE);
        assert_eq!(app.me(&other).await, StatusCode::FORBIDDEN);
        assert_eq!(app.session_rows().await, 2, "nothing was revoked");

        let started = app
            .call_json("/users/settings/security/totp-start", &[], Some(&cookie))
            .await;
        assert_eq!(started.status(), StatusCode::OK, "the set-up answers");
        let view: Value = app
            .call_json("/api/account/security", &[], Some(&cookie))
            .await
            .json()
            .await
            .expect("json");
        let secret = view["setup"]["secret"]
            .as_str()
            .expect("a set-up")
            .to_owned();
        let code = crate::mfa::pyotp_code(&app, &secret);
        let confirmed = app
            .call_json(
                "/users/settings/security/totp-confirm",
                &[("code", &code)],
                Some(&cookie),
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);

        let (status, body) = get_api_me(&app, &cookie).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "free once a factor is set up: {body}"
        );
        let listed = app
            .call_json("/api/account/sessions", &[], Some(&cookie))
            .await;
        assert_eq!(listed.status(), StatusCode::OK);
    })
    .await;
}
