//! The smallest build: the server without its default features (`passkeys`, `oauth`, `jwt`),
//! as a host that offers none of them builds it. Their crates are not compiled, their
//! capabilities are off for good, switching one on is refused at start-up, and everything
//! else works. Run with `cargo test -p server --no-default-features --features testing --test
//! smallest` (`make test-smallest`); in the default build this file holds no test.

#![cfg(not(any(feature = "passkeys", feature = "oauth", feature = "jwt")))]
// A failed expectation is how a test fails.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::{Command, Output};

use reqwest::{Method, StatusCode};
use server::testing::{location, on_each_engine, Audited, TestApp, CANARY_PASSWORD};

/// What the left-out features would serve: (method, path).
const LEFT_OUT_ROUTES: &[(Method, &str)] = &[
    // Passkeys: the log-in ceremony, the second step, sudo and the settings.
    (Method::POST, "/users/log-in/passkey-start"),
    (Method::POST, "/users/log-in/passkey"),
    (Method::POST, "/users/mfa/passkey-start"),
    (Method::POST, "/users/sudo/passkey-start"),
    (Method::POST, "/users/settings/security/passkey-start"),
    (Method::POST, "/api/account/passkeys"),
    // OAuth: the redirect to a provider and its callback.
    (Method::GET, "/auth/oidc"),
    (Method::GET, "/auth/oidc/callback"),
    // JWT: the API log-in and the key set.
    (Method::POST, "/api/v1/auth/token"),
    (Method::POST, "/api/v1/auth/refresh"),
    (Method::POST, "/api/v1/auth/passkey/options"),
    (Method::GET, "/.well-known/jwks.json"),
];

#[tokio::test]
async fn nothing_of_a_left_out_feature_is_served_or_linked() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("small@example.com").await;
        app.enter_sudo(&mut cookie, "/users/settings/security")
            .await;
        // `/users/log-in/<token>` is the mailed log-in link's landing, GET alone.
        let unserved = [StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED];
        let mut served = Vec::new();
        for (method, path) in LEFT_OUT_ROUTES {
            let status = app.route_status(method.clone(), path, &cookie).await;
            if !unserved.contains(&status) {
                served.push(format!("{method} {path}: {status}"));
            }
        }
        assert!(served.is_empty(), "served: {served:?}");

        let log_in = app
            .get("/users/log-in", None)
            .await
            .text()
            .await
            .expect("body");
        assert!(log_in.contains("Log in"), "the log-in page is there");
        assert!(
            !log_in.contains("Log in with a passkey"),
            "no passkey button"
        );
        assert!(
            !log_in.contains("data-testid=\"providers\""),
            "no providers"
        );

        let security = app
            .get("/users/settings/security", Some(&cookie))
            .await
            .text()
            .await
            .expect("body");
        assert!(
            security.contains("Authenticator app"),
            "second factors stay"
        );
        assert!(!security.contains("Add a passkey"), "no passkeys section");

        let document: serde_json::Value = app
            .get("/api/v1/openapi.json", None)
            .await
            .json()
            .await
            .expect("json");
        let paths = document["paths"].as_object().expect("paths");
        assert!(paths.contains_key("/api/v1/me"));
        assert!(!paths.keys().any(|path| path.starts_with("/api/v1/auth/")));
    })
    .await;
}

#[tokio::test]
async fn passwords_second_factors_sessions_and_api_tokens_still_work() {
    on_each_engine(|app: TestApp| async move {
        let email = "small@example.com";
        let mut cookie = app.signed_in(email).await;
        let user = app.user_id(email).await;
        assert_eq!(app.me(&cookie).await, StatusCode::OK);

        let token = app
            .create_api_token(&mut cookie, "ci", &["profile:read"])
            .await;
        let me = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_eq!(me.status(), StatusCode::OK);
        // Anything else is no credential here: there are no JWTs to verify.
        let jwt_shaped = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let refused = app
            .api(Method::GET, "/api/v1/me", Some(jwt_shaped), None)
            .await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

        app.enable_totp(&mut cookie).await;
        let log_in = app.log_in(email, CANARY_PASSWORD, false).await;
        let next = location(&log_in);
        assert!(
            next.starts_with("/users/mfa?"),
            "the second step is asked: {next}"
        );
        app.assert_audited(&Audited::action("auth.mfa_challenge").actor(&user))
            .await;
    })
    .await;
}

/// Runs `server migrate` on a fresh database with the `extra` settings.
fn migrate_with(extra: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("migrate")
        .env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/small.db", dir.path().display()),
        )
        .env(
            "SIGRA_SECRET_KEY",
            sigra::crypto::SecretKey::generate_text(),
        )
        .envs(extra.iter().copied())
        .output()
        .expect("run the server binary")
}

#[test]
fn switching_on_a_capability_the_build_leaves_out_is_refused_at_start_up() {
    assert!(migrate_with(&[]).status.success(), "the control starts");
    for (variable, feature) in [
        ("SIGRA_CAPABILITIES_PASSKEYS", "passkeys"),
        ("SIGRA_CAPABILITIES_OAUTH", "oauth"),
        ("SIGRA_CAPABILITIES_JWT", "jwt"),
    ] {
        let output = migrate_with(&[(variable, "true")]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{variable}: {stderr}");
        assert!(
            stderr.contains(variable) && stderr.contains(&format!("`{feature}` Cargo feature")),
            "{stderr}"
        );
    }
}

#[test]
fn settings_only_a_left_out_feature_reads_are_refused_at_start_up() {
    let key_file = tempfile::NamedTempFile::new().expect("temp file");
    let key_path = key_file.path().display().to_string();
    let refused = [
        (
            vec![
                ("SIGRA_OAUTH_ACME_KIND", "oidc"),
                ("SIGRA_OAUTH_ACME_ISSUER", "https://id.acme.example"),
                ("SIGRA_OAUTH_ACME_CLIENT_ID", "client"),
                ("SIGRA_OAUTH_ACME_CLIENT_SECRET", "secret"),
            ],
            "SIGRA_OAUTH_ACME_CLIENT_ID configures a sign-in provider, but this build leaves out the `oauth` Cargo feature",
        ),
        (
            vec![("SIGRA_JWT_PRIVATE_KEY_FILE", key_path.as_str())],
            "SIGRA_JWT_PRIVATE_KEY_FILE is set, but this build leaves out the `jwt` Cargo feature",
        ),
    ];
    for (settings, problem) in refused {
        let output = migrate_with(&settings);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(problem), "{stderr}");
    }
}

#[test]
fn the_command_line_has_no_jwt_key_rotation() {
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("rotate-jwt-keys")
        .output()
        .expect("run the server binary");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unrecognized subcommand"), "{stderr}");
}
