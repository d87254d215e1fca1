//! The AEAD keys that seal TOTP secrets at rest. Each sealed secret records the id of the key
//! that sealed it; the first configured key seals, every configured key opens, and
//! [`super::Mfa::rotate_mfa_keys`] re-seals everything under the first key so an old key can go.

use zeroize::Zeroizing;

use crate::audit::{Action, AuditEvent};
use crate::config::MfaConfig;
use crate::crypto::Sealer;
use crate::error::{Error, Result};
use crate::request::RequestContext;
use crate::users::UserId;

use super::{store, Mfa};

pub(crate) struct Keyring {
    keys: Vec<(String, Sealer)>,
}

impl Keyring {
    pub(crate) fn new(config: &MfaConfig) -> Self {
        Self {
            keys: config
                .encryption_keys
                .iter()
                .map(|(id, key)| (id.clone(), Sealer::new(key)))
                .collect(),
        }
    }

    /// Seals `secret` for `user` (the user id is bound in, so rows cannot be swapped):
    /// the sealed text and the id of the key used.
    pub(crate) fn seal(&self, user: &UserId, secret: &[u8]) -> Result<(String, String)> {
        self.seal_for(&context(user), secret)
    }

    pub(crate) fn open(
        &self,
        user: &UserId,
        sealed: &str,
        key_id: &str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.open_for(&context(user), sealed, key_id)
    }

    /// Seals `secret` bound to `context` (another kind of secret at rest, such as a provider
    /// token): the sealed text and the id of the key used.
    pub(crate) fn seal_for(&self, context: &str, secret: &[u8]) -> Result<(String, String)> {
        let (id, sealer) = self
            .keys
            .first()
            .ok_or_else(|| Error::Internal("no MFA encryption key is configured".into()))?;
        Ok((sealer.seal(context, secret), id.clone()))
    }

    /// Opens what [`Keyring::seal_for`] sealed for the same context.
    pub(crate) fn open_for(
        &self,
        context: &str,
        sealed: &str,
        key_id: &str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let (_, sealer) = self
            .keys
            .iter()
            .find(|(id, _)| id == key_id)
            .ok_or_else(|| {
                Error::Internal(
                    format!("the MFA encryption key `{key_id}` is not configured").into(),
                )
            })?;
        sealer
            .open(context, sealed)
            .ok_or_else(|| Error::Internal("a sealed secret did not open with its key".into()))
    }

    pub(crate) fn newest_id(&self) -> Option<&str> {
        self.keys.first().map(|(id, _)| id.as_str())
    }
}

fn context(user: &UserId) -> String {
    format!("totp:{user}")
}

impl Mfa<'_> {
    /// Re-seals every TOTP secret under the newest key (the first in `SIGRA_MFA_ENCRYPTION_KEYS`),
    /// in one transaction. Returns how many secrets moved; afterwards older keys can be removed.
    ///
    /// # Errors
    /// A secret sealed with a key that is no longer configured; the database failed.
    pub async fn rotate_mfa_keys(&self, request: &RequestContext) -> Result<u64> {
        let keyring = &self.secrets.keyring;
        let Some(newest) = keyring.newest_id() else {
            return Err(Error::Internal(
                "no MFA encryption key is configured".into(),
            ));
        };
        let mut change = self.core.begin_change(request).await?;
        let mut moved = 0;
        for stored in store::all_secrets(&mut change).await? {
            if stored.key_id == newest {
                continue;
            }
            let user = stored.user_id;
            let secret = keyring.open(&user, &stored.secret_sealed, &stored.key_id)?;
            let (resealed, id) = keyring.seal(&user, &secret)?;
            store::reseal(&mut change, user.as_str(), &resealed, &id).await?;
            moved += 1;
        }
        // Provider tokens are sealed with the same keys.
        moved += crate::oauth::reseal_tokens(&mut change, keyring, newest).await?;
        change
            .audit(
                AuditEvent::new(Action::MfaKeysRotate)
                    .by_system()
                    .meta("moved", moved),
            )
            .await?;
        change.commit().await?;
        Ok(moved)
    }
}
