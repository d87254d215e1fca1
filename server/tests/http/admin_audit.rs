//! The audit explorer and its CSV export: filters by area, outcome, user, organization and
//! time; keyset pages that neither repeat nor skip while rows are written; the export's access,
//! format and formula-safety, read back by an independent CSV reader.

use crate::admin::{make_admin, texts};
use reqwest::StatusCode;
use server::testing::{on_each_engine, TestApp, CANARY_PASSWORD};

/// Signs `email` up and in, confirmed and made a platform admin.
async fn admin(app: &TestApp, email: &str) -> String {
    let cookie = app.signed_in(email).await;
    make_admin(app, email).await;
    cookie
}

async fn id_of(app: &TestApp, sql: &str) -> String {
    sqlx::query_scalar(sql)
        .fetch_one(app.sigra.db().pool())
        .await
        .expect("an id")
}

/// The actions the explorer lists for `query`.
async fn actions(app: &TestApp, cookie: &str, query: &str) -> Vec<String> {
    let page = app
        .get(&format!("/admin/audit?{query}"), Some(cookie))
        .await;
    assert_eq!(page.status(), StatusCode::OK, "{query}");
    texts(&page.text().await.expect("body"), "audit-action")
}

#[tokio::test]
async fn the_explorer_filters_by_area_outcome_user_organization_and_time() {
    on_each_engine(|app: TestApp| async move {
        let root = admin(&app, "root@example.com").await;
        let ada = app.signed_in("ada@example.com").await;
        app.log_in("ada@example.com", "wrong password", false).await;
        app.post_form(
            "/api/user-organizations/create",
            "/organizations/new",
            &[("name", "Acme")],
            Some(&ada),
        )
        .await;
        let bob = app.signed_in("bob@example.com").await;
        let slug = id_of(&app, "SELECT slug FROM organizations").await;
        app.post_form(
            "/api/organizations/invite",
            "/organizations/acme/members",
            &[
                ("slug", &slug),
                ("email", "bob@example.com"),
                ("role", "member"),
            ],
            Some(&ada),
        )
        .await;
        let link = app.link_in_mail("bob@example.com", "/invitations/").await;
        let (link_cookie, _) = app.open_link(&link).await;
        app.post_link_form("/api/invitations/accept", &link_cookie, &[], Some(&bob))
            .await;
        let ada_id = id_of(&app, "SELECT id FROM users WHERE email = 'ada@example.com'").await;
        let acme = id_of(&app, "SELECT id FROM organizations").await;

        let organization = actions(&app, &root, "action_prefix=organization.").await;
        assert!(!organization.is_empty());
        assert!(
            organization.iter().all(|a| a.starts_with("organization.")),
            "{organization:?}"
        );
        let failures = actions(&app, &root, "outcome=failure").await;
        assert!(
            failures.contains(&"auth.login.failure".to_owned()),
            "{failures:?}"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE outcome = 'failure'")
                .await,
            i64::try_from(failures.len()).expect("small"),
            "the failures, and only them"
        );
        let hers = actions(&app, &root, &format!("user={ada_id}")).await;
        assert!(hers.contains(&"auth.register.success".to_owned()));
        assert!(hers.contains(&"organization.create".to_owned()));
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE actor_id = '{ada_id}' \
                 OR effective_user_id = '{ada_id}' OR target_id = '{ada_id}'"
            ))
            .await,
            i64::try_from(hers.len()).expect("small"),
            "every event of hers, and only hers"
        );
        let in_acme = actions(&app, &root, &format!("organization={acme}")).await;
        assert!(
            in_acme.contains(&"organization.create".to_owned()),
            "{in_acme:?}"
        );
        assert!(
            in_acme.contains(&"organization.member_add".to_owned()),
            "a membership event belongs to its organization: {in_acme:?}"
        );
        assert!(in_acme.iter().all(|a| a.starts_with("organization.")));
        assert!(actions(&app, &root, "until=2000-01-01").await.is_empty());
        assert!(!actions(&app, &root, "from=2000-01-01").await.is_empty());
        assert!(actions(&app, &root, "from=2999-01-01").await.is_empty());
    })
    .await;
}

/// Writes `n` audit rows a second apart from `start` (ms), action `test.{label}.{i}`.
async fn write_events(app: &TestApp, start: i64, n: i64, label: &str) {
    for i in 0..n {
        sqlx::query(
            "INSERT INTO audit_events (id, occurred_at, action, outcome, actor_type, metadata) \
             VALUES ($1, $2, $3, 'success', 'system', '{}')",
        )
        .bind(uuid_like(start + i))
        .bind(start + i * 1000)
        .bind(format!("test.{label}.{i:02}"))
        .execute(app.sigra.db().pool())
        .await
        .expect("inserted");
    }
}

/// A hex-and-dash id, ordered with `n`.
fn uuid_like(n: i64) -> String {
    format!("00000000-0000-7000-8000-{n:012x}")
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_rows_while_newer_rows_are_written() {
    on_each_engine(|app: TestApp| async move {
        let root = admin(&app, "root@example.com").await;
        write_events(&app, 1_000_000, 40, "old").await;
        let first = app
            .get("/admin/audit?action_prefix=test.", Some(&root))
            .await;
        let body = first.text().await.expect("body");
        let page_one = texts(&body, "audit-action");
        assert_eq!(page_one.len(), 25);
        assert_eq!(page_one[0], "test.old.39", "newest first");
        let next = body
            .split("href=\"/admin/audit?action_prefix=test.&amp;cursor=")
            .nth(1)
            .or_else(|| {
                body.split("href=\"/admin/audit?action_prefix=test.&cursor=")
                    .nth(1)
            })
            .and_then(|rest| rest.split('"').next())
            .expect("an older page")
            .to_owned();
        write_events(&app, 9_000_000, 10, "new").await;
        let page_two = actions(&app, &root, &format!("action_prefix=test.&cursor={next}")).await;
        let expected: Vec<String> = (0..15).rev().map(|i| format!("test.old.{i:02}")).collect();
        assert_eq!(
            page_two, expected,
            "exactly the rest, whatever was written meanwhile"
        );
    })
    .await;
}

#[tokio::test]
async fn the_csv_export_is_for_admins_and_round_trips_hostile_cells_through_an_independent_reader()
{
    on_each_engine(|app: TestApp| async move {
        let root = admin(&app, "root@example.com").await;
        let ada = app.signed_in("ada@example.com").await;
        let hostile = [
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "+1+1",
            "-2",
            "@SUM(A1)",
            "\"Quoted\", with a comma",
            "Zürich 東京 ✓",
        ];
        for name in hostile {
            app.post_form(
                "/api/user-organizations/create",
                "/organizations/new",
                &[("name", name)],
                Some(&ada),
            )
            .await;
        }
        let path = "/admin/audit/export.csv?action=organization.create";
        assert_eq!(app.get(path, None).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.get(path, Some(&ada)).await.status(),
            StatusCode::FORBIDDEN
        );
        let export = app.get(path, Some(&root)).await;
        assert_eq!(export.status(), StatusCode::OK);
        assert_eq!(
            export.headers()["content-type"].to_str().expect("ascii"),
            "text/csv; charset=utf-8"
        );
        assert!(export.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment; filename=\"audit-"));
        let body = export.text().await.expect("body");
        assert!(body.ends_with("\r\n"), "CRLF after the last row too");
        assert!(
            !body.replace("\r\n", "").contains('\n'),
            "every line ends CRLF"
        );

        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("a header")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, sigra::admin::explorer::CSV_HEADER);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
        assert_eq!(rows.len(), hostile.len());
        let mut labels: Vec<String> = rows.iter().map(|row| row[11].to_owned()).collect();
        labels.sort();
        let mut expected: Vec<String> = hostile
            .iter()
            .map(|name| {
                if name.starts_with(['=', '+', '-', '@']) {
                    format!("'{name}")
                } else {
                    (*name).to_owned()
                }
            })
            .collect();
        expected.sort();
        assert_eq!(labels, expected, "each name back, never as a formula");
        for row in &rows {
            assert_eq!(&row[2], "organization.create");
            assert_eq!(&row[5], "ada@example.com", "the actor's label");
            assert_eq!(&row[12], "direct");
        }
        // The password never reaches the trail, so never the export.
        assert!(!body.contains(CANARY_PASSWORD));
    })
    .await;
}

/// How many audit rows there are.
async fn audit_rows(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM audit_events").await
}

/// Lets 31 days pass, signs up another account, and runs the periodic cleanup.
async fn a_month_later(app: &TestApp) {
    app.advance(std::time::Duration::from_secs(31 * 24 * 3600));
    app.signed_in("new@example.com").await;
    app.sigra
        .jobs()
        .schedule_periodic_jobs()
        .await
        .expect("scheduled");
    app.deliver_mail().await;
}

#[tokio::test]
async fn with_a_retention_the_cleanup_deletes_older_rows_in_batches_and_records_that_it_did() {
    let thirty_days = || server::testing::Setup {
        env: vec![("SIGRA_AUDIT_RETENTION_DAYS", "30".to_owned())],
        ..server::testing::Setup::default()
    };
    server::testing::on_each_engine_with(thirty_days, |app: TestApp| async move {
        app.signed_in("old@example.com").await;
        let old = audit_rows(&app).await;
        assert!(old > 0);
        app.advance(std::time::Duration::from_secs(31 * 24 * 3600));
        app.signed_in("new@example.com").await;
        let new = audit_rows(&app).await - old;
        app.sigra
            .jobs()
            .schedule_periodic_jobs()
            .await
            .expect("scheduled");
        app.deliver_mail().await;
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action <> 'admin.audit.prune' \
                 AND actor_id = (SELECT id FROM users WHERE email = 'old@example.com')"
            )
            .await,
            0,
            "the month-old rows are gone"
        );
        let prune: String = sqlx::query_scalar(
            "SELECT metadata FROM audit_events WHERE action = 'admin.audit.prune' \
             AND actor_type = 'system'",
        )
        .fetch_one(app.sigra.db().pool())
        .await
        .expect("the prune is recorded");
        assert!(prune.contains(&format!("\"deleted\":{old}")), "{prune}");
        assert!(
            audit_rows(&app).await > new,
            "this month's rows stay, and the record of the prune"
        );
    })
    .await;
}

#[tokio::test]
async fn without_a_retention_the_cleanup_keeps_every_row() {
    on_each_engine(|app: TestApp| async move {
        app.signed_in("old@example.com").await;
        let hers = "SELECT COUNT(*) FROM audit_events \
                    WHERE actor_id = (SELECT id FROM users WHERE email = 'old@example.com')";
        let before = app.count(hers).await;
        assert!(before > 0);
        let all = audit_rows(&app).await;
        a_month_later(&app).await;
        assert!(audit_rows(&app).await > all);
        assert_eq!(
            app.count(hers).await,
            before,
            "nothing of the first day went"
        );
    })
    .await;
}
