//! The token format: `<prefix>_<base64url of 32 random bytes><checksum>`. The checksum (six
//! base64url characters of SHA-256 over everything before it) lets a secret scanner tell a real
//! token from a look-alike without asking us. The database keeps the SHA-256 of the whole token.

use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::{b64url, from_b64url, random_bytes, TokenHash};

/// Characters of the random part (32 bytes in unpadded base64url).
const RANDOM_CHARS: usize = 43;
/// Characters of the checksum.
const CHECKSUM_CHARS: usize = 6;

fn checksum(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut text = b64url(&digest[..5]);
    text.truncate(CHECKSUM_CHARS);
    text
}

/// A token just made: shown to its owner once, never stored.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct NewApiToken(String);

impl NewApiToken {
    pub(crate) fn generate(prefix: &str) -> Self {
        let body = format!("{prefix}_{}", b64url(&random_bytes::<32>()));
        let sum = checksum(&body);
        Self(format!("{body}{sum}"))
    }

    /// The token, to show once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for NewApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewApiToken([redacted])")
    }
}

/// A token as a client presented it, checked for shape and checksum before it costs a lookup.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PresentedApiToken(String);

impl PresentedApiToken {
    /// `None` unless `text` is `<prefix>_`, 32 random bytes in base64url and the right checksum.
    pub fn parse(prefix: &str, text: &str) -> Option<Self> {
        let rest = text.strip_prefix(prefix)?.strip_prefix('_')?;
        if rest.len() != RANDOM_CHARS + CHECKSUM_CHARS || !rest.is_ascii() {
            return None;
        }
        let (random, sum) = rest.split_at(RANDOM_CHARS);
        if from_b64url(random).map(|bytes| bytes.len()) != Some(32) {
            return None;
        }
        let body = &text[..text.len() - CHECKSUM_CHARS];
        (checksum(body) == sum).then(|| Self(text.to_owned()))
    }

    /// Whether `text` looks like one of our tokens (its prefix), so a bearer goes this way.
    pub fn has_prefix(prefix: &str, text: &str) -> bool {
        text.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('_'))
    }

    pub(crate) fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for PresentedApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresentedApiToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_new_token_parses_and_hashes_alike() {
        let token = NewApiToken::generate("sigra");
        let text = token.expose();
        assert!(text.starts_with("sigra_"));
        assert_eq!(text.len(), "sigra_".len() + 43 + 6);
        let presented = PresentedApiToken::parse("sigra", text).expect("parses");
        assert_eq!(presented.hash(), token.hash());
        assert!(!format!("{token:?}{presented:?}").contains(text));
    }

    #[test]
    fn a_wrong_prefix_or_checksum_is_refused_before_any_lookup() {
        let token = NewApiToken::generate("sigra");
        let text = token.expose().to_owned();
        assert!(PresentedApiToken::parse("other", &text).is_none());
        let mut flipped = text.clone().into_bytes();
        let i = "sigra_".len() + 3;
        flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert!(
            PresentedApiToken::parse("sigra", &flipped).is_none(),
            "the checksum catches a typo"
        );
        assert!(PresentedApiToken::parse("sigra", &text[..text.len() - 1]).is_none());
        assert!(PresentedApiToken::parse("sigra", &format!("{text}x")).is_none());
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_parses_and_never_panics(text in "\\PC{0,120}") {
            // A random string matching the checksum by chance is a 1 in 2^36 event.
            prop_assert!(PresentedApiToken::parse("sigra", &text).is_none());
        }

        #[test]
        fn mangled_tokens_are_refused(cut in 0usize..55, byte in any::<u8>()) {
            let token = NewApiToken::generate("sigra");
            let mut bytes = token.expose().as_bytes().to_vec();
            let i = cut.min(bytes.len() - 1);
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            if let Ok(text) = String::from_utf8(bytes) {
                prop_assert!(PresentedApiToken::parse("sigra", &text).is_none());
            }
        }
    }
}
