//! The strength estimate: zxcvbn (Dropbox's estimator, as the `zxcvbn` crate) counts the
//! guesses an attacker with dictionaries, keyboard layouts, repeats, sequences, dates and
//! common substitutions needs, and scores 0 to 4. The policy refuses scores below 3 (fewer than
//! 10^8 guesses), and the live meter shows the same score, so its bars, its word and the
//! policy agree.

use serde::Serialize;

use super::Password;
use crate::users::EmailAddress;

/// Characters the estimator looks at: enough for any password it could call weak, and a bound
/// on its work for the meter, which anyone can call.
const ESTIMATED_CHARACTERS: usize = 32;
/// The lowest score the policy accepts (at least 10^8 guesses).
pub(crate) const ACCEPTED_SCORE: u8 = 3;

/// How strong a password looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StrengthLabel {
    /// Easy to guess (refused).
    Weak,
    /// Hard to guess.
    Fair,
    /// Very hard to guess.
    Strong,
}

/// A meter reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Strength {
    /// 0 to 4, for the meter's bars.
    pub score: u8,
    /// The word for it.
    pub label: StrengthLabel,
}

impl Strength {
    fn of_score(score: u8) -> Self {
        let label = match score {
            s if s < ACCEPTED_SCORE => StrengthLabel::Weak,
            ACCEPTED_SCORE => StrengthLabel::Fair,
            _ => StrengthLabel::Strong,
        };
        Self { score, label }
    }

    /// The reading of a password the policy refuses: never above the refused scores.
    pub(crate) fn refused(self) -> Self {
        Self::of_score(self.score.min(ACCEPTED_SCORE - 1))
    }
}

/// The words an attacker tries first against this user: the address's local part and each of
/// its pieces ("ada.lovelace" gives "ada" and "lovelace"), and the site's name.
pub(crate) fn context_words(email: Option<&EmailAddress>, app_name: &str) -> Vec<String> {
    let mut words = vec![app_name.to_lowercase()];
    if let Some(email) = email {
        let local = email
            .as_str()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_lowercase();
        words.extend(
            local
                .split(|c: char| !c.is_alphanumeric())
                .filter(|piece| piece.chars().count() >= 3)
                .map(str::to_owned),
        );
        words.push(local);
    }
    words
}

/// Estimates the strength of `password`; `context` are words an attacker would try first (the
/// address, the site's name).
pub fn strength(password: &Password, context: &[&str]) -> Strength {
    let text = password.normalized();
    let head: String = text.chars().take(ESTIMATED_CHARACTERS).collect();
    Strength::of_score(u8::from(zxcvbn::zxcvbn(&head, context).score()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Strength {
        strength(&Password::new(text.to_owned()), &["alice", "sigra"])
    }

    #[test]
    fn long_unrelated_words_are_strong() {
        assert_eq!(
            of("correct horse battery staple 42").label,
            StrengthLabel::Strong
        );
        assert_eq!(of("correct horse battery staple 42").score, 4);
    }

    #[test]
    fn repeats_sequences_keyboard_walks_and_dictionary_words_are_weak_whatever_their_length() {
        for weak in [
            "passwordpassword",
            "aaaaaaaaaaaaaaaa",
            "123456789012345",
            "qwertyuiopasdfgh",
            "P@ssw0rdP@ssw0rd",
            "abcdefghijklmnopqrstuvwxyz",
            "alice2026alice2026",
            "sigrasigrasigra1",
        ] {
            let reading = of(weak);
            assert_eq!(reading.label, StrengthLabel::Weak, "{weak}: {reading:?}");
            assert!(reading.score < ACCEPTED_SCORE, "{weak}");
        }
        assert_eq!(of("").score, 0);
    }

    #[test]
    fn the_bars_and_the_word_agree() {
        for score in 0..=4 {
            let reading = Strength::of_score(score);
            let expected = match score {
                0..=2 => StrengthLabel::Weak,
                3 => StrengthLabel::Fair,
                _ => StrengthLabel::Strong,
            };
            assert_eq!(reading.label, expected);
        }
        assert_eq!(Strength::of_score(4).refused(), Strength::of_score(2));
    }

    #[test]
    fn only_the_first_characters_are_estimated() {
        // A weak head followed by a strong tail: judged by the head alone, so weak.
        let tail = "tangerine lighthouse velvet kettle orbit quietly 42";
        assert_eq!(
            of(tail).label,
            StrengthLabel::Strong,
            "the tail alone reads strong"
        );
        let long = format!("{}{tail}", "a".repeat(ESTIMATED_CHARACTERS));
        assert_eq!(of(&long).label, StrengthLabel::Weak);
    }
}
