//! Second-factor settings, and the keys that seal TOTP secrets: configured ones, or one derived
//! from the root secret.

use std::time::Duration;

use super::sources::{Reader, Setting};
use crate::crypto::SecretKey;

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "mfa.required", aliases: &[] },
    Setting { key: "mfa.encryption_keys", aliases: &[] },
    Setting { key: "mfa.trust_duration", aliases: &[] },
    Setting { key: "mfa.lockout_threshold", aliases: &[] },
    Setting { key: "mfa.lockout_duration", aliases: &[] },
    Setting { key: "mfa.lockout_max_duration", aliases: &[] },
];

/// The derivation purpose of TOTP-secret keys, from configured key material or the root secret.
const TOTP_KEY_PURPOSE: &str = "totp-secrets";

/// Second-factor settings. `Debug` names the keys' ids, never their bytes.
#[derive(Clone)]
pub struct MfaConfig {
    /// Whether every account must enrol a second factor (pages send it to enrol until done).
    pub required: bool,
    /// AEAD keys for TOTP secrets, newest first, by id. The first seals; all open.
    pub encryption_keys: Vec<(String, [u8; 32])>,
    /// How long "trust this browser" lasts.
    pub trust_duration: Duration,
    /// Wrong second factors in a row that lock the second-factor step.
    pub lockout_threshold: u32,
    /// How long the first such lock lasts; each lock in a row lasts twice the last.
    pub lockout_duration: Duration,
    /// The longest a second-factor lock lasts.
    pub lockout_max_duration: Duration,
}

impl std::fmt::Debug for MfaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key_ids: Vec<&str> = self
            .encryption_keys
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        f.debug_struct("MfaConfig")
            .field("required", &self.required)
            .field("encryption_keys", &key_ids)
            .field("trust_duration", &self.trust_duration)
            .field("lockout_threshold", &self.lockout_threshold)
            .field("lockout_duration", &self.lockout_duration)
            .field("lockout_max_duration", &self.lockout_max_duration)
            .finish()
    }
}

impl MfaConfig {
    pub(super) fn read(r: &mut Reader, secret_key: Option<&SecretKey>) -> Self {
        let derived = || secret_key.map(|key| key.derive_key_bytes(TOTP_KEY_PURPOSE));
        let mut encryption_keys = Vec::new();
        let text = r.text("mfa.encryption_keys", "");
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((id, material)) = item.split_once(':') else {
                r.invalid(
                    "mfa.encryption_keys",
                    "should be id:base64key pairs, newest first",
                );
                continue;
            };
            let key = if material == "derived" {
                derived()
            } else {
                SecretKey::parse(material).map(|k| k.derive_key_bytes(TOTP_KEY_PURPOSE))
            };
            match key {
                Some(key) => encryption_keys.push((id.to_owned(), key)),
                None => r.invalid(
                    "mfa.encryption_keys",
                    format!("has the key `{id}`, which must be 32+ random bytes in base64 (or `derived`)"),
                ),
            }
        }
        if encryption_keys.is_empty() {
            // No explicit keys: one derived from SIGRA_SECRET_KEY, under the id `derived`.
            if let Some(key) = derived() {
                encryption_keys.push(("derived".to_owned(), key));
            }
        }
        Self {
            required: r.flag("mfa.required", false),
            encryption_keys,
            trust_duration: r.duration("mfa.trust_duration", "30d"),
            lockout_threshold: r.number("mfa.lockout_threshold", 5),
            lockout_duration: r.duration("mfa.lockout_duration", "15m"),
            lockout_max_duration: r.duration("mfa.lockout_max_duration", "24h"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::env;
    use crate::config::Config;
    use crate::crypto::SecretKey;

    #[test]
    fn mfa_keys_are_read_newest_first_and_bad_ones_are_named() {
        let key = SecretKey::generate_text();
        let config = Config::from_sources(
            None,
            &env(&[(
                "SIGRA_MFA_ENCRYPTION_KEYS",
                &format!("k2:{key}, k1:derived"),
            )]),
            None,
        )
        .expect("valid");
        let ids: Vec<&str> = config
            .mfa
            .encryption_keys
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(ids, ["k2", "k1"]);
        assert_eq!(
            Config::from_sources(None, &env(&[]), None)
                .expect("valid")
                .mfa
                .encryption_keys[0]
                .0,
            "derived"
        );
        for bad in ["k1", "k1:short"] {
            let err = Config::from_sources(None, &env(&[("SIGRA_MFA_ENCRYPTION_KEYS", bad)]), None)
                .expect_err("must fail");
            assert!(
                err.to_string().contains("SIGRA_MFA_ENCRYPTION_KEYS"),
                "{err}"
            );
        }
    }
}
