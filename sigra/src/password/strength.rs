//! A strength estimate for the live meter: points for length and variety, penalties for
//! common passwords, repeats and runs (Sigra's `check_strength`). Advice only; the policy
//! decides what is accepted.

use serde::Serialize;

use super::{common, Password};

/// How strong a password looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StrengthLabel {
    /// Easy to guess.
    Weak,
    /// Acceptable.
    Fair,
    /// Good.
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

/// Estimates the strength of `password`.
pub fn strength(password: &Password) -> Strength {
    let text = password.normalized();
    let chars: Vec<char> = text.chars().collect();
    let mut points: i32 = match chars.len() {
        0..=4 => 0,
        5..=7 => 1,
        8..=11 => 2,
        12..=15 => 3,
        _ => 4,
    };
    let has = |test: fn(char) -> bool| chars.iter().any(|c| test(*c));
    if has(char::is_lowercase) && has(char::is_uppercase) {
        points += 1;
    }
    if has(|c| c.is_ascii_digit()) {
        points += 1;
    }
    if has(|c| !c.is_alphanumeric()) {
        points += 1;
    }
    if common::is_common(&text.to_lowercase()) {
        points -= 2;
    }
    if chars.windows(4).any(|w| w.iter().all(|c| *c == w[0])) {
        points -= 1;
    }
    let step = |a: char, b: char| i64::from(u32::from(b)) - i64::from(u32::from(a));
    if chars.windows(4).any(|w| {
        [1, -1]
            .iter()
            .any(|d| w.windows(2).all(|p| step(p[0], p[1]) == *d))
    }) {
        points -= 1;
    }
    let label = match points {
        p if p >= 5 => StrengthLabel::Strong,
        3 | 4 => StrengthLabel::Fair,
        _ => StrengthLabel::Weak,
    };
    Strength {
        score: u8::try_from(points.clamp(0, 7) * 4 / 7).unwrap_or(0),
        label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Strength {
        strength(&Password::new(text.to_owned()))
    }

    #[test]
    fn long_varied_passwords_are_strong() {
        assert_eq!(of("Correct-Horse-Battery-9").label, StrengthLabel::Strong);
        assert_eq!(of("Correct-Horse-Battery-9").score, 4);
    }

    #[test]
    fn short_or_predictable_passwords_are_weak() {
        assert_eq!(of("abc").label, StrengthLabel::Weak);
        assert_eq!(of("password123").label, StrengthLabel::Weak);
        assert_eq!(of("aaaabbbbcccc").label, StrengthLabel::Weak);
        assert_eq!(of("").score, 0);
    }

    #[test]
    fn runs_and_repeats_cost_points() {
        let plain = of("mellow yellow fellow");
        let run = of("mellow yellow 1234");
        assert!(run.score <= plain.score);
    }
}
