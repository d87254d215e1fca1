//! Widgets shared by the pages.

pub mod account_page;
pub mod forms;
pub mod layout;
#[cfg(feature = "passkeys")]
pub mod passkeys;
// Without the `passkeys` feature the capability is off for good: the same components, empty.
#[cfg(not(feature = "passkeys"))]
#[path = "passkeys_left_out.rs"]
pub mod passkeys;
pub mod password_meter;
pub mod providers;
pub mod shown_once;
pub mod time;
pub mod ui;
