//! One-time email tokens: their lifetimes, confirmation codes, and whether an unconfirmed
//! account may use the app.

use std::str::FromStr;
use std::time::Duration;

use super::sources::{Reader, Setting};
use super::Expected;

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "tokens.confirm_ttl", aliases: &[] },
    Setting { key: "tokens.reset_ttl", aliases: &[] },
    Setting { key: "tokens.magic_link_ttl", aliases: &[] },
    Setting { key: "tokens.email_change_ttl", aliases: &[] },
    Setting { key: "confirmation.mode", aliases: &[] },
    Setting { key: "confirmation.code_attempts", aliases: &[] },
];

/// Lifetimes and limits of one-time email tokens.
#[derive(Clone, Copy, Debug)]
pub struct TokenConfig {
    /// Email confirmation (link and code).
    pub confirm_ttl: Duration,
    /// Password reset.
    pub reset_ttl: Duration,
    /// Magic-link log-in.
    pub magic_link_ttl: Duration,
    /// Email change confirmation.
    pub email_change_ttl: Duration,
    /// Wrong confirmation codes accepted before the code is dead.
    pub code_attempts: u32,
}

/// Whether an unconfirmed account may use the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfirmationMode {
    /// Yes, with a banner asking to confirm.
    AllowWithBanner,
    /// No: log-in is refused until the address is confirmed.
    Block,
}

impl FromStr for ConfirmationMode {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "allow_with_banner" => Ok(Self::AllowWithBanner),
            "block" => Ok(Self::Block),
            _ => Err(Expected("allow_with_banner or block")),
        }
    }
}

impl TokenConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        Self {
            confirm_ttl: r.duration("tokens.confirm_ttl", "48h"),
            reset_ttl: r.duration("tokens.reset_ttl", "1h"),
            magic_link_ttl: r.duration("tokens.magic_link_ttl", "10m"),
            email_change_ttl: r.duration("tokens.email_change_ttl", "24h"),
            code_attempts: r.number("confirmation.code_attempts", 5),
        }
    }
}
