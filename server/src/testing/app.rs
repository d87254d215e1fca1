//! The app under test: spawned on a free port with a fresh database and a clock the test
//! moves, as it ships (built by `app::ssr::sigra_builder`), plus what a test reads from the
//! core directly: the mailbox, counts, snapshots of account state.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use leptos::config::LeptosOptions;
use sigra::clock::ManualClock;
use sigra::geo::GeoIp;
use sigra::hooks::LifecycleHooks;
use sigra::mail::{Mailer, StoredEmail};
use sigra::testing::{self, Engine, TestDatabase};
use sigra::Sigra;
use sqlx::Row as _;

use super::Browser;
use crate::Application;

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        crate::telemetry::init(sigra::config::LogFormat::Pretty);
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
    #[cfg(feature = "jwt")]
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
        #[cfg(feature = "jwt")]
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
                || '|' || COALESCE(display_name, '-') \
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
