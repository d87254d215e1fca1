use std::fmt;

/// Why an email address was not accepted: the wire vocabulary's type, so the browser shows
/// the same words.
pub use sigra_errors::EmailProblem as EmailError;

/// A normalised email address: trimmed, lowercased, the domain in its ASCII (IDNA) form.
/// Only [`EmailAddress::parse`] builds one, so every service can trust its shape, including
/// the absence of CR/LF that would allow mail header injection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

impl EmailAddress {
    /// Validates and normalises user input.
    ///
    /// # Errors
    /// The reason the input is not a usable address.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(EmailError::Missing);
        }
        if input.chars().count() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        if input.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(EmailError::Malformed);
        }
        let (local, domain) = input.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let local = local.to_lowercase();
        if !valid_local_part(&local) {
            return Err(EmailError::Malformed);
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| EmailError::Malformed)?;
        if !valid_domain(&domain) {
            return Err(EmailError::Malformed);
        }
        let address = format!("{local}@{domain}");
        if address.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        Ok(Self(address))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 5322 dot-atom local parts (no quoted strings), letters of any script allowed (RFC 6531).
fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || SPECIALS.contains(c))
}

/// A public host name: two or more labels of letters, digits and inner hyphens, and a
/// top-level label that is not all digits (so no bare IP addresses).
fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_trimmed_and_lowercased() {
        let email = EmailAddress::parse("  Ada.Lovelace@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn international_domains_become_ascii() {
        let email = EmailAddress::parse("user@Bücher.example").expect("valid");
        assert_eq!(email.as_str(), "user@xn--bcher-kva.example");
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_reason() {
        assert_eq!(EmailAddress::parse("   "), Err(EmailError::Missing));
        for bad in [
            "plainaddress",
            "@example.com",
            "user@",
            "user@localhost",
            "user@127.0.0.1",
            "user@exa mple.com",
            "us er@example.com",
            ".user@example.com",
            "user.@example.com",
            "us..er@example.com",
            "user@-example.com",
            "user@example..com",
            "user@example.com\r\nBcc: victim@example.com",
            "user\n@example.com",
            "user<script>@example.com",
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(EmailError::Malformed),
                "{bad:?}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent_and_never_keeps_line_breaks(input in "\\PC{0,80}") {
            if let Ok(email) = EmailAddress::parse(&input) {
                prop_assert_eq!(EmailAddress::parse(email.as_str()), Ok(email.clone()));
                prop_assert!(!email.as_str().contains(['\r', '\n']));
                prop_assert_eq!(email.as_str().matches('@').count(), 1);
            }
        }

        #[test]
        fn any_input_with_a_line_break_is_refused(a in "[a-z]{1,10}", b in "[a-z]{1,10}") {
            let with_crlf = format!("{a}\r\n@{b}.com");
            prop_assert!(EmailAddress::parse(&with_crlf).is_err());
        }
    }
}
