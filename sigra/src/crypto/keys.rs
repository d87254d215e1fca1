use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{b64url, from_b64url};

type HmacSha256 = Hmac<Sha256>;

/// The application secret every keyed operation derives from. At least 32 bytes.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// Fewest bytes a secret may have.
    pub const MIN_BYTES: usize = 32;

    /// Reads a base64url (or standard base64) secret of at least 32 bytes.
    pub fn parse(text: &str) -> Option<Self> {
        use base64::engine::general_purpose::STANDARD;
        use base64::Engine as _;
        let text = text.trim();
        let bytes =
            from_b64url(text.trim_end_matches('=')).or_else(|| STANDARD.decode(text).ok())?;
        // Secrets longer than 32 bytes are condensed so every derivation uses one key size.
        (bytes.len() >= Self::MIN_BYTES).then(|| Self(Sha256::digest(&bytes).into()))
    }

    /// A new random secret, as text `parse` accepts.
    pub fn generate_text() -> String {
        b64url(&super::random_bytes::<32>())
    }

    /// A key for one purpose, so a signature made for one use never verifies for another.
    pub fn derive(&self, purpose: &str) -> SigningKey {
        SigningKey(mac(&self.0, purpose.as_bytes()))
    }

    /// Raw key bytes for one purpose (for keys the configuration names, like TOTP sealing).
    pub fn derive_key_bytes(&self, purpose: &str) -> [u8; 32] {
        mac(&self.0, format!("key:{purpose}").as_bytes())
    }

    /// An encryption key for one purpose.
    pub fn derive_sealer(&self, purpose: &str) -> super::Sealer {
        super::Sealer::new(&mac(&self.0, format!("seal:{purpose}").as_bytes()))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// An HMAC-SHA256 key bound to one purpose.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// `message.tag`, where the tag authenticates the message.
    pub fn sign(&self, message: &str) -> String {
        format!("{message}.{}", self.tag(message))
    }

    /// The tag alone (base64url HMAC-SHA256): a keyed digest of `message`.
    pub fn tag(&self, message: &str) -> String {
        b64url(&mac(&self.0, message.as_bytes()))
    }

    /// The message inside a value `sign` produced, or `None` when the tag does not match.
    /// The comparison is constant-time.
    pub fn verify<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (message, tag) = signed.rsplit_once('.')?;
        let tag = from_b64url(tag)?;
        let mut check = keyed(&self.0);
        check.update(message.as_bytes());
        check.verify_slice(&tag).ok().map(|()| message)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

fn mac(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut mac = keyed(key);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// HMAC keyed with 32 bytes. HMAC zero-pads short keys to the block size itself, so padding
/// here gives the standard result while using the infallible fixed-size constructor.
fn keyed(key: &[u8; 32]) -> HmacSha256 {
    let mut block = [0_u8; 64];
    block[..32].copy_from_slice(key);
    <HmacSha256 as Mac>::new(&block.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::parse(&SecretKey::generate_text()).expect("generated text parses")
    }

    #[test]
    fn signature_round_trips() {
        let signing = key().derive("flash");
        let signed = signing.sign("info.logged_out");
        assert_eq!(signing.verify(&signed), Some("info.logged_out"));
    }

    #[test]
    fn tampered_or_foreign_signatures_fail() {
        let secret = key();
        let signed = secret.derive("flash").sign("info.logged_out");
        let tampered = signed.replacen("info", "fail", 1);
        assert_eq!(secret.derive("flash").verify(&tampered), None);
        assert_eq!(secret.derive("other-purpose").verify(&signed), None);
        assert_eq!(key().derive("flash").verify(&signed), None);
        assert_eq!(secret.derive("flash").verify("no-tag"), None);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(SecretKey::parse(&b64url(&[7_u8; 31])).is_none());
        assert!(SecretKey::parse(&b64url(&[7_u8; 32])).is_some());
        assert!(SecretKey::parse("not base64 at all!").is_none());
    }
}
