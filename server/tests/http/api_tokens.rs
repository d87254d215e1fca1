//! Personal API tokens (security.md J11): made under sudo and shown once, stored as SHA-256,
//! checked on every bearer request, scoped, revoked, expired; a token can never reach what
//! needs a session; a bearer request without a cookie skips the cross-site check.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use server::testing::{on_each_engine, on_each_engine_with, Setup, TestApp, CANARY_PASSWORD};

const DAY: Duration = Duration::from_secs(24 * 3600);

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap_or_default()
}

#[tokio::test]
async fn a_token_is_made_under_sudo_shown_once_stored_hashed_audited_and_mailed() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("maker@example.com").await;
        let body = Some(json!({ "name": "CI", "scopes": ["profile:read"] }));
        let refused = app
            .api_with_session(Method::POST, "/api/v1/api-tokens", &cookie, body.clone())
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(json(refused).await["error"], "sudo_required");

        let token = app
            .create_api_token(&mut cookie, "CI", &["profile:read"])
            .await;
        assert!(token.starts_with("sigra_"), "{token}");
        let digest = hex::encode(Sha256::digest(token.as_bytes()));
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{digest}'"
            ))
            .await,
            1,
            "only the SHA-256 of the whole token is kept"
        );
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{token}' OR name = '{token}'"
            ))
            .await,
            0
        );
        let listed = app
            .api_with_session(Method::GET, "/api/v1/api-tokens", &cookie, None)
            .await;
        let listed = json(listed).await;
        assert_eq!(listed["items"][0]["name"], "CI");
        assert!(!listed.to_string().contains(&token), "never shown again");
        let audit = app
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'api.token_create'")
            .await;
        assert_eq!(audit, 1);
        let leaked = app
            .count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE metadata LIKE '%{}%'",
                &token[6..30]
            ))
            .await;
        assert_eq!(leaked, 0, "the secret is in no audit row");
        let mail = app.mailbox("maker@example.com").await;
        assert_eq!(mail[0].subject, "A new API token was created");
        assert!(mail[0].text.contains("/users/settings/api-tokens"));

        let me = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_eq!(me.status(), StatusCode::OK);
        let me = json(me).await;
        assert_eq!(me["email"], "maker@example.com");
        assert_eq!(me["credential"], "api_token");
    })
    .await;
}

#[tokio::test]
async fn a_token_without_the_scope_gets_403_naming_it_and_no_credential_gets_401() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("scoped@example.com").await;
        let token = app
            .create_api_token(&mut cookie, "reader", &["sessions:read"])
            .await;
        let refused = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let challenge = refused
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            challenge.contains("insufficient_scope") && challenge.contains("profile:read"),
            "{challenge}"
        );
        assert_eq!(
            refused
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let body = json(refused).await;
        assert_eq!(body["error"], "insufficient_scope");
        assert_eq!(body["missing_scopes"], json!(["profile:read"]));

        let anonymous = app.api(Method::GET, "/api/v1/me", None, None).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            anonymous
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        let wildcard = app.create_api_token(&mut cookie, "all", &["*"]).await;
        assert_eq!(
            app.api(Method::GET, "/api/v1/me", Some(&wildcard), None)
                .await
                .status(),
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn no_token_reaches_what_needs_a_session_whatever_its_scopes() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("nosession@example.com").await;
        let token = app.create_api_token(&mut cookie, "everything", &["*"]).await;
        for (method, path, body) in [
            (Method::GET, "/api/v1/api-tokens", None),
            (Method::POST, "/api/v1/api-tokens", Some(json!({"name": "x", "scopes": ["*"]}))),
            (Method::DELETE, "/api/v1/api-tokens", None),
        ] {
            let response = app.api(method.clone(), path, Some(&token), body).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
            assert_eq!(json(response).await["error"], "session_required");
        }
        // The server functions that change credentials take a session proof; a token gets none.
        for (path, form) in [
            ("/users/settings/password", vec![("current_password", CANARY_PASSWORD), ("new_password", "an entirely new passphrase 42")]),
            ("/users/settings/email", vec![("new_email", "thief@example.com"), ("current_password", CANARY_PASSWORD)]),
            ("/users/settings/security/totp-start", vec![]),
            ("/users/sessions/revoke-others", vec![]),
            ("/users/settings/delete", vec![("confirm_email", "nosession@example.com"), ("current_password", CANARY_PASSWORD)]),
        ] {
            let response = reqwest::Client::new()
                .post(format!("{}{path}", app.address))
                .header("authorization", format!("Bearer {token}"))
                .header("accept", "application/json")
                .form(&form)
                .send()
                .await
                .expect("sent");
            assert!(
                [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&response.status()),
                "{path}: {}",
                response.status()
            );
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 1, "no token made a token");
        assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'thief@example.com' OR pending_email = 'thief@example.com'").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM user_totp").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE deletion_scheduled_at IS NOT NULL").await, 0, "no deletion");
        assert!(
            server::testing::session_cookie(&app.log_in("nosession@example.com", CANARY_PASSWORD, false).await).is_some(),
            "the password is unchanged"
        );
    })
    .await;
}

#[tokio::test]
async fn revoked_and_expired_tokens_get_401_and_each_refusal_is_audited_with_its_reason() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("lifecycle@example.com").await;
        let revoked = app.create_api_token(&mut cookie, "old", &["profile:read"]).await;
        let list = json(app.api_with_session(Method::GET, "/api/v1/api-tokens", &cookie, None).await).await;
        let id = list["items"][0]["id"].as_str().expect("id").to_owned();
        let response = app
            .api_with_session(Method::DELETE, &format!("/api/v1/api-tokens/{id}"), &cookie, None)
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.api(Method::GET, "/api/v1/me", Some(&revoked), None).await.status(), StatusCode::UNAUTHORIZED);

        app.enter_sudo(&mut cookie, "/users/settings").await;
        let expiring = app
            .api_with_session(
                Method::POST,
                "/api/v1/api-tokens",
                &cookie,
                Some(json!({ "name": "short", "scopes": ["profile:read"], "expires_in_days": 1 })),
            )
            .await;
        let expiring = json(expiring).await["token"].as_str().expect("token").to_owned();
        assert_eq!(app.api(Method::GET, "/api/v1/me", Some(&expiring), None).await.status(), StatusCode::OK);
        app.advance(DAY);
        let response = app.api(Method::GET, "/api/v1/me", Some(&expiring), None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("invalid_token")));

        let forged = format!("{}x", &expiring[..expiring.len() - 1]);
        assert_eq!(app.api(Method::GET, "/api/v1/me", Some(&forged), None).await.status(), StatusCode::UNAUTHORIZED);
        let unknown = sigra_token_like(&expiring);
        assert_eq!(app.api(Method::GET, "/api/v1/me", Some(&unknown), None).await.status(), StatusCode::UNAUTHORIZED);
        for reason in ["revoked", "expired", "invalid"] {
            let rows = app
                .count(&format!(
                    "SELECT COUNT(*) FROM audit_events WHERE action = 'api.token_verify.failure' AND metadata LIKE '%\"{reason}\"%'"
                ))
                .await;
            assert!(rows >= 1, "{reason}");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'api.token_revoke'").await, 1);
    })
    .await;
}

/// A well-formed token (right prefix and checksum) that was never issued.
fn sigra_token_like(_shape: &str) -> String {
    use sha2::Digest as _;
    let body = format!(
        "sigra_{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            [7_u8; 32]
        )
    );
    let digest = sha2::Sha256::digest(body.as_bytes());
    let mut sum = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &digest[..5],
    );
    sum.truncate(6);
    format!("{body}{sum}")
}

#[tokio::test]
async fn a_token_only_counts_in_the_authorization_header() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("header@example.com").await;
        let token = app
            .create_api_token(&mut cookie, "h", &["profile:read"])
            .await;
        let in_query = app
            .api(
                Method::GET,
                &format!("/api/v1/me?access_token={token}"),
                None,
                None,
            )
            .await;
        assert_eq!(in_query.status(), StatusCode::UNAUTHORIZED);
        let as_cookie = reqwest::Client::new()
            .get(format!("{}/api/v1/me", app.address))
            .header("cookie", format!("access_token={token}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(as_cookie.status(), StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn a_bearer_without_a_cookie_skips_the_cross_site_check_and_one_with_a_cookie_does_not() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("csrf@example.com").await;
        let token = app
            .create_api_token(&mut cookie, "self", &["api_tokens:write"])
            .await;
        let with_cookie = reqwest::Client::new()
            .delete(format!("{}/api/v1/api-tokens/current", app.address))
            .header("authorization", format!("Bearer {token}"))
            .header("cookie", "theme=dark")
            .header("origin", "https://evil.example")
            .send()
            .await
            .expect("sent");
        assert_eq!(
            with_cookie.status(),
            StatusCode::FORBIDDEN,
            "a cookie request is checked"
        );
        let bearer_only = app
            .api(
                Method::DELETE,
                "/api/v1/api-tokens/current",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(bearer_only.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NOT NULL")
                .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn tokens_are_listed_newest_first_a_page_at_a_time() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("pages@example.com").await;
        for name in ["one", "two", "three"] {
            app.create_api_token(&mut cookie, name, &["profile:read"])
                .await;
            app.advance(Duration::from_secs(1));
        }
        let first = json(
            app.api_with_session(Method::GET, "/api/v1/api-tokens?limit=2", &cookie, None)
                .await,
        )
        .await;
        let names: Vec<&str> = first["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(names, ["three", "two"]);
        let cursor = first["next_cursor"].as_str().expect("a next page");
        let second = json(
            app.api_with_session(
                Method::GET,
                &format!("/api/v1/api-tokens?limit=2&cursor={cursor}"),
                &cookie,
                None,
            )
            .await,
        )
        .await;
        assert_eq!(second["items"][0]["name"], "one");
        assert!(second["next_cursor"].is_null());
        let garbage = app
            .api_with_session(
                Method::GET,
                "/api/v1/api-tokens?cursor=%27%20OR%201=1--",
                &cookie,
                None,
            )
            .await;
        assert_eq!(
            garbage.status(),
            StatusCode::OK,
            "a bad cursor starts from the top"
        );
    })
    .await;
}

#[tokio::test]
async fn creation_refuses_bad_names_unregistered_scopes_and_expiry_past_the_maximum() {
    on_each_engine_with(
        || Setup {
            env: vec![("SIGRA_API_TOKENS_MAX_LIFETIME", "30d".to_owned())],
            ..Setup::default()
        },
        |app: TestApp| async move {
            let mut cookie = app.signed_in("rules@example.com").await;
            app.enter_sudo(&mut cookie, "/users/settings").await;
            for (body, code) in [
                (json!({"name": "", "scopes": ["profile:read"], "expires_in_days": 1}), "invalid_api_token"),
                (json!({"name": "x".repeat(256), "scopes": ["profile:read"], "expires_in_days": 1}), "invalid_api_token"),
                (json!({"name": "x", "scopes": [], "expires_in_days": 1}), "invalid_api_token"),
                (json!({"name": "x", "scopes": ["<script>"], "expires_in_days": 1}), "invalid_api_token"),
                (json!({"name": "x", "scopes": ["profile:read"]}), "invalid_api_token"),
                (json!({"name": "x", "scopes": ["profile:read"], "expires_in_days": 31}), "invalid_api_token"),
                (json!({"name": "x", "scopes": ["nuclear:launch", "profile:read"], "expires_in_days": 1}), "unregistered_scopes"),
            ] {
                let response = app.api_with_session(Method::POST, "/api/v1/api-tokens", &cookie, Some(body.clone())).await;
                assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
                let answer = json(response).await;
                assert_eq!(answer["error"], code, "{body}");
                if code == "unregistered_scopes" {
                    assert_eq!(answer["scopes"], json!(["nuclear:launch"]));
                }
            }
            assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 0);
        },
    )
    .await;
}

#[tokio::test]
async fn last_use_is_written_at_most_every_five_minutes() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("touch@example.com").await;
        let token = app
            .create_api_token(&mut cookie, "busy", &["profile:read"])
            .await;
        let last_used = || app.count("SELECT COALESCE(MAX(last_used_at), 0) FROM api_tokens");
        app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
        let first = last_used().await;
        assert!(first > 0);
        app.advance(Duration::from_secs(240));
        app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_eq!(
            last_used().await,
            first,
            "not rewritten within five minutes"
        );
        app.advance(Duration::from_secs(61));
        app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
        assert!(last_used().await > first);
    })
    .await;
}

#[tokio::test]
async fn a_required_password_change_refuses_the_users_tokens_until_done() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("forced@example.com").await;
        let token = app
            .create_api_token(&mut cookie, "f", &["profile:read"])
            .await;
        app.sigra
            .account()
            .require_password_change(
                "forced@example.com",
                &sigra::request::RequestContext::command("test"),
            )
            .await
            .expect("required");
        let response = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(json(response).await["error"], "password_change_required");
    })
    .await;
}

#[tokio::test]
async fn revoke_all_ends_every_token_of_the_user_only() {
    on_each_engine(|app: TestApp| async move {
        let mut alice = app.signed_in("alice-all@example.com").await;
        let mut bob = app.signed_in("bob-all@example.com").await;
        let a1 = app
            .create_api_token(&mut alice, "a1", &["profile:read"])
            .await;
        let a2 = app
            .create_api_token(&mut alice, "a2", &["profile:read"])
            .await;
        let b1 = app
            .create_api_token(&mut bob, "b1", &["profile:read"])
            .await;
        let list = json(
            app.api_with_session(Method::GET, "/api/v1/api-tokens", &bob, None)
                .await,
        )
        .await;
        let bobs = list["items"][0]["id"].as_str().expect("id").to_owned();
        let response = app
            .api_with_session(
                Method::DELETE,
                &format!("/api/v1/api-tokens/{bobs}"),
                &alice,
                None,
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "another user's token is not found"
        );
        let response = app
            .api_with_session(Method::DELETE, "/api/v1/api-tokens", &alice, None)
            .await;
        assert_eq!(json(response).await["revoked"], 2);
        for token in [&a1, &a2] {
            assert_eq!(
                app.api(Method::GET, "/api/v1/me", Some(token), None)
                    .await
                    .status(),
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            app.api(Method::GET, "/api/v1/me", Some(&b1), None)
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'api.token_revoke_all'")
                .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn the_tokens_page_creates_under_sudo_shows_the_token_once_and_revokes_without_javascript() {
    on_each_engine(|app: TestApp| async move {
        const PAGE: &str = "/users/settings/api-tokens";
        let mut cookie = app.signed_in("page@example.com").await;
        let form = [
            ("name", "from the page"),
            ("scopes[]", "profile:read"),
            ("scopes[]", "mfa:read"),
            ("expires_in_days", "30"),
        ];
        let refused = app
            .post_form(
                "/users/settings/api-tokens/create",
                PAGE,
                &form,
                Some(&cookie),
            )
            .await;
        assert!(
            server::testing::location(&refused).starts_with("/users/sudo"),
            "sudo first"
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 0);
        app.enter_sudo(&mut cookie, PAGE).await;
        let created = app
            .post_form(
                "/users/settings/api-tokens/create",
                PAGE,
                &form,
                Some(&cookie),
            )
            .await;
        assert_eq!(server::testing::location(&created), PAGE);
        let sealed = server::testing::set_cookies(created.headers())
            .into_iter()
            .find(|c| c.starts_with("__Host-sigra_new_api_token="))
            .expect("the token rides to the page sealed")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(
            !sealed
                .trim_start_matches("__Host-sigra_new_api_token=")
                .contains("sigra_"),
            "sealed, not readable"
        );
        let with_token = format!("{cookie}; {sealed}");
        let html = app
            .get(PAGE, Some(&with_token))
            .await
            .text()
            .await
            .expect("html");
        let start = html.find("value=\"sigra_").expect("the token is shown") + "value=\"".len();
        let token = &html[start..start + "sigra_".len() + 49];
        assert_eq!(
            app.api(Method::GET, "/api/v1/me", Some(token), None)
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            app.api(Method::GET, "/api/v1/mfa", Some(token), None)
                .await
                .status(),
            StatusCode::OK
        );
        let again = app
            .get(PAGE, Some(&cookie))
            .await
            .text()
            .await
            .expect("html");
        assert!(!again.contains(token), "shown once");
        let id: String = sqlx::query_scalar("SELECT id FROM api_tokens")
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("id");
        let revoked = app
            .post_form(
                "/users/settings/api-tokens/revoke",
                PAGE,
                &[("id", &id)],
                Some(&cookie),
            )
            .await;
        assert_eq!(server::testing::location(&revoked), PAGE);
        assert_eq!(
            app.api(Method::GET, "/api/v1/me", Some(token), None)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn a_required_second_factor_refuses_tokens_of_accounts_without_one() {
    on_each_engine_with(
        || Setup {
            env: vec![("SIGRA_MFA_REQUIRED", "true".to_owned())],
            ..Setup::default()
        },
        |app: TestApp| async move {
            app.register("nofactor@example.com", CANARY_PASSWORD).await;
            let (_, tokens) = app
                .api_log_in("nofactor@example.com", CANARY_PASSWORD)
                .await;
            let access = tokens["access_token"].as_str().expect("access").to_owned();
            let response = app
                .api(Method::GET, "/api/v1/me", Some(&access), None)
                .await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            assert_eq!(json(response).await["error"], "mfa_enrolment_required");
            let server_fn = reqwest::Client::new()
                .post(format!("{}/api/account/overview", app.address))
                .header("authorization", format!("Bearer {access}"))
                .send()
                .await
                .expect("sent");
            assert_eq!(
                server_fn.status(),
                StatusCode::FORBIDDEN,
                "a token is refused everywhere, never redirected"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn api_errors_are_problem_details_with_type_title_and_status() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("problems@example.com").await;
        let token = app
            .create_api_token(&mut cookie, "reader", &["sessions:read"])
            .await;
        let refusals = [
            (app.api(Method::GET, "/api/v1/me", None, None).await, 401),
            (
                app.api(Method::GET, "/api/v1/me", Some(&token), None).await,
                403,
            ),
            (
                app.api(Method::GET, "/api/v1/me", Some("sigra_not-a-token"), None)
                    .await,
                401,
            ),
        ];
        for (response, status) in refusals {
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(
                response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some("application/problem+json")
            );
            let body = json(response).await;
            assert_eq!(body["status"], status, "{body}");
            assert!(
                body["type"].as_str().is_some_and(|t| !t.is_empty()),
                "{body}"
            );
            assert!(
                body["title"].as_str().is_some_and(|t| !t.is_empty()),
                "{body}"
            );
            assert!(
                body["error"].is_string() && body["message"].is_string(),
                "{body}"
            );
        }
    })
    .await;
}
