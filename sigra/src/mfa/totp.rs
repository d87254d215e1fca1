//! RFC 6238 codes: 30-second steps, 6 digits, one step of clock drift either way, and each step
//! accepted once (the step is stored; only later steps pass).

use subtle::ConstantTimeEq as _;
use totp_rs::{Algorithm, Builder, Totp};

use crate::clock::Timestamp;

/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: u8 = 6;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

fn totp(secret: &[u8], account: &str, issuer: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.to_vec())
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build()
        .ok()
}

/// The step number of `at`.
pub fn step_of(at: Timestamp) -> u64 {
    u64::try_from(at.as_millis()).unwrap_or(0) / 1000 / STEP_SECONDS
}

/// The code for `step`.
pub fn code_at_step(secret: &[u8], step: u64) -> Option<String> {
    Some(
        totp(secret, "x", "x")?
            .generate(step * STEP_SECONDS)
            .to_string(),
    )
}

/// The step `code` belongs to, among now−1, now and now+1 and after `last_used_step`, if any.
/// Every candidate is compared, in constant time, so the timing says nothing about which matched.
pub fn matching_step(
    secret: &[u8],
    code: &str,
    now: Timestamp,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let current = step_of(now);
    let mut found = None;
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = code_at_step(secret, step)?;
        let fresh = last_used_step.is_none_or(|last| step > last);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && fresh && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI authenticator apps read.
pub fn provisioning_uri(secret: &[u8], account: &str, issuer: &str) -> Option<String> {
    totp(secret, account, issuer)?.to_url().ok()
}

/// The secret in base32, for typing into an app by hand.
pub fn base32(secret: &[u8]) -> String {
    totp_rs::Secret::from(secret.to_vec()).to_base32()
}

/// An SVG QR code of `uri`, sized for a phone camera.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1, 8 digits.
    #[test]
    fn rfc_6238_vectors() {
        let seeds: [(Algorithm, &[u8]); 3] = [
            (Algorithm::SHA1, b"12345678901234567890"),
            (Algorithm::SHA256, b"12345678901234567890123456789012"),
            (
                Algorithm::SHA512,
                b"1234567890123456789012345678901234567890123456789012345678901234",
            ),
        ];
        let table: [(u64, [&str; 3]); 6] = [
            (59, ["94287082", "46119246", "90693936"]),
            (1_111_111_109, ["07081804", "68084774", "25091201"]),
            (1_111_111_111, ["14050471", "67062674", "99943326"]),
            (1_234_567_890, ["89005924", "91819424", "93441116"]),
            (2_000_000_000, ["69279037", "90698825", "38618901"]),
            (20_000_000_000, ["65353130", "77737706", "47863826"]),
        ];
        for (time, expected) in table {
            for ((algorithm, seed), code) in seeds.iter().zip(expected) {
                let totp = Builder::new()
                    .with_algorithm(*algorithm)
                    .with_digits(8)
                    .with_step_duration(30)
                    .with_secret(seed.to_vec())
                    .build_noncompliant();
                assert_eq!(
                    totp.generate(time).to_string(),
                    code,
                    "{algorithm:?} at {time}"
                );
            }
        }
    }

    /// RFC 4226 Appendix D: HOTP is TOTP with the counter as the step.
    #[test]
    fn rfc_4226_vectors() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (count, code) in expected.iter().enumerate() {
            let step = u64::try_from(count).expect("small");
            assert_eq!(
                code_at_step(b"12345678901234567890", step).as_deref(),
                Some(*code),
                "count {count}"
            );
        }
    }

    #[test]
    fn one_step_of_drift_is_accepted_and_no_more() {
        let secret = [7_u8; SECRET_BYTES];
        let now = Timestamp::from_millis(1_700_000_000_000);
        let step = step_of(now);
        for (offset, accepted) in [
            (-2_i64, false),
            (-1, true),
            (0, true),
            (1, true),
            (2, false),
        ] {
            let target = step.checked_add_signed(offset).expect("step");
            let code = code_at_step(&secret, target).expect("code");
            assert_eq!(
                matching_step(&secret, &code, now, None).is_some(),
                accepted,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn a_code_is_accepted_once() {
        let secret = [9_u8; SECRET_BYTES];
        let now = Timestamp::from_millis(1_700_000_000_000);
        let code = code_at_step(&secret, step_of(now)).expect("code");
        let step = matching_step(&secret, &code, now, None).expect("first use");
        assert_eq!(
            matching_step(&secret, &code, now, Some(step)),
            None,
            "replayed"
        );
    }

    #[test]
    fn the_uri_and_qr_carry_the_secret() {
        let secret = [1_u8; SECRET_BYTES];
        let uri = provisioning_uri(&secret, "ada@example.com", "Sigra").expect("uri");
        assert!(
            uri.starts_with("otpauth://totp/Sigra:ada%40example.com?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", base32(&secret))));
        assert!(qr_svg(&uri).expect("svg").starts_with("<?xml"));
    }
}
