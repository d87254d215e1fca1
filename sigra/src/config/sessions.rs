//! Session lifetimes and the session lookup cache.

use std::str::FromStr;
use std::time::Duration;

use super::sources::{Reader, Setting};
use super::Expected;

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "session.idle_timeout", aliases: &[] },
    Setting { key: "session.absolute_timeout", aliases: &[] },
    Setting { key: "session.remember_me", aliases: &[] },
    Setting { key: "session.touch_interval", aliases: &[] },
    Setting { key: "session.cache", aliases: &[] },
    Setting { key: "session.remember_me_reissue_after", aliases: &[] },
    Setting { key: "session.previous_token_grace", aliases: &[] },
];

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
    /// A remember-me session's token is replaced once it is this old (rolling tokens), so a
    /// copied cookie stops working soon after the owner's next visit.
    pub remember_me_reissue_after: Duration,
    /// How long a rolled token stays accepted, for requests already in flight with it.
    pub previous_token_grace: Duration,
}

/// Whether to cache session lookups in memory. The cache hears of every other process's
/// commits on both engines (see `sessions::cache`), so it is on by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionCacheMode {
    /// Cache (`on`, or `auto` as earlier versions called the default).
    On,
    /// Every request reads its session from the database.
    Off,
}

impl FromStr for SessionCacheMode {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "auto" | "on" => Ok(Self::On),
            "off" => Ok(Self::Off),
            _ => Err(Expected("auto, on or off")),
        }
    }
}

impl SessionConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let sessions = Self {
            idle_timeout: r.duration("session.idle_timeout", "30m"),
            absolute_timeout: r.duration("session.absolute_timeout", "24h"),
            remember_me: r.duration("session.remember_me", "30d"),
            touch_interval: r.duration("session.touch_interval", "5m"),
            cache: r.parse("session.cache", SessionCacheMode::On),
            remember_me_reissue_after: r.duration("session.remember_me_reissue_after", "1d"),
            previous_token_grace: r.duration("session.previous_token_grace", "1m"),
        };
        for (key, timeout) in [
            ("session.idle_timeout", sessions.idle_timeout),
            ("session.absolute_timeout", sessions.absolute_timeout),
            ("session.remember_me", sessions.remember_me),
        ] {
            if timeout.is_zero() {
                r.invalid(key, "must be longer than zero");
            }
        }
        if sessions.idle_timeout > sessions.absolute_timeout {
            let limit = r.origin("session.absolute_timeout");
            r.invalid("session.idle_timeout", format!("must not exceed {limit}"));
        }
        if sessions.remember_me_reissue_after.is_zero()
            || sessions.remember_me_reissue_after >= sessions.remember_me
        {
            let limit = r.origin("session.remember_me");
            r.invalid(
                "session.remember_me_reissue_after",
                format!("must be longer than zero and shorter than {limit}"),
            );
        }
        // Long enough for a page's parallel requests, short enough that a copied cookie
        // does not live on beside the new one.
        if sessions.previous_token_grace.is_zero()
            || sessions.previous_token_grace > Duration::from_secs(10 * 60)
        {
            r.invalid(
                "session.previous_token_grace",
                "must be between one second and 10 minutes",
            );
        }
        if sessions.touch_interval >= sessions.idle_timeout {
            let limit = r.origin("session.idle_timeout");
            r.invalid(
                "session.touch_interval",
                format!("must be shorter than {limit}"),
            );
        }
        sessions
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::production;

    #[test]
    fn the_session_cache_is_on_by_default_on_every_engine_and_auto_means_on() {
        use super::SessionCacheMode;
        let postgres = ("DATABASE_URL", "postgres://db.internal/auth");
        for settings in [
            &[postgres][..],
            &[][..],
            &[("SIGRA_SESSION_CACHE", "auto")][..],
        ] {
            let config = production(settings).expect("valid");
            assert_eq!(config.sessions.cache, SessionCacheMode::On, "{settings:?}");
        }
        let config = production(&[postgres, ("SIGRA_SESSION_CACHE", "off")]).expect("valid");
        assert_eq!(config.sessions.cache, SessionCacheMode::Off);
    }

    #[test]
    fn rolling_tokens_must_roll_within_the_session_and_keep_a_short_grace() {
        let text = production(&[("SIGRA_SESSION_REMEMBER_ME_REISSUE_AFTER", "30d")])
            .expect_err("rolling no sooner than the session ends")
            .to_string();
        assert!(
            text.contains(
                "SIGRA_SESSION_REMEMBER_ME_REISSUE_AFTER must be longer than zero and shorter than"
            ),
            "{text}"
        );
        let text = production(&[("SIGRA_SESSION_PREVIOUS_TOKEN_GRACE", "1h")])
            .expect_err("an old token alive for an hour")
            .to_string();
        assert!(
            text.contains(
                "SIGRA_SESSION_PREVIOUS_TOKEN_GRACE must be between one second and 10 minutes"
            ),
            "{text}"
        );
        production(&[
            ("SIGRA_SESSION_REMEMBER_ME_REISSUE_AFTER", "6h"),
            ("SIGRA_SESSION_PREVIOUS_TOKEN_GRACE", "30s"),
        ])
        .expect("sensible values");
    }
}
