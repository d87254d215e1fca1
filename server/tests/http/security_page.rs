//! The sessions page, sudo mode, revocation, new-address notices and GeoIP.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, COOKIE};
use reqwest::StatusCode;
use sigra::geo::{GeoIp, Location};

use server::testing::{
    location, on_each_engine, on_each_engine_with, session_cookie, Setup, TestApp, CANARY_PASSWORD,
};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:146.0) Gecko/20100101 Firefox/146.0";

/// Logs in as `email` with a given user agent and forwarded address.
async fn log_in_from(app: &TestApp, email: &str, user_agent: &str, ip: &str) -> String {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/users/log-in", app.address))
        .header(ACCEPT, "text/html")
        .header("sec-fetch-site", "same-origin")
        .header("user-agent", user_agent)
        .header("x-forwarded-for", ip)
        .form(&[("email", email), ("password", CANARY_PASSWORD)])
        .send()
        .await
        .expect("sent");
    session_cookie(&response).expect("a session")
}

async fn session_ids(app: &TestApp) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM user_sessions ORDER BY created_at")
        .fetch_all(app.sigra.db().pool())
        .await
        .expect("rows");
    rows.into_iter().map(|r| r.0).collect()
}

fn behind_proxy() -> Setup {
    Setup {
        env: vec![("SIGRA_HTTP_TRUSTED_PROXIES", "127.0.0.1".to_owned())],
        ..Setup::default()
    }
}

#[tokio::test]
async fn the_sessions_page_lists_devices_and_marks_this_one() {
    on_each_engine_with(behind_proxy, |app: TestApp| async move {
        app.register("lister@example.com", CANARY_PASSWORD).await;
        let here = app
            .log_in("lister@example.com", CANARY_PASSWORD, false)
            .await;
        let here = session_cookie(&here).expect("session");
        log_in_from(&app, "lister@example.com", FIREFOX, "198.51.100.20").await;
        let page = app
            .get("/users/sessions", Some(&here))
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("Chrome 120 on Linux"), "this browser");
        assert!(page.contains("Firefox 146 on Linux"), "the other one");
        assert!(page.contains("198.51.100.20"));
        assert_eq!(page.matches("data-testid=\"this-device\"").count(), 1);
        assert!(page.contains("Logged in"), "the security feed");

        // Each session shows its own last activity: this one moves when it is used again
        // after the touch interval, the other stays where it was.
        let last_active = |page: &str| -> Vec<String> {
            page.split(" · last active <time datetime=\"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next().map(str::to_owned))
                .collect()
        };
        let before = last_active(&page);
        assert_eq!(before.len(), 2, "a last activity per session: {before:?}");
        app.advance(std::time::Duration::from_secs(10 * 60));
        assert_eq!(app.me(&here).await, StatusCode::OK);
        let page = app
            .get("/users/sessions", Some(&here))
            .await
            .text()
            .await
            .expect("page");
        let after = last_active(&page);
        assert_eq!(after.len(), 2);
        let moved: Vec<_> = after.iter().filter(|t| !before.contains(t)).collect();
        assert_eq!(
            moved.len(),
            1,
            "only this session's moved: {before:?} then {after:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn revoking_needs_sudo_and_takes_effect_on_the_next_request() {
    on_each_engine(|app: TestApp| async move {
        let here = app.signed_in("revoker@example.com").await;
        let there = session_cookie(
            &app.log_in("revoker@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .expect("session");
        let other_id = session_ids(&app).await.pop().expect("the other session");
        assert_eq!(app.me(&there).await, StatusCode::OK);

        let response = app
            .post_form(
                "/users/sessions/revoke",
                "/users/sessions",
                &[("id", &other_id)],
                Some(&here),
            )
            .await;
        assert_eq!(
            location(&response),
            "/users/sudo?return_to=/users/sessions",
            "sudo first"
        );
        assert_eq!(app.me(&there).await, StatusCode::OK, "nothing happened yet");

        let wrong = app
            .call_json(
                "/users/sudo",
                &[("password", "not the password at all")],
                Some(&here),
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        let before_sudo = here.clone();
        let mut here = here;
        app.enter_sudo(&mut here, "/users/sessions").await;
        assert_eq!(
            app.me(&before_sudo).await,
            StatusCode::UNAUTHORIZED,
            "sudo gave the session a new token; the old cookie is dead"
        );

        let response = app
            .post_form(
                "/users/sessions/revoke",
                "/users/sessions",
                &[("id", &other_id)],
                Some(&here),
            )
            .await;
        assert_eq!(location(&response), "/users/sessions");
        assert_eq!(
            app.me(&there).await,
            StatusCode::UNAUTHORIZED,
            "revoked on its very next request"
        );
        assert_eq!(app.me(&here).await, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn sudo_lasts_five_minutes_and_belongs_to_one_session() {
    on_each_engine(|app: TestApp| async move {
        let mut here = app.signed_in("window@example.com").await;
        let second = session_cookie(
            &app.log_in("window@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .expect("session");
        app.enter_sudo(&mut here, "/users/sessions").await;
        let others = |cookie: String| {
            let app = &app;
            async move {
                location(
                    &app.post_form(
                        "/users/sessions/revoke-others",
                        "/users/sessions",
                        &[],
                        Some(&cookie),
                    )
                    .await,
                )
            }
        };
        assert!(
            others(second.clone()).await.starts_with("/users/sudo"),
            "sudo is per session"
        );
        app.advance(Duration::from_secs(5 * 60 + 1));
        assert!(
            others(here.clone()).await.starts_with("/users/sudo"),
            "expired after five minutes"
        );
        app.enter_sudo(&mut here, "/users/sessions").await;
        assert_eq!(others(here.clone()).await, "/users/sessions");
        assert_eq!(
            app.me(&second).await,
            StatusCode::UNAUTHORIZED,
            "every other session ended"
        );
    })
    .await;
}

#[tokio::test]
async fn another_users_session_cannot_be_revoked() {
    on_each_engine(|app: TestApp| async move {
        let victim = app.signed_in("victim@example.com").await;
        let victim_id = session_ids(&app).await.pop().expect("the victim's session");
        let mut attacker = app.signed_in("attacker@example.com").await;
        app.enter_sudo(&mut attacker, "/users/sessions").await;
        let revoke = app
            .post_form(
                "/users/sessions/revoke",
                "/users/sessions",
                &[("id", &victim_id)],
                Some(&attacker),
            )
            .await;
        assert_eq!(
            location(&revoke),
            "/users/sessions",
            "the attacker's sudo held and the request reached the handler"
        );
        assert_eq!(app.me(&victim).await, StatusCode::OK);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM user_sessions WHERE id = '{victim_id}'"
            ))
            .await,
            1,
            "the victim's session row is untouched"
        );
        let revocations = "SELECT COUNT(*) FROM audit_events WHERE action = 'session.delete'";
        assert_eq!(app.count(revocations).await, 0, "nothing was revoked");

        // Control: revoking one of the attacker's own sessions is recorded under that action.
        let before = session_ids(&app).await;
        let own = session_cookie(
            &app.log_in("attacker@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .expect("a second session");
        let own_id = session_ids(&app)
            .await
            .into_iter()
            .find(|id| !before.contains(id))
            .expect("the attacker's new session");
        let revoke_own = app
            .post_form(
                "/users/sessions/revoke",
                "/users/sessions",
                &[("id", &own_id)],
                Some(&attacker),
            )
            .await;
        assert_eq!(location(&revoke_own), "/users/sessions");
        assert_eq!(app.me(&own).await, StatusCode::UNAUTHORIZED);
        assert_eq!(app.count(revocations).await, 1);
    })
    .await;
}

#[tokio::test]
async fn return_to_never_leaves_the_site() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("bounce@example.com").await;
        // An empty target means "no target" to the forms (log-in then goes to settings); every
        // other entry must land exactly where the sanitiser sends it.
        for (attack, safe) in sigra::http::OPEN_REDIRECT_CORPUS
            .iter()
            .filter(|(attack, _)| !attack.is_empty())
        {
            let form = [("password", CANARY_PASSWORD), ("return_to", attack)];
            let response = app
                .post_form("/users/sudo", "/users/sudo", &form, Some(&cookie))
                .await;
            assert_eq!(location(&response), *safe, "sudo {attack:?}");
            cookie = session_cookie(&response).expect("a renewed session");
            let form = [
                ("email", "bounce@example.com"),
                ("password", CANARY_PASSWORD),
                ("return_to", attack),
            ];
            let response = app
                .post_form("/users/log-in", "/users/log-in", &form, None)
                .await;
            assert_eq!(location(&response), *safe, "log-in {attack:?}");
        }
        let form = [
            ("email", "bounce@example.com"),
            ("password", CANARY_PASSWORD),
            ("return_to", "/users/sessions"),
        ];
        assert_eq!(
            location(
                &app.post_form("/users/log-in", "/users/log-in", &form, None)
                    .await
            ),
            "/users/sessions"
        );
    })
    .await;
}

struct FakeGeoIp;

impl GeoIp for FakeGeoIp {
    fn locate(&self, ip: IpAddr) -> Option<Location> {
        (ip.to_string() == "203.0.113.7").then(|| Location {
            city: Some("Lyon".to_owned()),
            country_code: Some("FR".to_owned()),
        })
    }
}

#[tokio::test]
async fn a_log_in_from_a_new_address_is_mailed_but_not_blocked() {
    let setup = || Setup {
        geoip: Some(Arc::new(FakeGeoIp)),
        ..behind_proxy()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        app.register("traveller@example.com", CANARY_PASSWORD).await;
        log_in_from(&app, "traveller@example.com", FIREFOX, "198.51.100.1").await;
        log_in_from(&app, "traveller@example.com", FIREFOX, "198.51.100.1").await;
        let notices = || async {
            app.mailbox("traveller@example.com")
                .await
                .into_iter()
                .filter(|m| m.subject.starts_with("New log-in"))
                .collect::<Vec<_>>()
        };
        assert!(
            notices().await.is_empty(),
            "the first log-in and a known address are not news"
        );
        let cookie = log_in_from(&app, "traveller@example.com", FIREFOX, "203.0.113.7").await;
        assert_eq!(app.me(&cookie).await, StatusCode::OK, "not blocked");
        let mail = notices().await;
        assert_eq!(mail.len(), 1);
        assert!(
            mail[0].text.contains("203.0.113.7 (Lyon, FR)")
                && mail[0].text.contains("Firefox 146 on Linux"),
            "{}",
            mail[0].text
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'security.suspicious_login'"
            )
            .await,
            1
        );
        let page = app
            .get("/users/sessions", Some(&cookie))
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("Lyon, FR"),
            "the location is on the sessions page"
        );
    })
    .await;
}

/// Writes a MaxMind City database with one network, using mmdb-writer from `make setup`.
fn write_city_database(path: &std::path::Path) {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/python");
    let script = format!(
        "from netaddr import IPSet\nfrom mmdb_writer import MMDBWriter\n\
         w = MMDBWriter(ip_version=4, database_type='GeoIP2-City', languages=['en'], description='sigra test')\n\
         w.insert_network(IPSet(['81.2.69.0/24']), {{'city': {{'names': {{'en': 'London'}}}}, 'country': {{'iso_code': 'GB'}}}})\n\
         w.to_db_file({:?})\n",
        path.display().to_string()
    );
    let status = std::process::Command::new(python)
        .args(["-c", &script])
        .status()
        .expect("run python (make setup)");
    assert!(status.success(), "mmdb-writer failed");
}

#[tokio::test]
async fn a_maxmind_database_gives_sessions_their_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("city.mmdb");
    write_city_database(&path);
    let database = path.display().to_string();
    let setup = move || Setup {
        env: vec![
            ("SIGRA_GEOIP_DATABASE", database.clone()),
            ("SIGRA_HTTP_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        app.register("londoner@example.com", CANARY_PASSWORD).await;
        let cookie = log_in_from(&app, "londoner@example.com", FIREFOX, "81.2.69.160").await;
        let place: (Option<String>, Option<String>) =
            sqlx::query_as("SELECT geo_city, geo_country FROM user_sessions")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("row");
        assert_eq!(place, (Some("London".to_owned()), Some("GB".to_owned())));
        let page = reqwest::Client::new()
            .get(format!("{}/users/sessions", app.address))
            .header(COOKIE, &cookie)
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("page");
        assert!(page.contains("London, GB"));
    })
    .await;
}
