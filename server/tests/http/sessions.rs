//! Session lifetimes, moved through by advancing the app's clock.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{
    clears_session, location, on_each_engine, session_cookie, TestApp, CANARY_PASSWORD,
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
        let set_cookie = crate::helpers::set_cookies(response.headers())
            .into_iter()
            .find(|c| c.starts_with("__Host-sigra_session="))
            .expect("a cookie");
        assert!(set_cookie.contains("Max-Age=2592000"), "{set_cookie}");
        let cookie = session_cookie(&response).expect("a session");

        app.advance(3 * DAY);
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::OK,
            "idle for days, still remembered"
        );
        app.advance(27 * DAY);
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::UNAUTHORIZED,
            "ends at thirty days"
        );

        let standard = app
            .log_in("remember@example.com", CANARY_PASSWORD, false)
            .await;
        let set_cookie = crate::helpers::set_cookies(standard.headers())
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
