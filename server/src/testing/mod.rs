//! Test helpers for the host's own tests (feature `testing`), the same ones this project's HTTP
//! tests are built on: spawn the app as it ships on a free port with a fresh database (SQLite,
//! and PostgreSQL when `TEST_POSTGRES_URL` is set) and a clock the test moves; register and log
//! in users; read the development mailbox and follow mailed links; turn on two-factor
//! authentication and compute its codes; make API tokens, organizations and members; and
//! assert on audit rows.
//!
//! ```no_run
//! use server::testing::{on_each_engine, Audited, TestApp};
//!
//! #[tokio::test]
//! async fn a_new_account_signs_in() {
//!     on_each_engine(|app: TestApp| async move {
//!         let cookie = app.signed_in("ada@example.com").await;
//!         assert_eq!(app.me(&cookie).await, reqwest::StatusCode::OK);
//!         let ada = app.user_id("ada@example.com").await;
//!         app.assert_audited(&Audited::action("auth.login.success").actor(&ada))
//!             .await;
//!     })
//!     .await;
//! }
//! ```

// A failed expectation is how a test helper fails the test that called it.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod app;
mod audit;
mod browser;
mod mfa;
mod organizations;

pub use app::{on_each_engine, on_each_engine_with, Setup, TestApp, UrlRewrite};
pub use audit::{AuditRecord, Audited};
pub use browser::{
    answer_snapshot, clears_session, cookie_pair, failed_post, form_refusal, location, marked,
    session_cookie, set_cookies, Browser,
};
pub use mfa::{totp_code_at, TotpSetup};
pub use sigra::testing::{Engine, Hook, Hooks};

/// The password every helper registers with: no test user could have chosen it by accident,
/// so scans of logs and rows look for it.
pub const CANARY_PASSWORD: &str = "Canary-Pw-7f3a-correct-horse-battery";
