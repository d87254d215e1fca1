//! `/metrics`: Prometheus text that parses, with the auth counters moving by exactly what
//! happened; behind a token when set. A test binary of its own: the metrics recorder is global
//! to the process, so no other test may count at the same time.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use reqwest::StatusCode;

use server::testing::{on_each_engine_with, Setup, TestApp, CANARY_PASSWORD};

const TOKEN: &str = "metrics-token-0123456789";

/// Each sample line as `name{labels}` → value, checking that every line parses.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value: {line}"));
            let value = value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("not a number: {line}"));
            let name = series.split('{').next().unwrap_or_default();
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "{line}"
            );
            (series.to_owned(), value)
        })
        .collect()
}

async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let response = reqwest::Client::new()
        .get(format!("{}/metrics", app.address))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    parse(&response.text().await.expect("body"))
}

/// How much `series` moved between two scrapes (a series not yet seen counts as zero).
fn moved(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn a_scrape_parses_and_each_auth_counter_moves_by_what_happened() {
    let setup = || Setup {
        env: vec![
            ("SIGRA_METRICS_TOKEN", TOKEN.to_owned()),
            // Registration, one log-in, five wrong passwords and one locked attempt pass; the
            // next post is refused.
            ("SIGRA_RATE_LIMIT_AUTH_LIMIT", "8".to_owned()),
        ],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        assert_eq!(
            app.get("/metrics", None).await.status(),
            StatusCode::NOT_FOUND,
            "the token is required"
        );
        let before = scrape(&app).await;
        app.signed_in("metered@example.com").await;
        for _ in 0..5 {
            app.log_in("metered@example.com", "a wrong password for sure", false)
                .await;
        }
        let locked = app
            .log_in("metered@example.com", CANARY_PASSWORD, false)
            .await;
        assert_eq!(locked.status(), StatusCode::FOUND, "refused while locked");
        let limited = app
            .log_in("metered@example.com", CANARY_PASSWORD, false)
            .await;
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        let after = scrape(&app).await;

        assert_eq!(
            moved(&before, &after, r#"sigra_logins_total{outcome="success"}"#),
            1.0
        );
        assert_eq!(
            moved(&before, &after, r#"sigra_logins_total{outcome="failure"}"#),
            6.0,
            "five wrong passwords and one attempt while locked"
        );
        assert_eq!(moved(&before, &after, "sigra_lockouts_total"), 1.0);
        assert_eq!(moved(&before, &after, "sigra_rate_limited_total"), 1.0);
        let posts =
            r#"sigra_http_requests_total{method="POST",route="/users/log-in",status="302"}"#;
        assert_eq!(moved(&before, &after, posts), 7.0, "{after:?}");
        for series in [
            "sigra_http_request_duration_seconds_bucket",
            "sigra_jobs_queue_depth",
        ] {
            assert!(
                after.keys().any(|k| k.starts_with(series)),
                "{series} missing from {after:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_production_server_without_a_token_hides_its_metrics() {
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
        assert!(app.sigra.config().is_production());
        for bearer in [None, Some("anything"), Some("")] {
            let mut request = reqwest::Client::new().get(format!("{}/metrics", app.address));
            if let Some(bearer) = bearer {
                request = request.bearer_auth(bearer);
            }
            let response = request.send().await.expect("sent");
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bearer:?}");
        }
        let health = reqwest::Client::new()
            .get(format!("{}/health", app.address))
            .send()
            .await
            .expect("sent");
        assert_eq!(health.status(), StatusCode::OK, "the server is up");
    })
    .await;
}

#[tokio::test]
async fn a_development_server_without_a_token_serves_its_metrics_openly() {
    on_each_engine_with(Setup::default, |app: TestApp| async move {
        assert!(!app.sigra.config().is_production());
        app.get("/health", None).await;
        let response = reqwest::Client::new()
            .get(format!("{}/metrics", app.address))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK, "no token asked");
        let samples = parse(&response.text().await.expect("body"));
        assert!(
            samples
                .keys()
                .any(|k| k.starts_with("sigra_http_requests_total")),
            "{samples:?}"
        );
    })
    .await;
}
