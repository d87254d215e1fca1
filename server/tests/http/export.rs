//! The personal data export: under sudo, a versioned JSON attachment of everything the core
//! holds about the user and what the host adds, with no secret in it and nothing of anyone
//! else; refused cross-site and to tokens.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use sigra::hooks::{HookError, LifecycleHooks};
use sigra::mail::BoxFuture;
use sigra::users::UserId;

use server::testing::{
    location, on_each_engine, on_each_engine_with, session_cookie, Setup, TestApp, CANARY_PASSWORD,
};

const PAGE: &str = "/users/settings/export";
const DOWNLOAD: &str = "/users/settings/export/download";

async fn texts(app: &TestApp, sql: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(sql)
        .fetch_all(app.sigra.db().pool())
        .await
        .expect("query")
}

async fn download(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.post_form(DOWNLOAD, PAGE, &[], Some(cookie)).await
}

#[tokio::test]
async fn the_export_needs_sudo_and_is_a_versioned_attachment_of_everything_but_secrets() {
    on_each_engine(|app: TestApp| async move {
        let email = "mine@example.com";
        let mut cookie = app.signed_in(email).await;
        let (secret, codes) = crate::mfa::enrol(&app, &mut cookie).await;
        crate::passkeys::register(&app, &mut cookie, "Laptop").await;
        let token = app
            .create_api_token(&mut cookie, "backup script", &["profile:read"])
            .await;
        let mut stranger = app.signed_in("stranger@example.com").await;
        app.create_api_token(&mut stranger, "not yours", &["profile:read"])
            .await;

        // Without sudo, the browser is sent to re-enter the password and come back.
        app.advance(std::time::Duration::from_secs(6 * 60));
        let refused = download(&app, &cookie).await;
        assert_eq!(refused.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&refused),
            "/users/sudo?return_to=/users/settings/export"
        );
        app.enter_sudo(&mut cookie, PAGE).await;

        let answer = download(&app, &cookie).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let header = |name: &str| answer.headers()[name].to_str().expect("text").to_owned();
        let day = app.sigra.now().to_string()[..10].to_owned();
        assert_eq!(header("content-type"), "application/json; charset=utf-8");
        assert_eq!(
            header("content-disposition"),
            format!("attachment; filename=\"sigra-data-{day}.json\"")
        );
        assert_eq!(header("cache-control"), "no-store");
        let body = answer.text().await.expect("body");
        let data: Value = serde_json::from_str(&body).expect("json");

        assert_eq!(data["schema_version"], 1);
        assert_eq!(data["account"]["email"], email);
        assert_eq!(data["account"]["has_password"], true);
        assert_eq!(data["sessions"].as_array().map(Vec::len), Some(1));
        assert!(data["second_factors"]["authenticator_app"]["confirmed_at"].is_string());
        assert_eq!(
            data["second_factors"]["backup_codes"],
            json!({"remaining": 8, "exported": false})
        );
        assert_eq!(data["passkeys"][0]["name"], "Laptop");
        assert_eq!(data["api_tokens"].as_array().map(Vec::len), Some(1));
        assert_eq!(data["api_tokens"][0]["name"], "backup script");
        let actions: Vec<&str> = data["audit_events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        for action in [
            "auth.register.success",
            "mfa.enroll.success",
            "passkey.register.success",
            "api.token_create",
        ] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
        assert!(
            data["audit_events"][0]["metadata"].is_object(),
            "metadata is JSON, not text"
        );

        // No secret of the account is in it, nor anything of the other account.
        let mut secrets = vec![secret, token];
        secrets.extend(codes);
        for sql in [
            "SELECT password_hash FROM users",
            "SELECT token_hash FROM user_sessions",
            "SELECT secret_sealed FROM user_totp",
            "SELECT code_hash FROM user_backup_codes",
            "SELECT passkey FROM user_passkeys",
            "SELECT credential_id FROM user_passkeys",
            "SELECT token_hash FROM api_tokens",
            "SELECT id FROM users WHERE email = 'stranger@example.com'",
            "SELECT email FROM users WHERE email = 'stranger@example.com'",
        ] {
            secrets.extend(texts(&app, sql).await);
        }
        for secret in &secrets {
            assert!(!body.contains(secret.as_str()), "the export holds {secret}");
        }
        assert!(!body.contains("not yours"));
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'account.data_export'")
                .await,
            1
        );
    })
    .await;
}

/// A host that keeps invoices for its users.
struct InvoiceHooks;

impl LifecycleHooks for InvoiceHooks {
    fn export_personal_data<'a>(
        &'a self,
        _conn: &'a mut sqlx::AnyConnection,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Map<String, Value>, HookError>> {
        Box::pin(async move {
            let mut host = Map::new();
            host.insert(
                "invoices".to_owned(),
                json!([{"for": user.as_str(), "total": "12.00"}]),
            );
            Ok(host)
        })
    }
}

#[tokio::test]
async fn the_host_adds_what_it_holds_through_its_hook() {
    let setup = || Setup {
        hooks: Some(Arc::new(InvoiceHooks)),
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let mut cookie = app.signed_in("billed@example.com").await;
        app.enter_sudo(&mut cookie, PAGE).await;
        let data: Value = download(&app, &cookie).await.json().await.expect("json");
        assert_eq!(data["host"]["invoices"][0]["total"], "12.00");
        assert_eq!(data["host"]["invoices"][0]["for"], data["account"]["id"]);
    })
    .await;
}

#[tokio::test]
async fn the_export_is_refused_cross_site_and_to_tokens() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("guarded@example.com").await;
        let token = app.create_api_token(&mut cookie, "all", &["*"]).await;
        app.enter_sudo(&mut cookie, PAGE).await;
        let forged = app
            .post_form_with(
                DOWNLOAD,
                PAGE,
                &[],
                Some(&cookie),
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://evil.example"),
                ],
            )
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let bearer = reqwest::Client::new()
            .post(format!("{}{DOWNLOAD}", app.address))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(
            bearer.status(),
            StatusCode::FORBIDDEN,
            "a token never exports"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'account.data_export'")
                .await,
            0
        );
        assert!(session_cookie(
            &app.log_in("guarded@example.com", CANARY_PASSWORD, false)
                .await
        )
        .is_some());
    })
    .await;
}
