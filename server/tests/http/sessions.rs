//! Session lifetimes, moved through by advancing the app's clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use sigra::testing::{Hook, Hooks};
use tokio::sync::Notify;

use server::testing::{
    clears_session, location, on_each_engine, on_each_engine_with, session_cookie, set_cookies,
    Setup, TestApp, CANARY_PASSWORD,
};

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn log_in_issues_a_new_token_and_kills_the_one_the_browser_had() {
    on_each_engine(|app: TestApp| async move {
        let first = app.signed_in("fixation@example.com").await;
        let form = [
            ("email", "fixation@example.com"),
            ("password", CANARY_PASSWORD),
        ];
        let response = app
            .post_form("/users/log-in", "/users/log-in", &form, Some(&first))
            .await;
        let second = session_cookie(&response).expect("a new session");
        assert_ne!(first, second);
        assert_eq!(
            app.me(&first).await,
            StatusCode::UNAUTHORIZED,
            "the old session is dead"
        );
        assert_eq!(app.me(&second).await, StatusCode::OK);
        assert_eq!(app.session_rows().await, 1, "the old row is gone");
    })
    .await;
}

#[tokio::test]
async fn a_planted_cookie_is_never_adopted() {
    on_each_engine(|app: TestApp| async move {
        let planted = "__Host-sigra_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        app.register("planted@example.com", CANARY_PASSWORD).await;
        let form = [
            ("email", "planted@example.com"),
            ("password", CANARY_PASSWORD),
        ];
        let response = app
            .post_form("/users/log-in", "/users/log-in", &form, Some(planted))
            .await;
        let issued = session_cookie(&response).expect("a session");
        assert_ne!(issued, planted);
        assert_eq!(app.me(planted).await, StatusCode::UNAUTHORIZED);
        // A malformed cookie is simply cleared.
        let response = app.get("/", Some("__Host-sigra_session=garbage")).await;
        assert!(clears_session(&response));
    })
    .await;
}

#[tokio::test]
async fn an_idle_session_ends_after_thirty_minutes() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("idle@example.com").await;
        app.advance(29 * MINUTE);
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::OK,
            "activity at 29 minutes"
        );
        app.advance(29 * MINUTE);
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::OK,
            "the idle clock restarted"
        );
        app.advance(30 * MINUTE);
        let response = app.get("/api/v1/me", Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(clears_session(&response), "the browser is told to drop it");
        assert_eq!(app.session_rows().await, 0, "the expired row is deleted");
    })
    .await;
}

#[tokio::test]
async fn an_active_session_still_ends_after_twenty_four_hours() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("absolute@example.com").await;
        for _ in 0..(24 * 3 - 1) {
            app.advance(20 * MINUTE);
            assert_eq!(app.me(&cookie).await, StatusCode::OK);
        }
        app.advance(20 * MINUTE);
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::UNAUTHORIZED,
            "24 hours, however active"
        );
    })
    .await;
}

#[tokio::test]
async fn remember_me_survives_idleness_until_thirty_days() {
    on_each_engine(|app: TestApp| async move {
        app.register("remember@example.com", CANARY_PASSWORD).await;
        let response = app
            .log_in("remember@example.com", CANARY_PASSWORD, true)
            .await;
        let set_cookie = server::testing::set_cookies(response.headers())
            .into_iter()
            .find(|c| c.starts_with("__Host-sigra_session="))
            .expect("a cookie");
        assert!(set_cookie.contains("Max-Age=2592000"), "{set_cookie}");
        let cookie = session_cookie(&response).expect("a session");

        app.advance(3 * DAY);
        let response = app.get("/api/v1/me", Some(&cookie)).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "idle for days, still remembered"
        );
        let cookie = session_cookie(&response).expect("its token rolled");
        app.advance(27 * DAY);
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::UNAUTHORIZED,
            "ends at thirty days"
        );
        assert_eq!(app.session_rows().await, 0);

        let standard = app
            .log_in("remember@example.com", CANARY_PASSWORD, false)
            .await;
        let set_cookie = server::testing::set_cookies(standard.headers())
            .into_iter()
            .find(|c| c.starts_with("__Host-sigra_session="))
            .expect("a cookie");
        assert!(
            !set_cookie.contains("Max-Age"),
            "a standard session lives with the browser: {set_cookie}"
        );
    })
    .await;
}

/// A remember-me session's cookie, logged in for `email`.
async fn remembered(app: &TestApp, email: &str) -> String {
    app.register(email, CANARY_PASSWORD).await;
    session_cookie(&app.log_in(email, CANARY_PASSWORD, true).await).expect("a session")
}

/// The SHA-256 (hex) of a cookie's token, as the database keeps it.
fn digest(cookie: &str) -> String {
    use sha2::Digest as _;
    let token = cookie.trim_start_matches("__Host-sigra_session=");
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

#[tokio::test]
async fn a_remember_me_token_rolls_daily_and_the_old_one_lives_only_for_its_grace() {
    on_each_engine(|app: TestApp| async move {
        let first = remembered(&app, "rolling@example.com").await;
        app.advance(23 * HOUR);
        let response = app.get("/api/v1/me", Some(&first)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(session_cookie(&response).is_none(), "not due before a day");

        app.advance(HOUR);
        let response = app.get("/api/v1/me", Some(&first)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let second = session_cookie(&response).expect("rolled once a day old");
        assert_ne!(first, second);
        let set_cookie = set_cookies(response.headers())
            .into_iter()
            .find(|c| c.starts_with("__Host-sigra_session="))
            .expect("a cookie");
        assert!(
            set_cookie.contains(&format!("Max-Age={}", 29 * 24 * 3600)),
            "the new cookie lasts only until the session's end: {set_cookie}"
        );
        let (current, previous): (String, Option<String>) =
            sqlx::query_as("SELECT token_hash, previous_token_hash FROM user_sessions")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("the one session");
        assert_eq!(current, digest(&second));
        assert_eq!(previous, Some(digest(&first)));

        app.advance(Duration::from_secs(30));
        let late = app.get("/api/v1/me", Some(&first)).await;
        assert_eq!(late.status(), StatusCode::OK, "in flight during the grace");
        assert!(
            session_cookie(&late).is_none(),
            "and it rolls nothing again"
        );
        assert_eq!(app.me(&second).await, StatusCode::OK);

        app.advance(Duration::from_secs(31));
        let stale = app.get("/api/v1/me", Some(&first)).await;
        assert_eq!(stale.status(), StatusCode::UNAUTHORIZED, "after the grace");
        assert!(
            !clears_session(&stale),
            "a late request with the old token must not clear the browser's new cookie"
        );
        assert_eq!(app.me(&second).await, StatusCode::OK);
        assert_eq!(app.session_rows().await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_rolling_session_still_ends_thirty_days_after_log_in() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = remembered(&app, "daily@example.com").await;
        for day in 1..30 {
            app.advance(DAY);
            let response = app.get("/api/v1/me", Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::OK, "day {day}");
            cookie = session_cookie(&response).expect("a new token each day");
        }
        app.advance(DAY);
        let response = app.get("/api/v1/me", Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "day 30");
        assert!(clears_session(&response), "the ended session's cookie goes");
        assert_eq!(app.session_rows().await, 0);
    })
    .await;
}

/// A hook that holds the first `n` session lookups after they read their row, until all `n`
/// have read it: a race lined up so every one of them sees the same row.
fn line_up(n: usize) -> Hook {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let calls = Arc::new(AtomicUsize::new(0));
    Arc::new(move || {
        let (barrier, calls) = (Arc::clone(&barrier), Arc::clone(&calls));
        Box::pin(async move {
            if calls.fetch_add(1, Ordering::SeqCst) < n {
                barrier.wait().await;
            }
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_requests_with_a_due_token_all_pass_and_roll_it_once() {
    const RACERS: usize = 12;
    let setup = || Setup {
        test_hooks: Hooks {
            after_session_read: Some(line_up(RACERS)),
        },
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let first = remembered(&app, "parallel@example.com").await;
        app.advance(DAY);
        let responses = join_all((0..RACERS).map(|_| app.get("/api/v1/me", Some(&first)))).await;
        let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
        assert!(
            statuses.iter().all(|s| *s == StatusCode::OK),
            "every request of the page passes: {statuses:?}"
        );
        let issued: Vec<String> = responses.iter().filter_map(session_cookie).collect();
        assert_eq!(
            issued.len(),
            1,
            "all {RACERS} read the due token; one rolled it"
        );
        assert_eq!(app.me(&issued[0]).await, StatusCode::OK);
        let (current, previous): (String, Option<String>) =
            sqlx::query_as("SELECT token_hash, previous_token_hash FROM user_sessions")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("the one session");
        assert_eq!(current, digest(&issued[0]));
        assert_eq!(previous, Some(digest(&first)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_ended_during_a_lookup_is_never_cached_as_live() {
    // The lookup reads the row, then waits while another request logs the session out; the
    // cache must not keep what it read.
    let reached = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let setup = || {
        let (reached, release) = (Arc::clone(&reached), Arc::clone(&release));
        let calls = Arc::new(AtomicUsize::new(0));
        let hold: Hook = Arc::new(move || {
            let (reached, release, calls) = (
                Arc::clone(&reached),
                Arc::clone(&release),
                Arc::clone(&calls),
            );
            Box::pin(async move {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    reached.notify_one();
                    release.notified().await;
                }
            })
        });
        Setup {
            env: vec![("SIGRA_SESSION_CACHE", "on".to_owned())],
            test_hooks: Hooks {
                after_session_read: Some(hold),
            },
            ..Setup::default()
        }
    };
    on_each_engine_with(setup, |app: TestApp| {
        let (reached, release) = (Arc::clone(&reached), Arc::clone(&release));
        async move {
            let cookie = app.signed_in("interleave@example.com").await;
            // Due for a last-seen write, so the lookup takes the touch path too.
            app.advance(6 * MINUTE);
            let held = app.get("/api/v1/me", Some(&cookie));
            let revoke = async {
                reached.notified().await;
                let out = app
                    .post_form("/users/log-out", "/", &[], Some(&cookie))
                    .await;
                assert_eq!(location(&out), "/");
                assert_eq!(app.session_rows().await, 0, "logged out meanwhile");
                release.notify_one();
            };
            let (held, ()) = tokio::join!(held, revoke);
            assert_eq!(
                held.status(),
                StatusCode::OK,
                "the request in flight read the session before it ended"
            );
            assert_eq!(
                app.me(&cookie).await,
                StatusCode::UNAUTHORIZED,
                "the next request is refused, not served from the cache"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn sudo_and_a_password_change_give_the_session_a_new_token() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("rotate@example.com").await;
        let id: (String,) = sqlx::query_as("SELECT id FROM user_sessions")
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("row");
        let before = cookie.clone();
        app.enter_sudo(&mut cookie, "/users/settings").await;
        assert_ne!(before, cookie);
        assert_eq!(app.me(&before).await, StatusCode::UNAUTHORIZED, "no grace");
        assert_eq!(app.me(&cookie).await, StatusCode::OK);

        let before = cookie.clone();
        let changed = app
            .post_form(
                "/users/settings/password",
                "/users/settings/password",
                &[
                    ("current_password", CANARY_PASSWORD),
                    ("new_password", "a brand new passphrase for tests"),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(location(&changed), "/users/settings");
        let cookie = session_cookie(&changed).expect("a new token");
        assert_eq!(app.me(&before).await, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(&cookie).await, StatusCode::OK);
        let (same, previous): (String, Option<String>) =
            sqlx::query_as("SELECT id, previous_token_hash FROM user_sessions")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("one session");
        assert_eq!(same, id.0, "the same session goes on");
        assert_eq!(previous, None, "no earlier token is kept");
    })
    .await;
}

#[tokio::test]
async fn last_seen_is_written_at_most_every_five_minutes() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("touch@example.com").await;
        let last_seen = || app.count("SELECT last_seen_at FROM user_sessions");
        let at_log_in = last_seen().await;
        app.advance(4 * MINUTE);
        app.me(&cookie).await;
        assert_eq!(last_seen().await, at_log_in, "no write within five minutes");
        app.advance(MINUTE);
        app.me(&cookie).await;
        assert_eq!(
            last_seen().await,
            at_log_in + 5 * 60 * 1000,
            "written after five"
        );
        app.advance(HOUR / 60);
        app.me(&cookie).await;
        assert_eq!(last_seen().await, at_log_in + 5 * 60 * 1000);
    })
    .await;
}

#[tokio::test]
async fn the_database_keeps_only_a_digest_of_the_token() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("digest@example.com").await;
        let token = cookie.trim_start_matches("__Host-sigra_session=");
        let stored: (String,) = sqlx::query_as("SELECT token_hash FROM user_sessions")
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("row");
        assert_ne!(stored.0, token);
        assert_eq!(stored.0.len(), 64, "a SHA-256 hex digest");
        assert_eq!(token.len(), 43, "32 random bytes in base64url");
    })
    .await;
}

#[tokio::test]
async fn a_session_ended_by_another_process_is_not_served_from_the_cache() {
    // SQLite only: it is the engine with the session cache on by default.
    let app = TestApp::spawn(sigra::testing::Engine::Sqlite).await;
    let cookie = app.signed_in("elsewhere@example.com").await;
    for _ in 0..2 {
        assert_eq!(
            app.get("/users/settings", Some(&cookie)).await.status(),
            StatusCode::OK,
            "cached after the first look"
        );
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["require-password-change", "elsewhere@example.com"])
        .env("DATABASE_URL", app.database_url())
        .env(
            "SIGRA_SECRET_KEY",
            sigra::crypto::SecretKey::generate_text(),
        )
        .output()
        .expect("run the operator command");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response = app.get("/users/settings", Some(&cookie)).await;
    assert!(
        location(&response).starts_with("/users/log-in"),
        "the session the other process ended is refused: {} {}",
        response.status(),
        location(&response)
    );
}

#[tokio::test]
async fn sessions_end_at_once_with_the_cache_on_or_off_on_every_engine() {
    for mode in ["on", "off"] {
        let setup = || Setup {
            env: vec![("SIGRA_SESSION_CACHE", mode.to_owned())],
            ..Setup::default()
        };
        on_each_engine_with(setup, |app: TestApp| async move {
            assert_eq!(app.sigra.caches_sessions(), mode == "on", "{mode}");
            let cookie = app.signed_in("cached@example.com").await;
            let other = session_cookie(
                &app.log_in("cached@example.com", CANARY_PASSWORD, false)
                    .await,
            )
            .expect("a second session");
            for _ in 0..2 {
                assert_eq!(app.me(&cookie).await, StatusCode::OK, "{mode}");
                assert_eq!(app.me(&other).await, StatusCode::OK, "{mode}");
            }
            app.post_form("/users/log-out", "/", &[], Some(&other))
                .await;
            assert_eq!(
                app.me(&other).await,
                StatusCode::UNAUTHORIZED,
                "{mode}: logged out"
            );
            assert_eq!(app.me(&cookie).await, StatusCode::OK, "{mode}");
            app.advance(30 * MINUTE);
            assert_eq!(
                app.me(&cookie).await,
                StatusCode::UNAUTHORIZED,
                "{mode}: idle"
            );
            assert_eq!(app.session_rows().await, 0, "{mode}");
        })
        .await;
    }
}

#[tokio::test]
async fn the_session_cache_is_on_by_default_on_every_engine() {
    on_each_engine(|app: TestApp| async move {
        assert!(app.sigra.caches_sessions());
    })
    .await;
}

#[tokio::test]
async fn each_sign_out_button_names_the_session_it_ends() {
    on_each_engine(|app: TestApp| async move {
        let email = "many-devices@example.com";
        let viewer = app.signed_in(email).await;
        for agent in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        ] {
            let form = [("email", email), ("password", CANARY_PASSWORD)];
            let answer = app
                .post_form_with(
                    "/users/log-in",
                    "/users/log-in",
                    &form,
                    None,
                    &[("sec-fetch-site", "same-origin"), ("user-agent", agent)],
                )
                .await;
            assert!(session_cookie(&answer).is_some());
        }
        let html = app
            .get("/users/sessions", Some(&viewer))
            .await
            .text()
            .await
            .expect("page");
        for name in ["Log out Firefox 120 on Windows", "Log out Chrome 120 on macOS"] {
            assert!(html.contains(&format!("aria-label=\"{name}, ")), "{name} in the page");
        }
    })
    .await;
}
