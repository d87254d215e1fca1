//! Live auth: what an open page follows over server-sent events. A page learns within a second
//! that its session has ended (logged out or revoked on any process, by its owner, an admin or a
//! password change, or run out by the clock), and an admin's list that the data changed.
//!
//! One task per process watches for commits while anybody follows: the same generation the
//! session cache trusts (this process's write transactions and, through the write watch, every
//! other process's). When it moves, the followers read what they follow again. Following never
//! touches a session: an open tab is not activity, so the idle timeout still ends a forgotten
//! one, and the page hears of it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{interval, Interval, MissedTickBehavior};

use crate::admin::PlatformAdmin;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::Result;
use crate::plumbing::Core;
use crate::sessions::{store, ExpiredBy, SessionId, SessionTimes, Verdict};

/// How often the watching task asks where the data stands while somebody follows.
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// How often a follower judges the clock, and reads again where it cannot see commits.
const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// Why a followed session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// It is gone: logged out, revoked, or ended by a password change, anywhere.
    SignedOut,
    /// A timeout ran out.
    Expired(ExpiredBy),
}

/// Wakes followers when anybody commits; watches only while somebody follows.
#[derive(Debug)]
pub(crate) struct Commits {
    moved: watch::Sender<u64>,
    watching: AtomicBool,
}

impl Default for Commits {
    fn default() -> Self {
        Self {
            moved: watch::Sender::new(0),
            watching: AtomicBool::new(false),
        }
    }
}

impl Commits {
    /// A receiver that changes after every commit, starting the watching task if none runs.
    fn follow(self: &Arc<Self>, db: &Db) -> watch::Receiver<u64> {
        let receiver = self.moved.subscribe();
        if !self.watching.swap(true, Ordering::SeqCst) {
            tokio::spawn(Arc::clone(self).watch(db.clone()));
        }
        receiver
    }

    async fn watch(self: Arc<Self>, db: Db) {
        let mut last = db.generation().await;
        let mut every = interval(WATCH_EVERY);
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if self.moved.receiver_count() == 0 {
                self.watching.store(false, Ordering::SeqCst);
                // A follower that arrived in between saw `watching` still set and relies on
                // this task, unless it has already started another.
                if self.moved.receiver_count() == 0 || self.watching.swap(true, Ordering::SeqCst) {
                    return;
                }
            }
            let now = db.generation().await;
            if now != last {
                last = now;
                self.moved
                    .send_modify(|count| *count = count.wrapping_add(1));
            }
        }
    }
}

/// Following sessions and changes as they happen: `sigra.live()`.
#[derive(Clone, Copy)]
pub struct Live<'a> {
    pub(crate) core: &'a Core,
}

impl Live<'_> {
    /// Waits until the session `id` ends, and says why. Reads again after every commit (and
    /// every second where other processes' commits cannot be seen), judges the timeouts every
    /// second, and never records activity. A failed read is tried again; it never ends the
    /// wait by itself.
    pub async fn session_end(&self, id: &SessionId) -> SessionEnd {
        let core = self.core;
        let mut commits = core.commits.follow(core.db());
        let mut clock = every_second();
        let read_every_second = !core.db().sees_other_writers();
        let policy = core.session_policy();
        let mut known: Option<Option<SessionTimes>> = None;
        let mut stale = true;
        loop {
            if stale {
                match self.times(id).await {
                    Ok(times) => {
                        known = Some(times);
                        stale = false;
                    }
                    Err(error) => tracing::debug!(%error, "could not read a followed session"),
                }
            }
            match known {
                Some(None) => return SessionEnd::SignedOut,
                Some(Some(times)) => {
                    if let Verdict::Expired(by) = policy.evaluate(times, core.now()) {
                        return SessionEnd::Expired(by);
                    }
                }
                None => {}
            }
            tokio::select! {
                moved = commits.changed() => {
                    stale = true;
                    if moved.is_err() {
                        clock.tick().await;
                    }
                }
                _ = clock.tick() => stale |= read_every_second,
            }
        }
    }

    async fn times(&self, id: &SessionId) -> Result<Option<SessionTimes>> {
        let mut conn = self.core.db().acquire().await?;
        store::times(&mut conn, id).await
    }

    /// What an admin's page follows: every commit, and every new audit event (some are written
    /// outside write transactions).
    ///
    /// # Errors
    /// The database failed.
    pub async fn admin_changes(&self, _admin: &PlatformAdmin) -> Result<AdminChanges> {
        Ok(AdminChanges {
            commits: self.core.commits.follow(self.core.db()),
            newest_event: self.newest_event().await?,
            clock: every_second(),
        })
    }

    /// Waits for the next change an admin's page should show: at most one a second, however
    /// fast the writes come. A failed read counts as no change.
    pub async fn next_admin_change(&self, changes: &mut AdminChanges) {
        loop {
            tokio::select! {
                moved = changes.commits.changed() => {
                    if moved.is_ok() {
                        // Wait out the second, so a burst of writes is one change.
                        changes.clock.tick().await;
                        changes.newest_event = self.newest_event().await.unwrap_or(None);
                        return;
                    }
                    changes.clock.tick().await;
                }
                _ = changes.clock.tick() => {
                    if let Ok(newest) = self.newest_event().await {
                        if newest != changes.newest_event {
                            changes.newest_event = newest;
                            return;
                        }
                    }
                }
            }
        }
    }

    async fn newest_event(&self) -> Result<Option<(Timestamp, String)>> {
        let mut conn = self.core.db().acquire().await?;
        crate::admin::explorer::newest_event(&mut conn).await
    }
}

/// Where an admin's page stands (see [`Live::admin_changes`]).
#[derive(Debug)]
pub struct AdminChanges {
    commits: watch::Receiver<u64>,
    newest_event: Option<(Timestamp, String)>,
    clock: Interval,
}

fn every_second() -> Interval {
    let mut clock = interval(RECHECK_EVERY);
    clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
    clock
}
