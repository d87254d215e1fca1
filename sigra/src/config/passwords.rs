//! Password policy, hashing and breach-check settings.

use std::time::Duration;

use url::Url;

use super::sources::{Reader, Setting};

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "password.min_length", aliases: &[] },
    Setting { key: "password.max_length", aliases: &[] },
    Setting { key: "password.argon2_memory_kib", aliases: &[] },
    Setting { key: "password.argon2_iterations", aliases: &[] },
    Setting { key: "password.argon2_parallelism", aliases: &[] },
    Setting { key: "password.hashing_concurrency", aliases: &[] },
    Setting { key: "password.hashing_queue_timeout", aliases: &[] },
    Setting { key: "password.breach_check_url", aliases: &[] },
    Setting { key: "password.breach_check_timeout", aliases: &[] },
];

/// Password policy and hashing settings.
#[derive(Clone, Debug)]
pub struct PasswordConfig {
    /// Fewest characters (Unicode code points) a new password may have.
    pub min_length: usize,
    /// Most characters a password may have.
    pub max_length: usize,
    /// Argon2id parameters for new hashes; existing hashes with others are upgraded at log-in.
    pub argon2: argon2::Params,
    /// Hashes computed at once; further requests queue.
    pub hashing_concurrency: usize,
    /// How long a request waits for a hashing slot before it gets "busy".
    pub hashing_queue_timeout: Duration,
    /// A Pwned Passwords compatible range endpoint (`…/range/`), queried with the first five
    /// hex digits of the SHA-1 (k-anonymity). Off when absent.
    pub breach_check_url: Option<Url>,
    /// How long the breach check may take; past it the password is accepted (fail open).
    pub breach_check_timeout: Duration,
}

impl PasswordConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let min_length = r.number("password.min_length", 15_usize);
        let max_length = r.number("password.max_length", 256_usize);
        if min_length < 8 {
            r.invalid(
                "password.min_length",
                "must be at least 8 (NIST SP 800-63B)",
            );
        }
        if !(64..=1024).contains(&max_length) {
            r.invalid("password.max_length", "must be between 64 and 1024");
        }
        if min_length > max_length {
            let limit = r.origin("password.max_length");
            r.invalid("password.min_length", format!("must not exceed {limit}"));
        }
        let argon2 = read_argon2(r);
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        let hashing_concurrency = r.number("password.hashing_concurrency", cores);
        if hashing_concurrency == 0 {
            r.invalid("password.hashing_concurrency", "must be at least 1");
        }
        let breach_check_url = r.value("password.breach_check_url", None, |text| {
            if text.is_empty() {
                return Ok(None);
            }
            match Url::parse(text) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(url)),
                _ => Err("an http(s) URL ending in /range/"),
            }
        });
        Self {
            min_length,
            max_length,
            argon2,
            hashing_concurrency: hashing_concurrency.max(1),
            hashing_queue_timeout: r.duration("password.hashing_queue_timeout", "10s"),
            breach_check_url,
            breach_check_timeout: r.duration("password.breach_check_timeout", "5s"),
        }
    }
}

fn read_argon2(r: &mut Reader) -> argon2::Params {
    const KEYS: [&str; 3] = [
        "password.argon2_memory_kib",
        "password.argon2_iterations",
        "password.argon2_parallelism",
    ];
    let memory = r.number(KEYS[0], argon2::Params::DEFAULT_M_COST);
    let iterations = r.number(KEYS[1], argon2::Params::DEFAULT_T_COST);
    let parallelism = r.number(KEYS[2], argon2::Params::DEFAULT_P_COST);
    argon2::Params::new(memory, iterations, parallelism, None).unwrap_or_else(|e| {
        let [m, t, p] = KEYS.map(|key| r.origin(key));
        r.problems.push(format!(
            "the Argon2 parameters ({m}, {t} and {p}) are invalid: {e}"
        ));
        argon2::Params::default()
    })
}
