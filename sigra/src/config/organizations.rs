//! Organizations: personal organizations, the host's reserved slugs, how long an old slug
//! redirects, and invitations (their lifetime and how many may be sent a day).

use std::time::Duration;

use super::sources::{Reader, Setting};
use crate::organizations::slug;

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "organizations.personal", aliases: &[] },
    Setting { key: "organizations.reserved_slugs", aliases: &[] },
    Setting { key: "organizations.slug_redirect", aliases: &[] },
    Setting { key: "organizations.invitation_ttl", aliases: &[] },
    Setting { key: "organizations.invitations_per_inviter", aliases: &[] },
    Setting { key: "organizations.invitations_per_organization", aliases: &[] },
];

/// Longest an invitation may live: a mailed link that works for months is a liability.
const MAX_INVITATION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Organization settings.
#[derive(Clone, Debug)]
pub struct OrganizationConfig {
    /// Whether every new account gets a personal organization (`server` backfills existing
    /// accounts through `Organizations::backfill_personal`).
    pub personal: bool,
    /// Slugs kept for the host's own pages, besides the built-in ones.
    pub reserved_slugs: Vec<String>,
    /// How long a changed slug keeps redirecting to the organization.
    pub slug_redirect: Duration,
    /// How long an invitation can be accepted.
    pub invitation_ttl: Duration,
    /// Invitations one user may send in 24 hours (across organizations).
    pub invitations_per_inviter: u32,
    /// Invitations one organization may send in 24 hours.
    pub invitations_per_organization: u32,
}

impl OrganizationConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let reserved_slugs = r.value("organizations.reserved_slugs", Vec::new(), |text: &str| {
            let words: Vec<String> = text
                .split([',', ' '])
                .filter(|word| !word.is_empty())
                .map(str::to_owned)
                .collect();
            match words.iter().find(|word| !slug::is_well_formed(word)) {
                Some(bad) => Err(format!(
                    "slugs (3 to 63 of a-z, 0-9 and -, starting with a letter), not {bad:?}"
                )),
                None => Ok(words),
            }
        });
        let config = Self {
            personal: r.flag("organizations.personal", false),
            reserved_slugs,
            slug_redirect: r.duration("organizations.slug_redirect", "7d"),
            invitation_ttl: r.duration("organizations.invitation_ttl", "7d"),
            invitations_per_inviter: r.number("organizations.invitations_per_inviter", 20),
            invitations_per_organization: r
                .number("organizations.invitations_per_organization", 50),
        };
        if config.invitation_ttl.is_zero() || config.invitation_ttl > MAX_INVITATION_TTL {
            r.invalid(
                "organizations.invitation_ttl",
                "must be more than zero and at most 30 days",
            );
        }
        for (key, zero) in [
            (
                "organizations.invitations_per_inviter",
                config.invitations_per_inviter == 0,
            ),
            (
                "organizations.invitations_per_organization",
                config.invitations_per_organization == 0,
            ),
        ] {
            if zero {
                r.invalid(key, "must be greater than zero");
            }
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::env;
    use crate::config::Config;

    #[test]
    fn hosts_reserve_slugs_of_the_slug_form_only() {
        let config = Config::from_sources(
            None,
            &env(&[("SIGRA_ORGANIZATIONS_RESERVED_SLUGS", "projects, pricing")]),
            None,
        )
        .expect("valid");
        assert_eq!(config.organizations.reserved_slugs, ["projects", "pricing"]);
        let error = Config::from_sources(
            None,
            &env(&[("SIGRA_ORGANIZATIONS_RESERVED_SLUGS", "projects,Bad_One")]),
            None,
        )
        .expect_err("a malformed slug");
        assert!(
            error
                .to_string()
                .contains("SIGRA_ORGANIZATIONS_RESERVED_SLUGS"),
            "{error}"
        );
    }

    #[test]
    fn invitations_last_a_week_by_default_and_at_most_thirty_days() {
        let config = Config::from_sources(None, &env(&[]), None).expect("defaults are valid");
        let week = std::time::Duration::from_secs(7 * 24 * 3600);
        assert_eq!(config.organizations.invitation_ttl, week);
        assert_eq!(config.organizations.slug_redirect, week);
        assert_eq!(config.organizations.invitations_per_inviter, 20);
        assert_eq!(config.organizations.invitations_per_organization, 50);
        assert!(Config::from_sources(
            None,
            &env(&[("SIGRA_ORGANIZATIONS_INVITATION_TTL", "31d")]),
            None
        )
        .is_err());
    }
}
