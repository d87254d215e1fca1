//! Host lifecycle hooks run inside the core's transaction: what they write commits with the
//! change, and a failing hook rolls the change back.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use sigra::hooks::{HookError, LifecycleHooks};
use sigra::mail::BoxFuture;
use sigra::users::{EmailAddress, UserId};
use sqlx::AnyConnection;

use server::testing::{on_each_engine_with, session_cookie, Setup, TestApp, CANARY_PASSWORD};

/// Writes an audit-like row of its own for every event, on the core's connection, and refuses
/// registrations of addresses containing "+refuse".
#[derive(Default)]
struct RecordingHooks {
    calls: Mutex<Vec<String>>,
}

impl RecordingHooks {
    fn note<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        what: String,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO dev_mailbox (id, sent_at, sender, recipient, subject, html, text) VALUES ($1, 0, 'hook', 'hook', $2, '', '')")
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(&what)
                .execute(conn)
                .await
                .map_err(|e| HookError(e.to_string()))?;
            self.calls.lock().expect("lock").push(what);
            Ok(())
        })
    }
}

impl LifecycleHooks for RecordingHooks {
    fn on_register<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        _: &'a UserId,
        email: &'a EmailAddress,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        if email.as_str().contains("+refuse") {
            return Box::pin(async { Err(HookError("the host refused this address".to_owned())) });
        }
        self.note(conn, format!("register {email}"))
    }

    fn on_email_change<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        _: &'a UserId,
        old: &'a EmailAddress,
        new: &'a EmailAddress,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.note(conn, format!("email {old} -> {new}"))
    }

    fn on_password_change<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        _: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.note(conn, "password".to_owned())
    }
}

#[tokio::test]
async fn hooks_write_in_the_same_transaction_and_can_veto() {
    let hooks = Arc::new(RecordingHooks::default());
    let setup = {
        let hooks = hooks.clone();
        move || Setup {
            hooks: Some(hooks.clone()),
            ..Setup::default()
        }
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let refused = app
            .call_json(
                "/users/register",
                &[
                    ("email", "someone+refuse@example.com"),
                    ("password", CANARY_PASSWORD),
                ],
                None,
            )
            .await;
        assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users").await,
            0,
            "the registration rolled back"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events").await,
            0,
            "with its audit row"
        );

        let cookie = app.signed_in("hooked@example.com").await;
        let form = [
            ("current_password", CANARY_PASSWORD),
            ("new_password", "a brand new passphrase for tests"),
        ];
        app.post_form(
            "/users/settings/password",
            "/users/settings",
            &form,
            Some(&cookie),
        )
        .await;
        let rows = app
            .count("SELECT COUNT(*) FROM dev_mailbox WHERE sender = 'hook'")
            .await;
        assert_eq!(rows, 2, "the hook's own writes committed with the changes");
        assert!(session_cookie(
            &app.log_in(
                "hooked@example.com",
                "a brand new passphrase for tests",
                false
            )
            .await
        )
        .is_some());
    })
    .await;
    let calls = hooks.calls.lock().expect("lock").clone();
    assert!(
        calls.iter().any(|c| c == "register hooked@example.com"),
        "{calls:?}"
    );
    assert!(calls.iter().any(|c| c == "password"), "{calls:?}");
}

/// Moves the clock in the middle of a registration, and for addresses containing "+veto" makes
/// the change fail at its commit (a write the database accepts at once and refuses at commit),
/// after every row and the mail have been written.
#[derive(Default)]
struct MidChangeHooks {
    clock: Mutex<Option<sigra::clock::ManualClock>>,
}

impl LifecycleHooks for MidChangeHooks {
    fn on_register<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        _: &'a UserId,
        email: &'a EmailAddress,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        Box::pin(async move {
            if let Some(clock) = self.clock.lock().expect("lock").as_ref() {
                clock.advance(std::time::Duration::from_secs(7));
            }
            if !email.as_str().contains("+veto") {
                return Ok(());
            }
            let deferred: &[&str] = if conn.backend_name() == "PostgreSQL" {
                &[
                    "CREATE TEMPORARY TABLE veto (x INT UNIQUE DEFERRABLE INITIALLY DEFERRED) \
                     ON COMMIT DROP",
                    "INSERT INTO veto VALUES (1), (1)",
                ]
            } else {
                &[
                    "PRAGMA defer_foreign_keys = ON",
                    "INSERT INTO user_tokens (id, user_id, purpose, token_hash, sent_to, \
                     created_at, expires_at) VALUES ('veto', 'no such user', 'veto', 'veto', '', 0, 0)",
                ]
            };
            for sql in deferred {
                sqlx::query(sql)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| HookError(e.to_string()))?;
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn every_row_of_a_change_carries_its_one_clock_reading_and_a_failed_change_queues_no_mail() {
    let hooks = Arc::new(MidChangeHooks::default());
    let setup = {
        let hooks = hooks.clone();
        move || Setup {
            hooks: Some(hooks.clone()),
            ..Setup::default()
        }
    };
    on_each_engine_with(setup, |app: TestApp| {
        let hooks = hooks.clone();
        async move {
            hooks.clock.lock().expect("lock").replace(app.clock.clone());
            let began = app.sigra.now().as_millis();
            app.register("one-moment@example.com", CANARY_PASSWORD)
                .await;
            let mut times: Vec<(String, i64)> = Vec::new();
            for (what, sql) in [
                ("the account", "SELECT created_at FROM users"),
                ("audit rows", "SELECT occurred_at FROM audit_events"),
                ("the link and code", "SELECT created_at FROM user_tokens"),
                (
                    "the mail job",
                    "SELECT created_at FROM jobs WHERE kind = 'send_email'",
                ),
                (
                    "its run time",
                    "SELECT run_at FROM jobs WHERE kind = 'send_email'",
                ),
            ] {
                let rows: Vec<i64> = sqlx::query_scalar(sql)
                    .fetch_all(app.sigra.db().pool())
                    .await
                    .expect("times");
                assert!(!rows.is_empty(), "{what} written");
                times.extend(rows.into_iter().map(|t| (what.to_owned(), t)));
            }
            assert!(
                times.iter().all(|(_, t)| *t == began),
                "every row carries the reading taken when the change began ({began}), though \
                 the clock moved during it: {times:?}"
            );

            // The change fails at its commit, after its rows and mail were written: none stay.
            let snapshot = app.account_snapshot().await;
            let audit = app.count("SELECT COUNT(*) FROM audit_events").await;
            let refused = app
                .call_json(
                    "/users/register",
                    &[
                        ("email", "someone+veto@example.com"),
                        ("password", CANARY_PASSWORD),
                    ],
                    None,
                )
                .await;
            assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(
                app.account_snapshot().await,
                snapshot,
                "no account, token or job"
            );
            assert_eq!(
                app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'send_email'")
                    .await,
                1,
                "only the first registration's mail is queued"
            );
            assert_eq!(app.count("SELECT COUNT(*) FROM audit_events").await, audit);
            assert!(app.mailbox("someone+veto@example.com").await.is_empty());
        }
    })
    .await;
}
