//! The OpenAPI 3.1 document: generated from the handlers that make the API routes (a route
//! exists exactly when it is documented), served at `/api/v1/openapi.json`, and checked here
//! against the running router: every documented operation is routed, and its declared scopes
//! are the ones enforced. Schemathesis then exercises the API against it.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use server::testing::{on_each_engine, TestApp};

async fn document(app: &TestApp) -> Value {
    let response = app
        .api(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// Every (method, path, bearer scopes) the document declares.
fn operations(doc: &Value) -> Vec<(Method, String, Option<Vec<String>>)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let scopes = operation["security"].as_array().and_then(|requirements| {
                requirements.iter().find_map(|r| {
                    r["bearer"].as_array().map(|s| {
                        s.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                })
            });
            found.push((method, path.clone(), scopes));
        }
    }
    found
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "00000000-0000-7000-8000-000000000000")
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_every_operation_in_it_is_routed() {
    on_each_engine(|app: TestApp| async move {
        let doc = document(&app).await;
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{}",
            doc["openapi"]
        );
        let operations = operations(&doc);
        let listed: BTreeSet<String> = operations
            .iter()
            .map(|(m, p, _)| format!("{m} {p}"))
            .collect();
        for expected in [
            "GET /api/v1/me",
            "GET /api/v1/sessions",
            "DELETE /api/v1/sessions/{id}",
            "GET /api/v1/mfa",
            "GET /api/v1/api-tokens",
            "POST /api/v1/api-tokens",
            "DELETE /api/v1/api-tokens",
            "DELETE /api/v1/api-tokens/{id}",
            "GET /api/v1/api-tokens/current",
            "DELETE /api/v1/api-tokens/current",
            "POST /api/v1/auth/token",
            "POST /api/v1/auth/passkey/options",
            "POST /api/v1/auth/mfa",
            "POST /api/v1/auth/refresh",
            "POST /api/v1/auth/revoke",
            "GET /.well-known/jwks.json",
        ] {
            assert!(
                listed.contains(expected),
                "{expected} is not documented: {listed:?}"
            );
        }
        for (method, path, _) in &operations {
            let body = (method == Method::POST).then(|| serde_json::json!({}));
            let response = app.api(method.clone(), &concrete(path), None, body).await;
            let problem = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.contains("json"));
            assert_ne!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert!(
                response.status() != StatusCode::NOT_FOUND || problem,
                "{method} {path} is documented but not routed"
            );
        }
        let unknown = app
            .api(Method::GET, "/api/v1/not-a-route", None, None)
            .await;
        assert_eq!(
            unknown.status(),
            StatusCode::NOT_FOUND,
            "the probe can tell a missing route"
        );
    })
    .await;
}

#[tokio::test]
async fn every_scope_the_document_declares_is_enforced_and_suffices() {
    on_each_engine(|app: TestApp| async move {
        let doc = document(&app).await;
        let mut cookie = app.signed_in("declared@example.com").await;
        let registry = app.sigra.api_tokens().registry().clone();
        let registered: Vec<&str> = registry.all().collect();
        let scoped: Vec<_> = operations(&doc)
            .into_iter()
            .filter_map(|(m, p, s)| s.filter(|s| !s.is_empty()).map(|s| (m, p, s)))
            .collect();
        assert!(scoped.len() >= 6, "{scoped:?}");
        for (method, path, scopes) in scoped {
            let others: Vec<&str> = registered
                .iter()
                .copied()
                .filter(|s| !scopes.iter().any(|x| x == s))
                .collect();
            let without = app.create_api_token(&mut cookie, "without", &others).await;
            let response = app
                .api(method.clone(), &concrete(&path), Some(&without), None)
                .await;
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{method} {path} without {scopes:?}"
            );
            let needed: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let with = app.create_api_token(&mut cookie, "with", &needed).await;
            let response = app
                .api(method.clone(), &concrete(&path), Some(&with), None)
                .await;
            assert!(
                ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&response.status()),
                "{method} {path} with {scopes:?}: {}",
                response.status()
            );
        }
    })
    .await;
}

/// Runs schemathesis (from `make test-tools`) against the running app with `args`: its output
/// and whether it passed.
fn schemathesis(args: &[&str]) -> (bool, String) {
    let tool =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/schemathesis");
    assert!(
        tool.exists(),
        "schemathesis is missing: run `make test-tools`"
    );
    let output = std::process::Command::new(tool)
        .arg("run")
        .args(args)
        .env("NO_COLOR", "1")
        // Its cache and reports go to a temporary directory, not the source tree.
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

// Schemathesis calls the app while the test waits for it: the app must run on other threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_in_the_api() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("fuzzed@example.com").await;
        let token = app.create_api_token(&mut cookie, "fuzz", &["*"]).await;
        let schema = format!("{}/api/v1/openapi.json", app.address);
        let header = format!("Authorization: Bearer {token}");
        let (passed, output) = schemathesis(&[
            &schema,
            "--url",
            &app.address,
            "--header",
            &header,
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--request-timeout",
            "10",
            // A token revoking itself would end the run's credential.
            "--exclude-path",
            "/api/v1/api-tokens/current",
            // Random credentials are schema-valid, and the log-in endpoints rightly refuse them
            // (401, or 400 for a passkey answer or code that is not one).
            "--exclude-checks",
            "positive_data_acceptance",
        ]);
        assert!(passed, "{output}");
    })
    .await;
}
