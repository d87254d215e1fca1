//! The application object: built from a validated config, bound to a port, then served.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use leptos::config::LeptosOptions;
use sigra::config::Config;
use sigra::{Sigra, SigraBuilder};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::live::Draining;
use crate::router::router;

/// Development mode serves every mailed link at `/dev/mailbox` and metrics without a token,
/// so it listens on loopback only, unless the operator names the risk and overrides.
fn refuse_exposed_development(config: &Config, address: SocketAddr) -> anyhow::Result<()> {
    if config.is_production() || address.ip().is_loopback() {
        return Ok(());
    }
    if !config.dev_expose_mailbox_on_network {
        anyhow::bail!(
            "refusing to listen on {address} in development mode: the development mailbox \
             (/dev/mailbox, with every password-reset and log-in link) and /metrics would be open \
             to the network. Listen on 127.0.0.1 (LEPTOS_SITE_ADDR=127.0.0.1:3000); or run in \
             production (SIGRA_ENV=production with SIGRA_SECRET_KEY, SIGRA_BASE_URL and SMTP, see \
             the README); or, on a network that is yours alone, set \
             SIGRA_DEV_EXPOSE_MAILBOX_ON_NETWORK=true"
        );
    }
    tracing::warn!(
        %address,
        "development mode is listening on the network: anyone who reaches {address} can read \
         every mailed link at /dev/mailbox"
    );
    Ok(())
}

/// A bound, ready-to-serve application.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    sigra: Sigra,
    /// Set when shutdown begins, so open event streams end instead of holding it up.
    draining: watch::Sender<bool>,
}

impl Application {
    /// Starts the core (connects, migrates), assembles the router and binds `address`
    /// (port 0 picks a free port, as the tests do).
    ///
    /// # Errors
    /// The database is unreachable, a migration failed, development mode was asked to listen
    /// on the network, or the address cannot be bound.
    pub async fn build(
        core: SigraBuilder,
        leptos_options: LeptosOptions,
        address: SocketAddr,
    ) -> anyhow::Result<Self> {
        // Refused before the core connects and migrates, so a refusal touches no database.
        refuse_exposed_development(core.config(), address)?;
        let sigra = core
            .start()
            .await
            .context("could not start the auth core")?;
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("could not listen on {address}"))?;
        let (draining, follows_draining) = watch::channel(false);
        let router = router(
            sigra.clone(),
            leptos_options,
            Draining::new(follows_draining),
        );
        Ok(Self {
            listener,
            router,
            sigra,
            draining,
        })
    }

    /// The port actually bound.
    ///
    /// # Errors
    /// The socket has no local address (not expected once bound).
    pub fn port(&self) -> anyhow::Result<u16> {
        Ok(self.listener.local_addr()?.port())
    }

    /// The core, for tests that inspect state directly.
    pub fn sigra(&self) -> &Sigra {
        &self.sigra
    }

    /// Serves until Ctrl-C or SIGTERM, letting in-flight requests finish, with the job runner
    /// alongside unless `jobs.run_in_process` is off.
    ///
    /// # Errors
    /// The server failed.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            sigra,
            draining,
        } = self;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let runner = sigra
            .config()
            .jobs
            .run_in_process
            .then(|| sigra.jobs().spawn_job_runner(stopped));
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = draining.send(true);
        })
        .await
        .context("the server stopped with an error");
        stop_runner(stop, runner).await;
        sigra.db().close().await;
        served
    }
}

/// Runs only the job runner, for a worker process (`server work`).
///
/// # Errors
/// The core could not start.
pub async fn run_worker(core: SigraBuilder) -> anyhow::Result<()> {
    let sigra = core
        .start()
        .await
        .context("could not start the auth core")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let runner = sigra.jobs().spawn_job_runner(stopped);
    tracing::info!("job runner started");
    shutdown_signal().await;
    stop_runner(stop, Some(runner)).await;
    sigra.db().close().await;
    Ok(())
}

/// Lets the job in hand finish (up to a bound), then stops the runner.
async fn stop_runner(
    stop: tokio::sync::watch::Sender<bool>,
    runner: Option<tokio::task::JoinHandle<()>>,
) {
    let _ = stop.send(true);
    if let Some(runner) = runner {
        // A job still running after this keeps its lease and is retried by another runner.
        if tokio::time::timeout(Duration::from_secs(30), runner)
            .await
            .is_err()
        {
            tracing::warn!("the job runner did not stop in time");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
