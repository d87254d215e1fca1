//! Access-token claims and the one check of them: every registered claim required, issuer
//! and audience exact, times against the injected clock with at most the configured leeway,
//! and no token living longer than the access lifetime.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Claim names the core sets; a host's custom claims may not use them.
pub(crate) const REGISTERED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "scope",
    "epoch",
    "client_id",
    "act",
    "cnf",
];

/// An access token's claims (RFC 9068), plus the token epoch and the host's claims.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub scope: String,
    pub epoch: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a token must match.
pub(crate) struct Rules<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub leeway_secs: i64,
    pub max_lifetime_secs: i64,
}

/// Why claims were refused (for the log; the client hears one answer).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Issuer,
    Audience,
    Expired,
    NotYetValid,
    IssuedInFuture,
    Lifetime,
    Identifiers,
}

impl AccessClaims {
    pub(crate) fn check(&self, rules: &Rules<'_>, now_secs: i64) -> Result<(), Refusal> {
        let leeway = rules.leeway_secs;
        if self.iss != rules.issuer {
            return Err(Refusal::Issuer);
        }
        if self.aud != rules.audience {
            return Err(Refusal::Audience);
        }
        if self.exp.saturating_add(leeway) <= now_secs {
            return Err(Refusal::Expired);
        }
        if self.nbf.saturating_sub(leeway) > now_secs {
            return Err(Refusal::NotYetValid);
        }
        if self.iat.saturating_sub(leeway) > now_secs {
            return Err(Refusal::IssuedInFuture);
        }
        let lifetime = self.exp.saturating_sub(self.iat);
        if lifetime <= 0 || lifetime > rules.max_lifetime_secs || self.nbf < self.iat {
            return Err(Refusal::Lifetime);
        }
        let plain = |text: &str| {
            !text.is_empty()
                && text.len() <= 64
                && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if !plain(&self.sub) || !plain(&self.jti) {
            return Err(Refusal::Identifiers);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules<'static> = Rules {
        issuer: "https://auth.example.com",
        audience: "https://auth.example.com/api/v1",
        leeway_secs: 30,
        max_lifetime_secs: 900,
    };

    fn claims(now: i64) -> AccessClaims {
        AccessClaims {
            iss: RULES.issuer.to_owned(),
            sub: "0192f3a4-7b1c-7d2e-8f90-a1b2c3d4e5f6".to_owned(),
            aud: RULES.audience.to_owned(),
            exp: now + 900,
            iat: now,
            nbf: now,
            jti: "0192f3a47b1c7d2e8f90a1b2c3d4e5f6".to_owned(),
            scope: "profile:read".to_owned(),
            epoch: 0,
            extra: Map::new(),
        }
    }

    #[test]
    fn times_allow_the_leeway_and_not_a_second_more() {
        let now = 1_700_000_000;
        let c = claims(now);
        assert_eq!(c.check(&RULES, now), Ok(()));
        assert_eq!(c.check(&RULES, now + 900 + 29), Ok(()));
        assert_eq!(c.check(&RULES, now + 900 + 30), Err(Refusal::Expired));
        assert_eq!(c.check(&RULES, now - 30), Ok(()));
        assert_eq!(c.check(&RULES, now - 31), Err(Refusal::NotYetValid));
    }

    #[test]
    fn wrong_parties_and_long_lives_are_refused() {
        let now = 1_700_000_000;
        let mut c = claims(now);
        c.iss = "https://evil.example".to_owned();
        assert_eq!(c.check(&RULES, now), Err(Refusal::Issuer));
        let mut c = claims(now);
        c.aud = "https://other.example".to_owned();
        assert_eq!(c.check(&RULES, now), Err(Refusal::Audience));
        let mut c = claims(now);
        c.exp = now + 86_400;
        assert_eq!(c.check(&RULES, now), Err(Refusal::Lifetime));
        let mut c = claims(now);
        c.sub = "../../etc/passwd".to_owned();
        assert_eq!(c.check(&RULES, now), Err(Refusal::Identifiers));
    }

    #[test]
    fn a_missing_registered_claim_does_not_parse() {
        let mut json = serde_json::to_value(claims(1)).expect("json");
        for claim in [
            "exp", "iss", "aud", "sub", "nbf", "iat", "jti", "epoch", "scope",
        ] {
            let mut without = json.clone();
            without.as_object_mut().expect("object").remove(claim);
            assert!(
                serde_json::from_value::<AccessClaims>(without).is_err(),
                "{claim}"
            );
        }
        json["aud"] = serde_json::json!(["a", "b"]);
        assert!(
            serde_json::from_value::<AccessClaims>(json).is_err(),
            "aud must be one string"
        );
    }
}
