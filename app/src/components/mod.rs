//! Widgets shared by the pages.

pub mod account_page;
pub mod forms;
pub mod layout;
pub mod passkeys;
pub mod password_meter;
pub mod providers;
pub mod shown_once;
pub mod time;
pub mod ui;
