//! Account deletion: how long an account waits before it is deleted, and what deleting it does
//! to its row.

use std::str::FromStr;
use std::time::Duration;

use super::sources::{Reader, Setting};
use super::Expected;

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "deletion.grace_period", aliases: &[] },
    Setting { key: "deletion.strategy", aliases: &[] },
];

/// The longest grace period accepted: past a year an account is abandoned, not being deleted.
const MAX_GRACE: Duration = Duration::from_secs(365 * 24 * 3600);

/// What executing a deletion does to the account's row. Every strategy removes the account's
/// sessions, tokens, second factors, passkeys and provider identities, and gives up its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionStrategy {
    /// Keep the row, marked deleted, with the address it had in `deleted_email` for the
    /// operator's records.
    Soft,
    /// Keep the row, marked deleted, with nothing personal left in it (the audit trail keeps
    /// the id).
    Anonymise,
    /// Delete the row; rows that belong to it go with it (the audit trail keeps the id).
    Hard,
}

impl DeletionStrategy {
    /// The name in settings and audit rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Soft => "soft",
            Self::Anonymise => "anonymise",
            Self::Hard => "hard",
        }
    }
}

impl FromStr for DeletionStrategy {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "soft" => Ok(Self::Soft),
            "anonymise" | "anonymize" => Ok(Self::Anonymise),
            "hard" => Ok(Self::Hard),
            _ => Err(Expected("soft, anonymise or hard")),
        }
    }
}

/// Account deletion.
#[derive(Clone, Copy, Debug)]
pub struct DeletionConfig {
    /// How long a scheduled deletion waits, during which signing in can cancel it (zero:
    /// deleted at once).
    pub grace_period: Duration,
    /// What executing it does to the row.
    pub strategy: DeletionStrategy,
}

impl DeletionConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let config = Self {
            grace_period: r.duration("deletion.grace_period", "14d"),
            strategy: r.parse("deletion.strategy", DeletionStrategy::Soft),
        };
        if config.grace_period > MAX_GRACE {
            r.invalid("deletion.grace_period", "must be at most 365d");
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::env;
    use crate::config::Config;

    #[test]
    fn deletion_waits_fourteen_days_and_keeps_the_row_by_default() {
        let config = Config::from_sources(None, &env(&[]), None).expect("valid");
        assert_eq!(config.deletion.grace_period.as_secs(), 14 * 24 * 3600);
        assert_eq!(config.deletion.strategy.as_str(), "soft");
        let at_once = Config::from_sources(
            None,
            &env(&[
                ("SIGRA_DELETION_GRACE_PERIOD", "0s"),
                ("SIGRA_DELETION_STRATEGY", "anonymize"),
            ]),
            None,
        )
        .expect("valid");
        assert!(at_once.deletion.grace_period.is_zero());
        assert_eq!(at_once.deletion.strategy.as_str(), "anonymise");
    }

    #[test]
    fn bad_deletion_settings_name_their_variable() {
        for (name, value, says) in [
            ("SIGRA_DELETION_GRACE_PERIOD", "400d", "at most 365d"),
            (
                "SIGRA_DELETION_STRATEGY",
                "shred",
                "soft, anonymise or hard",
            ),
        ] {
            let error = Config::from_sources(None, &env(&[(name, value)]), None)
                .expect_err("must be refused")
                .to_string();
            assert!(error.contains(name) && error.contains(says), "{error}");
        }
    }
}
