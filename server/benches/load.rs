//! Loopback load test of the release server (`make bench`). Starts `target/release/server` on a
//! fresh SQLite database with the production password parameters, then measures:
//! start-to-ready, `/health` against a session-authenticated `/api/v1/me`, log-in latency, and
//! `/health` while a flood of log-ins runs. Prints a Markdown table for the README.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, COOKIE, SET_COOKIE};

const PASSWORD: &str = "a benchmark passphrase that is long";
const CONCURRENCY: usize = 32;
const PHASE: Duration = Duration::from_secs(5);

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
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

async fn start_server(client: &reqwest::Client) -> (Server, Duration) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let binary = format!("{root}/target/release/server");
    let secret = Command::new(&binary)
        .arg("generate-secret")
        .output()
        .expect("run the server binary");
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let started = Instant::now();
    let child = Command::new(&binary)
        .arg("serve")
        .current_dir(root)
        .env("LEPTOS_OUTPUT_NAME", "sigra")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database_url(&dir))
        .env(
            "SIGRA_SECRET_KEY",
            String::from_utf8_lossy(&secret.stdout).trim(),
        )
        .env("SIGRA_BASE_URL", format!("http://localhost:{port}"))
        .env("RUST_LOG", "warn")
        // The load comes from one address; the per-address auth limit would turn the log-in
        // flood into 429s.
        .env("SIGRA_RATE_LIMIT_AUTH_LIMIT", "1000000")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the server");
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
    (
        Server {
            child,
            base,
            _dir: dir,
        },
        started.elapsed(),
    )
}

/// A fresh SQLite file, or the database named by `BENCH_DATABASE_URL` (such as PostgreSQL).
fn database_url(dir: &tempfile::TempDir) -> String {
    std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.path().display()))
}

/// Latencies in microseconds, sorted.
struct Sample {
    latencies: Vec<u64>,
    elapsed: Duration,
}

impl Sample {
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

/// Runs `workers` loops of `request` until `stop` or `duration`, collecting latencies.
async fn hammer<F, Fut>(
    workers: usize,
    duration: Duration,
    stop: Arc<AtomicBool>,
    request: F,
) -> Sample
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (request, stop) = (request.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < duration && !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                assert!(request().await, "a benchmark request failed");
                latencies.push(t.elapsed().as_micros() as u64);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("worker"));
    }
    latencies.sort_unstable();
    Sample {
        latencies,
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

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let (server, ready_in) = start_server(&client).await;
    let base = server.base.clone();

    let email = "bench@example.com";
    client
        .post(format!("{base}/users/register"))
        .header(ACCEPT, "application/json")
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("register");
    let cookie = log_in(&client, &base, email).await.expect("log in");

    let never = Arc::new(AtomicBool::new(false));
    let get = |path: &'static str, cookie: Option<String>| {
        let (client, base) = (client.clone(), base.clone());
        move || {
            let (client, url, cookie) = (client.clone(), format!("{base}{path}"), cookie.clone());
            async move {
                let mut request = client.get(url);
                if let Some(cookie) = cookie {
                    request = request.header(COOKIE, cookie);
                }
                request.send().await.is_ok_and(|r| r.status().is_success())
            }
        }
    };

    let health = hammer(CONCURRENCY, PHASE, never.clone(), get("/health", None)).await;
    let me = hammer(
        CONCURRENCY,
        PHASE,
        never.clone(),
        get("/api/v1/me", Some(cookie.clone())),
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
        elapsed: Duration::from_secs(1),
    };

    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let (client, base, stop) = (client.clone(), base.clone(), stop.clone());
        tokio::spawn(async move {
            hammer(16, PHASE * 2, stop, move || {
                let (client, base) = (client.clone(), base.clone());
                async move { log_in(&client, &base, email).await.is_some() }
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let health_under_flood = hammer(4, PHASE, never.clone(), get("/health", None)).await;
    stop.store(true, Ordering::Relaxed);
    let flood = flood.await.expect("flood");

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
        "| `GET /api/v1/me` with a session, {CONCURRENCY} connections | {:.0} req/s ({:.0}% of `/health`), p50 {:.2} ms, p99 {:.2} ms |",
        me.rps(),
        100.0 * me.rps() / health.rps(),
        me.percentile_ms(0.50),
        me.percentile_ms(0.99)
    );
    println!(
        "| log-in (Argon2id m=19456 t=2 p=1), one at a time | p50 {:.1} ms, p99 {:.1} ms |",
        logins.percentile_ms(0.50),
        logins.percentile_ms(0.99)
    );
    println!(
        "| `GET /health` during a flood of 16 concurrent log-in loops | p50 {:.2} ms, p99 {:.2} ms ({:.1} log-ins/s served meanwhile) |",
        health_under_flood.percentile_ms(0.50),
        health_under_flood.percentile_ms(0.99),
        flood.rps()
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
    drop(server);
}
