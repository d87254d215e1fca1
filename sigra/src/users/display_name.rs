//! The name an account goes by: optional, chosen by its owner, shown instead of the address
//! where a person reads it (the header, a mail's greeting, the admin area).

use std::fmt;

/// A display name: trimmed, 1 to [`DisplayName::MAX_CHARS`] characters, no control characters
/// (so it cannot break a mail header or a log line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

/// Why a display name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    /// Longer than [`DisplayName::MAX_CHARS`].
    #[error("a display name is at most 60 characters")]
    TooLong,
    /// It holds a control character (a line break, a tab).
    #[error("a display name holds letters, digits, spaces and punctuation only")]
    ControlCharacter,
}

impl DisplayName {
    /// The longest name, in characters.
    pub const MAX_CHARS: usize = 60;

    /// The name typed, or `None` for a blank one (which clears it).
    ///
    /// # Errors
    /// Too long, or a control character in it.
    pub fn parse(text: &str) -> std::result::Result<Option<Self>, DisplayNameError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(DisplayNameError::ControlCharacter);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(DisplayNameError::TooLong);
        }
        Ok(Some(Self(trimmed.to_owned())))
    }

    /// A name read back from the database (written only through [`DisplayName::parse`]).
    pub(crate) fn from_stored(text: Option<String>) -> Option<Self> {
        text.and_then(|text| Self::parse(&text).ok().flatten())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_display_name_is_trimmed_bounded_and_single_line() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").map(|n| n.map(|n| n.0)),
            Ok(Some("Ada Lovelace".to_owned()))
        );
        assert_eq!(DisplayName::parse("   "), Ok(None));
        assert_eq!(
            DisplayName::parse("Ada\r\nBcc: x@example.com"),
            Err(DisplayNameError::ControlCharacter)
        );
        assert_eq!(
            DisplayName::parse(&"é".repeat(61)),
            Err(DisplayNameError::TooLong)
        );
        assert!(DisplayName::parse(&"é".repeat(60)).is_ok());
    }
}
