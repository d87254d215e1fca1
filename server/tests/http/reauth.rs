//! Re-authentication: every password check outside log-in (sudo, password change, email
//! change) follows the log-in rules: counted toward the lockout, audited, refused while locked,
//! and rate limited per user. And every way of logging in clears the password lock.

use reqwest::StatusCode;
use sigra::request::RequestContext;

use server::testing::{
    on_each_engine, on_each_engine_with, session_cookie, Setup, TestApp, CANARY_PASSWORD,
};

const WRONG: &str = "definitely not the right password";
const NEW_PASSWORD: &str = "a brand new passphrase for tests";

/// The three forms that take the current password, with a wrong or right one.
fn forms(password: &'static str) -> [(&'static str, Vec<(&'static str, &'static str)>); 3] {
    [
        (
            "/users/sudo",
            vec![("password", password), ("return_to", "/users/sessions")],
        ),
        (
            "/users/settings/password",
            vec![
                ("current_password", password),
                ("new_password", NEW_PASSWORD),
            ],
        ),
        (
            "/users/settings/email",
            vec![
                ("new_email", "elsewhere@example.com"),
                ("current_password", password),
            ],
        ),
    ]
}

async fn invalid_credentials(app: &TestApp, purpose: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'security.invalid_credentials' \
         AND metadata LIKE '%\"purpose\":\"{purpose}\"%'"
    ))
    .await
}

#[tokio::test]
async fn wrong_current_passwords_on_every_route_lock_the_account_like_log_in_does() {
    on_each_engine(|app: TestApp| async move {
        for (index, (path, wrong)) in forms(WRONG).into_iter().enumerate() {
            let email = format!("reauth-{index}@example.com");
            let cookie = app.signed_in(&email).await;
            for _ in 0..5 {
                let response = app.call_json(path, &wrong, Some(&cookie)).await;
                assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
            }
            let purpose = match path {
                "/users/sudo" => "sudo",
                "/users/settings/password" => "password_change",
                _ => "email_change",
            };
            assert_eq!(
                invalid_credentials(&app, purpose).await,
                5,
                "{path}: each failure audited"
            );
            assert_eq!(
                app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'security.lockout'")
                    .await,
                i64::try_from(index + 1).expect("small"),
                "{path}: the fifth failure locks"
            );
            let (_, right) = forms(CANARY_PASSWORD).into_iter().nth(index).expect("form");
            let while_locked = app.call_json(path, &right, Some(&cookie)).await;
            assert_eq!(
                while_locked.status(),
                StatusCode::FORBIDDEN,
                "{path}: the right password is refused while locked, as a wrong one"
            );
            assert!(
                session_cookie(&app.log_in(&email, CANARY_PASSWORD, false).await).is_none(),
                "{path}: log-in is locked too"
            );
            let mail = app.mailbox(&email).await;
            assert_eq!(mail[0].subject, "Your account was locked for a while");
        }
    })
    .await;
}

#[tokio::test]
async fn password_checks_are_limited_per_user_before_any_hashing() {
    let setup = || Setup {
        env: vec![("SIGRA_RATE_LIMIT_AUTH_LIMIT", "3".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let cookie = app.signed_in("flood@example.com").await;
        let (path, wrong) = forms(WRONG).into_iter().nth(2).expect("email form");
        for _ in 0..3 {
            let response = app.call_json(path, &wrong, Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        let refused = app.call_json(path, &wrong, Some(&cookie)).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.headers().contains_key("retry-after"));
        assert_eq!(
            invalid_credentials(&app, "email_change").await,
            3,
            "the refused attempt was never checked"
        );
    })
    .await;
}

#[tokio::test]
async fn password_checks_are_limited_per_address_across_accounts() {
    // Behind a trusted proxy, so each account registers and logs in from its own address (the
    // guest limit is per address too) while both check passwords from 127.0.0.1.
    let setup = || Setup {
        env: vec![
            ("SIGRA_RATE_LIMIT_AUTH_LIMIT", "3".to_owned()),
            ("SIGRA_HTTP_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let mut cookies = Vec::new();
        for (email, ip) in [
            ("first@example.com", "198.51.100.1"),
            ("second@example.com", "198.51.100.2"),
        ] {
            let headers = [("sec-fetch-site", "same-origin"), ("x-forwarded-for", ip)];
            let form = [("email", email), ("password", CANARY_PASSWORD)];
            app.post_form_with("/users/register", "/users/register", &form, None, &headers)
                .await;
            let response = app
                .post_form_with("/users/log-in", "/users/log-in", &form, None, &headers)
                .await;
            cookies.push(session_cookie(&response).expect("a session"));
        }
        // The email form: the sudo form is a guest form too, limited per address by the guest
        // limit before it reaches the core.
        let (path, wrong) = forms(WRONG).into_iter().nth(2).expect("email form");
        for cookie in [&cookies[0], &cookies[0], &cookies[1]] {
            let response = app.call_json(path, &wrong, Some(cookie)).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        for cookie in [&cookies[1], &cookies[0]] {
            let refused = app.call_json(path, &wrong, Some(cookie)).await;
            assert_eq!(
                refused.status(),
                StatusCode::TOO_MANY_REQUESTS,
                "the address has used its three checks, whichever account asks"
            );
            assert!(refused.headers().contains_key("retry-after"));
        }
        assert_eq!(
            invalid_credentials(&app, "email_change").await,
            3,
            "the refused attempts were never checked"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE failed_login_attempts > 0")
                .await,
            2
        );
    })
    .await;
}

#[tokio::test]
async fn a_magic_link_log_in_clears_the_password_lock() {
    on_each_engine(|app: TestApp| async move {
        app.register("unlock@example.com", CANARY_PASSWORD).await;
        for _ in 0..5 {
            app.log_in("unlock@example.com", WRONG, false).await;
        }
        assert!(session_cookie(&app.log_in("unlock@example.com", CANARY_PASSWORD, false).await).is_none());
        app.post_form(
            "/users/log-in/email-link",
            "/users/log-in",
            &[("email", "unlock@example.com")],
            None,
        )
        .await;
        let link = app.link_in_mail("unlock@example.com", "/users/log-in/").await;
        let (cookie, page) = app.open_link(&link).await;
        let response = app.post_link_form(&page, &cookie, &[], None).await;
        assert!(session_cookie(&response).is_some(), "the link logs in");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE locked_until IS NOT NULL OR failed_login_attempts > 0")
                .await,
            0
        );
        assert!(
            session_cookie(&app.log_in("unlock@example.com", CANARY_PASSWORD, false).await).is_some(),
            "the password works again"
        );
    })
    .await;
}

#[tokio::test]
async fn a_password_reset_clears_the_password_lock() {
    on_each_engine(|app: TestApp| async move {
        app.register("reset-unlock@example.com", CANARY_PASSWORD)
            .await;
        for _ in 0..5 {
            app.log_in("reset-unlock@example.com", WRONG, false).await;
        }
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "reset-unlock@example.com")],
            None,
        )
        .await;
        let link = app
            .link_in_mail("reset-unlock@example.com", "/users/reset-password/")
            .await;
        let (cookie, page) = app.open_link(&link).await;
        app.post_link_form(&page, &cookie, &[("password", NEW_PASSWORD)], None)
            .await;
        assert!(
            session_cookie(
                &app.log_in("reset-unlock@example.com", NEW_PASSWORD, false)
                    .await
            )
            .is_some(),
            "the new password works at once"
        );
    })
    .await;
}

#[tokio::test]
async fn operator_commands_are_audited_as_the_system() {
    on_each_engine(|app: TestApp| async move {
        app.register("forced@example.com", CANARY_PASSWORD).await;
        let request = RequestContext::command("server require-password-change");
        assert!(app
            .sigra
            .account().require_password_change("forced@example.com", &request)
            .await
            .expect("required"));
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'account.password_change_required' \
                 AND actor_type = 'system' AND actor_id IS NULL AND target_id IS NOT NULL"
            )
            .await,
            1
        );
    })
    .await;
}
