//! Sigra's hardened core: passwords, users, database sessions, the audit trail, and the Axum
//! layers and extractors that enforce them on every request.
//!
//! The host (pages, server functions, routes) calls the services through the capability handles
//! of [`Sigra`] (`sigra.auth().log_in(…)`, `sigra.mfa().complete_mfa(…)`); where the core needs
//! host behaviour it defines a trait. Nothing here knows about Leptos.

pub mod account;
pub mod admin;
pub mod api_tokens;
pub mod audit;
pub mod auth;
mod change;
pub mod clock;
pub mod config;
pub mod confirmation;
pub mod crypto;
pub mod db;
pub mod doctor;
pub mod error;
pub mod geo;
pub mod hooks;
pub mod http;
pub mod jobs;
#[cfg(feature = "jwt")]
pub mod jwt;
pub mod live;
pub mod lockout;
pub mod mail;
pub mod mfa;
pub mod oauth;
pub mod operator;
pub mod organizations;
#[cfg(feature = "passkeys")]
pub mod passkeys;
pub mod password;
mod plumbing;
pub mod rate_limit;
pub mod request;
pub mod sessions;
pub mod tokens;
pub mod users;

#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

pub use error::{Error, Result};

use account::Account;
use admin::Admin;
use api_tokens::{ApiTokens, ScopeRegistry};
use auth::Auth;
use clock::{Clock, SystemClock, Timestamp};
use config::{Config, MailTransport, SessionCacheMode};
use confirmation::{Confirmation, ConfirmationCodes};
use db::Db;
use geo::{GeoIp, MaxMindGeoIp};
use hooks::{LifecycleHooks, NoHooks};
use http::HostCookies;
use jobs::Jobs;
#[cfg(feature = "jwt")]
use jwt::{CustomClaims, Jwt, JwtKeys, NoCustomClaims};
use mail::{DevMailbox, EmailTemplates, Mailer, SmtpMailer};
use mfa::{Keyring, Mfa, MfaSecrets, TrustedBrowsers};
#[cfg(feature = "oauth")]
use oauth::ProviderClient;
use oauth::{OAuth, OAuthSecrets};
use operator::Operator;
use organizations::{Organizations, Role, RoleRegistry, SlugRules};
#[cfg(feature = "passkeys")]
use passkeys::Passkeys;
use password::{BreachCheck, PasswordHasher, PasswordPolicy, Passwords};
use plumbing::Core;
use rate_limit::RateLimiter;
use sessions::{SessionCache, Sessions};

/// The entry point: the configuration, the database, the clock, and one small handle per
/// capability (`sigra.auth()`, `.sessions()`, `.mfa()`, …). Each handle holds only what its
/// capability needs; key material stays with the capability that uses it. Cheap to clone.
#[derive(Clone)]
pub struct Sigra {
    inner: Arc<Inner>,
}

struct Inner {
    core: Arc<Core>,
    trusted_browsers: TrustedBrowsers,
    mfa_secrets: MfaSecrets,
    #[cfg(feature = "passkeys")]
    relying_party: webauthn_rs::Webauthn,
    confirmation_codes: ConfirmationCodes,
    cookies: HostCookies,
    oauth_secrets: OAuthSecrets,
    #[cfg(feature = "oauth")]
    providers: ProviderClient,
    scopes: ScopeRegistry,
    #[cfg(feature = "jwt")]
    jwt_keys: JwtKeys,
    #[cfg(feature = "jwt")]
    custom_claims: Arc<dyn CustomClaims>,
    roles: RoleRegistry,
    admin_extensions: Arc<dyn admin::extensions::AdminExtensions>,
}

/// Assembles [`Sigra`]: the configuration, plus the parts a host or a test swaps in.
pub struct SigraBuilder {
    config: Config,
    clock: Arc<dyn Clock>,
    templates: Arc<dyn EmailTemplates>,
    hooks: Arc<dyn LifecycleHooks>,
    mailer: Option<Arc<dyn Mailer>>,
    geoip: Option<Arc<dyn GeoIp>>,
    host_scopes: Vec<&'static str>,
    host_roles: Vec<Role>,
    #[cfg(feature = "jwt")]
    custom_claims: Arc<dyn CustomClaims>,
    admin_extensions: Arc<dyn admin::extensions::AdminExtensions>,
    #[cfg(feature = "testing")]
    test_hooks: testing::Hooks,
}

impl SigraBuilder {
    /// Scopes the host's own API routes check (`resource:action`), besides the built-ins.
    #[must_use]
    pub fn scopes(mut self, scopes: &[&'static str]) -> Self {
        self.host_scopes.extend_from_slice(scopes);
        self
    }

    /// Organization roles the host adds to owner, admin and member (see
    /// [`organizations::roles`]).
    #[must_use]
    pub fn organization_roles(mut self, roles: &[Role]) -> Self {
        self.host_roles.extend_from_slice(roles);
        self
    }

    /// Claims the host adds to every JWT access token.
    #[cfg(feature = "jwt")]
    #[must_use]
    pub fn jwt_claims(mut self, claims: Arc<dyn CustomClaims>) -> Self {
        self.custom_claims = claims;
        self
    }

    /// The validated settings the core will start with (for checks a host makes first).
    pub fn config(&self) -> &Config {
        &self.config
    }

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

    /// What the host adds to the admin area's account pages (nothing by default).
    #[must_use]
    pub fn admin_extensions(
        mut self,
        extensions: Arc<dyn admin::extensions::AdminExtensions>,
    ) -> Self {
        self.admin_extensions = extensions;
        self
    }

    /// Host code run inside lifecycle transactions (none by default).
    #[must_use]
    pub fn hooks(mut self, hooks: Arc<dyn LifecycleHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// Points where a test holds requests to force an interleaving (feature `testing`).
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn test_hooks(mut self, hooks: testing::Hooks) -> Self {
        self.test_hooks = hooks;
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
        let cache_sessions = config.sessions.cache != SessionCacheMode::Off;
        // The cache is exact only while it hears of every other process's commits.
        let db = if cache_sessions {
            db.watching_other_writers()
        } else {
            db
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
        let rate_limiter = RateLimiter::new(&config.rate_limit, &db, Arc::clone(&self.clock))?;
        let secret = &config.secret_key;
        let job_sealer = secret.derive_sealer("jobs");
        let confirmation_codes = ConfirmationCodes::new(secret.derive("confirmation-code"));
        let mfa_secrets = MfaSecrets::new(Keyring::new(&config.mfa), secret.derive("backup-codes"));
        let trusted_browsers =
            TrustedBrowsers::new(secret.derive("trusted-browser"), config.mfa.trust_duration);
        let cookies = HostCookies::new(secret.clone());
        // Provider tokens are sealed with the TOTP secrets' keys (and rotate with them).
        let oauth_secrets = OAuthSecrets::new(
            Keyring::new(&config.mfa),
            secret.derive_sealer("oauth-state"),
        );
        #[cfg(feature = "oauth")]
        let providers = ProviderClient::new(&config.oauth)?;
        #[cfg(feature = "passkeys")]
        let relying_party = passkeys::relying_party(&config.passkeys, &config.app_name)?;
        let scopes = ScopeRegistry::new(&self.host_scopes)?;
        let roles = RoleRegistry::new(&self.host_roles)?;
        let slugs = SlugRules::new(&config.organizations.reserved_slugs);
        #[cfg(feature = "jwt")]
        let jwt_keys = JwtKeys::new(
            secret.derive_sealer("jwt-signing-keys"),
            config.jwt.algorithm,
            config.jwt.private_key.as_ref(),
        )?;
        let core = Core {
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
            rate_limiter,
            geoip,
            slugs,
            commits: Arc::default(),
            #[cfg(feature = "testing")]
            test_hooks: self.test_hooks,
        };
        Ok(Sigra {
            inner: Arc::new(Inner {
                core: Arc::new(core),
                trusted_browsers,
                mfa_secrets,
                #[cfg(feature = "passkeys")]
                relying_party,
                confirmation_codes,
                cookies,
                oauth_secrets,
                #[cfg(feature = "oauth")]
                providers,
                scopes,
                #[cfg(feature = "jwt")]
                jwt_keys,
                #[cfg(feature = "jwt")]
                custom_claims: self.custom_claims,
                roles,
                admin_extensions: self.admin_extensions,
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
            host_scopes: Vec::new(),
            host_roles: Vec::new(),
            #[cfg(feature = "jwt")]
            custom_claims: Arc::new(NoCustomClaims),
            admin_extensions: Arc::new(admin::extensions::NoExtensions),
            #[cfg(feature = "testing")]
            test_hooks: testing::Hooks::default(),
        }
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        self.inner.core.config()
    }

    /// The database.
    pub fn db(&self) -> &Db {
        self.inner.core.db()
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> Timestamp {
        self.inner.core.now()
    }

    /// How many password hashes and verifications have run (feature `testing`): a test's proof
    /// that a path never reached the hash.
    #[cfg(feature = "testing")]
    pub fn password_hash_runs(&self) -> u64 {
        self.inner.core.hasher().runs()
    }

    /// Whether session lookups are cached in this process (feature `testing`).
    #[cfg(feature = "testing")]
    pub fn caches_sessions(&self) -> bool {
        self.inner.core.session_cache().is_some()
    }

    /// The rate limiter, for the HTTP layers.
    pub fn rate_limiter(&self) -> &RateLimiter {
        self.inner.core.rate_limiter()
    }

    /// The development mailbox, when mail goes there (never in production).
    pub fn dev_mailbox(&self) -> Option<DevMailbox> {
        let core = &self.inner.core;
        (core.config().mail.transport == MailTransport::DevMailbox
            && !core.config().is_production())
        .then(|| DevMailbox::new(core.db().clone(), core.clock()))
    }

    /// Registration, log-in and log-out, magic links and password reset.
    pub fn auth(&self) -> Auth<'_> {
        Auth {
            core: &self.inner.core,
            trusted: &self.inner.trusted_browsers,
            codes: &self.inner.confirmation_codes,
        }
    }

    /// Email confirmation by link or code.
    pub fn confirmation(&self) -> Confirmation<'_> {
        Confirmation {
            core: &self.inner.core,
            codes: &self.inner.confirmation_codes,
        }
    }

    /// Session checks, the sessions page, and sudo.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions {
            core: &self.inner.core,
        }
    }

    /// Following sessions and changes as they happen, for pages kept open.
    pub fn live(&self) -> live::Live<'_> {
        live::Live {
            core: &self.inner.core,
        }
    }

    /// The signed-in user's own changes: password, email address, and the forced change.
    pub fn account(&self) -> Account<'_> {
        Account {
            core: &self.inner.core,
        }
    }

    /// Operator actions on accounts by address (the command line's `user` and `sessions`).
    pub fn operator(&self) -> Operator<'_> {
        Operator {
            core: &self.inner.core,
            codes: &self.inner.confirmation_codes,
        }
    }

    /// New passwords: the policy and the live meter.
    pub fn passwords(&self) -> Passwords<'_> {
        Passwords {
            core: &self.inner.core,
        }
    }

    /// Second factors: TOTP, backup codes, trusted browsers, the pending log-in.
    pub fn mfa(&self) -> Mfa<'_> {
        Mfa {
            core: &self.inner.core,
            secrets: &self.inner.mfa_secrets,
            trusted: &self.inner.trusted_browsers,
            #[cfg(feature = "passkeys")]
            relying_party: &self.inner.relying_party,
        }
    }

    /// Passkeys: registration, passwordless log-in, the passkey as a second factor.
    #[cfg(feature = "passkeys")]
    pub fn passkeys(&self) -> Passkeys<'_> {
        Passkeys {
            core: &self.inner.core,
            relying_party: &self.inner.relying_party,
            trusted: &self.inner.trusted_browsers,
        }
    }

    /// Sign-in with providers (OAuth 2 / OpenID Connect) and linked identities.
    pub fn oauth(&self) -> OAuth<'_> {
        OAuth {
            core: &self.inner.core,
            #[cfg(feature = "oauth")]
            trusted: &self.inner.trusted_browsers,
            codes: &self.inner.confirmation_codes,
            secrets: &self.inner.oauth_secrets,
            #[cfg(feature = "oauth")]
            client: &self.inner.providers,
        }
    }

    /// Personal API tokens and the scope registry.
    pub fn api_tokens(&self) -> ApiTokens<'_> {
        ApiTokens {
            core: &self.inner.core,
            registry: &self.inner.scopes,
        }
    }

    /// JWT access and refresh tokens, and the API log-in.
    #[cfg(feature = "jwt")]
    pub fn jwt(&self) -> Jwt<'_> {
        Jwt {
            core: &self.inner.core,
            keys: &self.inner.jwt_keys,
            registry: &self.inner.scopes,
            custom: &self.inner.custom_claims,
            mfa: self.mfa(),
            #[cfg(feature = "passkeys")]
            passkeys: self.passkeys(),
        }
    }

    /// The admin area: platform admin grants and the views of the accounts.
    pub fn admin(&self) -> Admin<'_> {
        Admin {
            core: &self.inner.core,
            roles: &self.inner.roles,
            extensions: self.inner.admin_extensions.as_ref(),
        }
    }

    /// Organizations, their members and invitations.
    pub fn organizations(&self) -> Organizations<'_> {
        Organizations {
            core: &self.inner.core,
            roles: &self.inner.roles,
        }
    }

    /// The tamper-evident audit chain: sealing and verifying.
    pub fn audit_chain(&self) -> crate::audit::chain::AuditChain<'_> {
        crate::audit::chain::AuditChain {
            core: &self.inner.core,
        }
    }

    /// The durable job queue and its runner.
    pub fn jobs(&self) -> Jobs<'_> {
        Jobs {
            core: &self.inner.core,
        }
    }

    /// Sealed and signed `__Host-` cookies for the host's own short-lived state.
    pub fn cookies(&self) -> &HostCookies {
        &self.inner.cookies
    }
}

impl std::fmt::Debug for Sigra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sigra").finish_non_exhaustive()
    }
}
