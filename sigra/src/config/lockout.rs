//! Account lockout settings (the policy itself lives in `crate::lockout`).

use super::sources::{Reader, Setting};
use crate::lockout::LockoutPolicy;

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "lockout.threshold", aliases: &[] },
    Setting { key: "lockout.duration", aliases: &[] },
    Setting { key: "lockout.max_duration", aliases: &[] },
];

pub(super) fn read(r: &mut Reader, production: bool) -> LockoutPolicy {
    let lockout = LockoutPolicy {
        threshold: r.number("lockout.threshold", 5),
        duration: r.duration("lockout.duration", "15m"),
        max_duration: r.duration("lockout.max_duration", "24h"),
    };
    if lockout.threshold == 0 || lockout.threshold > 100 {
        r.invalid(
            "lockout.threshold",
            "must be between 1 and 100 (NIST SP 800-63B)",
        );
    }
    // A zero lock would count failures and lock nobody; development may want it, not a site.
    if production {
        for (key, duration) in [
            ("lockout.duration", lockout.duration),
            ("lockout.max_duration", lockout.max_duration),
        ] {
            if duration.is_zero() {
                r.invalid(key, "must be longer than zero in production");
            }
        }
    }
    lockout
}

#[cfg(test)]
mod tests {
    use crate::config::tests::production;

    #[test]
    fn production_refuses_a_lock_that_locks_nobody_or_comes_too_late() {
        let text = production(&[("SIGRA_LOCKOUT_DURATION", "0s")])
            .expect_err("a zero lock")
            .to_string();
        assert!(
            text.contains("SIGRA_LOCKOUT_DURATION must be longer than zero"),
            "{text}"
        );
        let text = production(&[("SIGRA_LOCKOUT_THRESHOLD", "101")])
            .expect_err("a lock after 101 guesses")
            .to_string();
        assert!(
            text.contains("SIGRA_LOCKOUT_THRESHOLD must be between 1 and 100"),
            "{text}"
        );
        production(&[("SIGRA_LOCKOUT_THRESHOLD", "100")]).expect("100 is allowed");
    }
}
