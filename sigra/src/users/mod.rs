//! User accounts: the normalised email type, the account record, and registration.

mod display_name;
mod email;
mod registration;
pub(crate) mod store;

use std::fmt;

use crate::clock::Timestamp;

pub use display_name::{DisplayName, DisplayNameError};
pub use email::{EmailAddress, EmailError};
pub use registration::Registration;

/// A user's id: a UUIDv7, time-ordered so new rows append to indexes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub(crate) fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub(crate) fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// An id as a client sent it back (a member to remove); every service that takes one
    /// checks it against the rows the caller may touch.
    pub fn from_client(text: &str) -> Self {
        Self(text.chars().take(64).collect())
    }

    /// The id as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account, as the rest of the system sees it (never with its password hash).
#[derive(Clone, Debug)]
pub struct User {
    /// The id.
    pub id: UserId,
    /// The normalised email address.
    pub email: EmailAddress,
    /// The name it goes by, if its owner chose one.
    pub display_name: Option<DisplayName>,
    /// When the address was confirmed, if it was.
    pub confirmed_at: Option<Timestamp>,
    /// When the account was created.
    pub created_at: Timestamp,
    /// An address asked for in an email change, waiting for confirmation.
    pub pending_email: Option<EmailAddress>,
    /// Whether every page sends the user to the password change form until they change it.
    pub must_change_password: bool,
    /// When a deletion the user asked for will be carried out; until then the account can
    /// only be kept.
    pub deletion_scheduled_at: Option<Timestamp>,
}
