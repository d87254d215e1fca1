//! Account lockout: the threshold, the same answer while locked, expiry and growing locks.

use std::time::Duration;

use reqwest::StatusCode;

use server::testing::{
    answer_snapshot, on_each_engine, on_each_engine_with, session_cookie, Setup, TestApp,
    CANARY_PASSWORD,
};

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
        let locked = answer_snapshot(
            app.log_in("quiet@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .await;
        let wrong = answer_snapshot(app.log_in("open@example.com", WRONG, false).await).await;
        let unknown = answer_snapshot(app.log_in("nobody@example.com", WRONG, false).await).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_right_password_arriving_while_the_threshold_is_reserved_is_refused() {
    // One hash at a time, each slow enough that the burst is still being hashed when the right
    // password arrives.
    let setup = || Setup {
        env: vec![
            ("SIGRA_PASSWORD_HASHING_CONCURRENCY", "1".to_owned()),
            ("SIGRA_PASSWORD_ARGON2_MEMORY_KIB", "32768".to_owned()),
            ("SIGRA_PASSWORD_ARGON2_ITERATIONS", "3".to_owned()),
        ],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        app.register("meanwhile@example.com", CANARY_PASSWORD).await;
        let app = std::sync::Arc::new(app);
        let guesses: Vec<_> = (0..5)
            .map(|_| {
                let app = std::sync::Arc::clone(&app);
                tokio::spawn(async move {
                    app.log_in("meanwhile@example.com", WRONG, false)
                        .await
                        .status()
                })
            })
            .collect();
        // Every wrong guess has reserved its attempt; not all of them have been hashed yet.
        let reserved = "SELECT failed_login_attempts FROM users";
        let judged =
            "SELECT COUNT(*) FROM audit_events WHERE action = 'security.invalid_credentials'";
        while app.count(reserved).await < 5 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(
            app.count(judged).await < 5,
            "the burst is still being hashed (make each hash slower if this fails)"
        );

        let right = app
            .log_in("meanwhile@example.com", CANARY_PASSWORD, false)
            .await;
        assert!(
            session_cookie(&right).is_none(),
            "the right password is refused while the wrong ones hold every attempt"
        );
        for guess in guesses {
            assert_ne!(
                guess.await.expect("joined"),
                StatusCode::INTERNAL_SERVER_ERROR
            );
        }
        assert_eq!(app.session_rows().await, 0, "no session was started");
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.failure' \
                 AND metadata LIKE '%\"reason\":\"locked\"%'"
            )
            .await,
            1,
            "the right password was refused as locked"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.success'")
                .await,
            0
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE locked_until IS NOT NULL")
                .await,
            1,
            "the burst locked the account"
        );
    })
    .await;
}
