//! Widgets shared by the pages.

pub mod forms;
pub mod layout;
