//! The IP rate limit on guest auth posts, on every backend (memory, the database, a real Redis
//! server), and its resistance to spoofing.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use sigra::clock::{Clock, ManualClock, SystemClock, Timestamp};
use sigra::rate_limit::{RateLimiter, RedisCounters};

use server::testing::{on_each_engine_with, Setup, TestApp};

/// The Redis server the tests use (`redis-server` from `make setup`, started by `.ci/run`).
const REDIS_URL: &str = "redis://127.0.0.1:6379/";

fn limited(backend: &'static str, trusted_proxies: &'static str) -> impl Fn() -> Setup {
    move || {
        let mut env = vec![
            ("SIGRA_RATE_LIMIT_AUTH_LIMIT", "10".to_owned()),
            ("SIGRA_RATE_LIMIT_BACKEND", backend.to_owned()),
            ("SIGRA_HTTP_TRUSTED_PROXIES", trusted_proxies.to_owned()),
        ];
        if backend == "redis" {
            // Each app counts under its own prefix, as separate deployments sharing a server.
            let prefix = format!("sigra-test-{}", uuid::Uuid::new_v4().simple());
            env.push(("SIGRA_REDIS_URL", REDIS_URL.to_owned()));
            env.push(("SIGRA_REDIS_KEY_PREFIX", prefix));
        }
        Setup {
            env,
            ..Setup::default()
        }
    }
}

async fn attempt(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut headers = vec![("sec-fetch-site", "same-origin")];
    if let Some(ip) = forwarded_for {
        headers.push(("x-forwarded-for", ip));
    }
    let form = [
        ("email", "someone@example.com"),
        ("password", "a wrong password here"),
    ];
    app.post_form_with("/users/log-in", "/users/log-in", &form, None, &headers)
        .await
}

#[tokio::test]
async fn guest_auth_posts_are_limited_per_address_on_every_backend() {
    for backend in ["memory", "database", "redis"] {
        on_each_engine_with(limited(backend, ""), |app: TestApp| async move {
            for i in 0..10 {
                let response = attempt(&app, None).await;
                assert_ne!(
                    response.status(),
                    StatusCode::TOO_MANY_REQUESTS,
                    "attempt {i}"
                );
                assert_eq!(response.headers()["x-ratelimit-limit"], "10");
                assert_eq!(
                    response.headers()["x-ratelimit-remaining"],
                    (9 - i).to_string().as_str()
                );
                let reset: u64 = response.headers()["x-ratelimit-reset"]
                    .to_str()
                    .expect("ascii")
                    .parse()
                    .expect("seconds until the window ends");
                assert!((1..=60).contains(&reset), "attempt {i}: {reset}");
            }
            let refused = attempt(&app, None).await;
            assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
            let wait: u64 = refused.headers()["retry-after"]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("seconds");
            assert!((1..=60).contains(&wait));
            assert!(refused
                .text()
                .await
                .expect("body")
                .contains("Too many attempts"));

            let json = app
                .call_json(
                    "/users/register",
                    &[
                        ("email", "x@example.com"),
                        ("password", "whatever whatever"),
                    ],
                    None,
                )
                .await;
            assert_eq!(json.status(), StatusCode::TOO_MANY_REQUESTS);
            assert!(
                json.text()
                    .await
                    .expect("body")
                    .starts_with(r#"{"RateLimited""#),
                "the hydrated page can read it"
            );

            assert_eq!(
                app.get("/users/log-in", None).await.status(),
                StatusCode::OK,
                "pages are not limited"
            );
            app.advance(Duration::from_secs(60));
            assert_ne!(
                attempt(&app, None).await.status(),
                StatusCode::TOO_MANY_REQUESTS,
                "the window moved on"
            );
        })
        .await;
    }
}

#[tokio::test]
async fn rotating_x_forwarded_for_does_not_help_without_a_trusted_proxy() {
    on_each_engine_with(limited("memory", ""), |app: TestApp| async move {
        for i in 0..10 {
            attempt(&app, Some(&format!("198.51.100.{i}"))).await;
        }
        let refused = attempt(&app, Some("198.51.100.250")).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    })
    .await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    on_each_engine_with(
        limited("database", "127.0.0.1"),
        |app: TestApp| async move {
            for _ in 0..10 {
                attempt(&app, Some("203.0.113.1")).await;
            }
            assert_eq!(
                attempt(&app, Some("203.0.113.1")).await.status(),
                StatusCode::TOO_MANY_REQUESTS
            );
            assert_ne!(
                attempt(&app, Some("203.0.113.2")).await.status(),
                StatusCode::TOO_MANY_REQUESTS
            );
        },
    )
    .await;
}

#[tokio::test]
async fn an_ipv4_client_of_a_dual_stack_server_is_recorded_and_limited_as_ipv4() {
    let setup = || Setup {
        listen: Some("[::]:0"),
        env: vec![
            ("SIGRA_RATE_LIMIT_AUTH_LIMIT", "3".to_owned()),
            ("SIGRA_DEV_EXPOSE_MAILBOX_ON_NETWORK", "true".to_owned()),
        ],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        for _ in 0..3 {
            assert!(attempt(&app, None).await.status().is_redirection());
        }
        assert_eq!(
            attempt(&app, None).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        let addresses: Vec<Option<String>> =
            sqlx::query_scalar("SELECT DISTINCT ip_address FROM audit_events")
                .fetch_all(app.sigra.db().pool())
                .await
                .expect("rows");
        assert_eq!(
            addresses,
            [Some("127.0.0.1".to_owned())],
            "the socket peer ::ffff:127.0.0.1 is recorded as the IPv4 address it is"
        );
    })
    .await;
}

#[tokio::test]
async fn auto_counts_in_memory_on_sqlite_and_in_the_database_on_postgres() {
    on_each_engine_with(Setup::default, |app: TestApp| async move {
        let on_sqlite = app.database_url().starts_with("sqlite:");
        attempt(&app, None).await;
        let (expected, rows) = if on_sqlite {
            (sigra::config::RateLimitBackend::Memory, 0)
        } else {
            (sigra::config::RateLimitBackend::Database, 1)
        };
        assert_eq!(app.sigra.config().rate_limit.backend, expected);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM rate_limits").await,
            rows,
            "the database holds the count only when it counts"
        );
    })
    .await;
}

/// A Redis count must last its whole window even when the app's clock is behind the Redis
/// server's (another machine, a drifting clock): the window comes from the app's clock, but
/// how long the key lives is measured by Redis.
#[tokio::test]
async fn a_redis_limit_holds_for_its_whole_window_when_the_app_clock_is_behind_redis() {
    let prefix = format!("sigra-test-{}", uuid::Uuid::new_v4().simple());
    let config = sigra::testing::config_with(
        "sqlite::memory:",
        &[
            ("SIGRA_RATE_LIMIT_BACKEND", "redis"),
            ("SIGRA_REDIS_URL", REDIS_URL),
            ("SIGRA_REDIS_KEY_PREFIX", &prefix),
        ],
    );
    let redis = config
        .rate_limit
        .redis
        .as_ref()
        .expect("the Redis settings");
    // Ten minutes behind: by Redis's clock the app's current window ended long ago.
    let behind = Timestamp::from_millis(SystemClock.now().as_millis() - 600_000);
    let limiter = RateLimiter::with_counters(
        Arc::new(RedisCounters::new(redis).expect("a Redis URL")),
        Arc::new(ManualClock::at(behind)),
    );
    for used in 1..=3 {
        let decision = limiter
            .check("192.0.2.1", 3, Duration::from_secs(60))
            .await
            .expect("Redis answers");
        assert_eq!(decision.remaining, 3 - used, "hit {used} is counted");
    }
    let fourth = limiter
        .check("192.0.2.1", 3, Duration::from_secs(60))
        .await
        .expect("Redis answers");
    assert!(!fourth.allowed, "the fourth hit in the window is refused");
}
