//! The audit trail: how long its rows are kept.

use std::time::Duration;

use super::sources::{Reader, Setting};

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "audit.retention_days", aliases: &[] },
];

/// The audit trail.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditConfig {
    /// How long a row is kept; `None` (the default) keeps every row for ever. The periodic
    /// cleanup deletes older rows in batches and records that it did.
    pub retention: Option<Duration>,
}

impl AuditConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let key = "audit.retention_days";
        let retention = match r.given(key) {
            None => None,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(days) if (1..=36_500).contains(&days) => {
                    Some(Duration::from_secs(days * 24 * 3600))
                }
                _ => {
                    r.invalid(key, "must be a whole number of days from 1 to 36500");
                    None
                }
            },
        };
        Self { retention }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::env;
    use crate::config::Config;

    #[test]
    fn audit_rows_are_kept_for_ever_unless_a_retention_in_days_is_set() {
        let config = Config::from_sources(None, &env(&[]), None).expect("valid");
        assert_eq!(config.audit.retention, None);
        let kept = Config::from_sources(None, &env(&[("SIGRA_AUDIT_RETENTION_DAYS", "90")]), None)
            .expect("valid");
        assert_eq!(
            kept.audit.retention.map(|d| d.as_secs()),
            Some(90 * 24 * 3600)
        );
        for bad in ["0", "-1", "30d", "36501"] {
            let error =
                Config::from_sources(None, &env(&[("SIGRA_AUDIT_RETENTION_DAYS", bad)]), None)
                    .expect_err("refused")
                    .to_string();
            assert!(
                error.contains("SIGRA_AUDIT_RETENTION_DAYS")
                    && error.contains("whole number of days"),
                "{bad}: {error}"
            );
        }
    }
}
