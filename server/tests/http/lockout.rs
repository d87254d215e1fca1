//! Account lockout: the threshold, the same answer while locked, expiry and growing locks.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{on_each_engine, session_cookie, TestApp, CANARY_PASSWORD};

const WRONG: &str = "definitely not the right password";
const MINUTE: Duration = Duration::from_secs(60);

async fn fail_times(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        assert!(session_cookie(&app.log_in(email, WRONG, false).await).is_none());
    }
}

async fn can_log_in(app: &TestApp, email: &str) -> bool {
    session_cookie(&app.log_in(email, CANARY_PASSWORD, false).await).is_some()
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_for_fifteen_minutes() {
    on_each_engine(|app: TestApp| async move {
        app.register("locked@example.com", CANARY_PASSWORD).await;
        fail_times(&app, "locked@example.com", 5).await;
        assert!(
            !can_log_in(&app, "locked@example.com").await,
            "even the right password is refused"
        );
        let mail = app.mailbox("locked@example.com").await;
        assert_eq!(mail[0].subject, "Your account was locked for a while");
        assert!(mail[0].text.contains("15 minutes"));
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'security.lockout'")
                .await,
            1
        );
        app.advance(15 * MINUTE);
        assert!(
            can_log_in(&app, "locked@example.com").await,
            "the lock ends on time"
        );
    })
    .await;
}

#[tokio::test]
async fn a_locked_account_answers_like_a_wrong_password_or_an_unknown_email() {
    on_each_engine(|app: TestApp| async move {
        app.register("quiet@example.com", CANARY_PASSWORD).await;
        app.register("open@example.com", CANARY_PASSWORD).await;
        fail_times(&app, "quiet@example.com", 5).await;
        let snapshot = |response: reqwest::Response| async move {
            let status = response.status();
            let mut headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .filter(|(n, _)| {
                    !matches!(
                        n.as_str(),
                        "date" | "x-request-id" | "content-security-policy"
                    ) && !n.as_str().starts_with("x-ratelimit")
                })
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
                .collect();
            headers.sort();
            (status, headers, response.bytes().await.expect("body"))
        };
        let locked = snapshot(
            app.log_in("quiet@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .await;
        let wrong = snapshot(app.log_in("open@example.com", WRONG, false).await).await;
        let unknown = snapshot(app.log_in("nobody@example.com", WRONG, false).await).await;
        assert_eq!(locked, wrong);
        assert_eq!(wrong, unknown);
    })
    .await;
}

#[tokio::test]
async fn after_a_lock_ends_the_next_lock_lasts_twice_as_long() {
    on_each_engine(|app: TestApp| async move {
        app.register("again@example.com", CANARY_PASSWORD).await;
        fail_times(&app, "again@example.com", 5).await;
        app.advance(15 * MINUTE);
        fail_times(&app, "again@example.com", 4).await;
        app.advance(MINUTE);
        fail_times(&app, "again@example.com", 1).await;
        app.advance(16 * MINUTE);
        assert!(
            !can_log_in(&app, "again@example.com").await,
            "the second lock lasts 30 minutes"
        );
        app.advance(15 * MINUTE);
        assert!(can_log_in(&app, "again@example.com").await);
        // Success resets everything: the next lock is fifteen minutes again.
        fail_times(&app, "again@example.com", 5).await;
        app.advance(15 * MINUTE);
        assert!(can_log_in(&app, "again@example.com").await);
    })
    .await;
}

#[tokio::test]
async fn a_success_before_the_threshold_resets_the_count() {
    on_each_engine(|app: TestApp| async move {
        app.register("reset-count@example.com", CANARY_PASSWORD)
            .await;
        fail_times(&app, "reset-count@example.com", 4).await;
        assert!(can_log_in(&app, "reset-count@example.com").await);
        fail_times(&app, "reset-count@example.com", 4).await;
        assert!(
            can_log_in(&app, "reset-count@example.com").await,
            "never five in a row"
        );
        assert_eq!(
            app.call_json(
                "/users/log-in",
                &[("email", "reset-count@example.com"), ("password", WRONG)],
                None
            )
            .await
            .status(),
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_parallel_guesses_evaluates_no_more_than_the_threshold() {
    on_each_engine(|app: TestApp| async move {
        app.register("burst@example.com", CANARY_PASSWORD).await;
        let app = std::sync::Arc::new(app);
        let guesses: Vec<_> = (0..30)
            .map(|_| {
                let app = std::sync::Arc::clone(&app);
                tokio::spawn(
                    async move { app.log_in("burst@example.com", WRONG, false).await.status() },
                )
            })
            .collect();
        for guess in guesses {
            assert_ne!(
                guess.await.expect("joined"),
                StatusCode::INTERNAL_SERVER_ERROR
            );
        }
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'security.invalid_credentials'"
            )
            .await,
            5,
            "only the threshold's worth of guesses reached the hash"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'security.lockout'")
                .await,
            1
        );
        assert!(
            !can_log_in(&app, "burst@example.com").await,
            "the right password after the burst is refused while locked"
        );
    })
    .await;
}
