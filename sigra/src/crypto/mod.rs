//! Random tokens, their digests, keyed signatures and sealed (encrypted) values. Everything secret here is kept out of
//! `Debug`, `Display` and `PartialEq` so it cannot leak into a log or a timing oracle.

mod keys;
mod seal;
mod token;

pub use keys::{SecretKey, SigningKey};
pub use seal::Sealer;
pub use token::{IssuedToken, PresentedToken, TokenHash};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Base64url without padding: the text form of every token and tag.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `None` for anything else.
pub fn from_b64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}
