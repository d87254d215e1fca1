//! Cross-site refusal, security headers, request ids and the operational endpoints.

use reqwest::StatusCode;

use sigra::testing::Engine;

use server::testing::{on_each_engine, on_each_engine_with, Setup, TestApp, CANARY_PASSWORD};

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    on_each_engine(|app: TestApp| async move {
        let form = [("email", "csrf@example.com"), ("password", CANARY_PASSWORD)];
        for headers in [
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("origin", "http://evil.test")],
            vec![],
        ] {
            let response = app
                .post_form_with("/users/register", "/users/register", &form, None, &headers)
                .await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users").await,
            0,
            "nothing was created"
        );

        let cookie = app.signed_in("victim@example.com").await;
        let response = app
            .post_form_with(
                "/users/log-out",
                "/",
                &[],
                Some(&cookie),
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::OK,
            "the session survived the forged log-out"
        );

        // The configured origin is accepted when fetch metadata is missing (older browsers).
        let response = app
            .post_form_with(
                "/users/log-out",
                "/",
                &[],
                Some(&cookie),
                &[("origin", "http://localhost:3000")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
    })
    .await;
}

#[tokio::test]
async fn server_function_calls_and_the_api_are_refused_cross_site_too() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("victim@example.com").await;
        let before = app.account_snapshot().await;
        let client = reqwest::Client::new();
        // The hydrated page's own kind of call (JSON back), and the JSON API.
        for (path, form) in [
            ("/users/sessions/revoke-others", vec![]),
            ("/users/log-out", vec![]),
            (
                "/users/settings/email",
                vec![
                    ("new_email", "attacker@example.com"),
                    ("current_password", CANARY_PASSWORD),
                ],
            ),
            ("/api/account/sessions", vec![]),
            ("/api/v1/me", vec![]),
        ] {
            for site in ["cross-site", "same-site"] {
                let response = client
                    .post(format!("{}{path}", app.address))
                    .header("accept", "application/json")
                    .header("sec-fetch-site", site)
                    .header("cookie", &cookie)
                    .form(&form)
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} {site}");
            }
        }
        assert_eq!(app.account_snapshot().await, before, "nothing changed");
        assert_eq!(app.me(&cookie).await, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_request_the_user_started_themselves_is_same_site() {
    on_each_engine(|app: TestApp| async move {
        // `Sec-Fetch-Site: none`: typed in the address bar, a bookmark.
        let form = [
            ("email", "typed@example.com"),
            ("password", CANARY_PASSWORD),
        ];
        let response = app
            .post_form_with(
                "/users/register",
                "/users/register",
                &form,
                None,
                &[("sec-fetch-site", "none")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    })
    .await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("headers@example.com").await;
        for (path, cookie) in [
            ("/", None),
            ("/users/log-in", None),
            ("/users/settings", Some(cookie.as_str())),
            ("/no/such/page", None),
            ("/api/v1/me", None),
            ("/health", None),
        ] {
            let response = app.get(path, cookie).await;
            assert_security_headers(&response, path);
        }
        // A body over the limit is refused before any handler reads it, with the same headers.
        let runs = app.sigra.password_hash_runs();
        let too_big = "x".repeat(70_000);
        let refused = app
            .call_json(
                "/users/log-in",
                &[("email", "big@example.com"), ("password", &too_big)],
                None,
            )
            .await;
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_security_headers(&refused, "/users/log-in (a body over the limit)");
        assert_eq!(app.sigra.password_hash_runs(), runs, "nothing was hashed");
    })
    .await;
}

/// The text of `response`'s header `name`, which must be there.
fn required_header(response: &reqwest::Response, name: &str, path: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{name} missing on {path}"))
        .to_owned()
}

fn assert_security_headers(response: &reqwest::Response, path: &str) {
    let header = |name: &str| required_header(response, name, path);
    let csp = header("content-security-policy");
    for part in [
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "'nonce-",
    ] {
        assert!(
            csp.contains(part),
            "{part} missing from the CSP of {path}: {csp}"
        );
    }
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "strict-origin-when-cross-origin");
    assert_eq!(header("cross-origin-opener-policy"), "same-origin");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("cache-control"), "no-store", "{path}");
    assert!(!header("x-request-id").is_empty());
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none(),
        "no HSTS in development"
    );
}

#[tokio::test]
async fn pages_put_the_csp_nonce_on_their_scripts() {
    on_each_engine(|app: TestApp| async move {
        let response = app.get("/users/log-in", None).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce")
            .to_owned();
        let html = response.text().await.expect("html");
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "the hydration script carries the nonce"
        );
        let other = app.get("/users/log-in", None).await;
        assert!(!other.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains(&nonce));
    })
    .await;
}

#[tokio::test]
async fn unknown_pages_are_404_with_the_request_id() {
    on_each_engine(|app: TestApp| async move {
        let response = app.get("/no/such/page", None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let id = response.headers()["x-request-id"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let html = response.text().await.expect("html");
        assert!(html.contains(&id), "the error page shows the request id");
    })
    .await;
}

#[tokio::test]
async fn health_and_readiness() {
    on_each_engine(|app: TestApp| async move {
        assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
        assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);
        app.sigra.db().close().await;
        assert_eq!(
            app.get("/ready", None).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            app.get("/health", None).await.status(),
            StatusCode::OK,
            "liveness needs no database"
        );
    })
    .await;
}

#[tokio::test]
async fn a_database_fault_is_a_generic_500_and_an_unreachable_one_a_503_both_without_internals() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("outage@example.com").await;
        // A statement that fails (a table gone): our fault, told as nothing more than that.
        sqlx::query("DROP TABLE webauthn_ceremonies")
            .execute(app.sigra.db().pool())
            .await
            .expect("drop");
        let response = app
            .call_json("/users/log-in/passkey-start", &[], None)
            .await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = response.text().await.expect("body");
        let error: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert!(
            error["Server"]["request_id"].is_string(),
            "only the request id, for the log: {body}"
        );
        assert!(
            !body.contains("webauthn") && !body.to_lowercase().contains("relation"),
            "no internals: {body}"
        );

        // No connection to be had: unavailable, retry shortly.
        app.sigra.db().close().await;
        let response = app.get("/api/v1/me", Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("x-request-id"));
        assert_eq!(response.headers()["retry-after"], "5");
        let body = response.text().await.expect("body");
        assert!(body.contains("temporarily unavailable"), "{body}");
        assert!(
            !body.to_lowercase().contains("pool"),
            "no internals: {body}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_client_request_id_is_kept_only_when_short_and_plain() {
    on_each_engine(|app: TestApp| async move {
        for (email, sent) in [
            ("plain@example.com", "trace-42.a_b"),
            ("forged@example.com", "<script>a\"b c"),
            ("long@example.com", &"a".repeat(65)),
        ] {
            let response = app
                .post_form_with(
                    "/users/register",
                    "/users/register",
                    &[("email", email), ("password", CANARY_PASSWORD)],
                    None,
                    &[("sec-fetch-site", "same-origin"), ("x-request-id", sent)],
                )
                .await;
            let echoed = response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let stored: Vec<Option<String>> = sqlx::query_scalar(
                "SELECT DISTINCT request_id FROM audit_events WHERE action = 'auth.register.success' \
                 AND target_id IS NULL AND actor_id = (SELECT id FROM users WHERE email = $1)",
            )
            .bind(email)
            .fetch_all(app.sigra.db().pool())
            .await
            .expect("rows");
            assert_eq!(stored, [Some(echoed.clone())], "{email}");
            if email == "plain@example.com" {
                assert_eq!(echoed, sent);
            } else {
                assert_ne!(echoed, sent);
                assert_eq!(echoed.len(), 36, "a fresh UUID replaces {sent:?}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn development_mode_refuses_the_network_unless_the_risk_is_named() {
    let engine = Engine::Sqlite;
    let exposed = || Setup {
        listen: Some("0.0.0.0:0"),
        ..Setup::default()
    };
    let Err(refused) = TestApp::try_spawn_with(engine, exposed()).await else {
        panic!("development mode started on 0.0.0.0");
    };
    let message = format!("{refused:#}");
    assert!(message.contains("/dev/mailbox"), "{message}");
    assert!(message.contains("SIGRA_ENV=production"), "{message}");
    assert!(
        message.contains("SIGRA_DEV_EXPOSE_MAILBOX_ON_NETWORK=true"),
        "{message}"
    );

    let overridden = Setup {
        env: vec![("SIGRA_DEV_EXPOSE_MAILBOX_ON_NETWORK", "true".to_owned())],
        ..exposed()
    };
    let app = TestApp::try_spawn_with(engine, overridden)
        .await
        .expect("starts once the operator names the risk");
    assert_eq!(app.get("/", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn production_sends_hsts_and_keeps_every_response_to_the_site() {
    let setup = || Setup {
        env: vec![
            ("SIGRA_ENV", "production".to_owned()),
            ("SIGRA_BASE_URL", "https://auth.example.com".to_owned()),
            ("SIGRA_MAIL_FROM", "Acme <no-reply@acme.example>".to_owned()),
            ("SIGRA_SMTP_HOST", "127.0.0.1".to_owned()),
            // Production refuses the tests' cheap hashing.
            ("SIGRA_PASSWORD_ARGON2_MEMORY_KIB", "19456".to_owned()),
            ("SIGRA_PASSWORD_ARGON2_ITERATIONS", "2".to_owned()),
        ],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        for path in ["/users/log-in", "/no/such/page", "/api/v1/me", "/health"] {
            let response = app.get(path, None).await;
            let header = |name: &str| required_header(&response, name, path);
            assert_eq!(
                header("strict-transport-security"),
                "max-age=63072000; includeSubDomains",
                "{path}"
            );
            assert_eq!(
                header("cross-origin-resource-policy"),
                "same-origin",
                "{path}"
            );
            assert_eq!(header("cache-control"), "no-store", "{path}");
        }
        // Static assets are the one thing a cache may keep (revalidating first).
        let asset = app.get("/pkg/sigra.css", None).await;
        assert_eq!(asset.headers()["cache-control"], "no-cache");
    })
    .await;
}
