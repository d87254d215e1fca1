//! Widgets shared by the pages.

pub mod forms;
pub mod layout;
pub mod passkeys;
pub mod password_meter;
