//! Backup codes: eight per account, each ten characters of Crockford base32 (50 bits), shown
//! once as `xxxxx-xxxxx`. Only keyed digests are stored (HMAC with a key derived from the app
//! secret), so a copy of the database alone cannot be searched for codes offline.

use zeroize::Zeroizing;

use crate::crypto::{random_bytes, SigningKey};
use crate::users::UserId;

/// Codes per set.
pub const COUNT: usize = 8;
/// Characters per code (5 bits each).
const LENGTH: usize = 10;
/// Crockford's base32: no i, l, o or u, so nothing reads as another character.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A fresh set, in the form shown to the user once. Never stored, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct BackupCodes(Vec<Zeroizing<String>>);

impl BackupCodes {
    /// The codes, formatted `xxxxx-xxxxx`.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|code| code.as_str())
    }

    /// Rebuilds a set the host kept (sealed) to show once more.
    pub fn from_shown(codes: Vec<String>) -> Self {
        Self(codes.into_iter().map(Zeroizing::new).collect())
    }
}

impl std::fmt::Debug for BackupCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BackupCodes([{} redacted])", self.0.len())
    }
}

/// A new set and the digests to store.
pub(super) fn generate(key: &SigningKey, user: &UserId) -> (BackupCodes, Vec<String>) {
    let mut shown = Vec::with_capacity(COUNT);
    let mut digests = Vec::with_capacity(COUNT);
    while shown.len() < COUNT {
        let code = random_code();
        let digest_of_code = digest(key, user, &code);
        // A repeat within one set is astronomically unlikely, but the unique index would refuse it.
        if digests.contains(&digest_of_code) {
            continue;
        }
        digests.push(digest_of_code);
        shown.push(Zeroizing::new(format!("{}-{}", &code[..5], &code[5..])));
    }
    (BackupCodes(shown), digests)
}

/// The digest of a code as typed, or `None` when it cannot be a code (wrong length or
/// characters). Case, spaces and dashes are ignored, and the letters Crockford folds (i, l → 1;
/// o → 0) are read as digits.
pub(super) fn digest_of_input(key: &SigningKey, user: &UserId, input: &str) -> Option<String> {
    let mut code = String::with_capacity(LENGTH);
    for c in input.chars().filter(|c| !c.is_whitespace() && *c != '-') {
        let c = match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || code.len() == LENGTH {
            return None;
        }
        code.push(c);
    }
    (code.len() == LENGTH).then(|| digest(key, user, &code))
}

fn digest(key: &SigningKey, user: &UserId, code: &str) -> String {
    key.tag(&format!("{user}:{code}"))
}

fn random_code() -> String {
    // 32 divides 256, so taking each byte modulo 32 is uniform.
    random_bytes::<LENGTH>()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    fn key() -> SigningKey {
        SecretKey::parse(&SecretKey::generate_text())
            .expect("key")
            .derive("backup-codes")
    }

    fn user() -> UserId {
        UserId::from_stored("0190f000-0000-7000-8000-000000000001".to_owned())
    }

    #[test]
    fn a_set_has_eight_distinct_well_formed_codes() {
        let (codes, digests) = generate(&key(), &user());
        let shown: Vec<&str> = codes.codes().collect();
        assert_eq!(shown.len(), COUNT);
        assert_eq!(digests.len(), COUNT);
        for code in &shown {
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(&code[5..6], "-");
            assert!(code
                .chars()
                .all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        }
        let mut unique = shown.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
    }

    #[test]
    fn typed_codes_match_however_they_are_written() {
        let key = key();
        let (codes, digests) = generate(&key, &user());
        let code = codes.codes().next().expect("a code").to_owned();
        let variants = [
            code.clone(),
            code.to_uppercase(),
            code.replace('-', ""),
            format!("  {} ", code.replace('-', " ")),
        ];
        for typed in variants {
            assert_eq!(
                digest_of_input(&key, &user(), &typed).as_ref(),
                Some(&digests[0]),
                "{typed}"
            );
        }
        assert_eq!(digest_of_input(&key, &user(), "abc"), None);
        assert_eq!(digest_of_input(&key, &user(), "abcde-fghjku"), None);
        assert_eq!(digest_of_input(&key, &user(), "ääääääääää"), None);
    }

    #[test]
    fn crockford_look_alikes_are_folded() {
        let key = key();
        assert_eq!(
            digest_of_input(&key, &user(), "IL0O1-11000"),
            digest_of_input(&key, &user(), "11001-11000")
        );
    }

    #[test]
    fn digests_are_bound_to_the_user_and_the_key() {
        let key = key();
        let other = UserId::from_stored("0190f000-0000-7000-8000-000000000002".to_owned());
        let code = "abcde-12345";
        assert_ne!(
            digest_of_input(&key, &user(), code),
            digest_of_input(&key, &other, code)
        );
        assert_ne!(
            digest_of_input(&key, &user(), code),
            digest_of_input(&self::key(), &user(), code)
        );
    }

    #[test]
    fn debug_shows_no_code() {
        let (codes, _) = generate(&key(), &user());
        let text = format!("{codes:?}");
        assert!(codes.codes().all(|c| !text.contains(c)), "{text}");
    }
}
