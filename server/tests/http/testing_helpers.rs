//! The helpers a host's own tests use (`server::testing`), used as a host would: each does what
//! it says against the real app, and the audit assertion fails on a row that differs.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use server::testing::{
    location, on_each_engine, session_cookie, totp_code_at, AuditRecord, Audited, TestApp,
    CANARY_PASSWORD,
};

#[tokio::test]
async fn a_host_test_turns_on_two_factor_and_logs_in_with_a_computed_code() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("host@example.com").await;
        let (setup, backup_codes) = app.enable_totp(&mut cookie).await;
        assert_eq!(backup_codes.len(), 8);
        assert!(setup.uri.starts_with("otpauth://totp/"));

        let pending = session_cookie(&app.log_in("host@example.com", CANARY_PASSWORD, false).await)
            .expect("a pending session");
        // The enrolment spent this step's code.
        app.advance(Duration::from_secs(30));
        let code = app.totp_code(&setup.secret);
        let done = app
            .post_form(
                "/users/mfa",
                "/users/mfa",
                &[("code", &code)],
                Some(&pending),
            )
            .await;
        let signed_in = session_cookie(&done).expect("the second factor opens a session");
        assert_eq!(app.me(&signed_in).await, StatusCode::OK);

        let host = app.user_id("host@example.com").await;
        app.assert_audited(&Audited::action("mfa.enroll.success").actor(&host))
            .await;
        app.assert_audited(
            &Audited::action("auth.login.success")
                .actor(&host)
                .outcome("success"),
        )
        .await;
        let logins = app.audit_records("auth.login.success").await;
        assert_eq!(
            logins.len(),
            2,
            "the password log-in, then the one with the code"
        );
    })
    .await;
}

#[tokio::test]
async fn a_host_test_makes_an_organization_with_a_member_and_an_api_token() {
    on_each_engine(|app: TestApp| async move {
        let mut ada = app.signed_in("ada@example.com").await;
        let slug = app.create_organization(&ada, "Acme").await;
        let bea = app.signed_in("bea@example.com").await;
        app.add_member(&ada, &slug, &bea, "bea@example.com", "admin")
            .await;
        let roles = app
            .count(
                "SELECT COUNT(*) FROM organization_memberships m JOIN users u ON u.id = m.user_id \
                 WHERE u.email = 'bea@example.com' AND m.role = 'admin'",
            )
            .await;
        assert_eq!(roles, 1, "bea joined as an admin");
        let page = app.get(&format!("/organizations/{slug}"), Some(&bea)).await;
        assert_eq!(page.status(), StatusCode::OK, "{}", location(&page));
        let bea_id = app.user_id("bea@example.com").await;
        app.assert_audited(&Audited::action("organization.member_add").actor(&bea_id))
            .await;

        let token = app
            .create_api_token(&mut ada, "host tests", &["profile:read"])
            .await;
        let me = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_eq!(me.status(), StatusCode::OK);
    })
    .await;
}

#[test]
fn an_audit_expectation_matches_only_rows_with_what_it_names() {
    let row = AuditRecord {
        action: "auth.login.success".to_owned(),
        outcome: "success".to_owned(),
        actor_type: "user".to_owned(),
        actor_id: Some("u1".to_owned()),
        effective_user_id: Some("u1".to_owned()),
        target_type: None,
        target_id: None,
        organization_id: None,
        metadata: serde_json::json!({}),
    };
    assert!(Audited::action("auth.login.success").matches(&row));
    assert!(Audited::action("auth.login.success")
        .actor("u1")
        .outcome("success")
        .matches(&row));
    assert!(!Audited::action("auth.login.failure").matches(&row));
    assert!(!Audited::action("auth.login.success")
        .actor("u2")
        .matches(&row));
    assert!(!Audited::action("auth.login.success")
        .outcome("failure")
        .matches(&row));
    assert!(!Audited::action("auth.login.success")
        .target("u1")
        .matches(&row));
}

#[test]
fn computed_codes_follow_rfc_6238() {
    // RFC 6238's SHA-1 test vector (the 20-byte key "12345678901234567890"), six digits.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(totp_code_at(secret, 59), "287082");
    assert_eq!(totp_code_at(secret, 1_111_111_109), "081804");
}
