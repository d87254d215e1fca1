//! The tamper-evident audit chain (security.md L2): rows sealed by the job runner verify; an
//! edited, deleted or reordered row, a cut tail, or a chain sealed with another secret key is
//! found and named; the retention cleanup keeps what is left verifiable; `server audit verify`
//! says so and exits 1 on a broken chain.

use sigra::audit::chain::{ChainProblem, ChainReport};

use crate::operator::{said, server, succeeded, with_secret};
use server::testing::{on_each_engine, on_each_engine_with, Setup, TestApp};

/// Some activity: two accounts registered and logged in, one logged out.
async fn activity(app: &TestApp) {
    app.signed_in("first@example.com").await;
    let cookie = app.signed_in("second@example.com").await;
    app.post_form("/users/log-out", "/users/settings", &[], Some(&cookie))
        .await;
}

async fn sealed(app: &TestApp) -> u64 {
    app.sigra.audit_chain().seal().await.expect("sealed")
}

async fn verify(app: &TestApp) -> ChainReport {
    app.sigra.audit_chain().verify().await.expect("verified")
}

async fn execute(app: &TestApp, sql: &str) {
    sqlx::query(sql)
        .execute(app.sigra.db().pool())
        .await
        .expect("the attacker's statement");
}

#[tokio::test]
async fn sealed_rows_verify_and_an_edited_row_breaks_the_chain_at_that_row() {
    on_each_engine(|app: TestApp| async move {
        activity(&app).await;
        let rows = app.count("SELECT COUNT(*) FROM audit_events").await;
        assert_eq!(
            verify(&app).await.unsealed,
            u64::try_from(rows).expect("rows")
        );
        assert_eq!(sealed(&app).await, u64::try_from(rows).expect("rows"));
        assert_eq!(sealed(&app).await, 0, "nothing new to seal");
        let report = verify(&app).await;
        assert!(report.intact(), "{report:?}");
        assert_eq!(report.verified, u64::try_from(rows).expect("rows"));

        // Rows written after the seal wait for the next one, and are then covered too.
        app.signed_in("third@example.com").await;
        let report = verify(&app).await;
        assert!(report.intact() && report.unsealed > 0, "{report:?}");
        sealed(&app).await;
        assert!(verify(&app).await.intact());

        // Someone with write access to the database, but not the secret key, rewrites a row.
        execute(
            &app,
            "UPDATE audit_events SET outcome = 'failure' WHERE chain_seq = 3",
        )
        .await;
        let report = verify(&app).await;
        let broken = report.broken.expect("found");
        assert_eq!((broken.seq, broken.problem), (3, ChainProblem::Altered));
        assert_eq!(report.verified, 2, "everything before it verified");
    })
    .await;
}

#[tokio::test]
async fn a_deleted_row_a_cut_tail_and_swapped_rows_are_each_found() {
    on_each_engine(|app: TestApp| async move {
        activity(&app).await;
        sealed(&app).await;
        let last: i64 = sqlx::query_scalar("SELECT MAX(chain_seq) FROM audit_events")
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("sealed rows");

        execute(
            &app,
            &format!("DELETE FROM audit_events WHERE chain_seq = {last}"),
        )
        .await;
        let broken = verify(&app).await.broken.expect("found");
        assert_eq!(
            (broken.seq, broken.problem),
            (last, ChainProblem::Truncated)
        );

        execute(&app, "DELETE FROM audit_events WHERE chain_seq = 2").await;
        let broken = verify(&app).await.broken.expect("found");
        assert_eq!((broken.seq, broken.problem), (2, ChainProblem::Missing));
    })
    .await;

    on_each_engine(|app: TestApp| async move {
        activity(&app).await;
        sealed(&app).await;
        // Two rows trade places (their sequence numbers and MACs swapped with them).
        execute(
            &app,
            "UPDATE audit_events SET chain_seq = -chain_seq WHERE chain_seq IN (2, 3)",
        )
        .await;
        execute(
            &app,
            "UPDATE audit_events SET chain_seq = 5 - (-chain_seq) WHERE chain_seq IN (-2, -3)",
        )
        .await;
        let broken = verify(&app).await.broken.expect("found");
        assert_eq!((broken.seq, broken.problem), (2, ChainProblem::Altered));
    })
    .await;
}

#[tokio::test]
async fn a_chain_sealed_with_another_secret_key_does_not_verify_and_is_not_sealed_further() {
    let first = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&first), |app: TestApp| {
        let first = first.clone();
        async move {
            activity(&app).await;
            sealed(&app).await;
            // The same database, read by a process with another secret (a forger, or a
            // rotated key): nothing verifies, and it refuses to seal on top.
            let other = sigra::crypto::SecretKey::generate_text();
            let verified = server(&app, &other, &["audit", "verify"], None);
            assert!(!succeeded(&verified), "{}", said(&verified));
            assert!(
                said(&verified).contains("another SIGRA_SECRET_KEY"),
                "{}",
                said(&verified)
            );
            app.signed_in("late@example.com").await;
            let waiting = verify(&app).await.unsealed;
            assert!(waiting > 0);
            let seal = server(&app, &other, &["audit", "seal"], None);
            assert!(!succeeded(&seal), "{}", said(&seal));
            assert_eq!(
                verify(&app).await.unsealed,
                waiting,
                "nothing sealed with the other key"
            );
            let verified = server(&app, &first, &["audit", "verify"], None);
            assert!(succeeded(&verified), "{}", said(&verified));
            assert!(
                said(&verified).contains("the audit chain is intact"),
                "{}",
                said(&verified)
            );
        }
    })
    .await;
}

#[tokio::test]
async fn the_job_runner_seals_and_the_retention_keeps_the_rest_verifiable() {
    let thirty_days = || Setup {
        env: vec![("SIGRA_AUDIT_RETENTION_DAYS", "30".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(thirty_days, |app: TestApp| async move {
        activity(&app).await;
        app.sigra
            .jobs()
            .schedule_periodic_jobs()
            .await
            .expect("scheduled");
        app.deliver_mail().await;
        let report = verify(&app).await;
        assert!(report.intact(), "{report:?}");
        assert_eq!(report.unsealed, 0, "the runner sealed every row");

        app.advance(std::time::Duration::from_secs(31 * 24 * 3600));
        app.signed_in("later@example.com").await;
        app.deliver_mail().await;
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE actor_id = \
                 (SELECT id FROM users WHERE email = 'first@example.com')"
            )
            .await,
            0,
            "the month-old rows are gone"
        );
        app.sigra.audit_chain().seal().await.expect("sealed");
        let report = verify(&app).await;
        assert!(report.intact(), "{report:?}");
        assert!(report.pruned_through > 0, "{report:?}");
    })
    .await;
}
