//! One file per page.

mod home;
mod log_in;
mod not_found;
mod register;
mod settings;

pub use home::HomePage;
pub use log_in::LogInPage;
pub use not_found::NotFound;
pub use register::RegisterPage;
pub use settings::SettingsPage;
