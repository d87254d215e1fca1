//! Passkey (WebAuthn) settings: the relying party, its origin, and the cloned-key policy.

use std::str::FromStr;

use url::Url;

use super::sources::{Reader, Setting};
use super::Expected;

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "passkeys.rp_id", aliases: &[] },
    Setting { key: "passkeys.origin", aliases: &[] },
    Setting { key: "passkeys.sign_count_policy", aliases: &[] },
    Setting { key: "passkeys.max_per_user", aliases: &[] },
];

/// What to do when a passkey's signature counter does not move forward (a possible clone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignCountPolicy {
    /// Accept, keep the higher count, and record it.
    Warn,
    /// Refuse this use; the user can log in another way.
    RequireReauth,
    /// Delete the passkey and refuse.
    Revoke,
}

impl SignCountPolicy {
    const ALL: [Self; 3] = [Self::Warn, Self::RequireReauth, Self::Revoke];

    /// The configured name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "warn",
            Self::RequireReauth => "require_reauth",
            Self::Revoke => "revoke",
        }
    }
}

impl FromStr for SignCountPolicy {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        Self::ALL
            .into_iter()
            .find(|policy| policy.as_str() == text)
            .ok_or(Expected("warn, require_reauth or revoke"))
    }
}

/// Passkey settings.
#[derive(Clone, Debug)]
pub struct PasskeyConfig {
    /// The relying party id: the site's domain (defaults to the base URL's host).
    pub rp_id: String,
    /// The origin browsers run ceremonies from (defaults to the base URL's origin).
    pub origin: Url,
    /// What a counter that fails to move forward does.
    pub sign_count_policy: SignCountPolicy,
    /// Passkeys one account may hold.
    pub max_per_user: u32,
}

impl PasskeyConfig {
    pub(super) fn read(r: &mut Reader, base_url: &Url) -> Self {
        let rp_id = r.text("passkeys.rp_id", base_url.host_str().unwrap_or("localhost"));
        let base_origin = Url::parse(&base_url.origin().ascii_serialization())
            .unwrap_or_else(|_| base_url.clone());
        let origin = r.value("passkeys.origin", base_origin, |text| {
            Url::parse(text).map_err(|_| "an origin such as https://auth.example.com")
        });
        let host = origin.host_str().unwrap_or_default();
        if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
            r.invalid(
                "passkeys.rp_id",
                format!("({rp_id}) must be the origin's host ({host}) or a parent domain of it"),
            );
        }
        Self {
            rp_id,
            origin,
            sign_count_policy: r
                .parse("passkeys.sign_count_policy", SignCountPolicy::RequireReauth),
            max_per_user: r.number("passkeys.max_per_user", 10),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::production;

    #[test]
    fn the_relying_party_must_be_the_origins_host_or_a_parent_of_it() {
        let config = production(&[]).expect("valid");
        assert_eq!(
            config.passkeys.rp_id, "auth.example.com",
            "from the base URL"
        );
        let parent = production(&[("SIGRA_PASSKEYS_RP_ID", "example.com")]).expect("a parent");
        assert_eq!(parent.passkeys.rp_id, "example.com");
        for rp_id in [
            "other.example",
            "xample.com",
            "evil-example.com",
            "auth.example.com.evil",
        ] {
            let text = production(&[("SIGRA_PASSKEYS_RP_ID", rp_id)])
                .expect_err(rp_id)
                .to_string();
            assert!(text.contains("SIGRA_PASSKEYS_RP_ID"), "{rp_id}: {text}");
        }
    }
}
