//! `server [serve|migrate|generate-secret]`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use leptos::config::get_configuration;
use server::{telemetry, Application};
use sigra::clock::SystemClock;
use sigra::config::Config;
use sigra::crypto::SecretKey;
use sigra::db::Db;

#[derive(Parser)]
#[command(about = "Sigra for Rust: the authentication server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a new random value for SIGRA_SECRET_KEY.
    GenerateSecret,
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    if let Command::GenerateSecret = command {
        println!("{}", SecretKey::generate_text());
        return ExitCode::SUCCESS;
    }
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("sigra: refusing to start.\n{error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    for notice in &config.notices {
        tracing::warn!("{notice}");
    }
    let outcome = match command {
        Command::Migrate => migrate(config).await,
        Command::Serve | Command::GenerateSecret => serve(config).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database).await?;
    db.migrate().await?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let leptos_options = get_configuration(None)
        .map_err(|e| {
            anyhow::anyhow!("{e} (run through cargo-leptos, or set LEPTOS_OUTPUT_NAME=sigra)")
        })?
        .leptos_options;
    let address: SocketAddr = leptos_options.site_addr;
    let app = Application::build(config, Arc::new(SystemClock), leptos_options, address).await?;
    tracing::info!(address = %address, port = app.port()?, "ready");
    app.run_until_stopped().await
}
