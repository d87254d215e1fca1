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

impl FromStr for SessionCacheMode {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "auto" => Ok(Self::Auto),
            "on" => Ok(Self::On),
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
            cache: r.parse("session.cache", SessionCacheMode::Auto),
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
