//! API tokens and JWTs: the token prefix and lifetimes, and the JWT issuer, audience,
//! algorithm and lifetimes.

use std::str::FromStr;
use std::time::Duration;

use url::Url;

use super::sources::{Reader, Setting};
use super::Expected;

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "api_tokens.prefix", aliases: &[] },
    Setting { key: "api_tokens.max_lifetime", aliases: &[] },
    Setting { key: "api_tokens.require_expiry", aliases: &[] },
    Setting { key: "jwt.algorithm", aliases: &[] },
    Setting { key: "jwt.issuer", aliases: &[] },
    Setting { key: "jwt.audience", aliases: &[] },
    Setting { key: "jwt.access_ttl", aliases: &[] },
    Setting { key: "jwt.refresh_ttl", aliases: &[] },
    Setting { key: "jwt.family_lifetime", aliases: &[] },
    Setting { key: "jwt.leeway", aliases: &[] },
    Setting { key: "jwt.refresh_reuse_grace", aliases: &[] },
    Setting { key: "jwt.private_key_file", aliases: &[] },
];

/// Most clock skew a JWT check forgives (RFC 8725 asks for little).
const MAX_LEEWAY: Duration = Duration::from_secs(30);
/// Longest a superseded refresh token may be replayed without revoking its family.
const MAX_REUSE_GRACE: Duration = Duration::from_secs(60);

/// Personal API token settings.
#[derive(Clone, Debug)]
pub struct ApiTokenConfig {
    /// What every token starts with (before `_`), so secret scanners can recognise one.
    pub prefix: String,
    /// The longest a token may live (none: tokens may never expire, unless expiry is required).
    pub max_lifetime: Option<Duration>,
    /// Whether every token must have an expiry.
    pub require_expiry: bool,
}

/// The signature algorithm of access tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// Ed25519 (the default).
    EdDsa,
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

impl JwtAlgorithm {
    /// The JOSE name (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
        }
    }
}

impl FromStr for JwtAlgorithm {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "EdDSA" | "eddsa" => Ok(Self::EdDsa),
            "ES256" | "es256" => Ok(Self::Es256),
            _ => Err(Expected("EdDSA or ES256")),
        }
    }
}

/// A signing key from the operator (a PKCS#8 PEM file): its 32 secret bytes (an Ed25519 seed
/// or a P-256 scalar, for the configured algorithm). `Debug` never shows them.
#[cfg(feature = "jwt")]
#[derive(Clone)]
pub struct JwtPrivateKey(zeroize::Zeroizing<Vec<u8>>);

#[cfg(feature = "jwt")]
impl JwtPrivateKey {
    /// The secret bytes.
    pub(crate) fn secret(&self) -> &[u8] {
        &self.0
    }

    /// The key in the PEM file at `path` (`jwt.private_key_file`), or a problem recorded.
    fn read(r: &mut Reader, path: &str, algorithm: JwtAlgorithm) -> Option<Self> {
        let key = "jwt.private_key_file";
        match std::fs::read_to_string(path) {
            Ok(pem) => {
                let parsed = Self::parse(&pem, algorithm);
                if parsed.is_none() {
                    let what = format!(
                        "must name a PKCS#8 PEM private key for {}",
                        algorithm.as_str()
                    );
                    r.invalid(key, what);
                }
                parsed
            }
            Err(error) => {
                r.invalid(key, format!("cannot be read: {error}"));
                None
            }
        }
    }

    /// Reads a PKCS#8 PEM private key for `algorithm`.
    fn parse(pem: &str, algorithm: JwtAlgorithm) -> Option<Self> {
        let pem = pem.trim();
        let bytes = match algorithm {
            JwtAlgorithm::EdDsa => {
                use ed25519_dalek::pkcs8::DecodePrivateKey as _;
                ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                    .ok()?
                    .to_bytes()
                    .to_vec()
            }
            JwtAlgorithm::Es256 => {
                use p256::pkcs8::DecodePrivateKey as _;
                p256::SecretKey::from_pkcs8_pem(pem)
                    .ok()?
                    .to_bytes()
                    .to_vec()
            }
        };
        Some(Self(zeroize::Zeroizing::new(bytes)))
    }
}

#[cfg(feature = "jwt")]
impl std::fmt::Debug for JwtPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtPrivateKey([redacted])")
    }
}

/// JWT access and refresh token settings.
#[derive(Clone, Debug)]
pub struct JwtConfig {
    /// How access tokens are signed.
    pub algorithm: JwtAlgorithm,
    /// `iss`: who issues them (the base URL's origin by default).
    pub issuer: String,
    /// `aud`: who they are for (the API under the base URL by default).
    pub audience: String,
    /// How long an access token lives.
    pub access_ttl: Duration,
    /// How long a refresh token lives unused.
    pub refresh_ttl: Duration,
    /// How long a refresh family lives, however often it rotates.
    pub family_lifetime: Duration,
    /// Clock skew forgiven on `exp`, `nbf` and `iat` (at most 30 s).
    pub leeway: Duration,
    /// How long after its rotation a refresh token may be presented again (a client racing
    /// itself) without revoking its family; zero (the default) treats any reuse as theft.
    pub refresh_reuse_grace: Duration,
    /// The operator's signing key (`jwt.private_key_file`); without it, keys are made and
    /// sealed in the database and rotated by `server rotate-jwt-keys`.
    #[cfg(feature = "jwt")]
    pub private_key: Option<JwtPrivateKey>,
}

impl ApiTokenConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let prefix = r.text("api_tokens.prefix", "sigra");
        let valid_prefix = !prefix.is_empty()
            && prefix.len() <= 32
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !prefix.to_ascii_lowercase().starts_with("eyj");
        if !valid_prefix {
            r.invalid(
                "api_tokens.prefix",
                "must be 1-32 lowercase letters, digits or _, and not start with eyJ (which marks a JWT)",
            );
        }
        let max_lifetime = r
            .given("api_tokens.max_lifetime")
            .filter(|text| !text.trim().is_empty())
            .map(|_| r.duration("api_tokens.max_lifetime", "0s"));
        Self {
            prefix,
            max_lifetime,
            require_expiry: r.flag("api_tokens.require_expiry", false),
        }
    }
}

impl JwtConfig {
    pub(super) fn read(r: &mut Reader, base_url: &Url) -> Self {
        let origin = base_url.origin().ascii_serialization();
        let algorithm = r.parse("jwt.algorithm", JwtAlgorithm::EdDsa);
        let key_file = r
            .given("jwt.private_key_file")
            .filter(|p| !p.trim().is_empty());
        // Nothing signs access tokens in a build without them: a key file is a mistake.
        #[cfg(not(feature = "jwt"))]
        if key_file.is_some() {
            r.invalid(
                "jwt.private_key_file",
                "is set, but this build leaves out the `jwt` Cargo feature",
            );
        }
        let config = Self {
            algorithm,
            issuer: r.text("jwt.issuer", &origin),
            audience: r.text("jwt.audience", &format!("{origin}/api/v1")),
            access_ttl: r.duration("jwt.access_ttl", "15m"),
            refresh_ttl: r.duration("jwt.refresh_ttl", "30d"),
            family_lifetime: r.duration("jwt.family_lifetime", "90d"),
            leeway: r.duration("jwt.leeway", "30s"),
            refresh_reuse_grace: r.duration("jwt.refresh_reuse_grace", "0s"),
            #[cfg(feature = "jwt")]
            private_key: key_file.and_then(|path| JwtPrivateKey::read(r, path.trim(), algorithm)),
        };
        if config.leeway > MAX_LEEWAY {
            r.invalid("jwt.leeway", "must be at most 30s (RFC 8725)");
        }
        if config.refresh_reuse_grace > MAX_REUSE_GRACE {
            r.invalid("jwt.refresh_reuse_grace", "must be at most 60s");
        }
        if config.access_ttl < Duration::from_secs(60)
            || config.access_ttl > Duration::from_secs(3600)
        {
            r.invalid("jwt.access_ttl", "must be between 1m and 1h");
        }
        if config.refresh_ttl.is_zero() || config.refresh_ttl > config.family_lifetime {
            r.invalid(
                "jwt.refresh_ttl",
                "must be longer than zero and at most jwt.family_lifetime",
            );
        }
        for key in ["jwt.issuer", "jwt.audience"] {
            let value = if key == "jwt.issuer" {
                &config.issuer
            } else {
                &config.audience
            };
            if value.trim().is_empty() {
                r.invalid(key, "must not be empty");
            }
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::env;
    use crate::config::Config;

    #[test]
    fn api_defaults_follow_the_issue() {
        let config = Config::from_sources(None, &env(&[]), None).expect("valid");
        assert_eq!(config.api_tokens.prefix, "sigra");
        assert_eq!(config.api_tokens.max_lifetime, None);
        assert_eq!(config.jwt.algorithm.as_str(), "EdDSA");
        assert_eq!(config.jwt.issuer, "http://localhost:3000");
        assert_eq!(config.jwt.audience, "http://localhost:3000/api/v1");
        assert_eq!(config.jwt.access_ttl.as_secs(), 15 * 60);
        assert_eq!(config.jwt.refresh_ttl.as_secs(), 30 * 24 * 3600);
        assert_eq!(config.jwt.leeway.as_secs(), 30);
    }

    #[test]
    fn unsafe_api_settings_are_refused_by_name() {
        for (name, value) in [
            ("SIGRA_API_TOKENS_PREFIX", "eyJhb"),
            ("SIGRA_API_TOKENS_PREFIX", "Upper"),
            ("SIGRA_JWT_LEEWAY", "5m"),
            ("SIGRA_JWT_ALGORITHM", "HS256"),
            ("SIGRA_JWT_ALGORITHM", "none"),
            ("SIGRA_JWT_ACCESS_TTL", "1d"),
            ("SIGRA_JWT_REFRESH_REUSE_GRACE", "1h"),
        ] {
            let error = Config::from_sources(None, &env(&[(name, value)]), None)
                .expect_err("must be refused");
            assert!(error.to_string().contains(name), "{name}: {error}");
        }
        let config = Config::from_sources(
            None,
            &env(&[
                ("SIGRA_API_TOKENS_MAX_LIFETIME", "90d"),
                ("SIGRA_JWT_ALGORITHM", "ES256"),
            ]),
            None,
        )
        .expect("valid");
        assert_eq!(
            config.api_tokens.max_lifetime.map(|d| d.as_secs()),
            Some(90 * 24 * 3600)
        );
        assert_eq!(config.jwt.algorithm.as_str(), "ES256");
    }
}
