//! The durable job queue, in the application's own database so a job can be queued in the
//! same transaction as the change that calls for it (the token and its mail commit together, or
//! neither does). Maintained queues with SQL backends (apalis) each want their own typed pool
//! and cannot join our `Any` transaction, hence this small one.
//!
//! Guarantees, each tested: a job survives restarts (it is a row); a runner claims a due job
//! with one conditional `UPDATE` (plus `FOR UPDATE SKIP LOCKED` on PostgreSQL), so two runners
//! never hold the same job; a runner that dies mid-job loses its lease and the job runs again;
//! failures retry with exponential backoff and after `max_attempts` the job is kept with its
//! error and `failed_at`. Payloads are sealed, as queued mail carries live links.

mod store;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::db::Known;
use crate::error::{Error, Result};
use crate::mail::{Message, OutgoingEmail};
use crate::plumbing::Core;
use crate::users::EmailAddress;

crate::db::stored_enum! {
    /// What a job does.
    pub enum JobKind {
        /// Render and deliver one email.
        SendEmail = "send_email",
        /// Delete expired sessions, tokens and old failed jobs, invitations 30 days after they
        /// expired and ended slug redirects, and carry out the account deletions that are due
        /// (periodic).
        Cleanup = "cleanup",
        /// Seal the audit rows written since the last seal into the tamper-evident chain
        /// (periodic, every minute).
        AuditSeal = "audit_seal",
    }
}

/// The id of the one periodic cleanup job; a fixed id makes scheduling it idempotent.
const CLEANUP_JOB_ID: &str = "periodic:cleanup";
/// The id of the one periodic audit seal job.
const AUDIT_SEAL_JOB_ID: &str = "periodic:audit-seal";
/// How often new audit rows are sealed: the longest a row stays outside the chain.
const AUDIT_SEAL_INTERVAL: Duration = Duration::from_secs(60);
/// Failed jobs are kept this long for inspection, then deleted by the cleanup.
const FAILED_JOB_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Used and expired tokens are kept a day: the per-address mail limits count them.
const TOKEN_RETENTION: Duration = Duration::from_secs(24 * 3600);

#[derive(Serialize, Deserialize)]
struct SendEmail {
    to: String,
    message: Message,
}

/// What one turn of the runner did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Nothing was due.
    Idle,
    /// A job ran and is done.
    Done {
        /// Its kind.
        kind: &'static str,
    },
    /// A job failed and will run again later.
    Retrying {
        /// Its kind.
        kind: &'static str,
        /// Attempts so far.
        attempts: i64,
    },
    /// A job failed for the last time; it stays in the table with its error.
    GaveUp {
        /// Its kind.
        kind: &'static str,
    },
}

/// The delay before attempt `attempts + 1`: 30 s doubling per failure, at most an hour.
pub fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 7)).unwrap_or(7);
    Duration::from_secs(30 * 2_u64.pow(exponent)).min(Duration::from_secs(3600))
}

/// The durable job queue and its runner: `sigra.jobs()`.
#[derive(Clone, Copy)]
pub struct Jobs<'a> {
    pub(crate) core: &'a Arc<Core>,
}

/// Queueing mail: the step every change that mails shares.
impl Core {
    /// Queues `message` for `to` on `conn`, normally the transaction of the change it reports,
    /// due and dated `at`: the change's one clock reading.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn queue_email(
        &self,
        conn: &mut AnyConnection,
        at: Timestamp,
        to: &EmailAddress,
        message: Message,
    ) -> Result<()> {
        let payload = serde_json::to_vec(&SendEmail {
            to: to.as_str().to_owned(),
            message,
        })
        .map_err(|e| Error::Internal(Box::new(e)))?;
        let sealed = self
            .job_sealer()
            .seal(JobKind::SendEmail.as_str(), &payload);
        store::insert(
            conn,
            &uuid::Uuid::now_v7().to_string(),
            JobKind::SendEmail,
            &sealed,
            at,
            i64::from(self.config().jobs.max_attempts),
        )
        .await
    }
}

impl Jobs<'_> {
    /// Makes sure the periodic jobs (the cleanup, the audit seal) exist (idempotent; safe
    /// from every process).
    ///
    /// # Errors
    /// The database failed.
    pub async fn schedule_periodic_jobs(&self) -> Result<()> {
        let mut conn = self.core.db().acquire().await?;
        let now = self.core.now();
        store::insert_once(&mut conn, CLEANUP_JOB_ID, JobKind::Cleanup, now, 3).await?;
        store::insert_once(&mut conn, AUDIT_SEAL_JOB_ID, JobKind::AuditSeal, now, 3).await
    }

    /// How many jobs are due and not given up (the queue depth metric).
    ///
    /// # Errors
    /// The database failed.
    pub async fn jobs_due(&self) -> Result<i64> {
        let mut conn = self.core.db().acquire().await?;
        store::due_count(&mut conn, self.core.now()).await
    }

    /// Claims and runs one due job.
    ///
    /// # Errors
    /// The database failed while claiming or recording the outcome (a failing job is not an
    /// error: it is retried or given up, and the outcome says so).
    #[tracing::instrument(name = "jobs.run_next", skip_all, fields(worker))]
    pub async fn run_next_job(&self, worker: &str) -> Result<JobOutcome> {
        let now = self.core.now();
        let lease_until = now.plus(self.core.config().jobs.lease);
        let claimed = {
            let mut conn = self.core.db().acquire().await?;
            store::claim(
                &mut conn,
                self.core.db().backend(),
                worker,
                now,
                lease_until,
            )
            .await?
        };
        let Some(job) = claimed else {
            return Ok(JobOutcome::Idle);
        };
        let Known(kind) = job.kind;
        let kind_name = kind.map_or("unknown", JobKind::as_str);
        let result = match kind {
            Some(JobKind::SendEmail) => self.deliver(&job.payload).await,
            Some(JobKind::Cleanup) => self.clean_up_expired().await,
            Some(JobKind::AuditSeal) => self.seal_audit().await,
            None => Err("unknown job kind".to_owned()),
        };
        let finished = self.core.now();
        let mut conn = self.core.db().acquire().await?;
        match result {
            Ok(()) if kind == Some(JobKind::Cleanup) => {
                let next = finished.plus(self.core.config().jobs.cleanup_interval);
                store::reschedule(&mut conn, &job.id, worker, next).await?;
                Ok(JobOutcome::Done { kind: kind_name })
            }
            Ok(()) if kind == Some(JobKind::AuditSeal) => {
                let next = finished.plus(AUDIT_SEAL_INTERVAL);
                store::reschedule(&mut conn, &job.id, worker, next).await?;
                Ok(JobOutcome::Done { kind: kind_name })
            }
            Ok(()) => {
                store::delete(&mut conn, &job.id, worker).await?;
                Ok(JobOutcome::Done { kind: kind_name })
            }
            Err(error) if job.attempts >= job.max_attempts => {
                tracing::error!(job_id = %job.id, kind = kind_name, attempts = job.attempts, %error, "job gave up");
                store::give_up(&mut conn, &job.id, worker, finished, &error).await?;
                Ok(JobOutcome::GaveUp { kind: kind_name })
            }
            Err(error) => {
                tracing::warn!(job_id = %job.id, kind = kind_name, attempts = job.attempts, %error, "job failed; will retry");
                let retry_at = finished.plus(backoff(job.attempts));
                store::retry_later(&mut conn, &job.id, worker, retry_at, &error).await?;
                Ok(JobOutcome::Retrying {
                    kind: kind_name,
                    attempts: job.attempts,
                })
            }
        }
    }

    /// Runs due jobs until none is left; returns how many turns ran a job.
    ///
    /// # Errors
    /// The database failed.
    pub async fn run_due_jobs(&self, worker: &str) -> Result<usize> {
        let mut ran = 0;
        while self.run_next_job(worker).await? != JobOutcome::Idle {
            ran += 1;
        }
        Ok(ran)
    }

    /// Starts the runner loop on the current runtime. It stops after the job in hand once
    /// `stop` turns true.
    pub fn spawn_job_runner(
        &self,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let core = Arc::clone(self.core);
        let worker = format!("runner-{}", uuid::Uuid::new_v4().simple());
        tokio::spawn(async move {
            let sigra = Jobs { core: &core };
            if let Err(error) = sigra.schedule_periodic_jobs().await {
                tracing::error!(%error, "could not schedule the periodic jobs");
            }
            let poll = core.config().jobs.poll_interval;
            while !*stop.borrow() {
                let outcome = sigra.run_next_job(&worker).await;
                let idle = match outcome {
                    Ok(JobOutcome::Idle) => true,
                    Ok(_) => false,
                    Err(error) => {
                        tracing::error!(error = %crate::error::report(&error), "job runner error");
                        true
                    }
                };
                if idle {
                    tokio::select! {
                        _ = tokio::time::sleep(poll) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        })
    }

    async fn deliver(&self, sealed: &str) -> std::result::Result<(), String> {
        let payload = self
            .core
            .job_sealer()
            .open(JobKind::SendEmail.as_str(), sealed)
            .ok_or("the payload does not open (altered, or sealed with another secret key)")?;
        let job: SendEmail = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
        // Read at delivery, so the greeting uses the name as it is now; without it (a database
        // hiccup, an address with no account) the mail simply greets nobody by name.
        let name = match self.core.db().acquire().await {
            Ok(mut conn) => crate::users::store::display_name_at(&mut conn, &job.to)
                .await
                .ok()
                .flatten(),
            Err(_) => None,
        };
        let content = self.core.templates().render(
            &self.core.config().app_name,
            crate::mail::Recipient {
                name: name.as_ref().map(crate::users::DisplayName::as_str),
            },
            &job.message,
        );
        let email = OutgoingEmail {
            from: self.core.config().mail.from.clone(),
            to: job.to,
            content,
        };
        tracing::info!(message = job.message.name(), "delivering mail");
        self.core
            .mailer()
            .send(&email)
            .await
            .map_err(|e| e.to_string())
    }

    async fn seal_audit(&self) -> std::result::Result<(), String> {
        let sealed = crate::audit::chain::AuditChain { core: self.core }
            .seal()
            .await
            .map_err(|e| e.to_string())?;
        tracing::debug!(sealed, "audit rows sealed");
        Ok(())
    }

    async fn clean_up_expired(&self) -> std::result::Result<(), String> {
        let now = self.core.now();
        let idle_cutoff = Timestamp::from_millis(now.as_millis().saturating_sub(
            crate::clock::millis_of(self.core.config().sessions.idle_timeout),
        ));
        let before = |age: Duration| {
            Timestamp::from_millis(now.as_millis().saturating_sub(crate::clock::millis_of(age)))
        };
        let cutoffs = store::Cutoffs {
            now,
            idle: idle_cutoff,
            tokens: before(TOKEN_RETENTION),
            failed_jobs: before(FAILED_JOB_RETENTION),
        };
        let mut tx = self
            .core
            .db()
            .begin_write()
            .await
            .map_err(|e| e.to_string())?;
        crate::sessions::audit_abandoned_impersonations(&mut tx, now)
            .await
            .map_err(|e| e.to_string())?;
        let removed = store::clean_up(&mut tx, &cutoffs)
            .await
            .map_err(|e| e.to_string())?;
        crate::oauth::delete_expired(&mut tx, now)
            .await
            .map_err(|e| e.to_string())?;
        let (invitations, slug_redirects) = crate::organizations::delete_expired(&mut tx, now)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        let deleted = self
            .core
            .execute_due_deletions()
            .await
            .map_err(|e| e.to_string())?;
        let audit_rows = match self.core.config().audit.retention {
            Some(retention) => crate::audit::prune(self.core, before(retention))
                .await
                .map_err(|e| e.to_string())?,
            None => 0,
        };
        tracing::info!(
            sessions = removed.0,
            tokens = removed.1,
            jobs = removed.2,
            invitations,
            slug_redirects,
            accounts_deleted = deleted,
            audit_rows,
            "cleanup done"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(5), Duration::from_secs(480));
        assert_eq!(backoff(8), Duration::from_secs(3600));
        assert_eq!(backoff(50), Duration::from_secs(3600));
    }
}
