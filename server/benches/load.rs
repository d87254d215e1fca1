//! Loopback load test of the release server (`make bench`). Starts `target/release/server` with
//! the production password parameters and measures: start-to-ready on a new SQLite file,
//! `/health` against a session-authenticated `/api/v1/me` (SQLite with the session cache on and
//! off, and PostgreSQL when `BENCH_POSTGRES_URL` or `TEST_POSTGRES_URL` names a server), log-in
//! latency, `/health` while a flood of log-ins runs, the server's resident memory idle and
//! after the flood, and the audit CSV export of 100,000 rows (time, and the memory it takes
//! while streaming). Prints a Markdown table for the README.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, COOKIE, SET_COOKIE};

const PASSWORD: &str = "a benchmark passphrase that is long";
const CONCURRENCY: usize = 32;
const PHASE: Duration = Duration::from_secs(5);
/// How long the server is left alone before its idle memory is read: past the 2 s a hashing
/// thread keeps its Argon2 memory without work.
const SETTLE: Duration = Duration::from_secs(3);

/// How long the log-in flood lasts (the resident-memory row is read after it).
const FLOOD: Duration = Duration::from_secs(10);

struct Server {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts the release server on `database` (a fresh SQLite file when `None`) with `env` on top
/// of the bench settings, and waits until it is ready.
async fn start_server(
    client: &reqwest::Client,
    database: Option<&str>,
    env: &[(&str, &str)],
) -> (Server, Duration) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let binary = format!("{root}/target/release/server");
    let secret = Command::new(&binary)
        .arg("generate-secret")
        .output()
        .expect("run the server binary");
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = database.map_or_else(
        || format!("sqlite://{}/bench.db", dir.path().display()),
        str::to_owned,
    );
    let port = free_port();
    let started = Instant::now();
    let mut command = Command::new(&binary);
    command
        .arg("serve")
        .current_dir(root)
        .env("LEPTOS_OUTPUT_NAME", "sigra")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database_url)
        .env(
            "SIGRA_SECRET_KEY",
            String::from_utf8_lossy(&secret.stdout).trim(),
        )
        .env("SIGRA_BASE_URL", format!("http://localhost:{port}"))
        .env("RUST_LOG", "warn")
        // The load comes from one address; the per-address auth limit would turn the log-in
        // flood into 429s.
        .env("SIGRA_RATE_LIMIT_AUTH_LIMIT", "1000000")
        .stdout(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let child = command.spawn().expect("start the server");
    let base = format!("http://127.0.0.1:{port}");
    loop {
        if client
            .get(format!("{base}/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server never became ready"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (Server { child, base, dir }, started.elapsed())
}

impl Server {
    /// Resident memory of the server process, from `/proc` (Linux).
    fn rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kib| kib.parse::<f64>().ok())
            })
            .map_or(f64::NAN, |kib| kib / 1024.0)
    }
}

/// A fresh PostgreSQL schema for one bench run, dropped after it.
struct PostgresSchema {
    server: String,
    schema: String,
}

impl PostgresSchema {
    /// A schema on the server named by `BENCH_POSTGRES_URL` or `TEST_POSTGRES_URL`, if either is set.
    fn create() -> Option<Self> {
        let server = std::env::var("BENCH_POSTGRES_URL")
            .or_else(|_| std::env::var("TEST_POSTGRES_URL"))
            .ok()
            .filter(|u| !u.is_empty())?;
        let schema = format!("bench_{}", std::process::id());
        let created = Command::new("psql")
            .args(["-q", &server, "-c", &format!("CREATE SCHEMA {schema}")])
            .status()
            .is_ok_and(|s| s.success());
        created.then_some(Self { server, schema })
    }

    fn url(&self) -> String {
        let separator = if self.server.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options[search_path]={}",
            self.server, self.schema
        )
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                "-q",
                &self.server,
                "-c",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
            ])
            .status();
    }
}

/// Latencies in microseconds of the requests served, sorted, and how many were turned away.
struct Sample {
    latencies: Vec<u64>,
    refused: usize,
    elapsed: Duration,
}

impl Sample {
    fn combined(samples: Vec<Sample>) -> Sample {
        let elapsed = samples.iter().map(|s| s.elapsed).max().unwrap_or_default();
        let refused = samples.iter().map(|s| s.refused).sum();
        let mut latencies: Vec<u64> = samples.into_iter().flat_map(|s| s.latencies).collect();
        latencies.sort_unstable();
        Sample {
            latencies,
            refused,
            elapsed,
        }
    }
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let index =
            ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[index] as f64 / 1000.0
    }
}

/// Runs `workers` loops of `request` for `duration`, collecting latencies; every request must
/// be served.
async fn hammer<F, Fut>(workers: usize, duration: Duration, request: F) -> Sample
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let sample = attempt(workers, duration, request).await;
    assert_eq!(sample.refused, 0, "a benchmark request failed");
    sample
}

/// Runs `workers` loops of `request` for `duration`, counting the requests turned away.
async fn attempt<F, Fut>(workers: usize, duration: Duration, request: F) -> Sample
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut refused) = (Vec::new(), 0);
            while started.elapsed() < duration {
                let t = Instant::now();
                if request().await {
                    latencies.push(t.elapsed().as_micros() as u64);
                } else {
                    refused += 1;
                }
            }
            (latencies, refused)
        }));
    }
    let (mut latencies, mut refused) = (Vec::new(), 0);
    for task in tasks {
        let (served, turned_away) = task.await.expect("worker");
        latencies.extend(served);
        refused += turned_away;
    }
    latencies.sort_unstable();
    Sample {
        latencies,
        refused,
        elapsed: started.elapsed(),
    }
}

async fn log_in(client: &reqwest::Client, base: &str, email: &str) -> Option<String> {
    let response = client
        .post(format!("{base}/users/log-in"))
        .header(ACCEPT, "application/json")
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .ok()?;
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-sigra_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

fn file_size(path: &str) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn kib(bytes: u64) -> String {
    format!("{:.0} KiB", bytes as f64 / 1024.0)
}

/// Registers the bench account on `base` and logs it in; returns the session cookie.
async fn signed_in(client: &reqwest::Client, base: &str) -> String {
    let email = "bench@example.com";
    register(client, base, email).await;
    log_in(client, base, email).await.expect("log in")
}

async fn register(client: &reqwest::Client, base: &str, email: &str) {
    client
        .post(format!("{base}/users/register"))
        .header(ACCEPT, "application/json")
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("register");
}

/// A GET of `path` on `base`, with an optional cookie, as a request for [`hammer`].
fn get(
    client: &reqwest::Client,
    base: &str,
    path: &'static str,
    cookie: Option<String>,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>> + Clone {
    let (client, base) = (client.clone(), base.to_owned());
    move || {
        let (client, url, cookie) = (client.clone(), format!("{base}{path}"), cookie.clone());
        Box::pin(async move {
            let mut request = client.get(url);
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie);
            }
            request.send().await.is_ok_and(|r| r.status().is_success())
        })
    }
}

/// Rows in the audit export benchmark (ids shaped as the core makes them, which the export's
/// cursor requires).
const EXPORT_ROWS: i64 = 100_000;

/// The audit export of [`EXPORT_ROWS`] rows on a fresh SQLite server: how long the download
/// takes, its size, and the most the server's resident memory grew while it streamed.
async fn audit_export(client: &reqwest::Client) -> (Duration, u64, f64) {
    let (server, _) = start_server(client, None, &[]).await;
    let cookie = signed_in(client, &server.base).await;
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}/bench.db", server.dir.path().display());
    let pool = sqlx::AnyPool::connect(&url)
        .await
        .expect("the bench database");
    for sql in [
        "UPDATE users SET confirmed_at = 1".to_owned(),
        "INSERT INTO platform_admin_grants (user_id, granted_at) SELECT id, 1 FROM users".to_owned(),
        format!(
            "INSERT INTO audit_events (id, occurred_at, action, outcome, actor_type, actor_id, \
             effective_user_id, target_type, target_id, ip_address, user_agent, metadata) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {EXPORT_ROWS}) \
             SELECT printf('%08x-0000-7000-8000-000000000000', i), 1700000000000 + i, 'auth.login.success', 'success', \
             'user', (SELECT id FROM users LIMIT 1), (SELECT id FROM users LIMIT 1), 'user', \
             (SELECT id FROM users LIMIT 1), '127.0.0.1', 'Mozilla/5.0 (bench)', \
             '{{\"method\":\"password\"}}' FROM n"
        ),
    ] {
        sqlx::query(&sql).execute(&pool).await.expect("arranged");
    }
    pool.close().await;
    let rss_before = server.rss_mib();
    let started = Instant::now();
    let mut response = client
        .get(format!("{}/admin/audit/export.csv", server.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("the export");
    assert!(response.status().is_success(), "{}", response.status());
    let (mut bytes, mut peak) = (0_u64, rss_before);
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        bytes += chunk.len() as u64;
        peak = peak.max(server.rss_mib());
    }
    (started.elapsed(), bytes, peak - rss_before)
}

/// `GET /api/v1/me` with a fresh session on a server started with `database` and `env`.
async fn session_checks(
    client: &reqwest::Client,
    database: Option<&str>,
    env: &[(&str, &str)],
) -> Sample {
    let (server, _) = start_server(client, database, env).await;
    let cookie = signed_in(client, &server.base).await;
    hammer(
        CONCURRENCY,
        PHASE,
        get(client, &server.base, "/api/v1/me", Some(cookie)),
    )
    .await
}

fn share(part: &Sample, whole: &Sample) -> String {
    format!(
        "{:.0} req/s ({:.0}% of `/health`), p50 {:.2} ms, p99 {:.2} ms",
        part.rps(),
        100.0 * part.rps() / whole.rps(),
        part.percentile_ms(0.50),
        part.percentile_ms(0.99)
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let (server, ready_in) = start_server(&client, None, &[]).await;
    let base = server.base.clone();
    let email = "bench@example.com";
    let cookie = signed_in(&client, &base).await;
    // Idle: signed up and in, then left alone past the time the hashing threads keep memory.
    tokio::time::sleep(SETTLE).await;
    let rss_idle = server.rss_mib();

    let health = hammer(CONCURRENCY, PHASE, get(&client, &base, "/health", None)).await;
    let me = hammer(
        CONCURRENCY,
        PHASE,
        get(&client, &base, "/api/v1/me", Some(cookie.clone())),
    )
    .await;

    let mut login_latencies = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        log_in(&client, &base, email).await.expect("log in");
        login_latencies.push(t.elapsed().as_micros() as u64);
    }
    login_latencies.sort_unstable();
    let logins = Sample {
        latencies: login_latencies,
        refused: 0,
        elapsed: Duration::from_secs(1),
    };

    // Sixteen accounts, one log-in loop each: an account's own parallel log-ins beyond the
    // lockout threshold are refused by design, which is not what this measures.
    let flooders: Vec<String> = (0..16).map(|i| format!("flood{i}@example.com")).collect();
    for flooder in &flooders {
        register(&client, &base, flooder).await;
    }
    let loops: Vec<_> = flooders
        .into_iter()
        .map(|flooder| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                attempt(1, FLOOD, move || {
                    let (client, base, flooder) = (client.clone(), base.clone(), flooder.clone());
                    async move { log_in(&client, &base, &flooder).await.is_some() }
                })
                .await
            })
        })
        .collect();
    let flood = tokio::spawn(async move {
        let mut samples = Vec::new();
        for each in loops {
            samples.push(each.await.expect("log-in loop"));
        }
        Sample::combined(samples)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let health_under_flood = hammer(4, PHASE, get(&client, &base, "/health", None)).await;
    let flood = flood.await.expect("flood");
    let rss_flooded = server.rss_mib();
    tokio::time::sleep(SETTLE).await;
    let rss_settled = server.rss_mib();
    drop(server);

    let me_uncached = session_checks(&client, None, &[("SIGRA_SESSION_CACHE", "off")]).await;
    let (export_took, export_bytes, export_growth) = audit_export(&client).await;
    let postgres = PostgresSchema::create();
    let mut me_postgres = Vec::new();
    if let Some(schema) = &postgres {
        for cache in ["on", "off"] {
            let env = [("SIGRA_SESSION_CACHE", cache)];
            let sample = session_checks(&client, Some(&schema.url()), &env).await;
            me_postgres.push((cache, sample));
        }
    }

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let wasm = file_size(&format!("{root}/target/site/pkg/sigra.wasm"));
    let wasm_gz = file_size(&format!("{root}/target/site/pkg/sigra.wasm.gz"));
    let wasm_br = file_size(&format!("{root}/target/site/pkg/sigra.wasm.br"));
    let binary = file_size(&format!("{root}/target/release/server"));
    let cores = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);

    println!("\n## Benchmarks ({cores} cores, client and server on the same machine)\n");
    println!("| measure | result |");
    println!("|---|---|");
    println!(
        "| `GET /health`, {CONCURRENCY} connections | {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms |",
        health.rps(),
        health.percentile_ms(0.50),
        health.percentile_ms(0.99)
    );
    println!(
        "| `GET /api/v1/me` with a session, SQLite, session cache on (the default; each check asks the file's data version) | {} |",
        share(&me, &health)
    );
    println!(
        "| `GET /api/v1/me` with a session, SQLite, cache off | {} |",
        share(&me_uncached, &health)
    );
    for (cache, sample) in &me_postgres {
        println!(
            "| `GET /api/v1/me` with a session, PostgreSQL on the same machine, session cache {cache} | {} |",
            share(sample, &health)
        );
    }
    if me_postgres.is_empty() {
        println!("| `GET /api/v1/me`, PostgreSQL | not measured (set BENCH_POSTGRES_URL or TEST_POSTGRES_URL) |");
    }
    println!(
        "| log-in (Argon2id m=19456 t=2 p=1), one at a time | p50 {:.1} ms, p99 {:.1} ms |",
        logins.percentile_ms(0.50),
        logins.percentile_ms(0.99)
    );
    println!(
        "| `GET /health` during a flood of 16 concurrent log-in loops | p50 {:.2} ms, p99 {:.2} ms ({:.1} log-ins/s served meanwhile, {} not served) |",
        health_under_flood.percentile_ms(0.50),
        health_under_flood.percentile_ms(0.99),
        flood.rps(),
        flood.refused
    );
    println!(
        "| server resident memory: idle / after a {}-second flood of 16 parallel log-ins / 3 s later | {rss_idle:.0} MiB / {rss_flooded:.0} MiB / {rss_settled:.0} MiB |",
        FLOOD.as_secs()
    );
    println!(
        "| release wasm | {} raw, {} gzip, {} brotli |",
        kib(wasm),
        kib(wasm_gz),
        kib(wasm_br)
    );
    println!(
        "| server binary (release) | {:.1} MiB |",
        binary as f64 / 1024.0 / 1024.0
    );
    println!(
        "| start to ready (migrations on a new SQLite file) | {} ms |",
        ready_in.as_millis()
    );
    println!(
        "| audit CSV export of {EXPORT_ROWS} rows, SQLite | {:.2} s ({:.0} rows/s, {:.1} MiB); server memory grew at most {export_growth:.0} MiB while streaming |",
        export_took.as_secs_f64(),
        EXPORT_ROWS as f64 / export_took.as_secs_f64(),
        export_bytes as f64 / 1024.0 / 1024.0
    );
}
