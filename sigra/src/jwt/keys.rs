//! Signing keys: generated here, the private half sealed in `jwt_signing_keys` with a key
//! derived from the secret key, the public half published as a JWK. Each key has one
//! algorithm, fixed when it was made, and the verifier never takes the algorithm from a token.
//!
//! Every process keeps the keys in memory and reads the table again when its copy is older
//! than [`RELOAD_INTERVAL`] (by the injected clock, never because a token named an unknown key),
//! so a rotation made by `server rotate-jwt-keys` reaches every process. A new key is
//! published first and signs only from [`PROPAGATION`] later, once every process knows it; the
//! key it replaces keeps verifying until the last token it signed has expired.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use ed25519_dalek::Signer as _;
use serde_json::{json, Value};
use sqlx::AnyConnection;
use zeroize::Zeroizing;

use crate::clock::Timestamp;
use crate::config::{JwtAlgorithm, JwtPrivateKey};
use crate::crypto::{b64url, random_bytes, Sealer};
use crate::error::{Error, Result};

/// How old a process's copy of the keys may get.
pub(crate) const RELOAD_INTERVAL: Duration = Duration::from_secs(30);
/// How long after it is made a rotated-in key starts signing.
pub(crate) const PROPAGATION: Duration = Duration::from_secs(60);

enum Private {
    Ed(ed25519_dalek::SigningKey),
    Es(p256::ecdsa::SigningKey),
}

enum Public {
    Ed(ed25519_dalek::VerifyingKey),
    Es(p256::ecdsa::VerifyingKey),
}

/// One key, opened.
pub(crate) struct Key {
    pub id: String,
    pub algorithm: JwtAlgorithm,
    private: Private,
    public: Public,
    pub jwk: Value,
    pub activates_at: Timestamp,
    pub retires_at: Option<Timestamp>,
}

impl Key {
    fn generate(algorithm: JwtAlgorithm) -> Result<(Self, Zeroizing<[u8; 32]>)> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let secret = Zeroizing::new(random_bytes::<32>());
        let key = Self::open(id, algorithm, &secret[..], Timestamp::from_millis(0), None)?;
        Ok((key, secret))
    }

    fn open(
        id: String,
        algorithm: JwtAlgorithm,
        secret: &[u8],
        activates_at: Timestamp,
        retires_at: Option<Timestamp>,
    ) -> Result<Self> {
        let bad = || Error::Internal(format!("the JWT signing key `{id}` does not open").into());
        let (private, public, jwk) = match algorithm {
            JwtAlgorithm::EdDsa => {
                let seed: [u8; 32] = secret.try_into().map_err(|_| bad())?;
                let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
                let verifying = signing.verifying_key();
                let jwk = json!({
                    "kty": "OKP", "crv": "Ed25519", "x": b64url(verifying.as_bytes()),
                    "kid": id, "alg": "EdDSA", "use": "sig",
                });
                (Private::Ed(signing), Public::Ed(verifying), jwk)
            }
            JwtAlgorithm::Es256 => {
                let signing = p256::ecdsa::SigningKey::from_slice(secret).map_err(|_| bad())?;
                let verifying = *signing.verifying_key();
                let point = verifying.to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(bad());
                };
                let jwk = json!({
                    "kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y),
                    "kid": id, "alg": "ES256", "use": "sig",
                });
                (Private::Es(signing), Public::Es(verifying), jwk)
            }
        };
        Ok(Self {
            id,
            algorithm,
            private,
            public,
            jwk,
            activates_at,
            retires_at,
        })
    }

    /// The signature over `input`, as JWS wants it (Ed25519's 64 bytes; ES256's r‖s).
    pub(crate) fn sign(&self, input: &[u8]) -> Vec<u8> {
        match &self.private {
            Private::Ed(key) => key.sign(input).to_bytes().to_vec(),
            Private::Es(key) => {
                use p256::ecdsa::signature::Signer as _;
                let signature: p256::ecdsa::Signature = key.sign(input);
                signature.to_bytes().to_vec()
            }
        }
    }

    /// Whether `signature` is this key's over `input` (strict Ed25519; fixed-size ES256).
    pub(crate) fn verifies(&self, input: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier as _;
        match &self.public {
            Public::Ed(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify_strict(input, &s).is_ok()),
            Public::Es(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(input, &s).is_ok()),
        }
    }

    fn verifies_at(&self, now: Timestamp) -> bool {
        self.retires_at.is_none_or(|at| now < at)
    }

    /// A retiring key still signs until its successor activates (the newest active key wins).
    fn signs_at(&self, now: Timestamp, algorithm: JwtAlgorithm) -> bool {
        self.algorithm == algorithm && self.activates_at <= now && self.verifies_at(now)
    }
}

/// The keys as one process knows them.
pub(crate) struct KeySet {
    keys: Vec<Key>,
    loaded_at: Timestamp,
}

impl KeySet {
    /// The key that signs now: the newest active one of the configured algorithm.
    pub(crate) fn signing(&self, now: Timestamp, algorithm: JwtAlgorithm) -> Option<&Key> {
        self.keys
            .iter()
            .filter(|k| k.signs_at(now, algorithm))
            .max_by_key(|k| (k.activates_at, k.id.clone()))
    }

    /// The key named `kid`, if it still verifies. A lookup in memory only.
    pub(crate) fn verifying(&self, kid: &str, now: Timestamp) -> Option<&Key> {
        self.keys.iter().find(|k| k.id == kid && k.verifies_at(now))
    }

    /// The public keys that verify now (and those about to sign), as a JWK set.
    pub(crate) fn jwks(&self, now: Timestamp) -> Value {
        let keys: Vec<&Value> = self
            .keys
            .iter()
            .filter(|k| k.verifies_at(now))
            .map(|k| &k.jwk)
            .collect();
        json!({ "keys": keys })
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    algorithm: String,
    private_key_sealed: String,
    activates_at: Timestamp,
    retires_at: Option<Timestamp>,
}

/// The keys of this process, and the sealer of their private halves; or the one key the
/// operator configured, which is then the only key (no database keys, no rotation here).
pub(crate) struct JwtKeys {
    sealer: Sealer,
    algorithm: JwtAlgorithm,
    cache: RwLock<Option<Arc<KeySet>>>,
    configured: Option<Arc<KeySet>>,
}

/// The RFC 7638 thumbprint of a public JWK: the id of a configured key.
fn thumbprint(jwk: &Value) -> String {
    use sha2::{Digest as _, Sha256};
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    let canonical = members
        .iter()
        .map(|m| format!("\"{m}\":{}", jwk[*m]))
        .collect::<Vec<_>>()
        .join(",");
    b64url(&Sha256::digest(format!("{{{canonical}}}").as_bytes()))
}

fn context(id: &str) -> String {
    format!("jwt-key:{id}")
}

impl JwtKeys {
    pub(crate) fn new(
        sealer: Sealer,
        algorithm: JwtAlgorithm,
        configured: Option<&JwtPrivateKey>,
    ) -> Result<Self> {
        let configured = match configured {
            Some(key) => {
                let mut key = Key::open(
                    String::new(),
                    algorithm,
                    key.secret(),
                    Timestamp::from_millis(0),
                    None,
                )?;
                key.id = thumbprint(&key.jwk);
                key.jwk["kid"] = Value::String(key.id.clone());
                Some(Arc::new(KeySet {
                    keys: vec![key],
                    loaded_at: Timestamp::from_millis(0),
                }))
            }
            None => None,
        };
        Ok(Self {
            sealer,
            algorithm,
            cache: RwLock::new(None),
            configured,
        })
    }

    /// The current keys: the cached set while it is fresh, else read again (making the first
    /// key when there is none that signs).
    pub(crate) async fn current(&self, db: &crate::db::Db, now: Timestamp) -> Result<Arc<KeySet>> {
        if let Some(configured) = &self.configured {
            return Ok(Arc::clone(configured));
        }
        let cached = self
            .cache
            .read()
            .ok()
            .and_then(|cache| cache.clone())
            .filter(|set| now.since(set.loaded_at) < RELOAD_INTERVAL && set.loaded_at <= now);
        if let Some(set) = cached {
            return Ok(set);
        }
        let mut set = self.load(db, now).await?;
        if set.signing(now, self.algorithm).is_none() {
            let mut tx = db.begin_write().await?;
            self.insert_new(&mut tx, now, now).await?;
            tx.commit().await?;
            set = self.load(db, now).await?;
        }
        let set = Arc::new(set);
        if let Ok(mut cache) = self.cache.write() {
            *cache = Some(Arc::clone(&set));
        }
        Ok(set)
    }

    /// Forgets the cached keys (after a rotation in this process).
    pub(crate) fn forget(&self) {
        if let Ok(mut cache) = self.cache.write() {
            *cache = None;
        }
    }

    async fn load(&self, db: &crate::db::Db, now: Timestamp) -> Result<KeySet> {
        let mut conn = db.acquire().await?;
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT id, algorithm, private_key_sealed, activates_at, retires_at FROM jwt_signing_keys \
             WHERE retires_at IS NULL OR retires_at > $1",
        )
        .bind(now.as_millis())
        .fetch_all(&mut *conn)
        .await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let algorithm: JwtAlgorithm = row.algorithm.parse().map_err(|_| {
                Error::Internal(format!("unknown JWT key algorithm {}", row.algorithm).into())
            })?;
            let secret = self
                .sealer
                .open(&context(&row.id), &row.private_key_sealed)
                .ok_or_else(|| {
                    Error::Internal(
                        format!("the JWT signing key `{}` does not open", row.id).into(),
                    )
                })?;
            keys.push(Key::open(
                row.id,
                algorithm,
                &secret,
                row.activates_at,
                row.retires_at,
            )?);
        }
        Ok(KeySet {
            keys,
            loaded_at: now,
        })
    }

    /// Makes a key that signs from `activates_at`; its id.
    pub(crate) async fn insert_new(
        &self,
        conn: &mut AnyConnection,
        now: Timestamp,
        activates_at: Timestamp,
    ) -> Result<String> {
        let (key, secret) = Key::generate(self.algorithm)?;
        sqlx::query(
            "INSERT INTO jwt_signing_keys (id, algorithm, private_key_sealed, public_jwk, created_at, activates_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.id)
        .bind(key.algorithm.as_str())
        .bind(self.sealer.seal(&context(&key.id), &secret[..]))
        .bind(key.jwk.to_string())
        .bind(now.as_millis())
        .bind(activates_at.as_millis())
        .execute(conn)
        .await?;
        Ok(key.id)
    }

    /// Rotation: a new key that signs after the propagation delay; every key signing now
    /// retires once the tokens it may still sign have expired; long-retired keys are deleted.
    /// The new key's id, and how many keys were set to retire.
    pub(crate) async fn rotate(
        &self,
        conn: &mut AnyConnection,
        now: Timestamp,
        access_ttl: Duration,
        leeway: Duration,
    ) -> Result<(String, u64)> {
        if self.configured.is_some() {
            return Err(Error::Internal(
                "the JWT key comes from jwt.private_key_file: rotate by replacing the file".into(),
            ));
        }
        let activates_at = now.plus(PROPAGATION);
        let retires_at = activates_at.plus(access_ttl).plus(leeway);
        sqlx::query(
            "DELETE FROM jwt_signing_keys WHERE retires_at IS NOT NULL AND retires_at <= $1",
        )
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?;
        let retired =
            sqlx::query("UPDATE jwt_signing_keys SET retires_at = $1 WHERE retires_at IS NULL")
                .bind(retires_at.as_millis())
                .execute(&mut *conn)
                .await?
                .rows_affected();
        // With no key before it, nobody can hold an old JWKS to propagate against: the first
        // key signs at once, so there is never a minute without a signing key.
        let activates_at = if retired == 0 { now } else { activates_at };
        let id = self.insert_new(conn, now, activates_at).await?;
        Ok((id, retired))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_algorithm_signs_and_verifies_only_its_own_signatures() {
        for algorithm in [JwtAlgorithm::EdDsa, JwtAlgorithm::Es256] {
            let (key, _) = Key::generate(algorithm).expect("key");
            let signature = key.sign(b"header.payload");
            assert!(key.verifies(b"header.payload", &signature));
            assert!(!key.verifies(b"header.payloaD", &signature));
            assert!(!key.verifies(b"header.payload", &signature[..signature.len() - 1]));
            let (other, _) = Key::generate(algorithm).expect("key");
            assert!(!other.verifies(b"header.payload", &signature));
            assert_eq!(key.jwk["kid"], key.id.as_str());
            assert_eq!(key.jwk["alg"], algorithm.as_str());
        }
    }

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 8037 appendix A.3: the thumbprint of its Ed25519 example key.
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            thumbprint(&jwk),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}
