//! ID token verification (OpenID Connect Core §3.1.3.7), by hand over `jsonwebtoken`: the
//! signature with a key of the issuer's JWKS and an algorithm the issuer announced (never
//! `none`, never a shared-secret algorithm), then `iss` (exactly), `aud` (and `azp` when there
//! are several audiences), `exp` against the injected clock, and the `nonce` of this
//! authorization. Nothing in the token is read before its signature holds.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use crate::clock::Timestamp;

/// Seconds of clock difference tolerated on `exp`.
const LEEWAY_SECONDS: i64 = 30;

/// The algorithms an ID token may be signed with: public-key signatures only.
pub(super) const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What this authorization expects of its ID token.
pub(super) struct Expected<'a> {
    /// The issuer, exactly as the discovery document spells it.
    pub issuer: &'a str,
    /// Our client id.
    pub client_id: &'a str,
    /// The nonce sent with this authorization.
    pub nonce: &'a str,
    /// Now, by the injected clock.
    pub now: Timestamp,
    /// The algorithms the issuer announced, within [`ASYMMETRIC`].
    pub algorithms: &'a [Algorithm],
}

/// Why an ID token was refused (the audit reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Not a JWS, or an algorithm we do not accept (`none` included).
    Malformed,
    /// An algorithm the issuer did not announce, or a shared-secret one.
    Algorithm,
    /// No key of the issuer's set matches (after one refresh of the set).
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// Another issuer.
    Issuer,
    /// Not for this client.
    Audience,
    /// Expired.
    Expired,
    /// Not this authorization's nonce.
    Nonce,
}

impl Refusal {
    pub(super) fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "id_token_malformed",
            Self::Algorithm => "id_token_algorithm",
            Self::UnknownKey => "id_token_unknown_key",
            Self::Signature => "id_token_signature",
            Self::Issuer => "id_token_issuer",
            Self::Audience => "id_token_audience",
            Self::Expired => "id_token_expired",
            Self::Nonce => "id_token_nonce",
        }
    }
}

/// `true`, `"true"` (Apple sends strings), or absent (which means false).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(from = "serde_json::Value")]
pub(super) struct Flag(pub bool);

impl From<serde_json::Value> for Flag {
    fn from(value: serde_json::Value) -> Self {
        Self(matches!(value, serde_json::Value::Bool(true)) || value.as_str() == Some("true"))
    }
}

/// The claims read from a verified ID token.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct Claims {
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub azp: Option<String>,
    #[serde(default)]
    pub aud: serde_json::Value,
    #[serde(default)]
    pub auth_time: Option<i64>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Flag,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
}

/// The algorithm and key id a token's header names, if it parses as a JWS we accept.
pub(super) fn header(token: &str) -> Result<(Algorithm, Option<String>), Refusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
    Ok((header.alg, header.kid))
}

/// The key of `keys` for a token with this algorithm and key id.
pub(super) fn find_key<'k>(keys: &'k JwkSet, alg: Algorithm, kid: Option<&str>) -> Option<&'k Jwk> {
    let fits = |jwk: &&Jwk| {
        let alg_ok = jwk
            .common
            .key_algorithm
            .is_none_or(|declared| format!("{declared:?}") == format!("{alg:?}"));
        let kind_ok = matches!(
            (&jwk.algorithm, alg),
            (
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_),
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_),
                Algorithm::ES256 | Algorithm::ES384
            ) | (
                jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_),
                Algorithm::EdDSA
            )
        );
        alg_ok && kind_ok
    };
    match kid {
        Some(kid) => keys
            .keys
            .iter()
            .filter(fits)
            .find(|jwk| jwk.common.key_id.as_deref() == Some(kid)),
        // Without a key id, only an unambiguous key will do.
        None => {
            let mut candidates = keys.keys.iter().filter(fits);
            match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    }
}

/// Verifies `token` with `key` (already chosen by [`find_key`]) against `expected`.
pub(super) fn verify(token: &str, key: &Jwk, expected: &Expected<'_>) -> Result<Claims, Refusal> {
    let (alg, _) = header(token)?;
    if !ASYMMETRIC.contains(&alg) || !expected.algorithms.contains(&alg) {
        return Err(Refusal::Algorithm);
    }
    let key = DecodingKey::from_jwk(key).map_err(|_| Refusal::UnknownKey)?;
    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    // Time is judged below, by the injected clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|error| {
            use jsonwebtoken::errors::ErrorKind as K;
            match error.kind() {
                K::InvalidIssuer => Refusal::Issuer,
                K::InvalidAudience => Refusal::Audience,
                K::InvalidSignature => Refusal::Signature,
                K::InvalidAlgorithm => Refusal::Algorithm,
                _ => Refusal::Malformed,
            }
        })?
        .claims;
    if let serde_json::Value::Array(audiences) = &claims.aud {
        if audiences.len() > 1 && claims.azp.as_deref() != Some(expected.client_id) {
            return Err(Refusal::Audience);
        }
    }
    let now_seconds = expected.now.as_millis() / 1000;
    if claims.exp.saturating_add(LEEWAY_SECONDS) <= now_seconds {
        return Err(Refusal::Expired);
    }
    let nonce_matches = claims
        .nonce
        .as_deref()
        .is_some_and(|nonce| bool::from(nonce.as_bytes().ct_eq(expected.nonce.as_bytes())));
    if !nonce_matches {
        return Err(Refusal::Nonce);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::b64url;
    use jsonwebtoken::{EncodingKey, Header};

    /// A P-256 key pair: the PKCS#8 PEM and its public JWK (fixed test vector).
    const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjl0HKHPhbMuuDkDP\nwpQf4vSnkx5qFRGlumAmNPdLL7ShRANCAATwjizLYCwTYN2t7zYe+7dsBtXjISPK\nSIPwr/NeSl6KlFnSlHGsCyHNwLO1yb+hoFj7JqKzFulhcbNjffq098oh\n-----END PRIVATE KEY-----\n";
    const PUBLIC_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","use":"sig","x":"8I4sy2AsE2Ddre82Hvu3bAbV4yEjykiD8K_zXkpeipQ","y":"WdKUcawLIc3As7XJv6GgWPsmorMW6WFxs2N9-rT3yiE"}"#;

    fn keys() -> JwkSet {
        serde_json::from_str(&format!(r#"{{"keys":[{PUBLIC_JWK}]}}"#)).expect("jwks")
    }

    const NOW: i64 = 1_800_000_000;

    fn sign(claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".to_owned());
        let key = EncodingKey::from_ec_pem(PRIVATE_PEM.as_bytes()).expect("key");
        jsonwebtoken::encode(&header, claims, &key).expect("signs")
    }

    fn good() -> serde_json::Value {
        serde_json::json!({
            "iss": "https://op.example", "aud": "rp", "sub": "alice", "exp": NOW + 300,
            "iat": NOW, "nonce": "n-1", "email": "a@example.com", "email_verified": "true"
        })
    }

    fn check(token: &str) -> Result<Claims, Refusal> {
        let expected = Expected {
            issuer: "https://op.example",
            client_id: "rp",
            nonce: "n-1",
            now: Timestamp::from_millis(NOW * 1000),
            algorithms: &[Algorithm::ES256],
        };
        let keys = keys();
        let (alg, kid) = header(token)?;
        let key = find_key(&keys, alg, kid.as_deref()).ok_or(Refusal::UnknownKey)?;
        verify(token, key, &expected)
    }

    fn with(change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> String {
        let mut claims = good();
        change(claims.as_object_mut().expect("object"));
        sign(&claims)
    }

    #[test]
    fn a_good_token_verifies_and_apple_style_flags_read_true() {
        let claims = check(&sign(&good())).expect("valid");
        assert_eq!(claims.sub, "alice");
        assert!(claims.email_verified.0);
    }

    #[test]
    fn each_broken_claim_is_refused_for_its_own_reason() {
        assert_eq!(
            check(&with(|c| {
                c.insert("iss".into(), "https://evil.example".into());
            }))
            .err(),
            Some(Refusal::Issuer)
        );
        assert_eq!(
            check(&with(|c| {
                c.insert("aud".into(), "other-rp".into());
            }))
            .err(),
            Some(Refusal::Audience)
        );
        assert_eq!(
            check(&with(|c| {
                c.insert("aud".into(), serde_json::json!(["rp", "other"]));
            }))
            .err(),
            Some(Refusal::Audience),
            "several audiences need azp = us"
        );
        assert_eq!(
            check(&with(|c| {
                c.insert("exp".into(), (NOW - 31).into());
            }))
            .err(),
            Some(Refusal::Expired)
        );
        assert_eq!(
            check(&with(|c| {
                c.insert("nonce".into(), "n-2".into());
            }))
            .err(),
            Some(Refusal::Nonce)
        );
        assert_eq!(
            check(&with(|c| {
                c.remove("nonce");
            }))
            .err(),
            Some(Refusal::Nonce)
        );
    }

    #[test]
    fn unsigned_altered_and_foreign_tokens_are_refused() {
        let token = sign(&good());
        let mut parts: Vec<&str> = token.split('.').collect();
        let none_header = b64url(br#"{"alg":"none","kid":"k1"}"#);
        parts[0] = &none_header;
        let unsigned = format!("{}.{}.", parts[0], parts[1]);
        assert_eq!(check(&unsigned).err(), Some(Refusal::Malformed));

        let forged_body = b64url(
            serde_json::to_string(&with_sub("mallory"))
                .expect("json")
                .as_bytes(),
        );
        let altered = format!(
            "{}.{}.{}",
            token.split('.').next().unwrap_or_default(),
            forged_body,
            token.split('.').nth(2).unwrap_or_default()
        );
        assert_eq!(check(&altered).err(), Some(Refusal::Signature));

        let hs = {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("k1".to_owned());
            jsonwebtoken::encode(
                &header,
                &good(),
                &EncodingKey::from_secret(PUBLIC_JWK.as_bytes()),
            )
            .expect("signs")
        };
        assert_eq!(
            check(&hs).err(),
            Some(Refusal::UnknownKey),
            "no HMAC key in a JWKS"
        );
    }

    fn with_sub(sub: &str) -> serde_json::Value {
        let mut claims = good();
        claims["sub"] = sub.into();
        claims
    }
}
