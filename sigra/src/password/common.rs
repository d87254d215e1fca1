//! The embedded list of common passwords (more than 10,000 entries of 8 characters or more,
//! lowercased). Shorter entries are left out: the minimum length already refuses them.

use std::collections::HashSet;
use std::sync::LazyLock;

static LIST: &str = include_str!("common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    LIST.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .collect()
});

/// Whether `lowercased` is on the list.
pub(super) fn is_common(lowercased: &str) -> bool {
    COMMON.contains(lowercased)
}

/// How many passwords the list holds.
#[cfg(test)]
pub(super) fn len() -> usize {
    COMMON.len()
}
