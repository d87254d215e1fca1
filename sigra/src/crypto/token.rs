use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{b64url, from_b64url, random_bytes};

/// Bytes of entropy in every bearer token we issue (session, email links, API keys).
const TOKEN_BYTES: usize = 32;
/// Length of those bytes in unpadded base64url.
const TOKEN_TEXT_LEN: usize = 43;

/// A freshly minted bearer token: shown to its holder once, never stored.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct IssuedToken(String);

impl IssuedToken {
    /// 32 bytes from the CSPRNG.
    pub fn generate() -> Self {
        Self(b64url(&random_bytes::<TOKEN_BYTES>()))
    }

    /// The text handed to the holder (cookie value, link segment).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest the database keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuedToken([redacted])")
    }
}

/// A token as a client presented it, checked for shape before it costs a database lookup.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PresentedToken(String);

impl PresentedToken {
    /// `None` unless `text` is 43 characters of base64url decoding to 32 bytes.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != TOKEN_TEXT_LEN {
            return None;
        }
        let decoded = from_b64url(text)?;
        (decoded.len() == TOKEN_BYTES).then(|| Self(text.to_owned()))
    }

    /// The digest to look the token up by. Looking up by digest, not by value, keeps the
    /// comparison free of timing leaks about the stored token.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresentedToken([redacted])")
    }
}

/// SHA-256 of a token, lowercase hex: what a token column stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    pub(crate) fn of(token: &str) -> Self {
        Self(hex::encode(Sha256::digest(token.as_bytes())))
    }

    /// The hex digest, for SQL parameters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn issued_tokens_are_unique_and_carry_256_bits() {
        let tokens: HashSet<String> = (0..1000)
            .map(|_| IssuedToken::generate().expose().to_owned())
            .collect();
        assert_eq!(tokens.len(), 1000);
        for token in &tokens {
            assert_eq!(from_b64url(token).map(|b| b.len()), Some(32));
        }
    }

    #[test]
    fn presented_token_hashes_like_the_issued_one() {
        let issued = IssuedToken::generate();
        let presented = PresentedToken::parse(issued.expose()).expect("well-formed");
        assert_eq!(issued.hash(), presented.hash());
        assert_ne!(issued.hash().as_str(), issued.expose());
        assert_eq!(issued.hash().as_str().len(), 64);
    }

    #[test]
    fn malformed_tokens_are_refused_before_lookup() {
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &"!".repeat(43),
            &"a".repeat(42),
        ] {
            assert!(PresentedToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let issued = IssuedToken::generate();
        assert!(!format!("{issued:?}").contains(issued.expose()));
    }
}
