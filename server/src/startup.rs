//! The application object: built from a validated config, bound to a port, then served.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use leptos::config::LeptosOptions;
use sigra::clock::Clock;
use sigra::config::Config;
use sigra::Sigra;
use tokio::net::TcpListener;

use crate::router::router;

/// A bound, ready-to-serve application.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    sigra: Sigra,
}

impl Application {
    /// Connects and migrates the database, assembles the router and binds `address`
    /// (port 0 picks a free port, as the tests do).
    ///
    /// # Errors
    /// The database is unreachable, a migration failed, or the address cannot be bound.
    pub async fn build(
        config: Config,
        clock: Arc<dyn Clock>,
        leptos_options: LeptosOptions,
        address: SocketAddr,
    ) -> anyhow::Result<Self> {
        let sigra = Sigra::start(config, clock)
            .await
            .context("could not start the auth core")?;
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("could not listen on {address}"))?;
        let router = router(sigra.clone(), leptos_options);
        Ok(Self {
            listener,
            router,
            sigra,
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

    /// Serves until Ctrl-C or SIGTERM, letting in-flight requests finish.
    ///
    /// # Errors
    /// The server failed.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            sigra,
        } = self;
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server stopped with an error")?;
        sigra.db().close().await;
        Ok(())
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
