//! How a process learns, exactly, that another one committed.
//!
//! One task per process owns a connection of its own and answers "where do the others stand?"
//! with one probe on it:
//! - SQLite: `PRAGMA data_version`, which moves whenever another connection (another process,
//!   an operator command) commits to the file.
//! - PostgreSQL: every write transaction sends a notification on the schema's channel as part
//!   of its commit ([`super::WriteTx::commit`]); the task's connection listens on it, and the
//!   probe is a round trip (`SELECT 1`). PostgreSQL hands a listening session every
//!   notification it has received before it reports a query done, so the count of
//!   notifications includes every transaction that committed before the probe began.
//!
//! A check waits for a probe that starts after it arrived, so a change whose response has
//! returned to its caller is seen by every process's next check. Checks that arrive together
//! share one probe, which is what makes this cheaper than reading the session row.
//!
//! While the connection is down, every answer is a number never given before, so the cache
//! neither serves nor keeps anything until it is back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

/// How often the PostgreSQL task drains notifications when no check asks, so they do not pile up.
const IDLE_DRAIN: Duration = Duration::from_secs(1);
/// The least time between two attempts to reconnect the listening connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Answers that never repeat, for while the watch cannot tell (the high bit keeps them apart
/// from data versions and counts).
const UNKNOWN: u64 = 1 << 63;

/// A handle on the watching task.
#[derive(Clone, Debug)]
pub(crate) struct WriteWatch {
    requests: mpsc::UnboundedSender<oneshot::Sender<Option<u64>>>,
    unknown: Arc<AtomicU64>,
}

impl WriteWatch {
    /// Watches the SQLite file through `connection`.
    pub(crate) fn file(connection: AnyConnection) -> Self {
        Self::start(Source::File(connection))
    }

    /// Listens on `channel` through a connection to `url`; a round trip that takes longer than
    /// `timeout` counts as a lost connection.
    pub(crate) fn notifications(url: String, channel: Arc<str>, timeout: Duration) -> Self {
        Self::start(Source::Notifications(Listening {
            url,
            channel,
            timeout,
            seen: 0,
            listener: None,
            last_attempt: None,
        }))
    }

    fn start(source: Source) -> Self {
        let (requests, received) = mpsc::unbounded_channel();
        tokio::spawn(source.run(received));
        Self {
            requests,
            unknown: Arc::new(AtomicU64::new(UNKNOWN)),
        }
    }

    /// Where the other processes stand, covering every commit that finished before this call;
    /// while the watch cannot tell, a number never returned before.
    pub(crate) async fn others(&self) -> u64 {
        let (answer, answered) = oneshot::channel();
        if self.requests.send(answer).is_ok() {
            if let Ok(Some(others)) = answered.await {
                return others;
            }
        }
        self.unknown.fetch_add(1, Ordering::SeqCst)
    }
}

enum Source {
    File(AnyConnection),
    Notifications(Listening),
}

impl Source {
    /// One probe: where the others stand, or `None` when it failed.
    async fn probe(&mut self) -> Option<u64> {
        match self {
            Source::File(connection) => sqlx::query_scalar::<_, i64>("PRAGMA data_version")
                .fetch_one(&mut *connection)
                .await
                .ok()
                .and_then(|version| u64::try_from(version).ok()),
            Source::Notifications(listening) => listening.round_trip().await,
        }
    }

    async fn run(mut self, mut requests: mpsc::UnboundedReceiver<oneshot::Sender<Option<u64>>>) {
        let mut idle = tokio::time::interval(IDLE_DRAIN);
        idle.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Only notifications pile up unread; a file's version is asked only when a check asks.
        let drains = matches!(self, Source::Notifications(_));
        loop {
            let mut waiting = Vec::new();
            tokio::select! {
                request = requests.recv() => match request {
                    Some(request) => waiting.push(request),
                    // Every handle is gone: the core was dropped.
                    None => return,
                },
                _ = idle.tick(), if drains => {}
            }
            // Checks that arrived before this round trip starts share it; later ones wait for
            // the next, which starts after them.
            while let Ok(request) = requests.try_recv() {
                waiting.push(request);
            }
            let others = self.probe().await;
            for request in waiting {
                let _ = request.send(others);
            }
        }
    }
}

/// PostgreSQL: the listening connection and the notifications it has brought.
struct Listening {
    url: String,
    channel: Arc<str>,
    timeout: Duration,
    seen: u64,
    listener: Option<PgListener>,
    last_attempt: Option<Instant>,
}

impl Listening {
    /// One round trip on the listening connection, counting the notifications it brought.
    /// `None` when the connection is down (it is dropped, and reopened later).
    async fn round_trip(&mut self) -> Option<u64> {
        if self.listener.is_none() && !self.reconnect().await {
            return None;
        }
        let listener = self.listener.as_mut()?;
        let ping = tokio::time::timeout(
            self.timeout,
            sqlx::query("SELECT 1").execute(&mut *listener),
        )
        .await;
        if !matches!(ping, Ok(Ok(_))) {
            tracing::warn!(
                "lost the connection that watches other processes' writes; sessions are read \
                 from the database until it is back"
            );
            self.listener = None;
            return None;
        }
        while listener.next_buffered().is_some() {
            self.seen += 1;
        }
        Some(self.seen)
    }

    async fn reconnect(&mut self) -> bool {
        if self
            .last_attempt
            .is_some_and(|at| at.elapsed() < RECONNECT_AFTER)
        {
            return false;
        }
        self.last_attempt = Some(Instant::now());
        let connect = async {
            let mut listener = PgListener::connect(&self.url).await?;
            listener.listen(&self.channel).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(listener)) => {
                // Whatever was committed while nobody listened is unknown: start over.
                self.seen += 1;
                self.listener = Some(listener);
                true
            }
            _ => false,
        }
    }
}
