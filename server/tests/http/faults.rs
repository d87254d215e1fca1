//! Database faults: with the database out of reach, requests fail fast with a clean 503 (a
//! page for a browser, JSON otherwise), `/ready` says so, nothing panics, and everything
//! heals by itself when the database returns, with mail queued before the outage delivered
//! once. PostgreSQL only: the test reaches it through a TCP link it can cut.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use sigra::testing::Engine;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use server::testing::{Setup, TestApp, CANARY_PASSWORD};

/// A TCP link to the PostgreSQL server that the test can cut (every connection through it
/// closes, and new ones are refused) and restore.
struct DatabaseLink {
    address: SocketAddr,
    up: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
}

impl DatabaseLink {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0_u64);
        let (accepting, cut_signal) = (Arc::clone(&up), cuts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let mut cut = cut_signal.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { address, up, cuts }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn get(app: &TestApp, path: &str, cookie: Option<&str>, accept: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(format!("{}{path}", app.address))
        .header("accept", accept);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("an answer, not a hang")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_answers_503_and_heals_by_itself() {
    let Ok(server) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipped: the fault tests need TEST_POSTGRES_URL");
        return;
    };
    let upstream = reqwest::Url::parse(&server).expect("a URL");
    let upstream = format!(
        "{}:{}",
        upstream.host_str().expect("a host"),
        upstream.port().unwrap_or(5432)
    );
    let link = DatabaseLink::start(upstream.clone()).await;
    let through = link.address.to_string();
    let setup = Setup {
        database_url: Some(Arc::new(move |url: &str| {
            url.replacen(&upstream, &through, 1)
        })),
        ..Setup::default()
    };
    let app = TestApp::spawn_with(Engine::Postgres, setup).await;
    let cookie = app.signed_in("outage@example.com").await;
    app.post_form(
        "/users/reset-password",
        "/users/reset-password",
        &[("email", "outage@example.com")],
        None,
    )
    .await;

    link.cut();

    let api = get(&app, "/api/v1/me", Some(&cookie), "application/json").await;
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.headers()["retry-after"], "5");
    let body: serde_json::Value = api.json().await.expect("problem JSON");
    assert_eq!(body["error"], "unavailable");

    let page = get(&app, "/users/settings", Some(&cookie), "text/html").await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.headers()["content-type"]
        .to_str()
        .expect("text")
        .starts_with("text/html"));
    assert!(page
        .text()
        .await
        .expect("body")
        .contains("temporarily unavailable"));

    let form = [
        ("email", "outage@example.com"),
        ("password", CANARY_PASSWORD),
    ];
    let hydrated = app.call_json("/users/log-in", &form, None).await;
    assert_eq!(hydrated.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(hydrated.text().await.expect("body"), r#""Unavailable""#);
    let plain = app
        .post_form("/users/log-in", "/users/log-in", &form, None)
        .await;
    assert_eq!(plain.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        plain
            .text()
            .await
            .expect("body")
            .contains("temporarily unavailable"),
        "a browser without JavaScript gets a page that says so"
    );

    assert_eq!(
        get(&app, "/ready", None, "text/plain").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&app, "/health", None, "text/plain").await.status(),
        StatusCode::OK
    );
    assert!(
        app.sigra
            .jobs()
            .run_due_jobs("outage-runner")
            .await
            .is_err(),
        "the job runner reports the outage instead of delivering or panicking"
    );

    link.restore();

    // Connections that broke with the link are dropped as they are found; the pool then
    // opens new ones. No restart.
    let mut healed = false;
    for _ in 0..20 {
        if get(&app, "/api/v1/me", Some(&cookie), "application/json")
            .await
            .status()
            == StatusCode::OK
        {
            healed = true;
            break;
        }
    }
    assert!(healed, "the app serves the session again");
    assert_eq!(
        get(&app, "/ready", None, "text/plain").await.status(),
        StatusCode::OK
    );
    let mail = app.mailbox("outage@example.com").await;
    let resets = mail
        .iter()
        .filter(|m| m.subject == "Reset your password")
        .count();
    assert_eq!(resets, 1, "the mail queued before the outage went out once");
}
