//! Friendly names for passkeys the user did not name: the provider from the authenticator's
//! AAGUID (a curated part of the community list at github.com/passkeydeveloper/passkey-authenticator-aaguids),
//! else the device from the user agent.

/// Known providers by AAGUID.
const PROVIDERS: &[(&str, &str)] = &[
    (
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        "Google Password Manager",
    ),
    ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
    ("b5397666-4885-aa6b-cebf-e52262a439a2", "Chromium Browser"),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
    ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
    ("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
    (
        "dd4ec289-e01d-41c9-bb89-70fa845d4bf2",
        "iCloud Keychain (Managed)",
    ),
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "Apple Passwords"),
    ("531126d6-e717-415c-9320-3d9aa6981239", "Dashlane"),
    ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
    ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
    ("53414d53-554e-4700-0000-000000000000", "Samsung Pass"),
    ("50726f74-6f6e-5061-7373-50726f746f6e", "Proton Pass"),
    ("fdb141b2-5d84-443e-8a35-4698c205a502", "KeePassXC"),
    ("b84e4048-15dc-4dd0-8640-f4f60813c8af", "NordPass"),
    ("0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6", "Keeper"),
    ("b78a0a55-6ef8-d246-a042-ba0f6d55050c", "LastPass"),
    (
        "d3452668-01fd-4c12-926c-83a4204853aa",
        "Microsoft Password Manager",
    ),
    ("771b48fd-d3d4-4f74-9232-fc157ab0507a", "Edge on Mac"),
];

/// The AAGUID in an attestation object (CBOR `{fmt, attStmt, authData}`): bytes 37..53 of
/// the authenticator data, when it carries attested credential data. All zeros means the
/// authenticator chose not to say.
pub(super) fn aaguid_of(attestation_object: &[u8]) -> Option<String> {
    use serde_cbor_2::Value;
    let Value::Map(map) = serde_cbor_2::from_slice::<Value>(attestation_object).ok()? else {
        return None;
    };
    let Some(Value::Bytes(auth_data)) = map.get(&Value::Text("authData".to_owned())) else {
        return None;
    };
    const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;
    if auth_data.len() < 53 || auth_data[32] & ATTESTED_CREDENTIAL_DATA == 0 {
        return None;
    }
    let id = uuid::Uuid::from_slice(&auth_data[37..53]).ok()?;
    (!id.is_nil()).then(|| id.to_string())
}

/// The name shown for a passkey the user did not name.
pub(super) fn default_name(aaguid: Option<&str>, user_agent: Option<&str>) -> String {
    aaguid
        .and_then(|id| PROVIDERS.iter().find(|(known, _)| *known == id))
        .map_or_else(
            || {
                format!(
                    "Passkey on {}",
                    crate::sessions::device::describe(user_agent)
                )
            },
            |(_, name)| (*name).to_owned(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attestation(flags: u8, aaguid: [u8; 16]) -> Vec<u8> {
        use serde_cbor_2::Value;
        let mut auth_data = vec![0_u8; 32];
        auth_data.push(flags);
        auth_data.extend_from_slice(&[0, 0, 0, 0]);
        auth_data.extend_from_slice(&aaguid);
        auth_data.extend_from_slice(&[0, 0]);
        let map = [
            (
                Value::Text("fmt".to_owned()),
                Value::Text("none".to_owned()),
            ),
            (
                Value::Text("attStmt".to_owned()),
                Value::Map(Default::default()),
            ),
            (Value::Text("authData".to_owned()), Value::Bytes(auth_data)),
        ];
        serde_cbor_2::to_vec(&Value::Map(map.into_iter().collect())).expect("cbor")
    }

    #[test]
    fn the_aaguid_names_the_provider() {
        let bitwarden =
            uuid::Uuid::parse_str("d548826e-79b4-db40-a3d8-11116f7e8349").expect("uuid");
        let aaguid = aaguid_of(&attestation(0x45, *bitwarden.as_bytes()));
        assert_eq!(
            aaguid.as_deref(),
            Some("d548826e-79b4-db40-a3d8-11116f7e8349")
        );
        assert_eq!(default_name(aaguid.as_deref(), None), "Bitwarden");
    }

    #[test]
    fn unknown_or_hidden_aaguids_fall_back_to_the_device() {
        assert_eq!(
            aaguid_of(&attestation(0x45, [0; 16])),
            None,
            "all zeros says nothing"
        );
        assert_eq!(
            aaguid_of(&attestation(0x05, [7; 16])),
            None,
            "no attested data"
        );
        assert_eq!(aaguid_of(b"not cbor"), None);
        let ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";
        assert_eq!(
            default_name(Some("00000000-1111-2222-3333-444444444444"), Some(ua)),
            "Passkey on Chrome 120 on macOS"
        );
    }
}
