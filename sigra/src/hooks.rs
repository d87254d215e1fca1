//! Lifecycle hooks: host code that runs inside the core's own transaction on registration,
//! email change, password change and a deletion request (Sigra's `on_register`,
//! `on_email_change`, `on_password_change`, `on_delete`), and the host's part of a personal
//! data export. A hook that fails rolls the whole change back.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use crate::mail::BoxFuture;
use crate::users::{EmailAddress, UserId};

/// A hook refused or failed; the operation is rolled back and the user sees a generic error.
#[derive(Debug, thiserror::Error)]
#[error("lifecycle hook failed: {0}")]
pub struct HookError(pub String);

/// Host code run at account lifecycle events, on the core's transaction. Every method has a
/// default that does nothing.
pub trait LifecycleHooks: Send + Sync + 'static {
    /// A new account was inserted.
    fn on_register<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        user: &'a UserId,
        email: &'a EmailAddress,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, user, email);
        Box::pin(async { Ok(()) })
    }

    /// An account's address changed from `old` to `new`.
    fn on_email_change<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        user: &'a UserId,
        old: &'a EmailAddress,
        new: &'a EmailAddress,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, user, old, new);
        Box::pin(async { Ok(()) })
    }

    /// An account's password changed (in settings, by reset, or a forced change).
    fn on_password_change<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, user);
        Box::pin(async { Ok(()) })
    }

    /// An account asked to be deleted: it is scheduled, and its sessions and tokens have ended.
    /// A hook that refuses (say, the host's own data must be handed over first) keeps the
    /// account as it was.
    fn on_delete<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, user);
        Box::pin(async { Ok(()) })
    }

    /// What the host holds about `user`, for the personal data export (under `host`). Give
    /// everything personal your own tables keep about them; never a secret.
    fn export_personal_data<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Map<String, Value>, HookError>> {
        let _ = (conn, user);
        Box::pin(async { Ok(Map::new()) })
    }
}

/// Hooks that do nothing: the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHooks;

impl LifecycleHooks for NoHooks {}
