//! The job queue: leases, retries with backoff, giving up, periodic cleanup, and two runners
//! on one database never running the same job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sigra::clock::ManualClock;
use sigra::db::Db;
use sigra::jobs::JobOutcome;
use sigra::mail::{BoxFuture, MailError, Mailer, OutgoingEmail};
use sigra::request::RequestContext;
use sigra::testing::{self, Engine, TestDatabase};
use sigra::users::Registration;
use sigra::Sigra;

use server::testing::{on_each_engine, on_each_engine_with, Setup, TestApp, CANARY_PASSWORD};

/// Counts deliveries per recipient; fails every delivery when `failing`.
#[derive(Default)]
struct CountingMailer {
    sent: Mutex<HashMap<String, usize>>,
    failing: bool,
    /// How long a delivery takes, as a real relay's round trip does.
    delay: Option<std::time::Duration>,
}

impl Mailer for CountingMailer {
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            if self.failing {
                return Err(MailError("the relay refused the message".to_owned()));
            }
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            *self
                .sent
                .lock()
                .expect("lock")
                .entry(email.to.clone())
                .or_default() += 1;
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_job_whose_runner_died_runs_again_after_its_lease() {
    on_each_engine(|app: TestApp| async move {
        app.register("lease@example.com", CANARY_PASSWORD).await;
        // A runner claimed the mail and died before finishing.
        let lease_end = app.sigra.now().plus(Duration::from_secs(300)).as_millis();
        sqlx::query("UPDATE jobs SET locked_by = 'dead-runner', locked_until = $1, attempts = 1 WHERE kind = 'send_email'")
            .bind(lease_end)
            .execute(app.sigra.db().pool())
            .await
            .expect("claim");
        assert!(app.mailbox("lease@example.com").await.is_empty(), "the job is leased");
        app.advance(Duration::from_secs(301));
        assert_eq!(app.mailbox("lease@example.com").await.len(), 1, "retried after the lease");
        assert_eq!(app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'send_email'").await, 0, "done jobs are deleted");
    })
    .await;
}

#[tokio::test]
async fn failed_deliveries_back_off_and_finally_give_up_with_the_error_kept() {
    let setup = || Setup {
        env: vec![("SIGRA_JOBS_MAX_ATTEMPTS", "3".to_owned())],
        mailer: Some(Arc::new(CountingMailer {
            failing: true,
            ..CountingMailer::default()
        })),
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        app.register("bounce@example.com", CANARY_PASSWORD).await;
        let jobs = app.sigra.jobs();
        let run = || jobs.run_next_job("test-runner");
        assert_eq!(run().await.expect("run"), JobOutcome::Retrying { kind: "send_email", attempts: 1 });
        assert_eq!(run().await.expect("run"), JobOutcome::Idle, "not before its backoff");
        app.advance(Duration::from_secs(30));
        assert_eq!(run().await.expect("run"), JobOutcome::Retrying { kind: "send_email", attempts: 2 });
        app.advance(Duration::from_secs(60));
        assert_eq!(run().await.expect("run"), JobOutcome::GaveUp { kind: "send_email" });
        app.advance(Duration::from_secs(3600));
        assert_eq!(run().await.expect("run"), JobOutcome::Idle, "given up for good");
        let failed = app
            .count("SELECT COUNT(*) FROM jobs WHERE failed_at IS NOT NULL AND last_error LIKE '%relay refused%'")
            .await;
        assert_eq!(failed, 1);
    })
    .await;
}

#[tokio::test]
async fn the_periodic_cleanup_removes_ended_sessions_dead_tokens_and_stale_ceremonies() {
    on_each_engine(|app: TestApp| async move {
        app.signed_in("tidy@example.com").await;
        app.sigra
            .passkeys()
            .start_passkey_log_in()
            .await
            .expect("an abandoned ceremony");
        app.deliver_mail().await;
        app.sigra
            .jobs()
            .schedule_periodic_jobs()
            .await
            .expect("schedule");
        app.sigra
            .jobs()
            .schedule_periodic_jobs()
            .await
            .expect("scheduling twice is harmless");
        app.advance(Duration::from_secs(3 * 24 * 3600));
        app.deliver_mail().await;
        assert_eq!(app.session_rows().await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM user_tokens").await, 0);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM webauthn_ceremonies").await,
            0
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM jobs WHERE id = 'periodic:cleanup'")
                .await,
            1,
            "rescheduled"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_on_one_database_never_run_the_same_job() {
    for engine in Engine::available() {
        let database = TestDatabase::create(engine).await;
        // Each delivery takes a moment, so both runners are at work at once.
        let mailer = Arc::new(CountingMailer {
            delay: Some(std::time::Duration::from_millis(5)),
            ..CountingMailer::default()
        });
        let clock = Arc::new(ManualClock::starting_now());
        let mut runners = Vec::new();
        // Processes share the configuration (the secret key in particular: it seals payloads).
        let shared = testing::config(database.url());
        for _ in 0..2 {
            // Two pools on one database: as two server processes would be.
            let config = shared.clone();
            let db = Db::connect(&config.database).await.expect("connect");
            db.migrate().await.expect("migrate");
            let sigra = Sigra::builder(config, Arc::new(app::emails::Templates))
                .clock(clock.clone())
                .mailer(mailer.clone())
                .with_db(db)
                .expect("core");
            runners.push(sigra);
        }
        let request = RequestContext::default();
        for i in 0..30 {
            let registration = Registration {
                email: format!("user{i}@example.com"),
                password: sigra::password::Password::new(CANARY_PASSWORD.to_owned()),
            };
            runners[0]
                .auth()
                .register(registration, &request)
                .await
                .expect("register");
        }
        let (a, b) = (runners[0].clone(), runners[1].clone());
        let (ran_a, ran_b) = tokio::join!(
            tokio::spawn(async move { a.jobs().run_due_jobs("runner-a").await }),
            tokio::spawn(async move { b.jobs().run_due_jobs("runner-b").await }),
        );
        let (ran_a, ran_b) = (
            ran_a.expect("a").expect("a ran"),
            ran_b.expect("b").expect("b ran"),
        );
        assert_eq!(ran_a + ran_b, 30, "{engine:?}");
        assert!(
            ran_a > 0 && ran_b > 0,
            "both runners delivered on {engine:?}: {ran_a} and {ran_b}"
        );
        let sent = mailer.sent.lock().expect("lock").clone();
        assert_eq!(sent.len(), 30, "{engine:?}");
        assert!(
            sent.values().all(|n| *n == 1),
            "each mail exactly once on {engine:?}: {sent:?}"
        );
        for sigra in runners {
            sigra.db().close().await;
        }
    }
}

#[tokio::test]
async fn a_queued_mail_is_sealed_holding_neither_its_link_nor_its_address() {
    on_each_engine(|app: TestApp| async move {
        app.register("sealed@example.com", CANARY_PASSWORD).await;
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "sealed@example.com")],
            None,
        )
        .await;
        let payloads: Vec<String> =
            sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'send_email'")
                .fetch_all(app.sigra.db().pool())
                .await
                .expect("payloads");
        assert_eq!(payloads.len(), 2, "the confirmation and the reset link");
        for payload in &payloads {
            for shown in ["sealed@example.com", "reset-password", "http://"] {
                assert!(
                    !payload.contains(shown),
                    "the stored payload shows {shown:?}: {payload}"
                );
            }
        }
        let link = app
            .link_in_mail("sealed@example.com", "/users/reset-password/")
            .await;
        let token = link.trim_start_matches("/users/reset-password/");
        let confirmation = app
            .mailbox("sealed@example.com")
            .await
            .into_iter()
            .find(|m| m.subject == "Confirm your email address")
            .expect("the confirmation mail");
        let code_at = confirmation
            .text
            .find("Or enter this code: ")
            .expect("a code")
            + 20;
        let code = confirmation.text[code_at..code_at + 7].replace(' ', "");
        for payload in &payloads {
            for secret in [token, &code] {
                assert!(
                    !payload.contains(secret),
                    "the stored payload shows {secret:?}: {payload}"
                );
            }
        }
    })
    .await;
}
