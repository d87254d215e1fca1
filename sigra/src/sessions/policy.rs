//! Session timing rules: pure functions of the stored times and now, tested without a database.

use std::time::Duration;

use crate::clock::Timestamp;
use crate::config::SessionConfig;

use super::SessionKind;

/// How long a log-in may wait for its second factor.
pub const MFA_PENDING_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// How long an impersonation may sit unused (Sigra's `impersonation_idle_timeout`).
pub const IMPERSONATION_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How often an impersonation's activity is recorded: small beside its idle limit.
const IMPERSONATION_TOUCH_INTERVAL: Duration = Duration::from_secs(60);
/// How long an impersonation lasts at most (Sigra's `impersonation_absolute_timeout`).
pub const IMPERSONATION_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// What the rules say about a stored session at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Still valid. `touch` asks to write last-seen (at most once per touch interval).
    Active {
        /// Whether to record this request as the last activity.
        touch: bool,
    },
    /// Over; delete it.
    Expired(ExpiredBy),
}

/// Which limit ended a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiredBy {
    /// Too long without a request.
    Idle,
    /// Too long since log-in.
    Absolute,
}

/// The timing of one stored session.
#[derive(Clone, Copy, Debug)]
pub struct SessionTimes {
    /// Standard or remember-me.
    pub kind: SessionKind,
    /// Last recorded activity.
    pub last_seen_at: Timestamp,
    /// The absolute end.
    pub expires_at: Timestamp,
}

/// The timeouts from configuration.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    config: SessionConfig,
}

impl SessionPolicy {
    /// Rules for the configured timeouts.
    pub fn new(config: SessionConfig) -> Self {
        Self { config }
    }

    /// The absolute end of a session of `kind` created at `now`.
    pub fn expires_at(&self, kind: SessionKind, now: Timestamp) -> Timestamp {
        now.plus(self.lifetime(kind))
    }

    /// How long the browser should keep a cookie issued `now`: until the session's absolute
    /// end for remember-me, and for the browser session otherwise.
    pub fn cookie_max_age(
        &self,
        kind: SessionKind,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Option<Duration> {
        match kind {
            SessionKind::Standard | SessionKind::MfaPending | SessionKind::Impersonation => None,
            SessionKind::RememberMe => Some(expires_at.since(now)),
        }
    }

    /// Whether a live session's token is due to be replaced (rolling tokens): remember-me
    /// tokens are reissued once they are `remember_me_reissue_after` old, so a copied cookie
    /// stops working soon after the owner's next visit. The session's end does not move.
    pub fn token_due(&self, kind: SessionKind, token_issued_at: Timestamp, now: Timestamp) -> bool {
        kind == SessionKind::RememberMe
            && now.since(token_issued_at) >= self.config.remember_me_reissue_after
    }

    /// Until when a token replaced `now` by a rolled one is still accepted.
    pub fn previous_token_until(&self, now: Timestamp) -> Timestamp {
        now.plus(self.config.previous_token_grace)
    }

    fn lifetime(&self, kind: SessionKind) -> Duration {
        match kind {
            SessionKind::Standard => self.config.absolute_timeout,
            SessionKind::RememberMe => self.config.remember_me,
            SessionKind::MfaPending => MFA_PENDING_LIFETIME,
            SessionKind::Impersonation => IMPERSONATION_LIFETIME,
        }
    }

    /// How long a session of `kind` may sit unused; remember-me sessions have no idle limit
    /// (surviving a closed browser is their point).
    fn idle_limit(&self, kind: SessionKind) -> Option<Duration> {
        match kind {
            SessionKind::Standard => Some(self.config.idle_timeout),
            SessionKind::Impersonation => Some(IMPERSONATION_IDLE_TIMEOUT),
            SessionKind::RememberMe | SessionKind::MfaPending => None,
        }
    }

    /// Judges a stored session: its absolute end, then its idle limit. An impersonation records
    /// every minute of activity, so its short idle limit is measured from the last request
    /// rather than from the last five-minutely touch.
    pub fn evaluate(&self, times: SessionTimes, now: Timestamp) -> Verdict {
        if now >= times.expires_at {
            return Verdict::Expired(ExpiredBy::Absolute);
        }
        let idle = now.since(times.last_seen_at);
        if self
            .idle_limit(times.kind)
            .is_some_and(|limit| idle >= limit)
        {
            return Verdict::Expired(ExpiredBy::Idle);
        }
        let touch_interval = match times.kind {
            SessionKind::Impersonation => IMPERSONATION_TOUCH_INTERVAL,
            _ => self.config.touch_interval,
        };
        Verdict::Active {
            touch: idle >= touch_interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn policy() -> SessionPolicy {
        SessionPolicy::new(SessionConfig {
            idle_timeout: 30 * MIN,
            absolute_timeout: 24 * 60 * MIN,
            remember_me: 30 * 24 * 60 * MIN,
            touch_interval: 5 * MIN,
            cache: crate::config::SessionCacheMode::On,
            remember_me_reissue_after: 24 * 60 * MIN,
            previous_token_grace: MIN,
        })
    }

    fn standard_at(start: Timestamp) -> SessionTimes {
        SessionTimes {
            kind: SessionKind::Standard,
            last_seen_at: start,
            expires_at: policy().expires_at(SessionKind::Standard, start),
        }
    }

    #[test]
    fn last_seen_is_written_at_most_every_five_minutes() {
        let start = Timestamp::from_millis(0);
        let times = standard_at(start);
        assert_eq!(
            policy().evaluate(times, start.plus(4 * MIN)),
            Verdict::Active { touch: false }
        );
        assert_eq!(
            policy().evaluate(times, start.plus(5 * MIN)),
            Verdict::Active { touch: true }
        );
    }

    #[test]
    fn idle_sessions_expire_after_thirty_minutes() {
        let start = Timestamp::from_millis(0);
        let times = standard_at(start);
        let almost = start.plus(30 * MIN - Duration::from_secs(1));
        assert!(matches!(
            policy().evaluate(times, almost),
            Verdict::Active { .. }
        ));
        assert_eq!(
            policy().evaluate(times, start.plus(30 * MIN)),
            Verdict::Expired(ExpiredBy::Idle)
        );
    }

    #[test]
    fn activity_does_not_extend_the_absolute_limit() {
        let start = Timestamp::from_millis(0);
        let mut times = standard_at(start);
        times.last_seen_at = start.plus(24 * 60 * MIN - MIN);
        assert_eq!(
            policy().evaluate(times, start.plus(24 * 60 * MIN)),
            Verdict::Expired(ExpiredBy::Absolute)
        );
    }

    #[test]
    fn remember_me_ignores_idleness_but_not_its_end() {
        let start = Timestamp::from_millis(0);
        let p = policy();
        let times = SessionTimes {
            kind: SessionKind::RememberMe,
            last_seen_at: start,
            expires_at: p.expires_at(SessionKind::RememberMe, start),
        };
        assert!(matches!(
            p.evaluate(times, start.plus(7 * 24 * 60 * MIN)),
            Verdict::Active { .. }
        ));
        assert_eq!(
            p.evaluate(times, start.plus(30 * 24 * 60 * MIN)),
            Verdict::Expired(ExpiredBy::Absolute)
        );
        assert_eq!(
            p.cookie_max_age(SessionKind::RememberMe, times.expires_at, start),
            Some(30 * 24 * 60 * MIN)
        );
        assert_eq!(
            p.cookie_max_age(SessionKind::RememberMe, times.expires_at, start.plus(MIN)),
            Some(30 * 24 * 60 * MIN - MIN),
            "a cookie issued later lasts only until the session's end"
        );
        assert_eq!(
            p.cookie_max_age(SessionKind::Standard, times.expires_at, start),
            None
        );
    }

    #[test]
    fn impersonation_ends_after_fifteen_idle_minutes_or_thirty_in_all() {
        let start = Timestamp::from_millis(0);
        let p = policy();
        let times = SessionTimes {
            kind: SessionKind::Impersonation,
            last_seen_at: start,
            expires_at: p.expires_at(SessionKind::Impersonation, start),
        };
        assert_eq!(
            p.evaluate(times, start.plus(MIN)),
            Verdict::Active { touch: true },
            "activity is recorded every minute"
        );
        assert!(matches!(
            p.evaluate(times, start.plus(15 * MIN - Duration::from_secs(1))),
            Verdict::Active { .. }
        ));
        assert_eq!(
            p.evaluate(times, start.plus(15 * MIN)),
            Verdict::Expired(ExpiredBy::Idle)
        );
        let busy = SessionTimes {
            last_seen_at: start.plus(29 * MIN),
            ..times
        };
        assert_eq!(
            p.evaluate(busy, start.plus(30 * MIN)),
            Verdict::Expired(ExpiredBy::Absolute)
        );
        assert_eq!(
            p.cookie_max_age(SessionKind::Impersonation, times.expires_at, start),
            None,
            "the cookie ends with the browser"
        );
    }

    #[test]
    fn remember_me_tokens_roll_daily_and_standard_ones_never() {
        let start = Timestamp::from_millis(0);
        let p = policy();
        let day = 24 * 60 * MIN;
        assert!(!p.token_due(SessionKind::RememberMe, start, start.plus(day - MIN)));
        assert!(p.token_due(SessionKind::RememberMe, start, start.plus(day)));
        assert!(!p.token_due(SessionKind::Standard, start, start.plus(2 * day)));
        assert!(!p.token_due(SessionKind::MfaPending, start, start.plus(2 * day)));
        assert_eq!(p.previous_token_until(start), start.plus(MIN));
    }
}
