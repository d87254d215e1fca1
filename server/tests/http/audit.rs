//! The audit trail: a row for each auth event, written with the change, and no secrets.

use sqlx::Row as _;

use crate::helpers::{on_each_engine, TestApp, CANARY_PASSWORD};

async fn actions(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    sqlx::query("SELECT action, metadata, ip_address FROM audit_events ORDER BY occurred_at, id")
        .fetch_all(app.sigra.db().pool())
        .await
        .expect("rows")
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn auth_events_are_audited_without_secrets() {
    on_each_engine(|app: TestApp| async move {
        let cookie = app.signed_in("audited@example.com").await;
        app.register("audited@example.com", CANARY_PASSWORD).await;
        app.log_in("audited@example.com", "a wrong password for sure", false)
            .await;
        app.log_in("ghost@example.com", "a wrong password for sure", false)
            .await;
        app.post_form("/users/log-out", "/", &[], Some(&cookie))
            .await;

        let rows = actions(&app).await;
        let names: Vec<&str> = rows.iter().map(|(a, _, _)| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "auth.register.success",
                "auth.confirmation_sent",
                "session.create",
                "auth.login.success",
                "auth.register.failure",
                "security.invalid_credentials",
                "auth.login.failure",
                "auth.login.failure",
                "auth.logout",
            ]
        );
        let reasons: Vec<&str> = rows
            .iter()
            .filter(|(a, _, _)| a == "auth.login.failure" || a == "auth.register.failure")
            .map(|(_, m, _)| m.as_str())
            .collect();
        assert_eq!(
            reasons,
            [
                r#"{"reason":"email_taken"}"#,
                r#"{"method":"password","reason":"invalid_password"}"#,
                r#"{"method":"password","reason":"unknown_email"}"#
            ]
        );
        assert!(rows
            .iter()
            .all(|(_, _, ip)| ip.as_deref() == Some("127.0.0.1")));

        let dump = sqlx::query("SELECT * FROM audit_events")
            .fetch_all(app.sigra.db().pool())
            .await
            .expect("rows")
            .into_iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        row.try_get::<Option<String>, _>(i)
                            .ok()
                            .flatten()
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !dump.contains(CANARY_PASSWORD),
            "no password in the audit trail"
        );
        assert!(
            !dump.contains(cookie.trim_start_matches("__Host-sigra_session=")),
            "no session token"
        );
        assert!(
            !dump.contains("ghost@example.com"),
            "unknown emails are not stored"
        );
    })
    .await;
}

#[tokio::test]
async fn a_known_actor_is_named_and_only_a_guest_is_anonymous() {
    on_each_engine(|app: TestApp| async move {
        app.register("named@example.com", CANARY_PASSWORD).await;
        app.post_form(
            "/users/confirm/resend",
            "/users/confirm",
            &[("email", "named@example.com")],
            None,
        )
        .await;
        let user: String = sqlx::query_scalar("SELECT id FROM users")
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("user");
        let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT actor_type, actor_id, target_id FROM audit_events \
             WHERE action = 'auth.confirmation_sent' ORDER BY occurred_at, id",
        )
        .fetch_all(app.sigra.db().pool())
        .await
        .expect("rows");
        assert_eq!(
            rows,
            [
                // Registration: the new account asked for its own mail.
                ("user".to_owned(), Some(user.clone()), None),
                // The resend form: whoever typed the address is not known to own it.
                ("anonymous".to_owned(), None, Some(user)),
            ]
        );
    })
    .await;
}
