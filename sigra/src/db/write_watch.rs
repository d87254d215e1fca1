//! PostgreSQL: how a process learns, exactly, that another one committed.
//!
//! Every write transaction sends a notification on the schema's channel as part of its commit
//! ([`super::WriteTx::commit`]). Each process that caches sessions keeps one connection of its
//! own listening on that channel, owned by one task. A session check asks the task how many
//! commits of others it has seen; the task answers after a round trip on that connection
//! (`SELECT 1`). PostgreSQL hands a listening session every notification it has received
//! before it reports a query done, so the count includes every transaction that committed
//! before the check began: a revocation whose response has returned to its caller is seen by
//! every process's next check. Checks that arrive together share one round trip, which is
//! what makes this cheaper than reading the session row.
//!
//! While the listening connection is down, every answer is a number never given before, so the
//! cache neither serves nor keeps anything until it is back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use tokio::sync::{mpsc, oneshot};

/// How often the task drains notifications when no check asks, so they do not pile up.
const IDLE_DRAIN: Duration = Duration::from_secs(1);
/// The least time between two attempts to reconnect the listening connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// A handle on the listening task.
#[derive(Clone, Debug)]
pub(crate) struct WriteWatch {
    requests: mpsc::UnboundedSender<oneshot::Sender<u64>>,
    seen: Arc<AtomicU64>,
}

impl WriteWatch {
    /// Starts listening on `channel` through a connection to `url`; a round trip that takes
    /// longer than `timeout` counts as a lost connection.
    pub(crate) fn start(url: String, channel: Arc<str>, timeout: Duration) -> Self {
        let (requests, received) = mpsc::unbounded_channel();
        let seen = Arc::new(AtomicU64::new(0));
        let task = Listening {
            url,
            channel,
            timeout,
            seen: Arc::clone(&seen),
            listener: None,
            last_attempt: None,
        };
        tokio::spawn(task.run(received));
        Self { requests, seen }
    }

    /// The number of other processes' commits seen, covering every commit that finished
    /// before this call; while the watch is down, a number never returned before.
    pub(crate) async fn seen(&self) -> u64 {
        let (answer, answered) = oneshot::channel();
        if self.requests.send(answer).is_ok() {
            if let Ok(seen) = answered.await {
                return seen;
            }
        }
        self.seen.fetch_add(1, Ordering::SeqCst) + 1
    }
}

struct Listening {
    url: String,
    channel: Arc<str>,
    timeout: Duration,
    seen: Arc<AtomicU64>,
    listener: Option<PgListener>,
    last_attempt: Option<Instant>,
}

impl Listening {
    async fn run(mut self, mut requests: mpsc::UnboundedReceiver<oneshot::Sender<u64>>) {
        let mut idle = tokio::time::interval(IDLE_DRAIN);
        idle.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut waiting = Vec::new();
            tokio::select! {
                request = requests.recv() => match request {
                    Some(request) => waiting.push(request),
                    // Every handle is gone: the core was dropped.
                    None => return,
                },
                _ = idle.tick() => {}
            }
            // Checks that arrived before this round trip starts share it; later ones wait for
            // the next, which starts after them.
            while let Ok(request) = requests.try_recv() {
                waiting.push(request);
            }
            let seen = if self.round_trip().await {
                self.seen.load(Ordering::SeqCst)
            } else {
                self.seen.fetch_add(1, Ordering::SeqCst) + 1
            };
            for request in waiting {
                let _ = request.send(seen);
            }
        }
    }

    /// One round trip on the listening connection, counting the notifications it brought.
    /// `false` when the connection is down (it is dropped, and reopened later).
    async fn round_trip(&mut self) -> bool {
        if self.listener.is_none() && !self.reconnect().await {
            return false;
        }
        let Some(listener) = self.listener.as_mut() else {
            return false;
        };
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
            return false;
        }
        let mut received = 0;
        while listener.next_buffered().is_some() {
            received += 1;
        }
        if received > 0 {
            self.seen.fetch_add(received, Ordering::SeqCst);
        }
        true
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
                self.seen.fetch_add(1, Ordering::SeqCst);
                self.listener = Some(listener);
                true
            }
            _ => false,
        }
    }
}
