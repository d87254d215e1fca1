//! `server doctor`: checks that a deployment can work, without changing it. The configuration
//! was already validated to get here; the doctor then asks the database (reachable, which
//! migrations are pending, its clock against ours), the mail transport (reachable, and a test
//! message on request), each sign-in provider that is found by discovery, and says what is
//! enabled. Nothing is migrated, queued or written.

use std::time::Duration;

use crate::config::Capability;
use crate::db::Backend;
use crate::mail::{Message, OutgoingEmail};
use crate::users::EmailAddress;
use crate::Sigra;

/// A clock further off than this from the database's makes times of codes and tokens wrong
/// (TOTP steps are 30 s, the JWT leeway at most 30 s).
const CLOCK_FAILS_AFTER: Duration = Duration::from_secs(30);
/// Further off than this is worth a look.
const CLOCK_WARNS_AFTER: Duration = Duration::from_secs(2);

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Fine.
    Ok,
    /// Works, but worth a look.
    Warn,
    /// Will not work.
    Fail,
}

impl Verdict {
    /// The word printed before the check.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
        }
    }
}

/// One check: what was looked at, how it came out, and what was seen.
#[derive(Clone, Debug)]
pub struct Check {
    /// What was checked ("database", "mail", "oauth google", …).
    pub name: String,
    /// How it came out.
    pub verdict: Verdict,
    /// What was seen, in words (never a secret).
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, verdict: Verdict, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            verdict,
            detail: detail.into(),
        }
    }
}

impl Sigra {
    /// Runs every check; `test_mail_to` also sends a test message there, at once (not through
    /// the queue), so a failure is seen here.
    pub async fn doctor(&self, test_mail_to: Option<&str>) -> Vec<Check> {
        let core = &self.inner.core;
        let config = core.config();
        let mut checks = vec![Check::new(
            "configuration",
            Verdict::Ok,
            format!(
                "{} at {}",
                if config.is_production() {
                    "production"
                } else {
                    "development"
                },
                config.base_url
            ),
        )];
        checks.extend(self.database_checks().await);
        checks.extend(self.mail_checks(test_mail_to).await);
        if config.capabilities.has(Capability::Passkeys) {
            checks.push(Check::new(
                "passkeys",
                Verdict::Ok,
                format!(
                    "relying party {} for {}",
                    config.passkeys.rp_id, config.passkeys.origin
                ),
            ));
        }
        #[cfg(feature = "oauth")]
        checks.extend(self.provider_checks().await);
        checks.push(Check::new("enabled", Verdict::Ok, self.enabled()));
        checks
    }

    /// Each provider's discovery and keys, where sign-in with providers is on.
    #[cfg(feature = "oauth")]
    async fn provider_checks(&self) -> Vec<Check> {
        let config = self.config();
        let providers = if config.capabilities.has(Capability::OAuth) {
            config.oauth.providers.as_slice()
        } else {
            &[]
        };
        let mut checks = Vec::new();
        for provider in providers {
            let name = format!("oauth {}", provider.name);
            checks.push(match self.oauth().check_provider(provider).await {
                Ok(detail) => Check::new(name, Verdict::Ok, detail),
                Err(reason) => Check::new(name, Verdict::Fail, reason),
            });
        }
        checks
    }

    async fn database_checks(&self) -> Vec<Check> {
        let db = self.inner.core.db();
        let engine = match db.backend() {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        };
        let database_now = match db.clock_millis().await {
            Ok(now) => now,
            Err(error) => {
                return vec![Check::new(
                    "database",
                    Verdict::Fail,
                    format!("{engine} cannot be reached: {error}"),
                )]
            }
        };
        let mut checks = vec![Check::new(
            "database",
            Verdict::Ok,
            format!("{engine} reachable"),
        )];
        checks.push(match db.pending_migrations().await {
            Ok(pending) if pending.is_empty() => {
                Check::new("migrations", Verdict::Ok, "every migration is applied")
            }
            Ok(pending) => Check::new(
                "migrations",
                Verdict::Warn,
                format!(
                    "pending (applied at the next start or by `server migrate`): {}",
                    pending.join(", ")
                ),
            ),
            Err(error) => Check::new("migrations", Verdict::Fail, error.to_string()),
        });
        let ours = self.inner.core.now().as_millis();
        let skew = Duration::from_millis(ours.abs_diff(database_now));
        let verdict = if skew > CLOCK_FAILS_AFTER {
            Verdict::Fail
        } else if skew > CLOCK_WARNS_AFTER {
            Verdict::Warn
        } else {
            Verdict::Ok
        };
        checks.push(Check::new(
            "clock",
            verdict,
            format!(
                "{} ms from the database's (codes and tokens allow at most 30 s)",
                skew.as_millis()
            ),
        ));
        checks
    }

    async fn mail_checks(&self, test_mail_to: Option<&str>) -> Vec<Check> {
        let core = &self.inner.core;
        let config = core.config();
        let transport = format!("{:?}", config.mail.transport).to_lowercase();
        let mut checks = vec![match core.mailer().check().await {
            Ok(()) => Check::new("mail", Verdict::Ok, format!("{transport} reachable")),
            Err(error) => Check::new(
                "mail",
                Verdict::Fail,
                format!("{transport} cannot be reached: {}", error.0),
            ),
        }];
        if let Some(to) = test_mail_to {
            let check = match EmailAddress::parse(to) {
                Err(problem) => Check::new("test mail", Verdict::Fail, problem.to_string()),
                Ok(to) => {
                    let email = OutgoingEmail {
                        from: config.mail.from.clone(),
                        to: to.to_string(),
                        content: core.templates().render(
                            &config.app_name,
                            crate::mail::Recipient::default(),
                            &Message::TestMail,
                        ),
                    };
                    match core.mailer().send(&email).await {
                        Ok(()) => Check::new("test mail", Verdict::Ok, format!("sent to {to}")),
                        Err(error) => Check::new("test mail", Verdict::Fail, error.0),
                    }
                }
            };
            checks.push(check);
        }
        checks
    }

    /// What is turned on and off, in one line.
    fn enabled(&self) -> String {
        let config = self.inner.core.config();
        let capabilities = &config.capabilities;
        let describe = |capability: Capability| match capability {
            Capability::MagicLinks => "magic links".to_owned(),
            Capability::Passkeys => "passkeys".to_owned(),
            Capability::OAuth => {
                let providers: Vec<&str> = config
                    .oauth
                    .providers
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect();
                if providers.is_empty() {
                    "sign-in providers (none configured)".to_owned()
                } else {
                    format!("sign-in providers ({})", providers.join(", "))
                }
            }
            Capability::SecondFactors if config.mfa.required => {
                "authenticator apps (required)".to_owned()
            }
            Capability::SecondFactors => "authenticator apps".to_owned(),
            Capability::Organizations => "organizations".to_owned(),
            Capability::Admin => "admin area".to_owned(),
            Capability::ApiTokens => format!("API tokens (prefix {})", config.api_tokens.prefix),
            Capability::Jwt => format!("JWT ({})", config.jwt.algorithm.as_str()),
        };
        let on: Vec<String> = std::iter::once("passwords".to_owned())
            .chain(
                Capability::ALL
                    .into_iter()
                    .filter(|c| capabilities.has(*c))
                    .map(describe),
            )
            .collect();
        let off: Vec<&str> = capabilities.off().map(Capability::name).collect();
        format!(
            "on: {}; off: {}; confirmation {:?}; session cache {:?}; rate limits in {:?}; \
             deletion after {} days ({})",
            on.join(", "),
            if off.is_empty() {
                "nothing".to_owned()
            } else {
                off.join(", ")
            },
            config.confirmation,
            config.sessions.cache,
            config.rate_limit.backend,
            config.deletion.grace_period.as_secs() / 86_400,
            config.deletion.strategy.as_str(),
        )
    }
}
