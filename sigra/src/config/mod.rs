//! One typed configuration, read once at start-up from an optional TOML file (`SIGRA_CONFIG`)
//! and `SIGRA_*` environment variables, and validated before the socket opens. Every problem is
//! reported together, each naming the variable or file key to fix.

mod sources;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::crypto::SecretKey;
use sources::{Reader, Setting};

/// Development or production. Production refuses weak or missing settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// Local work: generated secrets, an http base URL, the dev mailbox.
    Development,
    /// A deployment: real secrets, https, HSTS, JSON logs.
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for a log pipeline.
    Json,
}

/// Everything the core needs, validated.
#[derive(Clone, Debug)]
pub struct Config {
    /// Development or production.
    pub environment: Environment,
    /// The product name shown in pages and used as a password context word.
    pub app_name: String,
    /// The public origin. Links and the CSRF origin check come from here, never from `Host`.
    pub base_url: Url,
    /// Database connection.
    pub database: DatabaseConfig,
    /// The root secret for signed values.
    pub secret_key: SecretKey,
    /// Session lifetimes.
    pub sessions: SessionConfig,
    /// Password policy and hashing.
    pub passwords: PasswordConfig,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// One-time email tokens: lifetimes and limits.
    pub tokens: TokenConfig,
    /// Whether unconfirmed accounts may use the app.
    pub confirmation: ConfirmationMode,
    /// The background job runner.
    pub jobs: JobsConfig,
    /// Account lockout.
    pub lockout: crate::lockout::LockoutPolicy,
    /// Rate limits and proxies.
    pub rate_limit: RateLimitConfig,
    /// How long a password re-entry unlocks sensitive actions.
    pub sudo_timeout: Duration,
    /// A MaxMind City database for session locations (off when absent).
    pub geoip_database: Option<PathBuf>,
    /// Whether a log-in from an address none of the user's sessions used is mailed to them.
    pub notify_new_ip: bool,
    /// Who may read `/metrics`: anyone in development; with this bearer token in production
    /// (absent: not served in production).
    pub metrics_token: Option<SecretText>,
    /// Second factors.
    pub mfa: MfaConfig,
    /// Passkeys (WebAuthn).
    pub passkeys: PasskeyConfig,
    /// Log line format.
    pub log_format: LogFormat,
    /// Things the operator should hear about once logging is up (such as generated secrets).
    pub notices: Vec<String>,
}

/// Database connection settings.
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://...`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
}

/// Session lifetimes (DESIGN §6).
#[derive(Clone, Copy, Debug)]
pub struct SessionConfig {
    /// A standard session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A standard session ends this long after log-in, however active.
    pub absolute_timeout: Duration,
    /// Lifetime of a "remember me" session.
    pub remember_me: Duration,
    /// Last-seen is written at most this often, to keep reads from becoming writes.
    pub touch_interval: Duration,
    /// Whether session lookups are cached in memory (see `sessions::cache`).
    pub cache: SessionCacheMode,
}

/// When to cache session lookups in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionCacheMode {
    /// On for SQLite (one process), off for PostgreSQL (several processes may write).
    Auto,
    /// Always: only correct when this is the only process writing to the database.
    On,
    /// Never: every request reads its session from the database.
    Off,
}

/// Password policy and hashing settings.
#[derive(Clone, Debug)]
pub struct PasswordConfig {
    /// Fewest characters (Unicode code points) a new password may have.
    pub min_length: usize,
    /// Most characters a password may have.
    pub max_length: usize,
    /// Argon2id parameters for new hashes; existing hashes with others are upgraded at log-in.
    pub argon2: argon2::Params,
    /// Hashes computed at once; further requests queue.
    pub hashing_concurrency: usize,
    /// How long a request waits for a hashing slot before it gets "busy".
    pub hashing_queue_timeout: Duration,
    /// A Pwned Passwords compatible range endpoint (`…/range/`), queried with the first five
    /// hex digits of the SHA-1 (k-anonymity). Off when absent.
    pub breach_check_url: Option<Url>,
    /// How long the breach check may take; past it the password is accepted (fail open).
    pub breach_check_timeout: Duration,
}

/// Outgoing mail settings.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// How mail leaves.
    pub transport: MailTransport,
    /// The sender, `Name <address>`.
    pub from: String,
    /// The SMTP server, when the transport is SMTP.
    pub smtp: Option<SmtpConfig>,
    /// Mails of one kind sent to one address per window, at most (resends, reset and magic
    /// link requests); further requests get the same answer and send nothing.
    pub per_email_limit: u32,
    /// The window of that limit.
    pub per_email_window: Duration,
}

/// How mail leaves the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// Stored in the database and shown at `/dev/mailbox` (development only).
    DevMailbox,
    /// Sent through an SMTP server.
    Smtp,
}

/// An SMTP server.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// Host name.
    pub host: String,
    /// Port (587 for STARTTLS, 465 for TLS by default).
    pub port: u16,
    /// Transport security.
    pub security: SmtpSecurity,
    /// User name and password, if the server wants them.
    pub credentials: Option<(String, SecretText)>,
    /// How long one delivery may take.
    pub timeout: Duration,
}

/// SMTP transport security.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required, not opportunistic).
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: a local relay or a test sink only.
    None,
}

/// A secret setting: its `Debug` shows nothing.
#[derive(Clone)]
pub struct SecretText(String);

impl SecretText {
    /// The value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Lifetimes and limits of one-time email tokens.
#[derive(Clone, Copy, Debug)]
pub struct TokenConfig {
    /// Email confirmation (link and code).
    pub confirm_ttl: Duration,
    /// Password reset.
    pub reset_ttl: Duration,
    /// Magic-link log-in.
    pub magic_link_ttl: Duration,
    /// Email change confirmation.
    pub email_change_ttl: Duration,
    /// Wrong confirmation codes accepted before the code is dead.
    pub code_attempts: u32,
}

/// Whether an unconfirmed account may use the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfirmationMode {
    /// Yes, with a banner asking to confirm.
    AllowWithBanner,
    /// No: log-in is refused until the address is confirmed.
    Block,
}

/// The background job runner.
#[derive(Clone, Copy, Debug)]
pub struct JobsConfig {
    /// Attempts before a job is given up (and its failure recorded).
    pub max_attempts: u32,
    /// How often an idle runner looks for due jobs.
    pub poll_interval: Duration,
    /// How long a claimed job stays claimed; a runner that dies loses it after this.
    pub lease: Duration,
    /// How often expired sessions and tokens are deleted.
    pub cleanup_interval: Duration,
    /// Whether the server process runs the job runner (turn off for web-only processes when
    /// another process runs `server work`).
    pub run_in_process: bool,
}

/// Second-factor settings.
#[derive(Clone, Debug)]
pub struct MfaConfig {
    /// Whether every account must enrol a second factor (pages send it to enrol until done).
    pub required: bool,
    /// AEAD keys for TOTP secrets, newest first, by id. The first seals; all open.
    pub encryption_keys: Vec<(String, [u8; 32])>,
    /// How long "trust this browser" lasts.
    pub trust_duration: Duration,
    /// Wrong second factors in a row that lock the second-factor step.
    pub lockout_threshold: u32,
    /// How long that lock lasts.
    pub lockout_duration: Duration,
}

/// What to do when a passkey's signature counter does not move forward (a possible clone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignCountPolicy {
    /// Accept, keep the higher count, and record it.
    Warn,
    /// Refuse this use; the user can log in another way.
    RequireReauth,
    /// Delete the passkey and refuse.
    Revoke,
}

impl SignCountPolicy {
    /// The configured name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "warn",
            Self::RequireReauth => "require_reauth",
            Self::Revoke => "revoke",
        }
    }
}

/// Passkey settings.
#[derive(Clone, Debug)]
pub struct PasskeyConfig {
    /// The relying party id: the site's domain (defaults to the base URL's host).
    pub rp_id: String,
    /// The origin browsers run ceremonies from (defaults to the base URL's origin).
    pub origin: Url,
    /// What a counter that fails to move forward does.
    pub sign_count_policy: SignCountPolicy,
    /// Passkeys one account may hold.
    pub max_per_user: u32,
}

/// Where rate-limit counters live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitBackend {
    /// In this process's memory: right for one process.
    Memory,
    /// In the database, shared by every process.
    Database,
}

/// Request rate limits.
#[derive(Clone, Debug)]
pub struct RateLimitConfig {
    /// Where counters live (`auto`: memory for SQLite, the database for PostgreSQL).
    pub backend: RateLimitBackend,
    /// Guest auth form posts allowed per client address per window.
    pub auth_limit: u32,
    /// The window of that limit.
    pub auth_window: Duration,
    /// Proxies whose `X-Forwarded-For` is believed. Empty: the socket peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// The settings could not be used; each line names what to fix.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the configuration has {} problem(s):",
            self.problems.len()
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

#[rustfmt::skip]
const SETTINGS: &[Setting] = &[
    Setting { key: "env", aliases: &[] },
    Setting { key: "app_name", aliases: &[] },
    Setting { key: "base_url", aliases: &[] },
    Setting { key: "database.url", aliases: &["DATABASE_URL"] },
    Setting { key: "database.max_connections", aliases: &[] },
    Setting { key: "secret_key", aliases: &[] },
    Setting { key: "session.idle_timeout", aliases: &[] },
    Setting { key: "session.absolute_timeout", aliases: &[] },
    Setting { key: "session.remember_me", aliases: &[] },
    Setting { key: "session.touch_interval", aliases: &[] },
    Setting { key: "session.cache", aliases: &[] },
    Setting { key: "password.min_length", aliases: &[] },
    Setting { key: "password.max_length", aliases: &[] },
    Setting { key: "password.argon2_memory_kib", aliases: &[] },
    Setting { key: "password.argon2_iterations", aliases: &[] },
    Setting { key: "password.argon2_parallelism", aliases: &[] },
    Setting { key: "password.hashing_concurrency", aliases: &[] },
    Setting { key: "password.hashing_queue_timeout", aliases: &[] },
    Setting { key: "log.format", aliases: &[] },
    Setting { key: "lockout.threshold", aliases: &[] },
    Setting { key: "lockout.duration", aliases: &[] },
    Setting { key: "lockout.max_duration", aliases: &[] },
    Setting { key: "rate_limit.backend", aliases: &[] },
    Setting { key: "rate_limit.auth_limit", aliases: &[] },
    Setting { key: "rate_limit.auth_window", aliases: &[] },
    Setting { key: "http.trusted_proxies", aliases: &[] },
    Setting { key: "sudo.timeout", aliases: &[] },
    Setting { key: "geoip.database", aliases: &[] },
    Setting { key: "notify.new_ip", aliases: &[] },
    Setting { key: "metrics.token", aliases: &[] },
    Setting { key: "mfa.required", aliases: &[] },
    Setting { key: "mfa.encryption_keys", aliases: &[] },
    Setting { key: "mfa.trust_duration", aliases: &[] },
    Setting { key: "mfa.lockout_threshold", aliases: &[] },
    Setting { key: "mfa.lockout_duration", aliases: &[] },
    Setting { key: "passkeys.rp_id", aliases: &[] },
    Setting { key: "passkeys.origin", aliases: &[] },
    Setting { key: "passkeys.sign_count_policy", aliases: &[] },
    Setting { key: "passkeys.max_per_user", aliases: &[] },
    Setting { key: "mail.transport", aliases: &[] },
    Setting { key: "mail.from", aliases: &[] },
    Setting { key: "mail.per_email_limit", aliases: &[] },
    Setting { key: "mail.per_email_window", aliases: &[] },
    Setting { key: "smtp.host", aliases: &[] },
    Setting { key: "smtp.port", aliases: &[] },
    Setting { key: "smtp.security", aliases: &[] },
    Setting { key: "smtp.username", aliases: &[] },
    Setting { key: "smtp.password", aliases: &[] },
    Setting { key: "smtp.timeout", aliases: &[] },
    Setting { key: "jobs.max_attempts", aliases: &[] },
    Setting { key: "jobs.poll_interval", aliases: &[] },
    Setting { key: "jobs.lease", aliases: &[] },
    Setting { key: "jobs.cleanup_interval", aliases: &[] },
    Setting { key: "jobs.run_in_process", aliases: &[] },
    Setting { key: "tokens.confirm_ttl", aliases: &[] },
    Setting { key: "tokens.reset_ttl", aliases: &[] },
    Setting { key: "tokens.magic_link_ttl", aliases: &[] },
    Setting { key: "tokens.email_change_ttl", aliases: &[] },
    Setting { key: "confirmation.mode", aliases: &[] },
    Setting { key: "confirmation.code_attempts", aliases: &[] },
    Setting { key: "password.breach_check_url", aliases: &[] },
    Setting { key: "password.breach_check_timeout", aliases: &[] },
];

/// Where a development secret is kept between runs, so sessions survive a restart.
const DEV_SECRET_FILE: &str = "data/dev-secret-key";

impl Config {
    /// Reads the process environment and the file named by `SIGRA_CONFIG`, if any.
    ///
    /// # Errors
    /// Every unreadable, unknown or invalid setting, together.
    pub fn load() -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = match env.get("SIGRA_CONFIG") {
            None => None,
            Some(path) => Some(read_toml(Path::new(path))?),
        };
        Self::from_sources(file.as_ref(), &env, Some(Path::new(DEV_SECRET_FILE)))
    }

    /// Builds a config from explicit sources. `dev_secret_file` is where a development secret
    /// is read from or saved to when none is configured; `None` keeps it in memory only.
    ///
    /// # Errors
    /// Every unreadable, unknown or invalid setting, together.
    pub fn from_sources(
        file: Option<&toml::Table>,
        env: &BTreeMap<String, String>,
        dev_secret_file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let mut r = Reader::new(SETTINGS, file, env);
        let mut notices = Vec::new();

        let environment = r.get(
            "env",
            Environment::Development,
            "development or production",
            |t| match t {
                "development" | "dev" => Some(Environment::Development),
                "production" | "prod" => Some(Environment::Production),
                _ => None,
            },
        );
        let production = environment == Environment::Production;

        let app_name = r.text("app_name", "Sigra");
        let base_url = match r.raw("base_url") {
            None if production => {
                r.problems.push(
                    "SIGRA_BASE_URL is required in production (the public https origin, such as https://auth.example.com)"
                        .to_owned(),
                );
                default_base_url()
            }
            None => default_base_url(),
            Some((text, from)) => match Url::parse(text) {
                Ok(url) if url.host().is_some() && matches!(url.scheme(), "http" | "https") => {
                    if production && url.scheme() != "https" {
                        r.problems.push(format!(
                            "{from} must be an https URL in production, got {text:?}"
                        ));
                    }
                    url
                }
                _ => {
                    let problem = format!("{from} should be an absolute http(s) URL, got {text:?}");
                    r.problems.push(problem);
                    default_base_url()
                }
            },
        };

        let database = DatabaseConfig {
            url: r.text("database.url", "sqlite://data/sigra.db"),
            max_connections: r.number("database.max_connections", 10),
        };
        if !(database.url.starts_with("sqlite:")
            || database.url.starts_with("postgres://")
            || database.url.starts_with("postgresql://"))
        {
            r.problems.push(format!(
                "{} should be a sqlite:// or postgres:// URL",
                r.source("database.url", "DATABASE_URL")
            ));
        }
        if database.max_connections == 0 {
            r.problems
                .push("SIGRA_DATABASE_MAX_CONNECTIONS must be at least 1".to_owned());
        }

        let secret_key = match r.raw("secret_key") {
            Some((text, from)) => match SecretKey::parse(text) {
                Some(key) => Some(key),
                None => {
                    r.problems.push(format!(
                        "{from} must be at least 32 random bytes in base64 (generate one with `server generate-secret`)"
                    ));
                    None
                }
            },
            None if production => {
                r.problems.push(
                    "SIGRA_SECRET_KEY is required in production (generate one with `server generate-secret`)".to_owned(),
                );
                None
            }
            None => match dev_secret(dev_secret_file) {
                Ok((key, notice)) => {
                    notices.push(notice);
                    Some(key)
                }
                Err(problem) => {
                    r.problems.push(problem);
                    None
                }
            },
        };

        let sessions = SessionConfig {
            idle_timeout: r.duration("session.idle_timeout", "30m"),
            absolute_timeout: r.duration("session.absolute_timeout", "24h"),
            remember_me: r.duration("session.remember_me", "30d"),
            touch_interval: r.duration("session.touch_interval", "5m"),
            cache: r.get(
                "session.cache",
                SessionCacheMode::Auto,
                "auto, on or off",
                |t| match t {
                    "auto" => Some(SessionCacheMode::Auto),
                    "on" => Some(SessionCacheMode::On),
                    "off" => Some(SessionCacheMode::Off),
                    _ => None,
                },
            ),
        };
        if sessions.idle_timeout.is_zero()
            || sessions.absolute_timeout.is_zero()
            || sessions.remember_me.is_zero()
        {
            r.problems
                .push("session timeouts must be longer than zero".to_owned());
        }
        if sessions.idle_timeout > sessions.absolute_timeout {
            r.problems.push(
                "SIGRA_SESSION_IDLE_TIMEOUT must not exceed SIGRA_SESSION_ABSOLUTE_TIMEOUT"
                    .to_owned(),
            );
        }
        if sessions.touch_interval >= sessions.idle_timeout {
            r.problems.push(
                "SIGRA_SESSION_TOUCH_INTERVAL must be shorter than SIGRA_SESSION_IDLE_TIMEOUT"
                    .to_owned(),
            );
        }

        let passwords = read_passwords(&mut r);

        let mail = read_mail(&mut r, production, &app_name);
        let tokens = TokenConfig {
            confirm_ttl: r.duration("tokens.confirm_ttl", "48h"),
            reset_ttl: r.duration("tokens.reset_ttl", "1h"),
            magic_link_ttl: r.duration("tokens.magic_link_ttl", "10m"),
            email_change_ttl: r.duration("tokens.email_change_ttl", "24h"),
            code_attempts: r.number("confirmation.code_attempts", 5),
        };
        let confirmation = r.get(
            "confirmation.mode",
            ConfirmationMode::AllowWithBanner,
            "allow_with_banner or block",
            |t| match t {
                "allow_with_banner" => Some(ConfirmationMode::AllowWithBanner),
                "block" => Some(ConfirmationMode::Block),
                _ => None,
            },
        );
        let jobs = JobsConfig {
            max_attempts: r.number("jobs.max_attempts", 8),
            poll_interval: r.duration("jobs.poll_interval", "1s"),
            lease: r.duration("jobs.lease", "5m"),
            cleanup_interval: r.duration("jobs.cleanup_interval", "1h"),
            run_in_process: r.get("jobs.run_in_process", true, "true or false", |t| {
                t.parse().ok()
            }),
        };
        if jobs.max_attempts == 0 || jobs.lease.is_zero() || jobs.poll_interval.is_zero() {
            r.problems
                .push("SIGRA_JOBS_* values must be greater than zero".to_owned());
        }

        let lockout = crate::lockout::LockoutPolicy {
            threshold: r.number("lockout.threshold", 5),
            duration: r.duration("lockout.duration", "15m"),
            max_duration: r.duration("lockout.max_duration", "24h"),
        };
        if lockout.threshold == 0 || lockout.threshold > 100 {
            r.problems.push(
                "SIGRA_LOCKOUT_THRESHOLD must be between 1 and 100 (NIST SP 800-63B)".to_owned(),
            );
        }
        let rate_limit = read_rate_limit(&mut r, &database.url);
        let sudo_timeout = r.duration("sudo.timeout", "5m");
        let geoip_database = match r.text("geoip.database", "") {
            path if path.is_empty() => None,
            path => {
                if !Path::new(&path).is_file() {
                    r.problems.push(format!(
                        "SIGRA_GEOIP_DATABASE names {path}, which is not a readable file"
                    ));
                }
                Some(PathBuf::from(path))
            }
        };
        let notify_new_ip = r.get("notify.new_ip", true, "true or false", |t| t.parse().ok());
        let metrics_token = match r.text("metrics.token", "") {
            token if token.is_empty() => None,
            token if token.len() < 16 => {
                r.problems
                    .push("SIGRA_METRICS_TOKEN must be at least 16 characters".to_owned());
                None
            }
            token => Some(SecretText(token)),
        };

        let mfa = read_mfa(&mut r, secret_key.as_ref());
        let passkeys = read_passkeys(&mut r, &base_url);

        let log_format = r.get(
            "log.format",
            if production {
                LogFormat::Json
            } else {
                LogFormat::Pretty
            },
            "json or pretty",
            |t| match t {
                "json" => Some(LogFormat::Json),
                "pretty" => Some(LogFormat::Pretty),
                _ => None,
            },
        );

        match (secret_key, r.problems.is_empty()) {
            (Some(secret_key), true) => Ok(Config {
                environment,
                app_name,
                base_url,
                database,
                secret_key,
                sessions,
                passwords,
                mail,
                tokens,
                confirmation,
                jobs,
                lockout,
                rate_limit,
                sudo_timeout,
                geoip_database,
                notify_new_ip,
                metrics_token,
                mfa,
                passkeys,
                log_format,
                notices,
            }),
            _ => Err(ConfigError {
                problems: r.problems,
            }),
        }
    }

    /// Whether this is a production deployment.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// The origin of the base URL (`https://auth.example.com`), as browsers send it in `Origin`.
    pub fn origin(&self) -> String {
        self.base_url.origin().ascii_serialization()
    }
}

fn default_base_url() -> Url {
    // A literal known to parse; `Url::parse` cannot fail on it.
    Url::parse("http://localhost:3000").unwrap_or_else(|_| unreachable_url())
}

#[cold]
fn unreachable_url() -> Url {
    #[allow(clippy::panic)]
    {
        panic!("a constant URL failed to parse")
    }
}

fn read_passwords(r: &mut Reader) -> PasswordConfig {
    let min_length = r.number("password.min_length", 15_usize);
    let max_length = r.number("password.max_length", 256_usize);
    if min_length < 8 {
        r.problems
            .push("SIGRA_PASSWORD_MIN_LENGTH must be at least 8 (NIST SP 800-63B)".to_owned());
    }
    if !(64..=1024).contains(&max_length) {
        r.problems
            .push("SIGRA_PASSWORD_MAX_LENGTH must be between 64 and 1024".to_owned());
    }
    if min_length > max_length {
        r.problems
            .push("SIGRA_PASSWORD_MIN_LENGTH must not exceed SIGRA_PASSWORD_MAX_LENGTH".to_owned());
    }
    let memory = r.number("password.argon2_memory_kib", argon2::Params::DEFAULT_M_COST);
    let iterations = r.number("password.argon2_iterations", argon2::Params::DEFAULT_T_COST);
    let parallelism = r.number(
        "password.argon2_parallelism",
        argon2::Params::DEFAULT_P_COST,
    );
    let argon2 = argon2::Params::new(memory, iterations, parallelism, None).unwrap_or_else(|e| {
        r.problems.push(format!(
            "the Argon2 parameters (SIGRA_PASSWORD_ARGON2_*) are invalid: {e}"
        ));
        argon2::Params::default()
    });
    let cores = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    let hashing_concurrency = r.number("password.hashing_concurrency", cores);
    if hashing_concurrency == 0 {
        r.problems
            .push("SIGRA_PASSWORD_HASHING_CONCURRENCY must be at least 1".to_owned());
    }
    let breach_check_url = match r.raw("password.breach_check_url") {
        None | Some(("", _)) => None,
        Some((text, from)) => match Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            _ => {
                let problem =
                    format!("{from} should be an http(s) URL ending in /range/, got {text:?}");
                r.problems.push(problem);
                None
            }
        },
    };
    PasswordConfig {
        min_length,
        max_length,
        argon2,
        hashing_concurrency: hashing_concurrency.max(1),
        hashing_queue_timeout: r.duration("password.hashing_queue_timeout", "10s"),
        breach_check_url,
        breach_check_timeout: r.duration("password.breach_check_timeout", "5s"),
    }
}

fn read_mfa(r: &mut Reader, secret_key: Option<&SecretKey>) -> MfaConfig {
    let derived = || secret_key.map(|key| key.derive_key_bytes("totp-secrets"));
    let mut encryption_keys = Vec::new();
    let text = r.text("mfa.encryption_keys", "");
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((id, material)) = item.split_once(':') else {
            r.problems.push(
                "SIGRA_MFA_ENCRYPTION_KEYS should be id:base64key pairs, newest first".to_owned(),
            );
            continue;
        };
        let key = if material == "derived" {
            derived()
        } else {
            SecretKey::parse(material).map(|k| k.derive_key_bytes("totp-secrets"))
        };
        match key {
            Some(key) => encryption_keys.push((id.to_owned(), key)),
            None => r.problems.push(format!("SIGRA_MFA_ENCRYPTION_KEYS: the key `{id}` must be 32+ random bytes in base64 (or `derived`)")),
        }
    }
    if encryption_keys.is_empty() {
        // No explicit keys: one derived from SIGRA_SECRET_KEY, under the id `derived`.
        if let Some(key) = derived() {
            encryption_keys.push(("derived".to_owned(), key));
        }
    }
    MfaConfig {
        required: r.get("mfa.required", false, "true or false", |t| t.parse().ok()),
        encryption_keys,
        trust_duration: r.duration("mfa.trust_duration", "30d"),
        lockout_threshold: r.number("mfa.lockout_threshold", 5),
        lockout_duration: r.duration("mfa.lockout_duration", "15m"),
    }
}

fn read_passkeys(r: &mut Reader, base_url: &Url) -> PasskeyConfig {
    let rp_id = r.text("passkeys.rp_id", base_url.host_str().unwrap_or("localhost"));
    let origin_text = r.text("passkeys.origin", &base_url.origin().ascii_serialization());
    let origin = match Url::parse(&origin_text) {
        Ok(origin) => origin,
        Err(_) => {
            r.problems.push(format!(
                "SIGRA_PASSKEYS_ORIGIN should be an origin such as https://auth.example.com, got {origin_text:?}"
            ));
            base_url.clone()
        }
    };
    let host = origin.host_str().unwrap_or_default();
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        r.problems.push(format!(
            "SIGRA_PASSKEYS_RP_ID ({rp_id}) must be the origin's host ({host}) or a parent domain of it"
        ));
    }
    PasskeyConfig {
        rp_id,
        origin,
        sign_count_policy: r.get(
            "passkeys.sign_count_policy",
            SignCountPolicy::Warn,
            "warn, require_reauth or revoke",
            |t| match t {
                "warn" => Some(SignCountPolicy::Warn),
                "require_reauth" => Some(SignCountPolicy::RequireReauth),
                "revoke" => Some(SignCountPolicy::Revoke),
                _ => None,
            },
        ),
        max_per_user: r.number("passkeys.max_per_user", 10),
    }
}

fn read_rate_limit(r: &mut Reader, database_url: &str) -> RateLimitConfig {
    let shared = if database_url.starts_with("sqlite:") {
        RateLimitBackend::Memory
    } else {
        RateLimitBackend::Database
    };
    let backend = r.get(
        "rate_limit.backend",
        shared,
        "auto, memory or database",
        |t| match t {
            "auto" => Some(shared),
            "memory" => Some(RateLimitBackend::Memory),
            "database" => Some(RateLimitBackend::Database),
            _ => None,
        },
    );
    let proxies_text = r.text("http.trusted_proxies", "");
    let mut trusted_proxies = Vec::new();
    for item in proxies_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let parsed = item
            .parse::<ipnet::IpNet>()
            .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
        match parsed {
            Ok(net) => trusted_proxies.push(net),
            Err(_) => r.problems.push(format!(
                "SIGRA_HTTP_TRUSTED_PROXIES has {item:?}, which is not an address or CIDR range"
            )),
        }
    }
    RateLimitConfig {
        backend,
        auth_limit: r.number("rate_limit.auth_limit", 10),
        auth_window: r.duration("rate_limit.auth_window", "1m"),
        trusted_proxies,
    }
}

fn read_mail(r: &mut Reader, production: bool, app_name: &str) -> MailConfig {
    let transport = r.get(
        "mail.transport",
        if production {
            MailTransport::Smtp
        } else {
            MailTransport::DevMailbox
        },
        "dev_mailbox or smtp",
        |t| match t {
            "dev_mailbox" => Some(MailTransport::DevMailbox),
            "smtp" => Some(MailTransport::Smtp),
            _ => None,
        },
    );
    if production && transport == MailTransport::DevMailbox {
        r.problems.push(
            "SIGRA_MAIL_TRANSPORT=dev_mailbox is for development; use smtp in production"
                .to_owned(),
        );
    }
    let given = r
        .raw("mail.from")
        .map(|(text, from)| (text.to_owned(), from.to_owned()));
    let from = match given {
        Some((text, from)) => {
            if text.parse::<lettre::message::Mailbox>().is_err() {
                r.problems.push(format!(
                    "{from} should be an address such as \"Acme <no-reply@acme.example>\""
                ));
            }
            text
        }
        None => {
            if production {
                r.problems.push("SIGRA_MAIL_FROM is required in production (such as \"Acme <no-reply@acme.example>\")".to_owned());
            }
            format!("{app_name} <no-reply@localhost>")
        }
    };
    let smtp = (transport == MailTransport::Smtp).then(|| read_smtp(r));
    MailConfig {
        transport,
        from,
        smtp,
        per_email_limit: r.number("mail.per_email_limit", 3),
        per_email_window: r.duration("mail.per_email_window", "15m"),
    }
}

fn read_smtp(r: &mut Reader) -> SmtpConfig {
    let host = r.text("smtp.host", "");
    if host.is_empty() {
        r.problems
            .push("SIGRA_SMTP_HOST is required when SIGRA_MAIL_TRANSPORT=smtp".to_owned());
    }
    let security = r.get(
        "smtp.security",
        SmtpSecurity::StartTls,
        "starttls, tls or none",
        |t| match t {
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" => Some(SmtpSecurity::Tls),
            "none" => Some(SmtpSecurity::None),
            _ => None,
        },
    );
    let default_port = if security == SmtpSecurity::Tls {
        465
    } else {
        587
    };
    let username = r.text("smtp.username", "");
    let password = r.text("smtp.password", "");
    SmtpConfig {
        host,
        port: r.number("smtp.port", default_port),
        security,
        credentials: (!username.is_empty()).then_some((username, SecretText(password))),
        timeout: r.duration("smtp.timeout", "20s"),
    }
}

fn read_toml(path: &Path) -> Result<toml::Table, ConfigError> {
    let problem = |what: String| ConfigError {
        problems: vec![what],
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        problem(format!(
            "SIGRA_CONFIG names {} but it cannot be read: {e}",
            path.display()
        ))
    })?;
    text.parse::<toml::Table>()
        .map_err(|e| problem(format!("{} is not valid TOML: {e}", path.display())))
}

/// Reads the development secret, or generates and saves one. Returns the notice to log.
fn dev_secret(file: Option<&Path>) -> Result<(SecretKey, String), String> {
    let Some(path) = file else {
        let key =
            SecretKey::parse(&SecretKey::generate_text()).ok_or("could not generate a secret")?;
        return Ok((
            key,
            "development mode: generated a secret key for this run only".to_owned(),
        ));
    };
    if let Ok(text) = std::fs::read_to_string(path) {
        if let Some(key) = SecretKey::parse(&text) {
            return Ok((
                key,
                format!(
                    "development mode: using the generated secret key in {}",
                    path.display()
                ),
            ));
        }
    }
    let text = SecretKey::generate_text();
    let saved = save_private(path, &text);
    let key = SecretKey::parse(&text).ok_or("could not generate a secret")?;
    let notice = match saved {
        Ok(()) => format!(
            "development mode: generated a secret key and saved it to {} (set SIGRA_SECRET_KEY in production)",
            path.display()
        ),
        Err(e) => format!("development mode: generated a secret key for this run only ({} not writable: {e})", path.display()),
    };
    Ok((key, notice))
}

fn save_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    use std::io::Write as _;
    options
        .open(PathBuf::from(path))?
        .write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn development_defaults_follow_the_design() {
        let config = Config::from_sources(None, &env(&[]), None).expect("defaults are valid");
        assert_eq!(config.environment, Environment::Development);
        assert_eq!(config.sessions.idle_timeout, Duration::from_secs(30 * 60));
        assert_eq!(
            config.sessions.absolute_timeout,
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            config.sessions.remember_me,
            Duration::from_secs(30 * 24 * 3600)
        );
        assert_eq!(config.passwords.min_length, 15);
        assert_eq!(config.passwords.argon2.m_cost(), 19_456);
        assert_eq!(config.passwords.argon2.t_cost(), 2);
        assert_eq!(config.passwords.argon2.p_cost(), 1);
        assert_eq!(config.database.url, "sqlite://data/sigra.db");
        assert!(config
            .notices
            .iter()
            .any(|n| n.contains("generated a secret key")));
    }

    #[test]
    fn mfa_keys_are_read_newest_first_and_bad_ones_are_named() {
        let key = SecretKey::generate_text();
        let config = Config::from_sources(
            None,
            &env(&[(
                "SIGRA_MFA_ENCRYPTION_KEYS",
                &format!("k2:{key}, k1:derived"),
            )]),
            None,
        )
        .expect("valid");
        let ids: Vec<&str> = config
            .mfa
            .encryption_keys
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(ids, ["k2", "k1"]);
        assert_eq!(
            Config::from_sources(None, &env(&[]), None)
                .expect("valid")
                .mfa
                .encryption_keys[0]
                .0,
            "derived"
        );
        for bad in ["k1", "k1:short"] {
            let err = Config::from_sources(None, &env(&[("SIGRA_MFA_ENCRYPTION_KEYS", bad)]), None)
                .expect_err("must fail");
            assert!(
                err.to_string().contains("SIGRA_MFA_ENCRYPTION_KEYS"),
                "{err}"
            );
        }
    }

    #[test]
    fn production_names_every_missing_setting() {
        let err = Config::from_sources(None, &env(&[("SIGRA_ENV", "production")]), None)
            .expect_err("production without secrets must fail");
        let text = err.to_string();
        assert!(text.contains("SIGRA_SECRET_KEY is required"), "{text}");
        assert!(text.contains("SIGRA_BASE_URL is required"), "{text}");
        assert!(text.contains("SIGRA_MAIL_FROM is required"), "{text}");
        assert!(text.contains("SIGRA_SMTP_HOST is required"), "{text}");
    }

    #[test]
    fn production_refuses_http_and_short_secrets() {
        let err = Config::from_sources(
            None,
            &env(&[
                ("SIGRA_ENV", "production"),
                ("SIGRA_BASE_URL", "http://auth.example.com"),
                ("SIGRA_SECRET_KEY", "c2hvcnQ"),
            ]),
            None,
        )
        .expect_err("must fail");
        let text = err.to_string();
        assert!(text.contains("must be an https URL"), "{text}");
        assert!(text.contains("at least 32 random bytes"), "{text}");
    }

    #[test]
    fn production_starts_with_real_settings() {
        let secret = SecretKey::generate_text();
        let config = Config::from_sources(
            None,
            &env(&[
                ("SIGRA_ENV", "production"),
                ("SIGRA_BASE_URL", "https://auth.example.com"),
                ("SIGRA_SECRET_KEY", &secret),
                ("SIGRA_MAIL_FROM", "Acme <no-reply@acme.example>"),
                ("SIGRA_SMTP_HOST", "smtp.acme.example"),
            ]),
            None,
        )
        .expect("valid production config");
        assert!(config.is_production());
        assert_eq!(config.mail.transport, MailTransport::Smtp);
        let smtp = config.mail.smtp.as_ref().expect("smtp settings");
        assert_eq!((smtp.port, smtp.security), (587, SmtpSecurity::StartTls));
        assert_eq!(config.origin(), "https://auth.example.com");
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn environment_overrides_the_file_and_bad_values_are_all_reported() {
        let file: toml::Table = r#"
            app_name = "Acme"
            [session]
            idle_timeout = "10m"
            [password]
            min_length = 20
        "#
        .parse()
        .expect("valid toml");
        let config = Config::from_sources(
            Some(&file),
            &env(&[("SIGRA_PASSWORD_MIN_LENGTH", "16")]),
            None,
        )
        .expect("valid");
        assert_eq!(config.app_name, "Acme");
        assert_eq!(config.sessions.idle_timeout, Duration::from_secs(600));
        assert_eq!(config.passwords.min_length, 16);

        let err = Config::from_sources(
            None,
            &env(&[
                ("SIGRA_SESSION_IDLE_TIMEOUT", "soon"),
                ("SIGRA_PASSWORD_MIN_LENGTH", "4"),
                ("SIGRA_SESION_TYPO", "1"),
            ]),
            None,
        )
        .expect_err("three problems");
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err
            .to_string()
            .contains("SIGRA_SESSION_IDLE_TIMEOUT should be a duration"));
        assert!(err
            .to_string()
            .contains("unknown setting `SIGRA_SESION_TYPO`"));
    }

    #[test]
    fn the_development_mailbox_is_refused_in_production() {
        let secret = SecretKey::generate_text();
        let err = Config::from_sources(
            None,
            &env(&[
                ("SIGRA_ENV", "production"),
                ("SIGRA_BASE_URL", "https://auth.example.com"),
                ("SIGRA_SECRET_KEY", &secret),
                ("SIGRA_MAIL_FROM", "Acme <no-reply@acme.example>"),
                ("SIGRA_MAIL_TRANSPORT", "dev_mailbox"),
            ]),
            None,
        )
        .expect_err("must fail");
        assert!(err.to_string().contains("use smtp in production"), "{err}");
    }

    #[test]
    fn every_documented_knob_can_be_set() {
        let config = Config::from_sources(
            None,
            &env(&[
                ("SIGRA_SESSION_CACHE", "off"),
                ("SIGRA_RATE_LIMIT_BACKEND", "database"),
                ("SIGRA_LOCKOUT_THRESHOLD", "7"),
                ("SIGRA_SUDO_TIMEOUT", "10m"),
                ("SIGRA_JOBS_RUN_IN_PROCESS", "false"),
                ("SIGRA_CONFIRMATION_MODE", "block"),
            ]),
            None,
        )
        .expect("valid");
        assert_eq!(config.sessions.cache, SessionCacheMode::Off);
        assert_eq!(config.rate_limit.backend, RateLimitBackend::Database);
        assert_eq!(config.lockout.threshold, 7);
        assert_eq!(config.sudo_timeout, Duration::from_secs(600));
        assert!(!config.jobs.run_in_process);
        assert_eq!(config.confirmation, ConfirmationMode::Block);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let file: toml::Table = "[session]\nidle = \"5m\"".parse().expect("toml");
        let err = Config::from_sources(Some(&file), &env(&[]), None).expect_err("unknown key");
        assert!(err.to_string().contains("unknown setting `session.idle`"));
    }

    #[test]
    fn dev_secret_is_saved_and_reused() {
        let dir = std::env::temp_dir().join(format!("sigra-cfg-{}", uuid::Uuid::new_v4()));
        let file = dir.join("secret");
        let first = Config::from_sources(None, &env(&[]), Some(&file)).expect("valid");
        let second = Config::from_sources(None, &env(&[]), Some(&file)).expect("valid");
        let sign = |c: &Config| c.secret_key.derive("t").sign("m");
        assert_eq!(sign(&first), sign(&second));
        assert!(second.notices[0].contains("using the generated secret key"));
        std::fs::remove_dir_all(dir).ok();
    }
}
