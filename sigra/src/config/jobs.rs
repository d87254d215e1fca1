//! The background job runner's settings.

use std::time::Duration;

use super::sources::{Reader, Setting};

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "jobs.max_attempts", aliases: &[] },
    Setting { key: "jobs.poll_interval", aliases: &[] },
    Setting { key: "jobs.lease", aliases: &[] },
    Setting { key: "jobs.cleanup_interval", aliases: &[] },
    Setting { key: "jobs.run_in_process", aliases: &[] },
];

/// The background job runner.
#[derive(Clone, Copy, Debug)]
pub struct JobsConfig {
    /// Attempts before a job is given up (and its failure recorded).
    pub max_attempts: u32,
    /// How often an idle runner looks for due jobs.
    pub poll_interval: Duration,
    /// How long a claimed job stays claimed; a runner that dies loses it after this.
    pub lease: Duration,
    /// How often expired sessions and tokens are deleted.
    pub cleanup_interval: Duration,
    /// Whether the server process runs the job runner (turn off for web-only processes when
    /// another process runs `server work`).
    pub run_in_process: bool,
}

impl JobsConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let jobs = Self {
            max_attempts: r.number("jobs.max_attempts", 8),
            poll_interval: r.duration("jobs.poll_interval", "1s"),
            lease: r.duration("jobs.lease", "5m"),
            cleanup_interval: r.duration("jobs.cleanup_interval", "1h"),
            run_in_process: r.flag("jobs.run_in_process", true),
        };
        for (key, zero) in [
            ("jobs.max_attempts", jobs.max_attempts == 0),
            ("jobs.poll_interval", jobs.poll_interval.is_zero()),
            ("jobs.lease", jobs.lease.is_zero()),
        ] {
            if zero {
                r.invalid(key, "must be greater than zero");
            }
        }
        jobs
    }
}
