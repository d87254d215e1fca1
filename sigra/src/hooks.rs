//! Lifecycle hooks: host code that runs inside the core's own transaction on registration,
//! email change, password change and a deletion request (Sigra's `on_register`,
//! `on_email_change`, `on_password_change`, `on_delete`), before and after each organization
//! and membership change (Sigra's organization callbacks), and the host's part of a personal
//! data export. A hook that fails rolls the whole change back, so a `before_` hook can veto a
//! change and an `after_` hook's own writes commit with it.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use crate::mail::BoxFuture;
use crate::organizations::{Organization, Role};
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

    /// An organization is about to be created by `creator` (its row is not written yet).
    fn before_create_organization<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        creator: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, creator);
        Box::pin(async { Ok(()) })
    }

    /// An organization was created, with `creator` as its owner.
    fn after_create_organization<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        creator: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, creator);
        Box::pin(async { Ok(()) })
    }

    /// An organization is about to be deleted by `actor`.
    fn before_delete_organization<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        actor: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, actor);
        Box::pin(async { Ok(()) })
    }

    /// An organization was deleted (softly) by `actor`.
    fn after_delete_organization<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        actor: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, actor);
        Box::pin(async { Ok(()) })
    }

    /// `user` is about to join `org` with `role`.
    fn before_add_member<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        user: &'a UserId,
        role: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, user, role);
        Box::pin(async { Ok(()) })
    }

    /// `user` joined `org` with `role`.
    fn after_add_member<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        user: &'a UserId,
        role: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, user, role);
        Box::pin(async { Ok(()) })
    }

    /// `user`'s role in `org` is about to change from `from` to `to`.
    fn before_role_change<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        user: &'a UserId,
        from: Role,
        to: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, user, from, to);
        Box::pin(async { Ok(()) })
    }

    /// `user`'s role in `org` changed from `from` to `to`.
    fn after_role_change<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        user: &'a UserId,
        from: Role,
        to: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, user, from, to);
        Box::pin(async { Ok(()) })
    }

    /// `user`, holding `role`, is about to be removed from `org`.
    fn before_member_remove<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        user: &'a UserId,
        role: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, user, role);
        Box::pin(async { Ok(()) })
    }

    /// `user`, who held `role`, was removed from `org`.
    fn after_member_remove<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        user: &'a UserId,
        role: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        let _ = (conn, org, user, role);
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
