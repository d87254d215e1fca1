//! The audit trail: a row for each auth event, written with the change, and no secrets.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use sigra::request::RequestContext;
use sqlx::Row as _;

use crate::mfa::{enrol, log_in_pending, next_code, verify};
use server::testing::{
    location, on_each_engine, on_each_engine_with, session_cookie, Setup, TestApp, CANARY_PASSWORD,
};

const NEW_PASSWORD: &str = "a brand new passphrase for tests";

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

/// One audit row as the README's table describes it: who acted, whom it was about, and the
/// metadata.
#[derive(Debug, PartialEq)]
struct Row {
    actor_type: String,
    actor_id: Option<String>,
    target_id: Option<String>,
    metadata: serde_json::Value,
}

/// Every row of `action`, oldest first.
async fn rows_of(app: &TestApp, action: &str) -> Vec<Row> {
    app.audit_records(action)
        .await
        .into_iter()
        .map(|record| Row {
            actor_type: record.actor_type,
            actor_id: record.actor_id,
            target_id: record.target_id,
            metadata: record.metadata,
        })
        .collect()
}

/// The row the signed-in `user` writes about their own account.
fn by_user(user: &str, metadata: serde_json::Value) -> Row {
    Row {
        actor_type: "user".to_owned(),
        actor_id: Some(user.to_owned()),
        target_id: None,
        metadata,
    }
}

/// The row a guest's request writes about a known account.
fn about(user: &str, metadata: serde_json::Value) -> Row {
    Row {
        actor_type: "anonymous".to_owned(),
        actor_id: None,
        target_id: Some(user.to_owned()),
        metadata,
    }
}

#[tokio::test]
async fn account_changes_are_audited_with_their_user_as_the_actor() {
    on_each_engine(|app: TestApp| async move {
        // The address confirmed by its link: the mailbox proved the user.
        app.register("changes@example.com", CANARY_PASSWORD).await;
        let user = app.user_id("changes@example.com").await;
        let link = app
            .link_in_mail("changes@example.com", "/users/confirm/")
            .await;
        let (link_cookie, page) = app.open_link(&link).await;
        app.post_link_form(&page, &link_cookie, &[], None).await;
        assert_eq!(
            rows_of(&app, "auth.confirmation_verify.success").await,
            [by_user(&user, json!({ "method": "link" }))]
        );

        // One session ended, then every other one.
        let mut here = session_cookie(
            &app.log_in("changes@example.com", CANARY_PASSWORD, false)
                .await,
        )
        .expect("a session");
        for _ in 0..3 {
            app.log_in("changes@example.com", CANARY_PASSWORD, false)
                .await;
        }
        app.enter_sudo(&mut here, "/users/sessions").await;
        let others: Vec<String> =
            sqlx::query_scalar("SELECT id FROM user_sessions WHERE sudo_at IS NULL ORDER BY id")
                .fetch_all(app.sigra.db().pool())
                .await
                .expect("ids");
        assert_eq!(others.len(), 3);
        let revoked = app
            .post_form(
                "/users/sessions/revoke",
                "/users/sessions",
                &[("id", &others[0])],
                Some(&here),
            )
            .await;
        assert_eq!(location(&revoked), "/users/sessions");
        assert_eq!(
            rows_of(&app, "session.delete").await,
            [by_user(&user, json!({ "revoked_session": others[0] }))]
        );
        app.post_form(
            "/users/sessions/revoke-others",
            "/users/sessions",
            &[],
            Some(&here),
        )
        .await;
        assert_eq!(
            rows_of(&app, "session.revoke_others").await,
            [by_user(&user, json!({ "ended": 2 }))]
        );

        // The password changed in settings, with one other session to end.
        app.log_in("changes@example.com", CANARY_PASSWORD, false)
            .await;
        let changed = app
            .post_form(
                "/users/settings/password",
                "/users/settings",
                &[
                    ("current_password", CANARY_PASSWORD),
                    ("new_password", NEW_PASSWORD),
                ],
                Some(&here),
            )
            .await;
        let here = session_cookie(&changed).expect("the session goes on");
        assert_eq!(
            rows_of(&app, "account.password_change").await,
            [by_user(
                &user,
                json!({ "other_sessions_ended": 1, "forced": false })
            )]
        );

        // An email change cancelled, then one confirmed from the new address.
        let ask = |to: &'static str| {
            let (app, here) = (&app, here.clone());
            async move {
                let response = app
                    .post_form(
                        "/users/settings/email",
                        "/users/settings",
                        &[("new_email", to), ("current_password", NEW_PASSWORD)],
                        Some(&here),
                    )
                    .await;
                assert_eq!(location(&response), "/users/settings");
            }
        };
        ask("cancelled@example.com").await;
        app.post_form(
            "/users/settings/email/cancel",
            "/users/settings",
            &[],
            Some(&here),
        )
        .await;
        assert_eq!(
            rows_of(&app, "account.email_change.cancel").await,
            [by_user(&user, json!({}))]
        );
        ask("moved@example.com").await;
        app.log_in("changes@example.com", NEW_PASSWORD, false).await;
        let link = app
            .link_in_mail("moved@example.com", "/users/settings/confirm-email/")
            .await;
        let (link_cookie, page) = app.open_link(&link).await;
        let confirmed = app
            .post_link_form(&page, &link_cookie, &[], Some(&here))
            .await;
        assert_eq!(location(&confirmed), "/users/settings");
        assert_eq!(
            rows_of(&app, "account.email_change.confirm").await,
            [by_user(&user, json!({ "other_sessions_ended": 1 }))]
        );
    })
    .await;
}

#[tokio::test]
async fn mailed_link_requests_name_the_account_as_target_and_their_use_names_its_user() {
    on_each_engine(|app: TestApp| async move {
        app.register("links@example.com", CANARY_PASSWORD).await;
        let user = app.user_id("links@example.com").await;
        let ask = |path: &'static str, from: &'static str, email: &'static str| {
            let app = &app;
            async move {
                app.post_form(path, from, &[("email", email)], None).await;
            }
        };

        // A log-in link: asked for an account, for nobody's address, and over the limit.
        for _ in 0..4 {
            ask(
                "/users/log-in/email-link",
                "/users/log-in",
                "links@example.com",
            )
            .await;
        }
        ask(
            "/users/log-in/email-link",
            "/users/log-in",
            "nobody@example.com",
        )
        .await;
        let sent = || about(&user, json!({ "sent": true }));
        let limited = || about(&user, json!({ "sent": false, "reason": "rate_limited" }));
        let unknown = || Row {
            actor_type: "anonymous".to_owned(),
            actor_id: None,
            target_id: None,
            metadata: json!({}),
        };
        assert_eq!(
            rows_of(&app, "auth.magic_link_request").await,
            [sent(), sent(), sent(), limited(), unknown()]
        );
        let link = app
            .link_in_mail("links@example.com", "/users/log-in/")
            .await;
        let (link_cookie, page) = app.open_link(&link).await;
        let used = app.post_link_form(&page, &link_cookie, &[], None).await;
        assert!(session_cookie(&used).is_some());
        assert_eq!(
            rows_of(&app, "auth.magic_link_verify.success").await,
            [by_user(&user, json!({}))]
        );

        // A reset link, the same way, then the reset itself, which ends the two sessions.
        app.log_in("links@example.com", CANARY_PASSWORD, false)
            .await;
        for _ in 0..4 {
            ask(
                "/users/reset-password",
                "/users/reset-password",
                "links@example.com",
            )
            .await;
        }
        ask(
            "/users/reset-password",
            "/users/reset-password",
            "nobody@example.com",
        )
        .await;
        assert_eq!(
            rows_of(&app, "auth.password_reset_request").await,
            [sent(), sent(), sent(), limited(), unknown()]
        );
        let link = app
            .link_in_mail("links@example.com", "/users/reset-password/")
            .await;
        let (link_cookie, page) = app.open_link(&link).await;
        let reset = app
            .post_link_form(&page, &link_cookie, &[("password", NEW_PASSWORD)], None)
            .await;
        assert_eq!(location(&reset), "/users/log-in");
        assert_eq!(
            rows_of(&app, "auth.password_reset_complete").await,
            [by_user(&user, json!({ "sessions_ended": 2 }))]
        );
    })
    .await;
}

#[tokio::test]
async fn second_factor_and_api_events_are_audited_with_their_actor() {
    let old_key = sigra::crypto::SecretKey::generate_text();
    let setup = || Setup {
        env: vec![("SIGRA_MFA_ENCRYPTION_KEYS", format!("old:{old_key}"))],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| {
        let old_key = old_key.clone();
        async move {
            let mut cookie = app.signed_in("factors@example.com").await;
            let user = app.user_id("factors@example.com").await;
            let (secret, codes) = enrol(&app, &mut cookie).await;

            let pending = log_in_pending(&app, "factors@example.com").await;
            let done = verify(&app, &pending, &codes[0], false).await;
            let mut session = session_cookie(&done).expect("a backup code logs in");
            assert_eq!(
                rows_of(&app, "mfa.backup_code_used").await,
                [by_user(&user, json!({ "remaining": 7 }))]
            );

            app.enter_sudo(&mut session, "/users/settings/security")
                .await;
            let code = next_code(&app, &secret);
            let made = app
                .call_json(
                    "/users/settings/security/backup-codes",
                    &[("code", &code)],
                    Some(&session),
                )
                .await;
            assert_eq!(made.status(), StatusCode::OK);
            assert_eq!(
                rows_of(&app, "mfa.backup_codes_regenerate").await,
                [by_user(&user, json!({}))]
            );
            let forgot = app
                .call_json(
                    "/users/settings/security/forget-browsers",
                    &[],
                    Some(&session),
                )
                .await;
            assert_eq!(forgot.status(), StatusCode::OK);
            assert_eq!(
                rows_of(&app, "mfa.trust.revoke_all").await,
                [by_user(&user, json!({}))]
            );

            // The operator's key rotation: the system acted, on nobody in particular.
            let config = sigra::testing::config_with(
                app.database_url(),
                &[(
                    "SIGRA_MFA_ENCRYPTION_KEYS",
                    &format!(
                        "new:{},old:{old_key}",
                        sigra::crypto::SecretKey::generate_text()
                    ),
                )],
            );
            let rotating = sigra::Sigra::builder(config, Arc::new(app::emails::Templates))
                .clock(Arc::new(app.clock.clone()))
                .with_db(app.sigra.db().clone())
                .expect("core");
            rotating
                .mfa()
                .rotate_mfa_keys(&RequestContext::command("test"))
                .await
                .expect("rotate");
            assert_eq!(
                rows_of(&app, "mfa.keys_rotate").await,
                [Row {
                    actor_type: "system".to_owned(),
                    actor_id: None,
                    target_id: None,
                    metadata: json!({ "moved": 1 }),
                }]
            );

            // An API client's refresh names its user and its family.
            app.register("client@example.com", CANARY_PASSWORD).await;
            let client = app.user_id("client@example.com").await;
            let (_, tokens) = app.api_log_in("client@example.com", CANARY_PASSWORD).await;
            let refreshed = app
                .api(
                    reqwest::Method::POST,
                    "/api/v1/auth/refresh",
                    None,
                    Some(json!({ "refresh_token": tokens["refresh_token"] })),
                )
                .await;
            assert_eq!(refreshed.status(), StatusCode::OK);
            let family: String = sqlx::query_scalar("SELECT id FROM jwt_refresh_families")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("one family");
            assert_eq!(
                rows_of(&app, "api.jwt_refresh").await,
                [by_user(&client, json!({ "family": family }))]
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_host_writes_its_own_actions_with_its_change_and_never_the_cores() {
    on_each_engine(|app: TestApp| async move {
        let ada = app.signed_in("ada@example.com").await;
        let acme = app.create_organization(&ada, "Acme").await;
        crate::organizations::create_project(&app, &ada, &acme, "Rockets").await;
        let projects = format!("/organizations/{acme}/projects");
        let project: String = sqlx::query_scalar("SELECT id FROM projects")
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("a project");
        app.post_form(
            "/api/organizations/delete-project",
            &projects,
            &[("slug", &acme), ("id", &project)],
            Some(&ada),
        )
        .await;
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT action, actor_id, organization_id, metadata FROM audit_events \
             WHERE action LIKE 'project.%' ORDER BY occurred_at, id",
        )
        .fetch_all(app.sigra.db().pool())
        .await
        .expect("rows");
        let ada_id: String =
            sqlx::query_scalar("SELECT id FROM users WHERE email = 'ada@example.com'")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("id");
        let acme_id: String = sqlx::query_scalar("SELECT id FROM organizations")
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("id");
        assert_eq!(rows.len(), 2, "{rows:?}");
        for (row, action) in rows.iter().zip(["project.create", "project.delete"]) {
            assert_eq!(
                (row.0.as_str(), &row.1, &row.2),
                (action, &ada_id, &acme_id)
            );
            assert!(row.3.contains(&project), "{}", row.3);
        }

        // The host's writer takes only host actions, so a host row never passes for the core's.
        let mut tx = app.sigra.db().begin_write().await.expect("tx");
        let forged = sigra::audit::AuditEvent::new(sigra::audit::Action::LoginSuccess);
        let refused = sigra::audit::record_host_event(
            &app.sigra,
            &mut tx,
            forged,
            &RequestContext::command("test"),
        )
        .await;
        assert!(refused.is_err());
        assert!(sigra::audit::HostAction::new("auth.login.success").is_err());
        drop(tx);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.success'")
                .await,
            1,
            "only ada's own log-in"
        );
    })
    .await;
}
