//! Passwords: the secret type, the policy a new password must pass, and the hasher.
//!
//! Passwords are NFKC-normalised before they are measured or hashed (NIST SP 800-63B), so the
//! same characters typed on different keyboards give the same password.

mod breach;
mod common;
mod hash_workers;
mod hasher;
mod policy;
mod service;
mod strength;

use std::fmt;

use unicode_normalization::UnicodeNormalization as _;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

pub use breach::BreachCheck;
pub use hasher::{PasswordHash, PasswordHasher, Verification};
pub use policy::{PasswordPolicy, PolicyViolation};
pub use service::{Assessment, Passwords};
pub use strength::{strength, Strength, StrengthLabel};

/// A password as the user typed it. Wiped from memory on drop; no `PartialEq`, no `Display`,
/// and a `Debug` that shows nothing.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Password(String);

impl Password {
    /// Wraps user input.
    pub fn new(input: String) -> Self {
        Self(input)
    }

    /// The NFKC form that is measured and hashed.
    fn normalized(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.nfkc().collect())
    }

    /// The text exactly as typed, for verifying legacy (bcrypt) hashes made without
    /// normalisation.
    fn as_typed(&self) -> &str {
        &self.0
    }

    /// Size in bytes as typed, to refuse absurd inputs before any hashing work.
    pub fn byte_len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A password that passed the policy: the only kind [`PasswordHasher::hash`] accepts.
#[derive(Debug)]
pub struct NewPassword(Password);

impl NewPassword {
    /// The password inside, for verifying it against the hash just made.
    pub fn as_password(&self) -> &Password {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_folds_compatibility_characters() {
        let ligature = Password::new("\u{FB01}sh".to_owned());
        let plain = Password::new("fish".to_owned());
        assert_eq!(*ligature.normalized(), *plain.normalized());
    }

    #[test]
    fn debug_hides_the_password() {
        let password = Password::new("hunter2-hunter2-hunter2".to_owned());
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
