//! `server [serve|migrate|work|generate-secret|render-emails|require-password-change|rotate-mfa-keys|rotate-jwt-keys|user|sessions|doctor]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use leptos::config::get_configuration;
use server::{telemetry, Application};
use sigra::config::Config;
use sigra::crypto::SecretKey;
use sigra::db::Db;
use sigra::doctor::Verdict;
use sigra::mail::{EmailTemplates, Message};
use sigra::operator::FirstPassword;
use sigra::password::Password;
use sigra::request::RequestContext;
use sigra::SigraBuilder;

/// jemalloc, not glibc's malloc: a signed-in request allocates and frees a future per
/// middleware layer, and glibc's malloc and free took about a third of the server's time; with
/// jemalloc a PostgreSQL session check serves a third to a half more requests a second, and
/// memory after a log-in flood stays under 64 MB (README, "Benchmarks").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(about = "Sigra for Rust: the authentication server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app (the default), with the job runner unless SIGRA_JOBS_RUN_IN_PROCESS=false.
    Serve,
    /// Run only the background job runner (for a separate worker process).
    Work,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a new random value for SIGRA_SECRET_KEY.
    GenerateSecret,
    /// Render every email template, with sample data, to DIR as .html and .txt files.
    RenderEmails {
        /// Where to write the files.
        dir: PathBuf,
    },
    /// Make an account choose a new password before it can use any page.
    RequirePasswordChange {
        /// The account's email address.
        email: String,
    },
    /// Re-seal every TOTP secret under the first key of SIGRA_MFA_ENCRYPTION_KEYS.
    RotateMfaKeys,
    /// Make a new JWT signing key (it signs a minute later); the current one keeps verifying
    /// until the tokens it signed have expired.
    #[cfg(feature = "jwt")]
    RotateJwtKeys,
    /// Act on an account, found by its email address.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Act on an account's sessions.
    Sessions {
        #[command(subcommand)]
        action: SessionsAction,
    },
    /// Manage the platform admins (who may open the admin area).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// The audit trail's tamper-evident chain.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Act on organizations.
    Organizations {
        #[command(subcommand)]
        action: OrganizationsAction,
    },
    /// Check that this deployment can work (database, migrations, clock, mail, sign-in
    /// providers) and print what is enabled; changes nothing. Exits 1 if a check fails.
    Doctor {
        /// Also send a test message to this address, at once.
        #[arg(long, value_name = "EMAIL")]
        send_test_mail: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create an account. Without --password-stdin it has no password and the address gets a
    /// link to choose one (which also confirms it); with it, it is like a registered account
    /// (a confirmation mail goes out).
    Create {
        /// The account's email address.
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lift the password lock and the two-factor lock.
    Unlock {
        /// The account's email address.
        email: String,
    },
    /// Turn off every second factor (authenticator app, backup codes, passkeys) of an owner
    /// who lost them; they are told by mail.
    DisableMfa {
        /// The account's email address.
        email: String,
    },
}

#[derive(Subcommand)]
enum SessionsAction {
    /// End every session, access token and refresh family of an account.
    Revoke {
        /// The account's email address.
        email: String,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make the confirmed account at EMAIL a platform admin.
    Grant {
        /// The account's email address.
        email: String,
    },
    /// Take the platform admin grant of the account at EMAIL away.
    Revoke {
        /// The account's email address.
        email: String,
    },
    /// Print every platform admin and since when.
    List,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Recompute the chain from its anchor to its last seal; reads only. Exits 1, naming the
    /// first broken row, when a sealed row was edited, deleted or reordered, or the tail cut.
    Verify,
    /// Seal the rows written since the last seal now (the job runner does it every minute).
    Seal,
}

#[derive(Subcommand)]
enum OrganizationsAction {
    /// Give every account without a personal organization one (after turning
    /// SIGRA_ORGANIZATIONS_PERSONAL on for a site with accounts). Safe to run again.
    BackfillPersonal,
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
        Command::Work => server::startup::run_worker(core(config)).await,
        Command::RenderEmails { dir } => render_emails(&config, &dir),
        Command::RequirePasswordChange { email } => require_password_change(config, &email).await,
        Command::RotateMfaKeys => rotate_mfa_keys(config).await,
        #[cfg(feature = "jwt")]
        Command::RotateJwtKeys => rotate_jwt_keys(config).await,
        Command::User { action } => user(config, action).await,
        Command::Admin { action } => admin(config, action).await,
        Command::Audit { action } => audit(config, action).await,
        Command::Organizations {
            action: OrganizationsAction::BackfillPersonal,
        } => backfill_personal_organizations(config).await,
        Command::Doctor { send_test_mail } => doctor(config, send_test_mail.as_deref()).await,
        Command::Sessions {
            action: SessionsAction::Revoke { email },
        } => revoke_sessions(config, &email).await,
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

/// The core with the app's mail templates.
fn core(config: Config) -> SigraBuilder {
    app::ssr::sigra_builder(config)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let mut leptos_options = get_configuration(None)
        .map_err(|e| {
            anyhow::anyhow!("{e} (run through cargo-leptos, or set LEPTOS_OUTPUT_NAME=sigra)")
        })?
        .leptos_options;
    // `scripts/build-site.sh` writes the assets' content hashes beside the binary: link the
    // hashed names, which browsers may keep for good.
    let hashes_beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&*leptos_options.hash_file)))
        .is_some_and(|file| file.is_file());
    if hashes_beside_binary {
        leptos_options.hash_files = true;
    }
    let address: SocketAddr = leptos_options.site_addr;
    let app = Application::build(core(config), leptos_options, address).await?;
    tracing::info!(address = %address, port = app.port()?, "ready");
    app.run_until_stopped().await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database).await?;
    db.migrate().await?;
    tracing::info!("migrations applied");
    Ok(())
}

fn render_emails(config: &Config, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    for message in Message::samples(config.base_url.as_str()) {
        let email = app::emails::Templates.render(
            &config.app_name,
            sigra::mail::Recipient::default(),
            &message,
        );
        let base = dir.join(message.name());
        std::fs::write(base.with_extension("html"), &email.html)?;
        std::fs::write(
            base.with_extension("txt"),
            format!("Subject: {}\n\n{}", email.subject, email.text),
        )?;
    }
    tracing::info!(dir = %dir.display(), "rendered every email template");
    Ok(())
}

async fn require_password_change(config: Config, email: &str) -> anyhow::Result<()> {
    let sigra = core(config).start().await?;
    let request = RequestContext::command("server require-password-change");
    if sigra
        .account()
        .require_password_change(email, &request)
        .await?
    {
        tracing::info!("the account must choose a new password at its next page");
        Ok(())
    } else {
        anyhow::bail!("no account has that email address")
    }
}

async fn rotate_mfa_keys(config: Config) -> anyhow::Result<()> {
    let sigra = core(config).start().await?;
    let moved = sigra
        .mfa()
        .rotate_mfa_keys(&RequestContext::command("server rotate-mfa-keys"))
        .await?;
    tracing::info!(
        moved,
        "every TOTP secret is sealed with the newest key; older keys can be removed"
    );
    Ok(())
}

#[cfg(feature = "jwt")]
async fn rotate_jwt_keys(config: Config) -> anyhow::Result<()> {
    let sigra = core(config).start().await?;
    let key = sigra
        .jwt()
        .rotate_keys(&RequestContext::command("server rotate-jwt-keys"))
        .await?;
    tracing::info!(
        key,
        "a new JWT signing key is published and signs in a minute; the previous one verifies until its tokens expire"
    );
    Ok(())
}

async fn user(config: Config, action: UserAction) -> anyhow::Result<()> {
    let sigra = core(config).start().await?;
    let operator = sigra.operator();
    match action {
        UserAction::Create {
            email,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("could not read the password from standard input")?;
                FirstPassword::Given(Password::new(
                    line.trim_end_matches(['\r', '\n']).to_owned(),
                ))
            } else {
                FirstPassword::Mailed
            };
            let request = RequestContext::command("server user create");
            let id = operator.create_user(&email, password, &request).await?;
            tracing::info!(user_id = %id, "account created");
        }
        UserAction::Unlock { email } => {
            let request = RequestContext::command("server user unlock");
            if !operator.unlock(&email, &request).await? {
                anyhow::bail!("no account has that email address");
            }
            tracing::info!("the account can log in again");
        }
        UserAction::DisableMfa { email } => {
            let request = RequestContext::command("server user disable-mfa");
            if !operator.disable_second_factors(&email, &request).await? {
                anyhow::bail!("no account has that email address");
            }
            tracing::info!("every second factor is off and the owner was mailed");
        }
    }
    Ok(())
}

async fn revoke_sessions(config: Config, email: &str) -> anyhow::Result<()> {
    let sigra = core(config).start().await?;
    let request = RequestContext::command("server sessions revoke");
    let Some(ended) = sigra.operator().revoke_sessions(email, &request).await? else {
        anyhow::bail!("no account has that email address");
    };
    tracing::info!(ended, "every session and token of the account has ended");
    Ok(())
}

async fn audit(config: Config, action: AuditAction) -> anyhow::Result<()> {
    use sigra::audit::chain::ChainProblem;

    let sigra = core(config).start().await?;
    let chain = sigra.audit_chain();
    match action {
        AuditAction::Seal => {
            let sealed = chain.seal().await?;
            println!("sealed {sealed} audit rows");
        }
        AuditAction::Verify => {
            let report = chain.verify().await?;
            if let Some(broken) = report.broken {
                let problem = match broken.problem {
                    ChainProblem::Altered => "the row is not what was sealed (edited, or moved)",
                    ChainProblem::Missing => "the row is missing (deleted)",
                    ChainProblem::Truncated => "the rows from here to the last seal are missing",
                    ChainProblem::OtherKey => "the chain was sealed with another SIGRA_SECRET_KEY",
                };
                let event = broken
                    .event_id
                    .map(|id| format!(" (event {id})"))
                    .unwrap_or_default();
                anyhow::bail!(
                    "the audit chain is broken at row #{}{event}: {problem}; {} rows before it verified",
                    broken.seq,
                    report.verified
                );
            }
            println!(
                "the audit chain is intact: {} rows verified, {} not sealed yet, rows through #{} removed by the retention",
                report.verified, report.unsealed, report.pruned_through
            );
        }
    }
    Ok(())
}

async fn admin(config: Config, action: AdminAction) -> anyhow::Result<()> {
    use sigra::admin::grants::GrantChange;

    let sigra = core(config).start().await?;
    let admin = sigra.admin();
    let changed = match action {
        AdminAction::Grant { email } => {
            let request = RequestContext::command("server admin grant");
            admin.grant(&email, &request).await?
        }
        AdminAction::Revoke { email } => {
            let request = RequestContext::command("server admin revoke");
            admin.revoke(&email, &request).await?
        }
        AdminAction::List => {
            for grant in admin.grants().await? {
                println!("{}\tsince {}", grant.email, grant.granted_at);
            }
            return Ok(());
        }
    };
    match changed {
        GrantChange::Done => tracing::info!("done"),
        GrantChange::Unchanged => tracing::info!("nothing to change"),
        GrantChange::NoAccount => anyhow::bail!("no account has that email address"),
    }
    Ok(())
}

async fn backfill_personal_organizations(config: Config) -> anyhow::Result<()> {
    let sigra = core(config).start().await?;
    let request = RequestContext::command("server organizations backfill-personal");
    let made = sigra.organizations().backfill_personal(&request).await?;
    tracing::info!(made, "every account has a personal organization");
    Ok(())
}

async fn doctor(config: Config, test_mail_to: Option<&str>) -> anyhow::Result<()> {
    // Connect without migrating: pending migrations are something to report, not to apply.
    let db = match Db::connect(&config.database).await {
        Ok(db) => db,
        Err(error) => {
            println!("FAIL  database: cannot be reached: {error}");
            anyhow::bail!("a check failed");
        }
    };
    let sigra = core(config).with_db(db)?;
    let checks = sigra.doctor(test_mail_to).await;
    for check in &checks {
        println!(
            "{:<5} {}: {}",
            check.verdict.as_str(),
            check.name,
            check.detail
        );
    }
    if checks.iter().any(|c| c.verdict == Verdict::Fail) {
        anyhow::bail!("a check failed");
    }
    Ok(())
}
