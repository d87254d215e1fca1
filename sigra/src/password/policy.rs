use crate::config::PasswordConfig;
use crate::users::EmailAddress;

use super::{common, strength, NewPassword, Password};

/// Why a new password was refused: the wire vocabulary's type, so the browser shows the same
/// words.
pub use sigra_errors::PasswordProblem as PolicyViolation;

/// Policy v2: length bounds in characters, the common-password list, context words, and the
/// guess count of the strength estimate (at least 10^8 guesses: no repeats, sequences, keyboard
/// walks or dictionary words with simple changes). No composition rules (NIST SP 800-63B,
/// ASVS 6.2.5).
#[derive(Clone, Debug)]
pub struct PasswordPolicy {
    min_length: usize,
    max_length: usize,
    app_name: String,
}

impl PasswordPolicy {
    /// The policy for a configuration and product name.
    pub fn new(config: &PasswordConfig, app_name: &str) -> Self {
        Self {
            min_length: config.min_length,
            max_length: config.max_length,
            app_name: letters_only(&app_name.to_lowercase()),
        }
    }

    /// Fewest characters a password may have.
    pub fn min_length(&self) -> usize {
        self.min_length
    }

    /// Most characters a password may have.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Checks a new password for the owner of `email`.
    ///
    /// # Errors
    /// The first rule the password breaks, in the order: length, common list, context words,
    /// guessability.
    pub fn check(
        &self,
        password: Password,
        email: &EmailAddress,
    ) -> Result<NewPassword, PolicyViolation> {
        let normalized = password.normalized();
        let length = normalized.chars().count();
        if length < self.min_length {
            return Err(PolicyViolation::TooShort {
                min: self.min_length,
            });
        }
        if length > self.max_length {
            return Err(PolicyViolation::TooLong {
                max: self.max_length,
            });
        }
        let lower = normalized.to_lowercase();
        if common::is_common(&lower) {
            return Err(PolicyViolation::Common);
        }
        let email_text = email.as_str();
        let local_part = letters_only(email_text.split('@').next().unwrap_or_default());
        let core = letters_only(&lower);
        if lower.contains(email_text) || (!local_part.is_empty() && core == local_part) {
            return Err(PolicyViolation::BasedOnEmail);
        }
        if !self.app_name.is_empty() && is_repetition_of(&core, &self.app_name) {
            return Err(PolicyViolation::BasedOnAppName);
        }
        let context = strength::context_words(Some(email), &self.app_name);
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        if strength::strength(&password, &context).score < strength::ACCEPTED_SCORE {
            return Err(PolicyViolation::Guessable);
        }
        Ok(NewPassword(password))
    }
}

/// The letters of `text`, dropping digits, spaces and symbols, so "Sigra-2024!" becomes "sigra".
fn letters_only(text: &str) -> String {
    text.chars().filter(|c| c.is_alphabetic()).collect()
}

/// Whether `text` is `word` written one or more times.
fn is_repetition_of(text: &str, word: &str) -> bool {
    !word.is_empty()
        && !text.is_empty()
        && text.len().is_multiple_of(word.len())
        && text
            .as_bytes()
            .chunks(word.len())
            .all(|c| c == word.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn policy() -> PasswordPolicy {
        let config = PasswordConfig {
            min_length: 15,
            max_length: 256,
            argon2: argon2::Params::default(),
            hashing_concurrency: 1,
            hashing_queue_timeout: Duration::from_secs(1),
            breach_check_url: None,
            breach_check_timeout: Duration::from_secs(1),
        };
        PasswordPolicy::new(&config, "Sigra")
    }

    fn email() -> EmailAddress {
        EmailAddress::parse("Ada.Lovelace@Example.com").expect("valid")
    }

    fn check(password: &str) -> Result<(), PolicyViolation> {
        policy()
            .check(Password::new(password.to_owned()), &email())
            .map(|_| ())
    }

    #[test]
    fn fourteen_characters_are_refused_and_fifteen_accepted() {
        assert_eq!(
            check("abcdefghijklmn"),
            Err(PolicyViolation::TooShort { min: 15 })
        );
        assert_eq!(check("correct horse b"), Ok(()));
    }

    #[test]
    fn long_unicode_and_spaces_are_fine_and_no_composition_rules_apply() {
        assert_eq!(check(&"tangerine lighthouse ".repeat(6)), Ok(()));
        assert_eq!(check("ünïcödé pässwörd ☃ ok"), Ok(()));
        assert_eq!(check("all lowercase words here"), Ok(()));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 15 symbols are 45 bytes but 15 characters.
        assert_eq!(check("☃❄☂☀★♞♜♛♚♝⚑⚐☯☮✈"), Ok(()));
        assert_eq!(
            check("☃❄☂☀★♞♜♛♚♝⚑⚐☯☮"),
            Err(PolicyViolation::TooShort { min: 15 })
        );
        assert_eq!(
            check(&"z".repeat(257)),
            Err(PolicyViolation::TooLong { max: 256 })
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert!(common::len() >= 10_000, "list has {}", common::len());
        let relaxed = PasswordPolicy {
            min_length: 8,
            ..policy()
        };
        let common = |p: &str| {
            relaxed
                .check(Password::new(p.to_owned()), &email())
                .map(|_| ())
        };
        assert_eq!(common("password123"), Err(PolicyViolation::Common));
        assert_eq!(common("PassWord123"), Err(PolicyViolation::Common));
        assert_eq!(common("iloveyou"), Err(PolicyViolation::Common));
    }

    #[test]
    fn repeats_sequences_keyboard_walks_and_dressed_up_words_are_refused_as_guessable() {
        for guessable in [
            "passwordpassword",
            "aaaaaaaaaaaaaaaa",
            "123456789012345",
            "qwertyuiopasdfgh",
            "lovelacelovelace",
        ] {
            assert_eq!(
                check(guessable),
                Err(PolicyViolation::Guessable),
                "{guessable}"
            );
        }
    }

    #[test]
    fn the_users_own_email_is_refused() {
        assert_eq!(
            check("ada.lovelace@example.com"),
            Err(PolicyViolation::BasedOnEmail)
        );
        assert_eq!(
            check("my ada.lovelace@example.com pw"),
            Err(PolicyViolation::BasedOnEmail)
        );
        assert_eq!(
            check("Ada.Lovelace-1234567"),
            Err(PolicyViolation::BasedOnEmail)
        );
    }

    #[test]
    fn the_site_name_is_refused() {
        assert_eq!(
            check("Sigra-Sigra-Sigra-2024"),
            Err(PolicyViolation::BasedOnAppName)
        );
        assert_eq!(
            check("sigra1234567890123"),
            Err(PolicyViolation::BasedOnAppName)
        );
        assert_eq!(check("sigra is where my passwords live"), Ok(()));
    }
}
