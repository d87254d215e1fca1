//! Sigra's hardened core: passwords, users, database sessions, the audit trail, and the Axum
//! layers and extractors that enforce them on every request.
//!
//! The host (pages, server functions, routes) calls the services on [`Sigra`]; where the core
//! needs host behaviour it defines a trait. Nothing here knows about Leptos.

pub mod account;
pub mod audit;
pub mod auth;
mod change;
pub mod clock;
pub mod config;
pub mod confirmation;
pub mod crypto;
pub mod db;
pub mod error;
pub mod geo;
pub mod hooks;
pub mod http;
pub mod jobs;
pub mod lockout;
pub mod mail;
pub mod mfa;
pub mod passkeys;
pub mod password;
pub mod rate_limit;
pub mod request;
pub mod sessions;
pub mod tokens;
pub mod users;

#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

pub use error::{Error, Result};

use clock::{Clock, SystemClock, Timestamp};
use config::{Config, MailTransport, SessionCacheMode};
use crypto::{Sealer, SigningKey};
use db::{Backend, Db};
use geo::{GeoIp, MaxMindGeoIp};
use hooks::{LifecycleHooks, NoHooks};
use mail::{DevMailbox, EmailTemplates, Mailer, SmtpMailer};
use mfa::Keyring;
use password::{BreachCheck, PasswordHasher, PasswordPolicy};
use rate_limit::RateLimiter;
use sessions::SessionCache;

/// The core services, sharing one database, clock and configuration. Cheap to clone.
#[derive(Clone)]
pub struct Sigra {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    db: Db,
    clock: Arc<dyn Clock>,
    hasher: PasswordHasher,
    password_policy: PasswordPolicy,
    breach_check: Option<BreachCheck>,
    session_cache: Option<SessionCache>,
    mailer: Arc<dyn Mailer>,
    templates: Arc<dyn EmailTemplates>,
    hooks: Arc<dyn LifecycleHooks>,
    job_sealer: Sealer,
    code_key: SigningKey,
    rate_limiter: RateLimiter,
    geoip: Option<Arc<dyn GeoIp>>,
    mfa_keyring: Keyring,
    backup_code_key: SigningKey,
    trust_key: SigningKey,
    relying_party: webauthn_rs::Webauthn,
}

/// Assembles [`Sigra`]: the configuration, plus the parts a host or a test swaps in.
pub struct SigraBuilder {
    config: Config,
    clock: Arc<dyn Clock>,
    templates: Arc<dyn EmailTemplates>,
    hooks: Arc<dyn LifecycleHooks>,
    mailer: Option<Arc<dyn Mailer>>,
    geoip: Option<Arc<dyn GeoIp>>,
}

impl SigraBuilder {
    /// Where client addresses are (instead of the configured MaxMind database).
    #[must_use]
    pub fn geoip(mut self, geoip: Arc<dyn GeoIp>) -> Self {
        self.geoip = Some(geoip);
        self
    }

    /// The clock every time decision reads (the system clock by default).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Host code run inside lifecycle transactions (none by default).
    #[must_use]
    pub fn hooks(mut self, hooks: Arc<dyn LifecycleHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// How mail is delivered, instead of the configured transport (tests).
    #[must_use]
    pub fn mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Connects to the database, applies pending migrations and prepares the services.
    ///
    /// # Errors
    /// The database is unreachable, a migration failed, or the mail transport is unusable.
    pub async fn start(self) -> Result<Sigra> {
        let db = Db::connect(&self.config.database).await?;
        db.migrate().await?;
        self.with_db(db)
    }

    /// Builds the services over an already migrated database.
    ///
    /// # Errors
    /// The password hasher or the mail transport could not be prepared.
    pub fn with_db(self, db: Db) -> Result<Sigra> {
        let config = self.config;
        let hasher = PasswordHasher::new(&config.passwords)?;
        let password_policy = PasswordPolicy::new(&config.passwords, &config.app_name);
        let breach_check = BreachCheck::from_config(&config.passwords)?;
        let cache_sessions = match config.sessions.cache {
            SessionCacheMode::On => true,
            SessionCacheMode::Off => false,
            SessionCacheMode::Auto => db.backend() == Backend::Sqlite,
        };
        let mailer: Arc<dyn Mailer> = match (self.mailer, config.mail.transport, &config.mail.smtp)
        {
            (Some(mailer), _, _) => mailer,
            (None, MailTransport::Smtp, Some(smtp)) => {
                Arc::new(SmtpMailer::new(smtp).map_err(|e| Error::Internal(Box::new(e)))?)
            }
            (None, _, _) => Arc::new(DevMailbox::new(db.clone(), Arc::clone(&self.clock))),
        };
        let geoip: Option<Arc<dyn GeoIp>> = match (self.geoip, &config.geoip_database) {
            (Some(geoip), _) => Some(geoip),
            (None, Some(path)) => Some(Arc::new(MaxMindGeoIp::open(path)?)),
            (None, None) => None,
        };
        let rate_limiter = RateLimiter::new(&config.rate_limit, &db, Arc::clone(&self.clock));
        let job_sealer = config.secret_key.derive_sealer("jobs");
        let code_key = config.secret_key.derive("confirmation-code");
        let mfa_keyring = Keyring::new(&config.mfa);
        let backup_code_key = config.secret_key.derive("backup-codes");
        let trust_key = config.secret_key.derive("trusted-browser");
        let relying_party = passkeys::relying_party(&config.passkeys, &config.app_name)?;
        Ok(Sigra {
            inner: Arc::new(Inner {
                config,
                db,
                clock: self.clock,
                hasher,
                password_policy,
                breach_check,
                session_cache: cache_sessions.then(SessionCache::default),
                mailer,
                templates: self.templates,
                hooks: self.hooks,
                job_sealer,
                code_key,
                rate_limiter,
                geoip,
                mfa_keyring,
                backup_code_key,
                trust_key,
                relying_party,
            }),
        })
    }
}

impl Sigra {
    /// A builder for the services over `config`, with the host's wording of mail.
    pub fn builder(config: Config, templates: Arc<dyn EmailTemplates>) -> SigraBuilder {
        SigraBuilder {
            config,
            clock: Arc::new(SystemClock),
            templates,
            hooks: Arc::new(NoHooks),
            mailer: None,
            geoip: None,
        }
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The password policy, for hosts that describe it in forms.
    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.inner.password_policy
    }

    fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    fn session_cache(&self) -> Option<&SessionCache> {
        self.inner.session_cache.as_ref()
    }

    /// The rate limiter, for the HTTP layers.
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.rate_limiter
    }

    fn geoip(&self) -> Option<&dyn GeoIp> {
        self.inner.geoip.as_deref()
    }

    fn breach_check(&self) -> Option<&BreachCheck> {
        self.inner.breach_check.as_ref()
    }

    fn mailer(&self) -> &dyn Mailer {
        self.inner.mailer.as_ref()
    }

    /// The mailer in use, for hosts that mount the development mailbox.
    pub fn dev_mailbox(&self) -> Option<DevMailbox> {
        (self.config().mail.transport == MailTransport::DevMailbox
            && !self.config().is_production())
        .then(|| DevMailbox::new(self.db().clone(), Arc::clone(&self.inner.clock)))
    }

    fn templates(&self) -> &dyn EmailTemplates {
        self.inner.templates.as_ref()
    }

    fn hooks(&self) -> &dyn LifecycleHooks {
        self.inner.hooks.as_ref()
    }

    fn job_sealer(&self) -> &Sealer {
        &self.inner.job_sealer
    }

    fn code_key(&self) -> &SigningKey {
        &self.inner.code_key
    }

    fn mfa_keyring(&self) -> &Keyring {
        &self.inner.mfa_keyring
    }

    fn backup_code_key(&self) -> &SigningKey {
        &self.inner.backup_code_key
    }

    fn trust_key(&self) -> &SigningKey {
        &self.inner.trust_key
    }

    fn relying_party(&self) -> &webauthn_rs::Webauthn {
        &self.inner.relying_party
    }

    /// A link under the configured base URL (never the `Host` header).
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.config().base_url.as_str().trim_end_matches('/')
        )
    }
}

impl std::fmt::Debug for Sigra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sigra").finish_non_exhaustive()
    }
}
