//! Real `server serve` processes (separate OS processes, one shared secret key) on one
//! database, as a deployment behind a load balancer runs them: each flow starts on one process
//! and goes on at the others. And how one process stops: SIGTERM drains, SIGKILL loses no mail.
//!
//! The cluster tests run on PostgreSQL, the engine for several processes; without
//! `TEST_POSTGRES_URL` they say so and pass. The stop tests run on a SQLite file.

use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode};
use sigra::testing::{Engine, TestDatabase};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::live::Events;
use crate::mfa::{log_in_pending, pyotp_code_at_unix, verify};
use crate::passkeys::{answer_log_in, start, SoftPasskey};
use crate::smtp::start_sink;
use server::testing::{location, session_cookie, Browser, CANARY_PASSWORD};

const SECURITY: &str = "/users/settings/security";

/// One running `server serve`.
struct Process {
    child: Child,
    browser: Browser,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::ops::Deref for Process {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

/// Another handle on `log` that only appends, so the process's two streams never overwrite
/// each other.
fn appending(log: &tempfile::NamedTempFile) -> std::fs::File {
    std::fs::OpenOptions::new()
        .append(true)
        .open(log.path())
        .expect("the log file")
}

impl Process {
    /// Starts `server serve` on `database_url` with the shared `secret` (as every process of
    /// one deployment has), changed by `env`, and waits until it answers `/ready`.
    async fn start(database_url: &str, secret: &str, env: &[(&str, String)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .arg("serve")
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .env("LEPTOS_OUTPUT_NAME", "sigra")
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            .env("SIGRA_SECRET_KEY", secret)
            // One public address for every process, as behind a load balancer.
            .env("SIGRA_BASE_URL", "http://localhost:3000")
            .env("SIGRA_JOBS_POLL_INTERVAL", "100ms")
            // Every request comes from 127.0.0.1; the rate-limit test sets its own limit.
            .env("SIGRA_RATE_LIMIT_AUTH_LIMIT", "1000")
            .env("RUST_LOG", "warn")
            .stdout(appending(&log))
            .stderr(appending(&log));
        for (name, value) in env {
            command.env(name, value);
        }
        let mut process = Self {
            child: command.spawn().expect("start the server"),
            browser: Browser::new(format!("http://127.0.0.1:{port}")),
            port,
            log,
        };
        let started = Instant::now();
        loop {
            let ready = reqwest::get(format!("http://127.0.0.1:{port}/ready")).await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return process;
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("the server exited ({status}):\n{}", process.log_text());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server never became ready:\n{}",
                process.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Sends SIGTERM, as a process manager stopping the service does.
    fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
    }

    /// Waits for the process to exit, at most `bound`.
    async fn exit_within(&mut self, bound: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < bound,
                "still running {bound:?} after the signal:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Several processes on one fresh PostgreSQL database.
struct Cluster {
    processes: Vec<Process>,
    db: sigra::db::Db,
    _database: TestDatabase,
}

impl Cluster {
    /// Three processes, or `None` (with a note) when `TEST_POSTGRES_URL` is unset.
    async fn start(env: &[(&str, String)]) -> Option<Self> {
        if !Engine::available().contains(&Engine::Postgres) {
            eprintln!("NOTE: the multi-process tests need TEST_POSTGRES_URL; skipped");
            return None;
        }
        let database = TestDatabase::create(Engine::Postgres).await;
        let secret = sigra::crypto::SecretKey::generate_text();
        // The first migrates; the others start on the migrated schema.
        let mut processes = vec![Process::start(database.url(), &secret, env).await];
        for _ in 0..2 {
            processes.push(Process::start(database.url(), &secret, env).await);
        }
        let config = sigra::testing::config(database.url());
        let db = sigra::db::Db::connect(&config.database)
            .await
            .expect("connect");
        Some(Self {
            processes,
            db,
            _database: database,
        })
    }

    /// The process that serves request number `i` when requests go round the cluster.
    fn round(&self, i: usize) -> &Process {
        &self.processes[i % self.processes.len()]
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.db.pool())
            .await
            .expect("query")
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// The `sigra_session_cache_total{outcome="hit"}` counter of one process.
async fn cache_hits(process: &Process) -> u64 {
    let text = process
        .get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics");
    text.lines()
        .find(|l| l.starts_with(r#"sigra_session_cache_total{outcome="hit"}"#))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_made_on_one_process_lives_and_ends_on_every_process_with_the_cache() {
    session_lives_and_ends_everywhere("on").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_made_on_one_process_lives_and_ends_on_every_process_without_the_cache() {
    session_lives_and_ends_everywhere("off").await;
}

async fn session_lives_and_ends_everywhere(cache: &str) {
    let Some(cluster) = Cluster::start(&[("SIGRA_SESSION_CACHE", cache.to_owned())]).await else {
        return;
    };
    let [a, b, c] = &cluster.processes[..] else {
        unreachable!()
    };
    let mut first = a.signed_in("everywhere@example.com").await;
    let second = session_cookie(
        &b.log_in("everywhere@example.com", CANARY_PASSWORD, false)
            .await,
    )
    .expect("a second session");
    for (i, p) in cluster.processes.iter().enumerate() {
        for _ in 0..3 {
            assert_eq!(
                p.me(&first).await,
                StatusCode::OK,
                "made on a, served by {i}"
            );
            assert_eq!(
                p.me(&second).await,
                StatusCode::OK,
                "made on b, served by {i}"
            );
        }
        // Each process now serves the sessions from its cache (or, without one, reads each time).
        let hits = cache_hits(p).await;
        if cache == "on" {
            assert!(hits >= 2, "process {i} served from its cache: {hits}");
        } else {
            assert_eq!(hits, 0, "process {i}");
        }
    }

    let other = a.other_session_id(&first).await;
    let revoke = format!("/api/v1/sessions/{other}");
    assert_eq!(
        a.api_with_session(Method::DELETE, &revoke, &first, None)
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "control: revoking needs sudo"
    );
    c.enter_sudo(&mut first, "/users/sessions").await;
    assert_eq!(
        a.api_with_session(Method::DELETE, &revoke, &first, None)
            .await
            .status(),
        StatusCode::NO_CONTENT,
        "sudo entered on c counts on a"
    );
    for (i, p) in cluster.processes.iter().enumerate() {
        assert_eq!(
            p.me(&second).await,
            StatusCode::UNAUTHORIZED,
            "revoked on a, refused at once by {i}"
        );
    }

    let out = b.post_form("/users/log-out", "/", &[], Some(&first)).await;
    assert_eq!(out.status(), StatusCode::FOUND);
    for (i, p) in cluster.processes.iter().enumerate() {
        assert_eq!(
            p.me(&first).await,
            StatusCode::UNAUTHORIZED,
            "logged out on b, refused by {i}"
        );
    }
    assert_eq!(cluster.count("SELECT COUNT(*) FROM user_sessions").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_on_one_process_ends_the_other_sessions_on_every_process() {
    let Some(cluster) = Cluster::start(&[]).await else {
        return;
    };
    let [a, b, c] = &cluster.processes[..] else {
        unreachable!()
    };
    let here = a.signed_in("changed@example.com").await;
    let elsewhere = session_cookie(
        &b.log_in("changed@example.com", CANARY_PASSWORD, false)
            .await,
    )
    .expect("a second session");
    let new_password = "a new passphrase chosen on another process";
    let changed = c
        .post_form(
            "/users/settings/password",
            "/users/settings",
            &[
                ("current_password", CANARY_PASSWORD),
                ("new_password", new_password),
            ],
            Some(&here),
        )
        .await;
    assert_eq!(location(&changed), "/users/settings");
    let renewed = session_cookie(&changed).expect("this session gets a new token");
    for (i, p) in cluster.processes.iter().enumerate() {
        assert_eq!(
            p.me(&elsewhere).await,
            StatusCode::UNAUTHORIZED,
            "the other session, on {i}"
        );
        assert_eq!(
            p.me(&here).await,
            StatusCode::UNAUTHORIZED,
            "the old token, on {i}"
        );
        assert_eq!(
            p.me(&renewed).await,
            StatusCode::OK,
            "the new token, on {i}"
        );
    }
    assert!(session_cookie(
        &a.log_in("changed@example.com", CANARY_PASSWORD, false)
            .await
    )
    .is_none());
    assert!(session_cookie(&b.log_in("changed@example.com", new_password, false).await).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_on_different_processes_count_toward_one_lock() {
    let Some(cluster) = Cluster::start(&[]).await else {
        return;
    };
    let registered = cluster
        .round(0)
        .register("guessed@example.com", CANARY_PASSWORD)
        .await;
    assert_eq!(registered.status(), StatusCode::FOUND);
    // Five guesses, at most two on any one process: a per-process count would never lock.
    for i in 0..5 {
        let guess = cluster
            .round(i)
            .log_in("guessed@example.com", "not the password at all", false)
            .await;
        assert!(session_cookie(&guess).is_none(), "guess {i}");
    }
    assert_eq!(
        cluster
            .count("SELECT COUNT(*) FROM users WHERE locked_until IS NOT NULL")
            .await,
        1
    );
    for (i, p) in cluster.processes.iter().enumerate() {
        let right = p
            .log_in("guessed@example.com", CANARY_PASSWORD, false)
            .await;
        assert!(
            session_cookie(&right).is_none(),
            "the right password is refused while locked, on {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_guest_rate_limit_counts_across_processes() {
    // Windows are fixed and aligned to the wall clock the processes read: the attempts start
    // at least a minute before an hour-long window ends, so they never straddle two of them
    // (with one-minute windows they did, now and then).
    let into_window = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        % 3600;
    if into_window > 3600 - 60 {
        tokio::time::sleep(Duration::from_secs(3600 - into_window + 1)).await;
    }
    let Some(cluster) = Cluster::start(&[
        ("SIGRA_RATE_LIMIT_AUTH_LIMIT", "10".to_owned()),
        ("SIGRA_RATE_LIMIT_AUTH_WINDOW", "1h".to_owned()),
    ])
    .await
    else {
        return;
    };
    let attempt = |i: usize| {
        cluster
            .round(i)
            .log_in("someone@example.com", "a wrong password here", false)
    };
    for i in 0..10 {
        assert_ne!(
            attempt(i).await.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "attempt {i}"
        );
    }
    // The next process has seen three; only a shared count refuses it.
    let refused = attempt(10).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_queued_mail_is_delivered_once_while_every_process_runs_jobs() {
    let Some(cluster) = Cluster::start(&[]).await else {
        return;
    };
    const ACCOUNTS: i64 = 12;
    for i in 0..ACCOUNTS {
        let index = usize::try_from(i).expect("small");
        let registered = cluster
            .round(index)
            .register(&format!("queued{i}@example.com"), CANARY_PASSWORD)
            .await;
        assert_eq!(registered.status(), StatusCode::FOUND);
    }
    let started = Instant::now();
    while cluster.count("SELECT COUNT(*) FROM dev_mailbox").await < ACCOUNTS {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the runners did not deliver every mail"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Ten more polls of every runner: nothing is sent twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        cluster.count("SELECT COUNT(*) FROM dev_mailbox").await,
        ACCOUNTS
    );
    assert_eq!(
        cluster
            .count("SELECT COUNT(DISTINCT recipient) FROM dev_mailbox")
            .await,
        ACCOUNTS
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_ceremony_started_on_one_process_finishes_on_another() {
    let Some(cluster) = Cluster::start(&[]).await else {
        return;
    };
    let [a, b, c] = &cluster.processes[..] else {
        unreachable!()
    };
    let mut cookie = a.signed_in("roaming@example.com").await;
    a.enter_sudo(&mut cookie, SECURITY).await;
    let (ceremony, options) =
        start(b, "/users/settings/security/passkey-start", Some(&cookie)).await;
    let (mut passkey, response) = SoftPasskey::create(&options);
    let registered = c
        .call_json(
            "/users/settings/security/passkey-finish",
            &[
                ("ceremony", &ceremony),
                ("response", &response),
                ("name", "Phone"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        registered.status(),
        StatusCode::OK,
        "registration started on b, finished on c"
    );

    let (ceremony, options) = start(c, "/users/log-in/passkey-start", None).await;
    let answer = passkey.get(&options);
    let (status, session) = answer_log_in(a, &ceremony, &answer).await;
    assert_eq!(status, StatusCode::OK, "log-in started on c, finished on a");
    assert_eq!(b.me(&session.expect("a session")).await, StatusCode::OK);
    assert_eq!(
        answer_log_in(b, &ceremony, &answer).await.0,
        StatusCode::BAD_REQUEST,
        "the ceremony is spent for every process"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_totp_code_used_on_one_process_is_refused_on_the_others() {
    let Some(cluster) = Cluster::start(&[]).await else {
        return;
    };
    let [a, b, c] = &cluster.processes[..] else {
        unreachable!()
    };
    let email = "stepped@example.com";
    let mut cookie = a.signed_in(email).await;
    a.enter_sudo(&mut cookie, SECURITY).await;
    let begun = b
        .post_form(
            "/users/settings/security/totp-start",
            SECURITY,
            &[],
            Some(&cookie),
        )
        .await;
    assert_eq!(location(&begun), SECURITY);
    let secret = c.security_view(&cookie).await["setup"]["secret"]
        .as_str()
        .expect("a set-up in progress")
        .to_owned();
    let now = unix_now();
    let confirmed = a
        .post_form(
            "/users/settings/security/totp-confirm",
            SECURITY,
            &[("code", &pyotp_code_at_unix(&secret, now))],
            Some(&cookie),
        )
        .await;
    assert_eq!(location(&confirmed), SECURITY);

    // The next step's code: inside the window, and newer than the one the set-up used.
    let code = pyotp_code_at_unix(&secret, now + 30);
    let pending = log_in_pending(b, email).await;
    assert!(
        session_cookie(&verify(c, &pending, &code, false).await).is_some(),
        "used on c"
    );
    for (i, p) in [a, b].into_iter().enumerate() {
        let again = log_in_pending(p, email).await;
        assert!(
            session_cookie(&verify(p, &again, &code, false).await).is_none(),
            "replayed on {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_open_on_one_process_hears_at_once_that_another_ended_its_session() {
    for cache in ["on", "off"] {
        let Some(cluster) = Cluster::start(&[("SIGRA_SESSION_CACHE", cache.to_owned())]).await
        else {
            return;
        };
        let [a, b, c] = &cluster.processes[..] else {
            unreachable!()
        };
        let cookie = a.signed_in("live@example.com").await;
        let mut events = Events::open(&b.address, "/api/live/session", Some(&cookie)).await;
        assert!(
            events.quiet_for(Duration::from_millis(1500)).await,
            "cache {cache}: nothing is said while the session lives"
        );
        let out = c.post_form("/users/log-out", "/", &[], Some(&cookie)).await;
        assert_eq!(out.status(), StatusCode::FOUND);
        assert_eq!(
            events.next().await,
            Some((
                "ended".to_owned(),
                "/users/session-ended?reason=signed_out".to_owned()
            )),
            "cache {cache}: logged out on c, heard on b"
        );
    }
}

/// A form post written by hand on a raw connection, so the test decides when its body ends.
fn raw_post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_request_in_flight_finish_refuses_new_ones_and_exits() {
    let database = TestDatabase::create(Engine::Sqlite).await;
    let secret = sigra::crypto::SecretKey::generate_text();
    let mut process = Process::start(database.url(), &secret, &[]).await;

    let body = "email=drained%40example.com&password=Canary-Pw-7f3a-correct-horse-battery";
    let mut connection = tokio::net::TcpStream::connect(("127.0.0.1", process.port))
        .await
        .expect("connect");
    connection
        .write_all(format!("{}{}", raw_post("/users/register", body), &body[..10]).as_bytes())
        .await
        .expect("send the head");
    // The server is reading this request's body when the signal comes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    process.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", process.port))
            .await
            .is_err(),
        "no new connection is taken once stopping"
    );
    connection
        .write_all(&body.as_bytes()[10..])
        .await
        .expect("send the rest");
    let mut answer = String::new();
    connection
        .read_to_string(&mut answer)
        .await
        .expect("the answer");
    assert!(
        answer.starts_with("HTTP/1.1 302"),
        "the request in flight is answered in full: {answer}"
    );
    let status = process.exit_within(Duration::from_secs(20)).await;
    assert!(status.success(), "{status}\n{}", process.log_text());

    let config = sigra::testing::config(database.url());
    let db = sigra::db::Db::connect(&config.database)
        .await
        .expect("connect");
    let accounts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'drained@example.com'")
            .fetch_one(db.pool())
            .await
            .expect("count");
    assert_eq!(accounts, 1, "its work committed");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_open_event_streams_and_exits() {
    let database = TestDatabase::create(Engine::Sqlite).await;
    let secret = sigra::crypto::SecretKey::generate_text();
    let mut process = Process::start(database.url(), &secret, &[]).await;
    let cookie = process.signed_in("streaming@example.com").await;
    let mut events = Events::open(&process.address, "/api/live/session", Some(&cookie)).await;
    assert!(events.quiet_for(Duration::from_millis(500)).await);
    process.terminate();
    assert_eq!(
        events.next().await,
        None,
        "the stream ends without saying the session ended (the browser reconnects elsewhere)"
    );
    let status = process.exit_within(Duration::from_secs(20)).await;
    assert!(status.success(), "{status}\n{}", process.log_text());
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_a_killed_process_was_sending_is_sent_once_by_another_after_the_lease() {
    let database = TestDatabase::create(Engine::Sqlite).await;
    let secret = sigra::crypto::SecretKey::generate_text();
    // An SMTP server that takes the connection and never greets: delivery hangs mid-way.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hole_port = hole.local_addr().expect("addr").port();
    let reached = Arc::new(AtomicUsize::new(0));
    let held = {
        let reached = reached.clone();
        tokio::spawn(async move {
            let mut connections = Vec::new();
            while let Ok((connection, _)) = hole.accept().await {
                reached.fetch_add(1, Ordering::SeqCst);
                connections.push(connection);
            }
        })
    };
    let smtp = |port: u16| {
        vec![
            ("SIGRA_MAIL_TRANSPORT", "smtp".to_owned()),
            ("SIGRA_SMTP_HOST", "127.0.0.1".to_owned()),
            ("SIGRA_SMTP_PORT", port.to_string()),
            ("SIGRA_SMTP_SECURITY", "none".to_owned()),
            ("SIGRA_SMTP_TIMEOUT", "60s".to_owned()),
            ("SIGRA_JOBS_LEASE", "2s".to_owned()),
        ]
    };
    let mut first = Process::start(database.url(), &secret, &smtp(hole_port)).await;
    let registered = first
        .register("orphaned@example.com", CANARY_PASSWORD)
        .await;
    assert_eq!(registered.status(), StatusCode::FOUND);
    let started = Instant::now();
    while reached.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first never tried to send"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reaped");

    let sink = start_sink().await;
    let _second = Process::start(database.url(), &secret, &smtp(sink.port)).await;
    let started = Instant::now();
    while sink.count_to("orphaned@example.com") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the second process never sent the mail"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.count_to("orphaned@example.com"), 1, "sent once");
    assert_eq!(
        reached.load(Ordering::SeqCst),
        1,
        "the second never used the first's server"
    );
    held.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_tokens_links_and_unknown_addresses_never_reach_the_log() {
    let database = TestDatabase::create(Engine::Sqlite).await;
    let secret = sigra::crypto::SecretKey::generate_text();
    let process =
        Process::start(database.url(), &secret, &[("RUST_LOG", "debug".to_owned())]).await;
    let wrong = "Wrong-Canary-9c1e-not-the-password";
    let stranger = "stranger-canary-41d7@example.com";
    let cookie = process.signed_in("logged@example.com").await;
    assert_eq!(process.me(&cookie).await, StatusCode::OK);
    let refused = process.log_in("logged@example.com", wrong, false).await;
    assert!(session_cookie(&refused).is_none());
    let unknown = process.log_in(stranger, wrong, false).await;
    assert!(session_cookie(&unknown).is_none());
    let asked = process
        .post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "logged@example.com")],
            None,
        )
        .await;
    assert!(asked.status().is_redirection());

    let config = sigra::testing::config(database.url());
    let db = sigra::db::Db::connect(&config.database)
        .await
        .expect("connect");
    let started = Instant::now();
    let reset_mail = loop {
        let texts: Vec<String> = sqlx::query_scalar(
            "SELECT text FROM dev_mailbox WHERE subject LIKE '%password%' AND recipient = 'logged@example.com'",
        )
        .fetch_all(db.pool())
        .await
        .expect("mailbox");
        if let Some(text) = texts.into_iter().next() {
            break text;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no reset mail");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let reset_token = reset_mail
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://localhost:3000/users/reset-password/"))
        .expect("a reset link")
        .to_owned();
    let session_token = cookie
        .split_once('=')
        .map(|(_, token)| token.to_owned())
        .expect("a token");

    let log = process.log_text();
    assert!(
        log.contains("/users/log-in"),
        "control: requests are logged at debug: {}",
        &log[..log.len().min(3000)]
    );
    for (secret, what) in [
        (CANARY_PASSWORD, "the password"),
        (wrong, "a wrong password"),
        (stranger, "an unknown account's address"),
        (session_token.as_str(), "the session token"),
        (reset_token.as_str(), "the reset link's token"),
    ] {
        assert!(!log.contains(secret), "{what} is in the log");
    }
}
