//! Account lockout settings (the policy itself lives in `crate::lockout`).

use super::sources::{Reader, Setting};
use crate::lockout::LockoutPolicy;

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "lockout.threshold", aliases: &[] },
    Setting { key: "lockout.duration", aliases: &[] },
    Setting { key: "lockout.max_duration", aliases: &[] },
];

pub(super) fn read(r: &mut Reader) -> LockoutPolicy {
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
    lockout
}
