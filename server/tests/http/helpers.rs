//! The harness: spawns the app on a free port with a fresh database and a clock the test moves,
//! and speaks to it like a browser (cookies handled by hand: a `__Host-` cookie is Secure, and
//! HTTP cookie jars drop Secure cookies over plain http).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use leptos::config::LeptosOptions;
use reqwest::header::{HeaderMap, ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{redirect, Response, StatusCode};
use server::Application;
use sigra::clock::ManualClock;
use sigra::geo::GeoIp;
use sigra::hooks::LifecycleHooks;
use sigra::mail::{Mailer, StoredEmail};
use sigra::testing::{self, Engine, TestDatabase};
use sigra::Sigra;
use sqlx::Row as _;

/// A password no test user could have chosen by accident; scans look for it.
pub const CANARY_PASSWORD: &str = "Canary-Pw-7f3a-correct-horse-battery";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        server::telemetry::init(sigra::config::LogFormat::Pretty);
    }
});

/// A running app and what a test needs to drive it. It speaks HTTP as a [`Browser`] (through
/// `Deref`) and also reaches into the core: clock, mail, database.
pub struct TestApp {
    pub clock: ManualClock,
    pub sigra: Sigra,
    browser: Browser,
    database: TestDatabase,
}

impl std::ops::Deref for TestApp {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

/// Speaks to one server over HTTP as a browser or an API client would, with cookies passed by
/// hand. A [`TestApp`] is one; so is each process of a multi-process cluster.
pub struct Browser {
    pub address: String,
    client: reqwest::Client,
}

/// Runs `test` once per available database engine, on an app changed by `setup`. Every engine
/// runs even when one fails; the failure names the engines it failed on.
pub async fn on_each_engine_with<S, F, Fut>(setup: S, test: F)
where
    S: Fn() -> Setup,
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use futures::FutureExt as _;

    let mut failures = Vec::new();
    for engine in Engine::available() {
        let app = TestApp::spawn_with(engine, setup()).await;
        if let Err(panic) = std::panic::AssertUnwindSafe(test(app)).catch_unwind().await {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "(no message)".to_owned());
            failures.push(format!("on {engine:?}: {message}"));
        }
    }
    assert!(failures.is_empty(), "failed {}", failures.join("\n       "));
}

/// Runs `test` once per available database engine (see [`on_each_engine_with`]).
pub async fn on_each_engine<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    on_each_engine_with(Setup::default, test).await;
}

/// What a test changes about the app it spawns.
#[derive(Default)]
pub struct Setup {
    /// `SIGRA_*` settings.
    pub env: Vec<(&'static str, String)>,
    /// Host lifecycle hooks.
    pub hooks: Option<Arc<dyn LifecycleHooks>>,
    /// A mailer instead of the development mailbox.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// A GeoIP lookup instead of none.
    pub geoip: Option<Arc<dyn GeoIp>>,
    /// Claims added to every JWT access token.
    pub claims: Option<Arc<dyn sigra::jwt::CustomClaims>>,
    /// Where to listen instead of `127.0.0.1:0` (the tests still connect to 127.0.0.1).
    pub listen: Option<&'static str>,
    /// Points where the test holds requests inside the core to force an interleaving.
    pub test_hooks: sigra::testing::Hooks,
    /// Changes the URL the app connects to (the test database keeps the real one), for
    /// example to reach the database through a link the test can cut.
    pub database_url: Option<UrlRewrite>,
}

/// A change to the database URL the app connects to.
pub type UrlRewrite = Arc<dyn Fn(&str) -> String + Send + Sync>;

impl TestApp {
    /// Starts the app on a fresh database.
    pub async fn spawn(engine: Engine) -> Self {
        Self::spawn_with(engine, Setup::default()).await
    }

    /// Starts the app on a fresh database, changed as `setup` says.
    pub async fn spawn_with(engine: Engine, setup: Setup) -> Self {
        Self::try_spawn_with(engine, setup)
            .await
            .expect("the app starts")
    }

    /// Like [`TestApp::spawn_with`], for tests of start-up refusals.
    pub async fn try_spawn_with(engine: Engine, setup: Setup) -> anyhow::Result<Self> {
        LazyLock::force(&TRACING);
        let database = TestDatabase::create(engine).await;
        let env: Vec<(&str, &str)> = setup.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let url = match &setup.database_url {
            Some(rewrite) => rewrite(database.url()),
            None => database.url().to_owned(),
        };
        let config = testing::config_with(&url, &env);
        let clock = ManualClock::starting_now();
        let options = LeptosOptions::builder()
            .output_name("sigra")
            .site_root("target/site")
            .site_pkg_dir("pkg")
            .build();
        let mut core = app::ssr::sigra_builder(config).clock(Arc::new(clock.clone()));
        if let Some(hooks) = setup.hooks {
            core = core.hooks(hooks);
        }
        if let Some(mailer) = setup.mailer {
            core = core.mailer(mailer);
        }
        if let Some(geoip) = setup.geoip {
            core = core.geoip(geoip);
        }
        if let Some(claims) = setup.claims {
            core = core.jwt_claims(claims);
        }
        core = core.test_hooks(setup.test_hooks);
        let listen = setup.listen.unwrap_or("127.0.0.1:0").parse().expect("addr");
        let app = Application::build(core, options, listen).await?;
        let port = app.port().expect("bound");
        let sigra = app.sigra().clone();
        tokio::spawn(app.run_until_stopped());
        Ok(Self {
            clock,
            sigra,
            browser: Browser::new(format!("http://127.0.0.1:{port}")),
            database,
        })
    }

    /// Runs every due job (mail delivery), as the background runner would.
    pub async fn deliver_mail(&self) {
        self.sigra
            .jobs()
            .run_due_jobs("test-runner")
            .await
            .expect("jobs run");
    }

    /// Mail delivered to `to`, newest first (after running due jobs).
    pub async fn mailbox(&self, to: &str) -> Vec<StoredEmail> {
        self.deliver_mail().await;
        self.sigra
            .dev_mailbox()
            .expect("the development mailbox")
            .list(Some(to))
            .await
            .expect("mailbox")
    }

    /// The first link under the app in the newest mail to `to` whose path starts with `path`.
    pub async fn link_in_mail(&self, to: &str, path: &str) -> String {
        let prefix = format!("http://localhost:3000{path}");
        let mail = self.mailbox(to).await;
        let newest = mail.first().unwrap_or_else(|| panic!("no mail to {to}"));
        newest
            .text
            .split_whitespace()
            .find(|word| word.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {path} link in {:?}", newest.text))
            .trim_start_matches("http://localhost:3000")
            .to_owned()
    }

    /// The test database's URL (for a second core over the same data).
    pub fn database_url(&self) -> &str {
        self.database.url()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let row = sqlx::query(sql)
            .fetch_one(self.sigra.db().pool())
            .await
            .expect("query");
        row.get::<i64, _>(0)
    }

    /// Every row that says who an account is and how it signs in (password hash, email and
    /// pending email, one-time tokens, sessions and their sudo, second factors, passkeys,
    /// queued mail), as text: equal snapshots mean no such state changed.
    pub async fn account_snapshot(&self) -> String {
        const QUERIES: &[&str] = &[
            "SELECT id || '|' || email || '|' || COALESCE(password_hash, '-') || '|' \
                || COALESCE(pending_email, '-') || '|' || COALESCE(CAST(confirmed_at AS TEXT), '-') \
                || '|' || CAST(must_change_password AS TEXT) || '|' || CAST(mfa_trust_epoch AS TEXT) \
                || '|' || COALESCE(CAST(deletion_scheduled_at AS TEXT), '-') \
             FROM users ORDER BY id",
            "SELECT id || '|' || purpose || '|' || COALESCE(CAST(used_at AS TEXT), '-') \
             FROM user_tokens ORDER BY id",
            "SELECT id || '|' || kind || '|' || token_hash || '|' || COALESCE(CAST(sudo_at AS TEXT), '-') \
             FROM user_sessions ORDER BY id",
            "SELECT user_id || '|' || secret_sealed || '|' || COALESCE(CAST(confirmed_at AS TEXT), '-') \
                || '|' || COALESCE(CAST(last_used_step AS TEXT), '-') FROM user_totp ORDER BY user_id",
            "SELECT id || '|' || code_hash || '|' || COALESCE(CAST(used_at AS TEXT), '-') \
             FROM user_backup_codes ORDER BY id",
            "SELECT id || '|' || name || '|' || CAST(sign_count AS TEXT) FROM user_passkeys ORDER BY id",
            "SELECT id || '|' || kind FROM jobs ORDER BY id",
        ];
        let mut snapshot = String::new();
        for query in QUERIES {
            let rows: Vec<String> = sqlx::query_scalar(query)
                .fetch_all(self.sigra.db().pool())
                .await
                .expect("snapshot query");
            snapshot.push_str(&rows.join("\n"));
            snapshot.push_str("\n--\n");
        }
        snapshot
    }

    pub async fn session_rows(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM user_sessions").await
    }
}

impl Browser {
    /// A client of the server at `address` (`http://127.0.0.1:PORT`).
    pub fn new(address: String) -> Self {
        let client = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .expect("client");
        Self { address, client }
    }

    /// A GET as a browser navigation, with an optional session cookie.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut request = self
            .client
            .get(format!("{}{path}", self.address))
            .header(ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    /// A form post as a browser without JavaScript makes it from the page at `from`.
    pub async fn post_form(
        &self,
        path: &str,
        from: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Response {
        self.post_form_with(
            path,
            from,
            form,
            cookie,
            &[("sec-fetch-site", "same-origin")],
        )
        .await
    }

    /// A form post with chosen fetch-metadata headers.
    pub async fn post_form_with(
        &self,
        path: &str,
        from: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .header("referer", format!("{}{from}", self.address))
            .form(form);
        // A browser's user agent, unless the test plays a given one.
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
        {
            request = request.header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36",
            );
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    /// A server-function call as the hydrated page makes it (JSON back, no redirect status).
    pub async fn call_json(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header(ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .form(form);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    /// A link-page form post, carrying the link cookie (such pages send no `Referer`).
    pub async fn post_link_form(
        &self,
        path: &str,
        link_cookie: &str,
        form: &[(&str, &str)],
        session: Option<&str>,
    ) -> Response {
        let cookie = match session {
            Some(session) => format!("{link_cookie}; {session}"),
            None => link_cookie.to_owned(),
        };
        self.client
            .post(format!("{}{path}", self.address))
            .header(ACCEPT, "text/html")
            .header("sec-fetch-site", "same-origin")
            .header(COOKIE, cookie)
            .form(form)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post_form(
            "/users/register",
            "/users/register",
            &[("email", email), ("password", password)],
            None,
        )
        .await
    }

    pub async fn log_in(&self, email: &str, password: &str, remember_me: bool) -> Response {
        let mut form = vec![("email", email), ("password", password)];
        if remember_me {
            form.push(("remember_me", "on"));
        }
        self.post_form("/users/log-in", "/users/log-in", &form, None)
            .await
    }

    /// Registers and logs in; returns the `Cookie` header value for the new session.
    pub async fn signed_in(&self, email: &str) -> String {
        let registered = self.register(email, CANARY_PASSWORD).await;
        assert_eq!(registered.status(), StatusCode::FOUND);
        let response = self.log_in(email, CANARY_PASSWORD, false).await;
        session_cookie(&response).expect("log-in sets a session cookie")
    }

    /// Re-enters the password on `cookie`'s session (sudo), coming back to `return_to`. The
    /// session gets a new token; `cookie` is replaced with it, as a browser's jar would be.
    pub async fn enter_sudo(&self, cookie: &mut String, return_to: &str) {
        let response = self
            .post_form(
                "/users/sudo",
                "/users/sudo",
                &[("password", CANARY_PASSWORD), ("return_to", return_to)],
                Some(cookie),
            )
            .await;
        assert_eq!(location(&response), return_to);
        *cookie = session_cookie(&response).expect("sudo hands the session a new token");
    }

    /// `GET /api/v1/me` with a cookie: the quickest "is this session alive?".
    pub async fn me(&self, cookie: &str) -> StatusCode {
        self.client
            .get(format!("{}/api/v1/me", self.address))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("request sent")
            .status()
    }

    /// Follows a mailed link as a browser does: the landing moves the token into a cookie.
    /// Returns that cookie for the next request, and the page it sends to.
    pub async fn open_link(&self, link: &str) -> (String, String) {
        let response = self.get(link, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{link}");
        let cookie = set_cookies(response.headers())
            .into_iter()
            .find(|c| c.starts_with("__Host-sigra_link="))
            .expect("the link cookie")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        (cookie, location(&response))
    }

    /// A JSON API request as a non-browser client makes it: no cookie, no fetch metadata,
    /// the token (if any) in `Authorization: Bearer`.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    /// A JSON API request with a session cookie, as the app's own page would make it.
    pub async fn api_with_session(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
        body: Option<serde_json::Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .header(COOKIE, cookie)
            .header("sec-fetch-site", "same-origin");
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    /// Makes an API token with `scopes` for the signed-in `cookie` (entering sudo first).
    pub async fn create_api_token(
        &self,
        cookie: &mut String,
        name: &str,
        scopes: &[&str],
    ) -> String {
        self.enter_sudo(cookie, "/users/settings").await;
        let response = self
            .api_with_session(
                reqwest::Method::POST,
                "/api/v1/api-tokens",
                cookie,
                Some(serde_json::json!({ "name": name, "scopes": scopes })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: serde_json::Value = response.json().await.expect("json");
        body["token"].as_str().expect("the token").to_owned()
    }

    /// Logs an API client in with a password: the token response (or the MFA step) as JSON.
    pub async fn api_log_in(&self, email: &str, password: &str) -> (StatusCode, serde_json::Value) {
        let response = self
            .api(
                reqwest::Method::POST,
                "/api/v1/auth/token",
                None,
                Some(serde_json::json!({
                    "grant_type": "password", "email": email, "password": password,
                })),
            )
            .await;
        let status = response.status();
        (status, response.json().await.unwrap_or_default())
    }
}

/// The `name=value` of the session cookie a response sets, ready for a `Cookie` header; `None`
/// when it sets none or clears it.
pub fn session_cookie(response: &Response) -> Option<String> {
    set_cookies(response.headers())
        .into_iter()
        .filter(|c| c.starts_with("__Host-sigra_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair != "__Host-sigra_session=")
}

/// Every `Set-Cookie` line.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

/// Whether the response tells the browser to drop the session cookie.
pub fn clears_session(response: &Response) -> bool {
    set_cookies(response.headers())
        .iter()
        .any(|c| c.starts_with("__Host-sigra_session=;") && c.contains("Max-Age=0"))
}

/// Where a refused form post without JavaScript is sent back to (the path), and the error
/// carried with it (Leptos puts the server function's error, as JSON in base64, in `__err`).
pub fn form_refusal(response: &Response) -> (String, Option<String>) {
    use base64::Engine as _;
    let base = reqwest::Url::parse("http://localhost/").expect("base");
    let target = base.join(&location(response)).expect("a location");
    let error = target
        .query_pairs()
        .find(|(key, _)| key == "__err")
        .and_then(|(_, value)| {
            base64::engine::general_purpose::STANDARD
                .decode(value.as_bytes())
                .ok()
        })
        .and_then(|json| String::from_utf8(json).ok());
    (target.path().to_owned(), error)
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
