use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash as Phc, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::config::PasswordConfig;
use crate::error::{Error, Result};

use super::hash_workers::{Job, Memory, Workers, IDLE_RELEASE};
use super::{NewPassword, Password};

/// A stored password hash: an Argon2id PHC string, or a bcrypt hash imported from elsewhere.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a hash read from the database.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The text to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn is_bcrypt(&self) -> bool {
        ["$2a$", "$2b$", "$2y$"]
            .iter()
            .any(|p| self.0.starts_with(p))
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// The result of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    /// The password matches. `rehash` says the stored hash uses old parameters or bcrypt and
    /// should be replaced by a fresh Argon2id hash of the same password.
    Match {
        /// Whether to store a new hash.
        rehash: bool,
    },
    /// The password does not match (or the stored hash is unreadable).
    Mismatch,
}

/// Argon2id hashing on a bounded pool: at most `hashing_concurrency` hashes run at once, on as
/// many threads of their own that reuse their Argon2 memory, and a request that cannot get a
/// slot in time is told the server is busy, so a flood of log-ins cannot starve everything
/// else or leave the process holding its memory.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    slots: Arc<Semaphore>,
    workers: Arc<Workers>,
    queue_timeout: Duration,
    /// A hash of a random password with the current parameters. Unknown emails are verified
    /// against it so they cost the same time as a wrong password.
    dummy: Arc<PasswordHash>,
    /// Hashes and verifications started, dummy ones included.
    runs: Arc<AtomicU64>,
}

impl PasswordHasher {
    /// A hasher with the configured parameters. Computes the dummy hash once.
    ///
    /// # Errors
    /// The parameters cannot hash (a configuration the validator let through).
    pub fn new(config: &PasswordConfig) -> Result<Self> {
        let params = config.argon2.clone();
        let random = Zeroizing::new(crate::crypto::b64url(&crate::crypto::random_bytes::<24>()));
        let dummy = hash_into(&mut Memory::unkept(), &params, &random)?;
        let workers = Workers::start(
            config.hashing_concurrency,
            params.block_count(),
            IDLE_RELEASE,
        )
        .map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(Self {
            params,
            slots: Arc::new(Semaphore::new(config.hashing_concurrency)),
            workers: Arc::new(workers),
            queue_timeout: config.hashing_queue_timeout,
            dummy: Arc::new(dummy),
            runs: Arc::new(AtomicU64::new(0)),
        })
    }

    /// How many hashes and verifications (dummy ones included) this hasher has run: what a
    /// test counts to prove a path never reached the hash.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::SeqCst)
    }

    /// Hashes a password that passed the policy.
    ///
    /// # Errors
    /// `Busy` when no hashing slot frees up in time.
    #[tracing::instrument(name = "password.hash", skip_all)]
    pub async fn hash(&self, password: &NewPassword) -> Result<PasswordHash> {
        let params = self.params.clone();
        let input = password.0.normalized();
        self.run(move |memory| hash_into(memory, &params, &input))
            .await?
    }

    /// Hashes a password that just verified against an outdated hash, whatever the current
    /// policy says of it: the user proved they know it, and a stronger hash is better than none.
    pub(crate) async fn rehash_verified(&self, password: &Password) -> Result<PasswordHash> {
        let params = self.params.clone();
        let input = password.normalized();
        self.run(move |memory| hash_into(memory, &params, &input))
            .await?
    }

    /// Checks `password` against `stored`.
    ///
    /// # Errors
    /// `Busy` when no hashing slot frees up in time.
    #[tracing::instrument(name = "password.verify", skip_all)]
    pub async fn verify(&self, password: &Password, stored: &PasswordHash) -> Result<Verification> {
        let params = self.params.clone();
        let stored = stored.clone();
        if stored.is_bcrypt() {
            // Legacy hashes were made from the password exactly as typed.
            let typed = Zeroizing::new(password.as_typed().to_owned());
            return self
                .run(
                    move |_| match bcrypt::verify(typed.as_bytes(), stored.as_str()) {
                        Ok(true) => Verification::Match { rehash: true },
                        _ => Verification::Mismatch,
                    },
                )
                .await;
        }
        let input = password.normalized();
        self.run(move |memory| verify_argon2(memory, &params, &input, &stored))
            .await
    }

    /// Does the work of a verification that always fails, for log-ins with unknown emails.
    ///
    /// # Errors
    /// `Busy` when no hashing slot frees up in time.
    #[tracing::instrument(name = "password.verify", skip_all)]
    pub async fn verify_dummy(&self, password: &Password) -> Result<()> {
        let params = self.params.clone();
        let dummy = Arc::clone(&self.dummy);
        let input = password.normalized();
        self.run(move |memory| {
            verify_argon2(memory, &params, &input, &dummy);
        })
        .await
    }

    /// Runs hashing work on a hashing thread once a slot is free, keeping the caller's span.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T> {
        let permit =
            tokio::time::timeout(self.queue_timeout, Arc::clone(&self.slots).acquire_owned())
                .await
                .map_err(|_| Error::Busy)?
                .map_err(|e| Error::Internal(Box::new(e)))?;
        self.runs.fetch_add(1, Ordering::SeqCst);
        let span = tracing::Span::current();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _entered = span.enter();
            let output = work(memory);
            drop(permit);
            let _ = answer.send(output);
        });
        if !self.workers.submit(job) {
            return Err(Error::Internal("the hashing threads have stopped".into()));
        }
        answered
            .await
            .map_err(|_| Error::Internal("a hashing job ended without an answer".into()))
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// A new Argon2id PHC string for `input` with `params`, computed in `memory`.
fn hash_into(memory: &mut Memory, params: &Params, input: &str) -> Result<PasswordHash> {
    let failed = |e: &dyn fmt::Display| Error::Internal(e.to_string().into());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0_u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|e| failed(&e))?;
    let mut out = [0_u8; Params::DEFAULT_OUTPUT_LEN];
    let argon = argon2(params);
    memory
        .with_blocks(params.block_count(), |blocks| {
            argon.hash_password_into_with_memory(input.as_bytes(), salt_raw, &mut out, blocks)
        })
        .map_err(|e| failed(&e))?;
    let phc = Phc {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(PasswordHash(phc.to_string()))
}

/// Checks `input` against an Argon2 PHC string, with the parameters recorded in it, then
/// compares them with ours (a match on older parameters asks for a rehash).
fn verify_argon2(
    memory: &mut Memory,
    params: &Params,
    input: &str,
    stored: &PasswordHash,
) -> Verification {
    let Ok(phc) = Phc::new(stored.as_str()) else {
        return Verification::Mismatch;
    };
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return Verification::Mismatch;
    };
    let (Ok(algorithm), Ok(stored_params)) =
        (Algorithm::try_from(phc.algorithm), Params::try_from(&phc))
    else {
        return Verification::Mismatch;
    };
    let version = match phc.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return Verification::Mismatch,
    };
    let mut salt_bytes = [0_u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
        return Verification::Mismatch;
    };
    let mut out = Zeroizing::new(vec![0_u8; expected.len()]);
    let argon = Argon2::new(algorithm, version, stored_params.clone());
    let computed = memory.with_blocks(stored_params.block_count(), |blocks| {
        argon.hash_password_into_with_memory(input.as_bytes(), salt_raw, &mut out, blocks)
    });
    // `Output` compares in constant time.
    if computed.is_err() || Output::new(&out).ok() != Some(expected) {
        return Verification::Mismatch;
    }
    let current = algorithm == Algorithm::Argon2id
        && version == Version::V0x13
        && stored_params.m_cost() == params.m_cost()
        && stored_params.t_cost() == params.t_cost()
        && stored_params.p_cost() == params.p_cost();
    Verification::Match { rehash: !current }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::PasswordPolicy;
    use crate::users::EmailAddress;

    fn config(m: u32, t: u32) -> PasswordConfig {
        PasswordConfig {
            min_length: 15,
            max_length: 256,
            argon2: Params::new(m, t, 1, None).expect("valid params"),
            hashing_concurrency: 2,
            hashing_queue_timeout: Duration::from_secs(30),
            breach_check_url: None,
            breach_check_timeout: Duration::from_secs(1),
        }
    }

    fn new_password(text: &str) -> NewPassword {
        let email = EmailAddress::parse("owner@example.com").expect("valid");
        PasswordPolicy::new(&config(19_456, 2), "Sigra")
            .check(Password::new(text.to_owned()), &email)
            .expect("passes the policy")
    }

    #[tokio::test]
    async fn hashes_with_owasp_parameters_and_verifies() {
        let hasher = PasswordHasher::new(&config(19_456, 2)).expect("hasher");
        let hash = hasher
            .hash(&new_password("correct horse battery staple"))
            .await
            .expect("hash");
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        let good = Password::new("correct horse battery staple".to_owned());
        let bad = Password::new("correct horse battery stapler".to_owned());
        assert_eq!(
            hasher.verify(&good, &hash).await.expect("ok"),
            Verification::Match { rehash: false }
        );
        assert_eq!(
            hasher.verify(&bad, &hash).await.expect("ok"),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_reference_implementation() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

        let hasher = PasswordHasher::new(&config(1024, 1)).expect("hasher");
        let ours = hasher
            .hash(&new_password("correct horse battery staple"))
            .await
            .expect("hash");
        let parsed = Phc::new(ours.as_str()).expect("a PHC string");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery staple", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2(&Params::new(1024, 1, 1, None).expect("params"))
            .hash_password(b"correct horse battery staple", &salt)
            .expect("hash")
            .to_string();
        assert_eq!(
            hasher
                .verify(
                    &Password::new("correct horse battery staple".to_owned()),
                    &PasswordHash::from_stored(theirs)
                )
                .await
                .expect("ok"),
            Verification::Match { rehash: false }
        );
    }

    #[tokio::test]
    async fn salts_differ_and_no_truncation_happens() {
        let hasher = PasswordHasher::new(&config(1024, 1)).expect("hasher");
        let long = "a-long-passphrase-".repeat(6);
        let first = hasher.hash(&new_password(&long)).await.expect("hash");
        let second = hasher.hash(&new_password(&long)).await.expect("hash");
        assert_ne!(first.as_str(), second.as_str());
        let prefix = Password::new(long[..72].to_owned());
        assert_eq!(
            hasher.verify(&prefix, &first).await.expect("ok"),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn changed_parameters_ask_for_a_rehash() {
        let old = PasswordHasher::new(&config(1024, 1)).expect("hasher");
        let hash = old
            .hash(&new_password("correct horse battery staple"))
            .await
            .expect("hash");
        let current = PasswordHasher::new(&config(2048, 1)).expect("hasher");
        let password = Password::new("correct horse battery staple".to_owned());
        assert_eq!(
            current.verify(&password, &hash).await.expect("ok"),
            Verification::Match { rehash: true }
        );
    }

    #[tokio::test]
    async fn bcrypt_hashes_verify_and_ask_for_an_upgrade() {
        let hasher = PasswordHasher::new(&config(1024, 1)).expect("hasher");
        let legacy = bcrypt::hash("legacy password from the old system", 4).expect("bcrypt");
        let stored = PasswordHash::from_stored(legacy);
        let good = Password::new("legacy password from the old system".to_owned());
        let bad = Password::new("legacy password from the new system".to_owned());
        assert_eq!(
            hasher.verify(&good, &stored).await.expect("ok"),
            Verification::Match { rehash: true }
        );
        assert_eq!(
            hasher.verify(&bad, &stored).await.expect("ok"),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn garbage_hashes_never_match() {
        let hasher = PasswordHasher::new(&config(1024, 1)).expect("hasher");
        let password = Password::new("anything at all here".to_owned());
        for junk in ["", "plaintext", "$argon2id$v=19$broken", "$2b$04$short"] {
            let stored = PasswordHash::from_stored(junk.to_owned());
            assert_eq!(
                hasher.verify(&password, &stored).await.expect("ok"),
                Verification::Mismatch
            );
        }
        hasher
            .verify_dummy(&password)
            .await
            .expect("dummy verify runs");
    }

    #[tokio::test]
    async fn a_full_pool_answers_busy_instead_of_waiting_forever() {
        let mut settings = config(1024, 1);
        settings.hashing_concurrency = 1;
        settings.hashing_queue_timeout = Duration::from_millis(1);
        let hasher = PasswordHasher::new(&settings).expect("hasher");
        let held = Arc::clone(&hasher.slots)
            .acquire_owned()
            .await
            .expect("slot");
        let password = Password::new("anything at all here".to_owned());
        assert!(matches!(
            hasher.verify_dummy(&password).await,
            Err(Error::Busy)
        ));
        drop(held);
        assert!(hasher.verify_dummy(&password).await.is_ok());
    }
}
