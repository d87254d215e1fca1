//! What every capability shares: the configuration, the database, the clock, password hashing,
//! the mail queue and its templates, the host's hooks, the rate limiter, the geolocation, and
//! the slug rules (registration makes personal organizations).
//! No capability's keys live here: each handle adds its own (see `Sigra`'s handles).

use std::sync::Arc;

use crate::clock::{Clock, Timestamp};
use crate::config::Config;
use crate::crypto::Sealer;
use crate::db::Db;
use crate::geo::GeoIp;
use crate::hooks::LifecycleHooks;
use crate::mail::{EmailTemplates, Link, Mailer};
use crate::organizations::SlugRules;
use crate::password::{BreachCheck, PasswordHasher, PasswordPolicy};
use crate::rate_limit::RateLimiter;
use crate::sessions::{SessionCache, SessionPolicy};

/// The shared plumbing under every capability handle.
pub(crate) struct Core {
    pub(crate) config: Config,
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) password_policy: PasswordPolicy,
    pub(crate) breach_check: Option<BreachCheck>,
    pub(crate) session_cache: Option<SessionCache>,
    pub(crate) mailer: Arc<dyn Mailer>,
    pub(crate) templates: Arc<dyn EmailTemplates>,
    pub(crate) hooks: Arc<dyn LifecycleHooks>,
    pub(crate) job_sealer: Sealer,
    pub(crate) rate_limiter: RateLimiter,
    pub(crate) geoip: Option<Arc<dyn GeoIp>>,
    pub(crate) slugs: SlugRules,
    /// Wakes the pages that follow sessions and changes live.
    pub(crate) commits: Arc<crate::live::Commits>,
    /// Where tests hold requests to force an interleaving.
    #[cfg(feature = "testing")]
    pub(crate) test_hooks: crate::testing::Hooks,
}

impl Core {
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Now, by the injected clock.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    pub(crate) fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    pub(crate) fn password_policy(&self) -> &PasswordPolicy {
        &self.password_policy
    }

    pub(crate) fn breach_check(&self) -> Option<&BreachCheck> {
        self.breach_check.as_ref()
    }

    pub(crate) fn session_cache(&self) -> Option<&SessionCache> {
        self.session_cache.as_ref()
    }

    pub(crate) fn session_policy(&self) -> SessionPolicy {
        SessionPolicy::new(self.config.sessions)
    }

    pub(crate) fn mailer(&self) -> &dyn Mailer {
        self.mailer.as_ref()
    }

    pub(crate) fn templates(&self) -> &dyn EmailTemplates {
        self.templates.as_ref()
    }

    pub(crate) fn hooks(&self) -> &dyn LifecycleHooks {
        self.hooks.as_ref()
    }

    pub(crate) fn job_sealer(&self) -> &Sealer {
        &self.job_sealer
    }

    pub(crate) fn rate_limiter(&self) -> &RateLimiter {
        &self.rate_limiter
    }

    pub(crate) fn geoip(&self) -> Option<&dyn GeoIp> {
        self.geoip.as_deref()
    }

    pub(crate) fn slugs(&self) -> &SlugRules {
        &self.slugs
    }

    /// A link under the configured base URL (never the `Host` header).
    pub(crate) fn url(&self, path: &str) -> Link {
        Link::new(format!(
            "{}{path}",
            self.config.base_url.as_str().trim_end_matches('/')
        ))
    }
}
