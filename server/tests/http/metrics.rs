//! `/metrics`: Prometheus text that parses, with the auth counters; behind a token when set.

use reqwest::StatusCode;

use crate::helpers::{on_each_engine_with, Setup, TestApp, CANARY_PASSWORD};

const TOKEN: &str = "metrics-token-0123456789";

/// Each sample line is `name{labels} value` with a numeric value; returns the metric names.
fn parse(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value: {line}"));
            value
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
            name.to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_scrape_parses_and_carries_the_auth_counters() {
    let setup = || Setup {
        env: vec![("SIGRA_METRICS_TOKEN", TOKEN.to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        app.signed_in("metered@example.com").await;
        app.log_in("metered@example.com", "a wrong password for sure", false)
            .await;
        assert_eq!(
            app.get("/metrics", None).await.status(),
            StatusCode::NOT_FOUND,
            "the token is required"
        );
        let response = reqwest::Client::new()
            .get(format!("{}/metrics", app.address))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
        let names = parse(&response.text().await.expect("body"));
        for expected in [
            "sigra_http_requests_total",
            "sigra_http_request_duration_seconds_bucket",
            "sigra_logins_total",
            "sigra_jobs_queue_depth",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
        let _ = CANARY_PASSWORD;
    })
    .await;
}
