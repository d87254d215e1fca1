//! Account lockout: after `threshold` failed passwords in a row the account is locked, checked
//! before any hashing. When a lock expires the count starts again, and the next lock lasts
//! twice as long (15 min, 30 min, 1 h, … capped at a day); a successful log-in resets both. So a
//! steady guesser gets at most a handful of tries a day, far below NIST's cap of 100 in a row,
//! while the owner is locked out only briefly. While locked, log-in answers exactly as for a
//! wrong password (and does the same dummy work), so the lock reveals nothing; the owner learns
//! of it by mail.

use std::time::Duration;

use crate::clock::Timestamp;

/// The lockout rules.
#[derive(Clone, Copy, Debug)]
pub struct LockoutPolicy {
    /// Failures in a row that lock the account.
    pub threshold: u32,
    /// The first lock's length; each lock in a row doubles it.
    pub duration: Duration,
    /// The longest lock.
    pub max_duration: Duration,
}

/// What a failed attempt leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Counted; `attempts` failures in a row so far.
    Counted {
        /// Failures in a row.
        attempts: u32,
    },
    /// The account is now locked until `until`.
    Locked {
        /// When the lock ends.
        until: Timestamp,
        /// How long it lasts.
        duration: Duration,
    },
}

impl LockoutPolicy {
    /// Whether the account is locked at `now`.
    pub fn is_locked(locked_until: Option<Timestamp>, now: Timestamp) -> bool {
        locked_until.is_some_and(|until| now < until)
    }

    /// How long the `nth` lock in a row lasts (0-based).
    pub fn lock_duration(&self, nth: u32) -> Duration {
        let factor = 2_u32.saturating_pow(nth.min(16));
        self.duration.saturating_mul(factor).min(self.max_duration)
    }

    /// The outcome of one more failure, given the failures and locks in a row so far.
    pub fn after_failure(
        &self,
        failures: u32,
        locks_in_a_row: u32,
        now: Timestamp,
    ) -> AfterFailure {
        let attempts = failures.saturating_add(1);
        if attempts >= self.threshold {
            let duration = self.lock_duration(locks_in_a_row);
            AfterFailure::Locked {
                until: now.plus(duration),
                duration,
            }
        } else {
            AfterFailure::Counted { attempts }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            threshold: 5,
            duration: 15 * MIN,
            max_duration: 24 * 60 * MIN,
        }
    }

    #[test]
    fn the_fifth_failure_locks_for_fifteen_minutes() {
        let now = Timestamp::from_millis(0);
        assert_eq!(
            policy().after_failure(3, 0, now),
            AfterFailure::Counted { attempts: 4 }
        );
        assert_eq!(
            policy().after_failure(4, 0, now),
            AfterFailure::Locked {
                until: now.plus(15 * MIN),
                duration: 15 * MIN
            }
        );
    }

    #[test]
    fn locks_in_a_row_double_up_to_a_day() {
        let p = policy();
        assert_eq!(p.lock_duration(0), 15 * MIN);
        assert_eq!(p.lock_duration(1), 30 * MIN);
        assert_eq!(p.lock_duration(2), 60 * MIN);
        assert_eq!(p.lock_duration(6), 16 * 60 * MIN);
        assert_eq!(p.lock_duration(7), 24 * 60 * MIN);
        assert_eq!(p.lock_duration(40), 24 * 60 * MIN);
    }

    #[test]
    fn a_lock_ends_at_its_time() {
        let start = Timestamp::from_millis(0);
        let until = Some(start.plus(15 * MIN));
        assert!(LockoutPolicy::is_locked(until, start.plus(14 * MIN)));
        assert!(!LockoutPolicy::is_locked(until, start.plus(15 * MIN)));
        assert!(!LockoutPolicy::is_locked(None, start));
    }
}
