//! The server: router assembly, the application object tests spawn, tracing set-up, the JSON
//! API, the personal data download, the audit CSV export, the live event streams and the
//! operational endpoints. `main.rs` adds the command line.

pub mod api;
pub mod audit_export;
pub mod export;
pub mod live;
#[cfg(feature = "oauth")]
pub mod oauth;
pub mod ops;
pub mod router;
pub mod startup;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use startup::Application;
