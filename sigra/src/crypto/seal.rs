use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::{b64url, from_b64url, random_bytes};

const NONCE_BYTES: usize = 24;

/// Authenticated encryption for secrets kept at rest (queued mail that carries links, later
/// TOTP secrets): XChaCha20-Poly1305 with a random nonce per message. The `context` is bound
/// as associated data, so a value sealed for one use does not open for another.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    /// A sealer with a 32-byte key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// Encrypts `plaintext`; the result is base64url text.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let nonce = random_bytes::<NONCE_BYTES>();
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        // Encryption only fails for messages beyond XChaCha20's 256 GiB limit.
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        b64url(&out)
    }

    /// Decrypts what [`Sealer::seal`] produced for the same context; `None` if it was altered,
    /// sealed for another context, or sealed with another key.
    pub fn open(&self, context: &str, sealed: &str) -> Option<Zeroizing<Vec<u8>>> {
        let bytes = from_b64url(sealed)?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        self.cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .ok()
            .map(Zeroizing::new)
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context_and_with_their_key() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal("job:send_email", b"a link with a token");
        assert!(!sealed.contains("token"));
        assert_eq!(
            sealer
                .open("job:send_email", &sealed)
                .as_deref()
                .map(Vec::as_slice),
            Some(&b"a link with a token"[..])
        );
        assert!(sealer.open("job:other", &sealed).is_none());
        assert!(Sealer::new(&[8; 32])
            .open("job:send_email", &sealed)
            .is_none());
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(sealer
            .open(
                "job:send_email",
                &String::from_utf8(tampered).expect("ascii")
            )
            .is_none());
        assert!(sealer.open("job:send_email", "short").is_none());
    }

    #[test]
    fn the_same_message_seals_differently_each_time() {
        let sealer = Sealer::new(&[7; 32]);
        assert_ne!(sealer.seal("c", b"m"), sealer.seal("c", b"m"));
    }
}
