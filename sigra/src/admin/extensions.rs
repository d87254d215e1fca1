//! What a host adds to the admin area's account pages: fields on each row of the user list
//! (the list's extra columns), badges beside an account's address, and sections of its page.
//! Host code reads on a connection of its own; every method has a default that adds nothing.
//! Register an implementation with `SigraBuilder::admin_extensions`.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::hooks::HookError;
use crate::mail::BoxFuture;
use crate::users::UserId;

/// A labelled value: a column of the user list, or a row of a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminField {
    /// What it is ("Plan").
    pub label: String,
    /// Its value ("Pro").
    pub value: String,
}

/// A section the host adds to an account's admin page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminSection {
    /// Its heading.
    pub title: String,
    /// Its rows.
    pub fields: Vec<AdminField>,
}

/// Host additions to the admin area. Everything the host returns is shown as text.
pub trait AdminExtensions: Send + Sync + 'static {
    /// Extra fields for the accounts of one page of the user list (at most 100), by user id:
    /// one query for the page, not one per row.
    fn list_fields<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        users: &'a [UserId],
    ) -> BoxFuture<'a, Result<HashMap<String, Vec<AdminField>>, HookError>> {
        let _ = (conn, users);
        Box::pin(async { Ok(HashMap::new()) })
    }

    /// Short labels beside the account's address on its page ("Pro plan").
    fn badges<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Vec<String>, HookError>> {
        let _ = (conn, user);
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Sections of the account's page, after the core's.
    fn sections<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Vec<AdminSection>, HookError>> {
        let _ = (conn, user);
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// No additions (the default).
pub(crate) struct NoExtensions;

impl AdminExtensions for NoExtensions {}
