//! The optional breached-password check: a k-anonymity range query (the first five hex digits
//! of the password's SHA-1) to a Pwned Passwords compatible endpoint. The password itself never
//! leaves the server. A failed or slow endpoint fails open, with a warning in the log.

use sha1::{Digest, Sha1};
use url::Url;

use crate::config::PasswordConfig;
use crate::error::{Error, Result};

use super::Password;

/// A configured range endpoint.
#[derive(Clone, Debug)]
pub struct BreachCheck {
    client: reqwest::Client,
    range_url: Url,
}

impl BreachCheck {
    /// The check the configuration asks for, if any.
    ///
    /// # Errors
    /// The HTTP client could not be built.
    pub fn from_config(config: &PasswordConfig) -> Result<Option<Self>> {
        let Some(range_url) = config.breach_check_url.clone() else {
            return Ok(None);
        };
        let client = reqwest::Client::builder()
            .timeout(config.breach_check_timeout)
            // Never follow a redirect to somewhere the operator did not configure.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(Some(Self { client, range_url }))
    }

    /// `Some(true)` if the password is in the breach corpus, `Some(false)` if not, `None` when
    /// the endpoint could not answer.
    pub async fn is_breached(&self, password: &Password) -> Option<bool> {
        let digest = hex::encode_upper(Sha1::digest(password.normalized().as_bytes()));
        let (prefix, suffix) = digest.split_at(5);
        let url = self.range_url.join(prefix).ok()?;
        let started = std::time::Instant::now();
        let response = self
            .client
            .get(url)
            .header("Add-Padding", "true")
            .send()
            .await;
        let body = match response {
            Ok(r) if r.status().is_success() => r.text().await.ok(),
            Ok(r) => {
                tracing::warn!(
                    status = r.status().as_u16(),
                    "breached-password check failed; accepting the password"
                );
                None
            }
            Err(error) => {
                tracing::warn!(%error, elapsed = ?started.elapsed(), "breached-password check failed; accepting the password");
                None
            }
        }?;
        Some(body.lines().any(|line| {
            line.split_once(':').is_some_and(|(candidate, count)| {
                candidate.trim().eq_ignore_ascii_case(suffix) && count.trim() != "0"
            })
        }))
    }
}
