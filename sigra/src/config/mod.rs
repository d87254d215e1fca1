//! One typed configuration, read once at start-up from an optional TOML file (`SIGRA_CONFIG`)
//! and `SIGRA_*` environment variables, and validated before the socket opens. Every problem is
//! reported together, each naming the variable or file key to fix.
//!
//! Each section's type, settings and checks live in the module of its capability (`site` holds
//! those of the whole site); this module reads them in order into one `Config`.

mod api;
mod audit;
mod capabilities;
mod database;
mod deletion;
mod error;
mod jobs;
mod lockout;
mod mail;
mod mfa;
pub(crate) mod oauth;
mod organizations;
mod passkeys;
mod passwords;
mod rate_limit;
mod secret;
mod sessions;
mod site;
mod sources;
mod tokens;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::crypto::SecretKey;
use sources::{Reader, Setting};

#[cfg(feature = "jwt")]
pub use api::JwtPrivateKey;
pub use api::{ApiTokenConfig, JwtAlgorithm, JwtConfig};
pub use audit::AuditConfig;
pub use capabilities::{Capabilities, Capability};
pub use database::DatabaseConfig;
pub use deletion::{DeletionConfig, DeletionStrategy};
pub use error::{ConfigError, Expected};
pub use jobs::JobsConfig;
pub use mail::{MailConfig, MailTransport, SmtpConfig, SmtpSecurity};
pub use mfa::MfaConfig;
pub use oauth::{AppleSigning, Endpoints, OAuthConfig, ProviderConfig, ProviderKind, UserInfoMap};
pub use organizations::OrganizationConfig;
pub use passkeys::{PasskeyConfig, SignCountPolicy};
pub use passwords::PasswordConfig;
pub use rate_limit::{RateLimitBackend, RateLimitConfig, RedisConfig};
pub use secret::SecretText;
pub use sessions::{SessionCacheMode, SessionConfig};
pub use site::{Environment, LogFormat};
pub use sources::ConfigFile;
pub use tokens::{ConfirmationMode, TokenConfig};

/// Everything the core needs, validated.
#[derive(Clone, Debug)]
pub struct Config {
    /// Development or production.
    pub environment: Environment,
    /// The optional capabilities switched on.
    pub capabilities: Capabilities,
    /// The product name shown in pages and used as a password context word.
    pub app_name: String,
    /// The public origin. Links and the CSRF origin check come from here, never from `Host`.
    pub base_url: Url,
    /// Database connection.
    pub database: DatabaseConfig,
    /// The root secret for signed values. Only the core reads it: each capability gets the
    /// keys derived for its own purpose, and the host seals its cookies through
    /// `Sigra::cookies()`.
    pub(crate) secret_key: SecretKey,
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
    /// Development only: listen on a non-loopback address although the development mailbox
    /// (every mailed link) and `/metrics` are then open to that network.
    pub dev_expose_mailbox_on_network: bool,
    /// Who may read `/metrics`: anyone in development; with this bearer token in production
    /// (absent: not served in production).
    pub metrics_token: Option<SecretText>,
    /// Second factors.
    pub mfa: MfaConfig,
    /// Passkeys (WebAuthn).
    pub passkeys: PasskeyConfig,
    /// Sign-in providers (OAuth 2 / OpenID Connect).
    pub oauth: OAuthConfig,
    /// Personal API tokens.
    pub api_tokens: ApiTokenConfig,
    /// JWT access and refresh tokens.
    pub jwt: JwtConfig,
    /// Organizations: reserved slugs, slug redirects, invitations.
    pub organizations: OrganizationConfig,
    /// Account deletion.
    pub deletion: DeletionConfig,
    /// The audit trail's retention.
    pub audit: AuditConfig,
    /// Log line format.
    pub log_format: LogFormat,
    /// Things the operator should hear about once logging is up (such as generated secrets).
    pub notices: Vec<String>,
}

/// Every declared setting, by the section that reads it; any other `SIGRA_*` variable or file
/// key is an unknown setting.
const SECTIONS: &[&[Setting]] = &[
    site::SETTINGS,
    capabilities::SETTINGS,
    database::SETTINGS,
    secret::SETTINGS,
    sessions::SETTINGS,
    passwords::SETTINGS,
    mail::SETTINGS,
    tokens::SETTINGS,
    jobs::SETTINGS,
    lockout::SETTINGS,
    rate_limit::SETTINGS,
    mfa::SETTINGS,
    passkeys::SETTINGS,
    oauth::SETTINGS,
    api::SETTINGS,
    organizations::SETTINGS,
    deletion::SETTINGS,
    audit::SETTINGS,
];

impl Config {
    /// Reads the process environment and the file named by `SIGRA_CONFIG`, if any.
    ///
    /// # Errors
    /// Every unreadable, unknown or invalid setting, together.
    pub fn load() -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = match env.get("SIGRA_CONFIG") {
            None => None,
            Some(path) => Some(ConfigFile::read(Path::new(path))?),
        };
        Self::from_sources(
            file.as_ref(),
            &env,
            Some(Path::new(secret::DEV_SECRET_FILE)),
        )
    }

    /// Builds a config from explicit sources. `dev_secret_file` is where a development secret
    /// is read from or saved to when none is configured; `None` keeps it in memory only.
    ///
    /// # Errors
    /// Every unreadable, unknown or invalid setting, together.
    pub fn from_sources(
        file: Option<&ConfigFile>,
        env: &BTreeMap<String, String>,
        dev_secret_file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let mut r = Reader::new(SECTIONS, &[oauth::PROVIDERS], file, env);
        let mut notices = Vec::new();

        let environment = r.parse("env", Environment::Development);
        let production = environment == Environment::Production;
        let app_name = r.text("app_name", "Sigra");
        let base_url = site::read_base_url(&mut r, production);
        let database = DatabaseConfig::read(&mut r);
        let secret_key = secret::read_secret_key(&mut r, production, dev_secret_file, &mut notices);
        let sessions = SessionConfig::read(&mut r);
        let passwords = PasswordConfig::read(&mut r, production);
        let mail = MailConfig::read(&mut r, production, &app_name);
        let tokens = TokenConfig::read(&mut r);
        let confirmation = r.parse("confirmation.mode", ConfirmationMode::AllowWithBanner);
        let jobs = JobsConfig::read(&mut r);
        let lockout = lockout::read(&mut r, production);
        let rate_limit = RateLimitConfig::read(&mut r, &database.url);
        let sudo_timeout = r.duration("sudo.timeout", "5m");
        let geoip_database = site::read_geoip_database(&mut r);
        let notify_new_ip = r.flag("notify.new_ip", true);
        let dev_expose_mailbox_on_network = r.flag("dev.expose_mailbox_on_network", false);
        let metrics_token = site::read_metrics_token(&mut r);
        let mfa = MfaConfig::read(&mut r, secret_key.as_ref());
        let passkeys = PasskeyConfig::read(&mut r, &base_url);
        let oauth = OAuthConfig::read(&mut r, production);
        let api_tokens = ApiTokenConfig::read(&mut r);
        let jwt = JwtConfig::read(&mut r, &base_url);
        let organizations = OrganizationConfig::read(&mut r);
        let deletion = DeletionConfig::read(&mut r);
        let audit = AuditConfig::read(&mut r);
        let default_log_format = if production {
            LogFormat::Json
        } else {
            LogFormat::Pretty
        };
        let log_format = r.parse("log.format", default_log_format);
        let capabilities = Capabilities::read(&mut r);
        capabilities::check_dependencies(
            &mut r,
            &capabilities,
            mfa.required,
            organizations.personal,
        );
        notices.extend(capabilities::notices(&capabilities));

        match (secret_key, r.problems.is_empty()) {
            (Some(secret_key), true) => Ok(Config {
                environment,
                capabilities,
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
                dev_expose_mailbox_on_network,
                metrics_token,
                mfa,
                passkeys,
                oauth,
                api_tokens,
                jwt,
                organizations,
                deletion,
                audit,
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An environment of the given variables only.
    pub(in crate::config) fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A production config from the required settings plus `extra`.
    pub(in crate::config) fn production(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let secret = SecretKey::generate_text();
        let required = [
            ("SIGRA_ENV", "production"),
            ("SIGRA_BASE_URL", "https://auth.example.com"),
            ("SIGRA_SECRET_KEY", &secret),
            ("SIGRA_MAIL_FROM", "Acme <no-reply@acme.example>"),
            ("SIGRA_SMTP_HOST", "smtp.acme.example"),
        ];
        Config::from_sources(None, &env(&[&required, extra].concat()), None)
    }

    #[test]
    fn debug_output_names_no_secret() {
        let key = SecretKey::generate_text();
        let config = production(&[
            (
                "DATABASE_URL",
                "postgres://auth:db-password-canary@db.internal/auth",
            ),
            ("SIGRA_MFA_ENCRYPTION_KEYS", &format!("k1:{key}")),
            ("SIGRA_SMTP_PASSWORD", "smtp-password-canary"),
            ("SIGRA_METRICS_TOKEN", "metrics-token-canary-0123456789"),
        ])
        .expect("valid");
        let debug = format!("{config:?}");
        for secret in [
            "db-password-canary",
            "smtp-password-canary",
            "metrics-token-canary",
        ] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        let derived = config.mfa.encryption_keys[0].1;
        assert!(
            !debug.contains(format!("{:?}", &derived[..4]).trim_end_matches(']')),
            "key bytes in {debug}"
        );
        assert!(debug.contains("k1"), "the key id is shown");
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
        let config = production(&[("SIGRA_SMTP_HOST", "smtp.acme.example")])
            .expect("valid production config");
        assert!(config.is_production());
        assert_eq!(config.mail.transport, MailTransport::Smtp);
        let smtp = config.mail.smtp.as_ref().expect("smtp settings");
        assert_eq!((smtp.port, smtp.security), (587, SmtpSecurity::StartTls));
        assert_eq!(config.origin(), "https://auth.example.com");
        assert_eq!(config.log_format, LogFormat::Json);
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
}
