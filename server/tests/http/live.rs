//! Live auth over server-sent events: an open page hears that its session ended, however it
//! ended, without the stream ever counting as activity; admins' lists hear of changes.

use std::time::Duration;

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE};
use reqwest::StatusCode;

use crate::admin::make_admin;
use server::testing::{
    location, on_each_engine, session_cookie, set_cookies, TestApp, CANARY_PASSWORD,
};

const MINUTE: Duration = Duration::from_secs(60);
/// How long a test waits for an event before failing (a bound against hanging, not a
/// measure: the streams answer within a second).
const PATIENCE: Duration = Duration::from_secs(10);

/// An open event stream, read as the browser's `EventSource` reads it.
pub(crate) struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// Opens `path` on the server at `address` with `cookie`, as a page does.
    pub(crate) async fn open(address: &str, path: &str, cookie: Option<&str>) -> Self {
        let mut request = reqwest::Client::new()
            .get(format!("{address}{path}"))
            .header("accept", "text/event-stream");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let response = request.send().await.expect("the stream opens");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "text/event-stream",
            "{path}"
        );
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store", "{path}");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event as `(name, data)`, `None` once the stream has ended; comments and the
    /// reconnect delay are skipped. Fails after [`PATIENCE`] without one.
    pub(crate) async fn next(&mut self) -> Option<(String, String)> {
        tokio::time::timeout(PATIENCE, self.read_event())
            .await
            .expect("an event within the patience bound")
    }

    /// Whether nothing but keep-alive arrives within `wait`.
    pub(crate) async fn quiet_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.read_event()).await.is_err()
    }

    async fn read_event(&mut self) -> Option<(String, String)> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|line| line.strip_prefix(name))
                        .map(|value| value.trim_start().to_owned())
                };
                if let (Some(name), Some(data)) = (field("event:"), field("data:")) {
                    return Some((name, data));
                }
            }
            let chunk = self.response.chunk().await.expect("the stream reads")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn session_stream(app: &TestApp, cookie: Option<&str>) -> Events {
    Events::open(&app.address, "/api/live/session", cookie).await
}

async fn last_seen(app: &TestApp) -> i64 {
    app.count("SELECT MAX(last_seen_at) FROM user_sessions")
        .await
}

#[tokio::test]
async fn an_open_page_hears_at_once_that_its_session_was_logged_out_in_another_tab() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("tabs@example.com").await;
        let mut events = session_stream(&app, Some(&cookie)).await;
        assert!(
            events.quiet_for(Duration::from_millis(1500)).await,
            "nothing is said while the session lives"
        );
        app.post_form("/users/log-out", "/", &[], Some(&cookie))
            .await;
        assert_eq!(
            events.next().await,
            Some((
                "ended".to_owned(),
                "/users/session-ended?reason=signed_out".to_owned()
            ))
        );
        assert_eq!(events.next().await, None, "and the stream ends");
        assert_eq!(app.session_rows().await, 0);
    })
    .await;
}

#[tokio::test]
async fn an_open_page_hears_that_another_session_revoked_it() {
    on_each_engine(|app: TestApp| async move {
        let mut revoker = app.signed_in("revoked@example.com").await;
        let victim = session_cookie(
            &app.log_in("revoked@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .expect("a second session");
        let mut events = session_stream(&app, Some(&victim)).await;
        app.enter_sudo(&mut revoker, "/users/sessions").await;
        let other = app.other_session_id(&revoker).await;
        let revoked = app
            .api_with_session(
                reqwest::Method::DELETE,
                &format!("/api/v1/sessions/{other}"),
                &revoker,
                None,
            )
            .await;
        assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            events.next().await.map(|(name, _)| name).as_deref(),
            Some("ended")
        );
        assert_eq!(
            app.me(&revoker).await,
            StatusCode::OK,
            "the revoker goes on"
        );
    })
    .await;
}

#[tokio::test]
async fn following_a_session_is_not_activity_and_its_idle_end_is_heard() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("idle@example.com").await;
        let seen = last_seen(&app).await;
        app.advance(10 * MINUTE);
        // Opening the stream is a request like any other (recorded); staying open is not.
        let mut events = session_stream(&app, Some(&cookie)).await;
        let opened = last_seen(&app).await;
        assert!(opened > seen, "the opening request is activity");
        app.advance(29 * MINUTE);
        assert!(events.quiet_for(Duration::from_millis(1500)).await);
        assert_eq!(last_seen(&app).await, opened, "following touched nothing");
        app.advance(2 * MINUTE);
        assert_eq!(
            events.next().await,
            Some((
                "ended".to_owned(),
                "/users/session-ended?reason=idle".to_owned()
            ))
        );
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::UNAUTHORIZED,
            "and the server agrees"
        );
    })
    .await;
}

#[tokio::test]
async fn a_stream_opened_without_a_live_session_says_ended_at_once() {
    on_each_engine(|app: TestApp| async move {
        for cookie in [None, Some("__Host-sigra_session=not-a-token")] {
            let mut events = session_stream(&app, cookie).await;
            assert_eq!(
                events.next().await.map(|(name, _)| name).as_deref(),
                Some("ended"),
                "{cookie:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn an_ended_page_goes_to_log_in_with_the_reason_and_only_a_local_way_back() {
    on_each_engine(|app: TestApp| async move {
        for (query, to) in [
            (
                "reason=idle&return_to=/users/settings",
                "/users/log-in?return_to=/users/settings",
            ),
            (
                "reason=signed_out&return_to=//evil.example",
                "/users/log-in",
            ),
            (
                "reason=expired&return_to=https://evil.example/",
                "/users/log-in",
            ),
            ("reason=made-up", "/users/log-in"),
        ] {
            let response = app
                .get(&format!("/users/session-ended?{query}"), None)
                .await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{query}");
            assert_eq!(location(&response), to, "{query}");
            let flash = set_cookies(response.headers())
                .into_iter()
                .find(|c| c.starts_with("__Host-sigra_flash="))
                .expect("a message is queued");
            let page = app
                .get(to, Some(flash.split(';').next().unwrap_or_default()))
                .await
                .text()
                .await
                .expect("page");
            let expected = match query.split('&').next() {
                Some("reason=idle") => "after a while without activity",
                Some("reason=expired") => "reached its time limit",
                _ => "Your session was ended",
            };
            assert!(page.contains(expected), "{query}: {expected}");
        }

        // A visitor who is logged in has nothing ended: no message, home.
        let cookie = app.signed_in("still@example.com").await;
        let response = app
            .get("/users/session-ended?reason=signed_out", Some(&cookie))
            .await;
        assert_eq!(location(&response), "/");
        assert!(set_cookies(response.headers())
            .iter()
            .all(|c| !c.starts_with("__Host-sigra_flash=")));
    })
    .await;
}

#[tokio::test]
async fn an_admin_list_hears_of_a_registration_and_other_users_may_not_listen() {
    on_each_engine(|app: TestApp| async move {
        let user = app.signed_in("plain@example.com").await;
        let refused = reqwest::Client::new()
            .get(format!("{}/api/live/admin", app.address))
            .header(COOKIE, &user)
            .send()
            .await
            .expect("sent");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "not an admin");
        let guest = reqwest::Client::new()
            .get(format!("{}/api/live/admin", app.address))
            .send()
            .await
            .expect("sent");
        assert_eq!(guest.status(), StatusCode::UNAUTHORIZED, "a guest");

        let admin = app.signed_in("watcher@example.com").await;
        make_admin(&app, "watcher@example.com").await;
        let mut events = Events::open(&app.address, "/api/live/admin", Some(&admin)).await;
        assert!(events.quiet_for(Duration::from_millis(1500)).await);
        app.register("newcomer@example.com", CANARY_PASSWORD).await;
        assert_eq!(
            events.next().await.map(|(name, _)| name).as_deref(),
            Some("changed")
        );

        // Losing the grant ends the stream at the next change.
        let revoked: i64 = app
            .count(
                "SELECT COUNT(*) FROM platform_admin_grants WHERE user_id = \
                 (SELECT id FROM users WHERE email = 'watcher@example.com')",
            )
            .await;
        assert_eq!(revoked, 1);
        sqlx::query(
            "DELETE FROM platform_admin_grants WHERE user_id = \
             (SELECT id FROM users WHERE email = 'watcher@example.com')",
        )
        .execute(app.sigra.db().pool())
        .await
        .expect("revoke the grant");
        app.register("another@example.com", CANARY_PASSWORD).await;
        assert_eq!(
            events.next().await,
            None,
            "the stream ended without telling"
        );
    })
    .await;
}
