//! The unit of work: one write transaction, the moment it happens and the request behind it.
//! A service opens a [`Change`], makes its writes on it, records its audit rows and queues its
//! mail through it, and commits once; so a change, its audit row and its mail land together
//! or not at all, and every row of one change carries the same time.

use std::ops::{Deref, DerefMut};

use sqlx::AnyConnection;

use crate::audit::{self, AuditEvent};
use crate::clock::Timestamp;
use crate::db::WriteTx;
use crate::error::Result;
use crate::mail::Message;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::users::EmailAddress;

/// A change in progress. Dropping it without [`Change::commit`] rolls everything back.
pub(crate) struct Change<'a> {
    core: &'a Core,
    tx: WriteTx,
    now: Timestamp,
    request: &'a RequestContext,
}

impl Core {
    /// Starts a change for `request`, reading the clock once.
    pub(crate) async fn begin_change<'a>(
        &'a self,
        request: &'a RequestContext,
    ) -> Result<Change<'a>> {
        Ok(Change {
            core: self,
            tx: self.db().begin_write().await?,
            now: self.now(),
            request,
        })
    }
}

impl Change<'_> {
    /// When the change happens (one clock reading for all of it).
    pub(crate) fn now(&self) -> Timestamp {
        self.now
    }

    /// The request behind the change.
    pub(crate) fn request(&self) -> &RequestContext {
        self.request
    }

    /// Records `event` as part of this change.
    pub(crate) async fn audit(&mut self, event: AuditEvent) -> Result<()> {
        audit::record(&mut self.tx, self.now, event, self.request).await
    }

    /// Queues `message` for `to`, sent only if the change commits.
    pub(crate) async fn mail(&mut self, to: &EmailAddress, message: Message) -> Result<()> {
        self.core
            .queue_email(&mut self.tx, self.now, to, message)
            .await
    }

    /// Makes the change permanent.
    ///
    /// # Errors
    /// The commit failed: nothing of the change was written.
    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await
    }
}

impl Deref for Change<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Change<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}
