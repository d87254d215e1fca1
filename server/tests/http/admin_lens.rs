//! The organization lens (security.md Z4): `/admin/organizations/:slug` and its audit events
//! open to platform admins and to that organization's owners and admins, and to no one else
//! (404, as for an organization that does not exist); every lens page and server function is
//! enumerated against a guest, a member, another organization's owner, the owner and a platform
//! admin. What the lens shows is the organization's own members and events only, without the
//! addresses events came from for an organization's own admins.

use reqwest::StatusCode;
use serde_json::Value;

use crate::admin::{make_admin, texts};
use server::testing::{location, on_each_engine, TestApp};

async fn add_member(app: &TestApp, email: &str, slug: &str, role: &str) {
    sqlx::query(
        "INSERT INTO organization_memberships (id, organization_id, user_id, role, created_at, updated_at) \
         SELECT $1, o.id, u.id, $2, 1, 1 FROM organizations o, users u WHERE o.slug = $3 AND u.email = $4",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(role)
    .bind(slug)
    .bind(email)
    .execute(app.sigra.db().pool())
    .await
    .expect("a member");
}

#[tokio::test]
async fn the_lens_opens_to_platform_admins_and_the_organizations_own_admins_and_is_a_404_to_everyone_else(
) {
    on_each_engine(|app: TestApp| async move {
        let ada = app.signed_in("ada@example.com").await;
        app.create_organization(&ada, "Acme").await;
        let bob = app.signed_in("bob@example.com").await;
        add_member(&app, "bob@example.com", "acme", "member").await;
        let dee = app.signed_in("dee@example.com").await;
        add_member(&app, "dee@example.com", "acme", "admin").await;
        let carl = app.signed_in("carl@example.com").await;
        app.create_organization(&carl, "Other").await;
        let admin = app.signed_in("admin@example.com").await;
        make_admin(&app, "admin@example.com").await;

        let pages: Vec<String> = leptos_axum::generate_route_list(app::App)
            .iter()
            .map(|route| route.path().to_owned())
            .filter(|path| path.starts_with("/admin/organizations/{slug}"))
            .collect();
        assert!(pages.len() >= 2, "{pages:?}");
        let functions: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .filter(|path| path.starts_with("/api/organization-admin/"))
            .collect();
        assert!(functions.len() >= 2, "{functions:?}");
        let opened = [
            ("the owner", &ada),
            ("an admin", &dee),
            ("a platform admin", &admin),
        ];
        let refused = [("a member", &bob), ("another organization's owner", &carl)];
        for slug in ["acme", "nope"] {
            for page in &pages {
                let page = page.replace("{slug}", slug);
                let guest = app.get(&page, None).await;
                assert!(location(&guest).starts_with("/users/log-in"), "{page}");
                for (who, cookie) in opened {
                    let expected = if slug == "acme" {
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_FOUND
                    };
                    assert_eq!(
                        app.get(&page, Some(cookie)).await.status(),
                        expected,
                        "{page} for {who}"
                    );
                }
                for (who, cookie) in refused {
                    assert_eq!(
                        app.get(&page, Some(cookie)).await.status(),
                        StatusCode::NOT_FOUND,
                        "{page} for {who}"
                    );
                }
            }
            for path in &functions {
                let form = [("slug", slug)];
                assert_eq!(
                    app.call_json(path, &form, None).await.status(),
                    StatusCode::UNAUTHORIZED,
                    "{path} for a guest"
                );
                for (who, cookie) in opened {
                    let expected = if slug == "acme" {
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_FOUND
                    };
                    assert_eq!(
                        app.call_json(path, &form, Some(cookie)).await.status(),
                        expected,
                        "{path} {slug} for {who}"
                    );
                }
                for (who, cookie) in refused {
                    assert_eq!(
                        app.call_json(path, &form, Some(cookie)).await.status(),
                        StatusCode::NOT_FOUND,
                        "{path} {slug} for {who}"
                    );
                }
            }
        }
        // The list of every organization is the platform admins'.
        assert_eq!(
            app.get("/admin/organizations", Some(&ada)).await.status(),
            StatusCode::FORBIDDEN
        );
        let list = app.get("/admin/organizations", Some(&admin)).await;
        assert_eq!(list.status(), StatusCode::OK);
        let body = list.text().await.expect("body");
        for slug in ["acme", "other"] {
            assert!(
                body.contains(&format!("href=\"/admin/organizations/{slug}\"")),
                "{slug}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn the_lens_shows_only_its_organizations_members_and_events_and_hides_addresses_from_its_own_admins(
) {
    on_each_engine(|app: TestApp| async move {
        let ada = app.signed_in("ada@example.com").await;
        app.create_organization(&ada, "Acme").await;
        app.signed_in("bob@example.com").await;
        add_member(&app, "bob@example.com", "acme", "member").await;
        let carl = app.signed_in("carl@example.com").await;
        app.create_organization(&carl, "Other").await;
        let admin = app.signed_in("admin@example.com").await;
        make_admin(&app, "admin@example.com").await;

        let page = app
            .get("/admin/organizations/acme", Some(&ada))
            .await
            .text()
            .await
            .expect("body");
        let members = texts(&page, "lens-member");
        assert_eq!(members.len(), 2, "ada and bob: {members:?}");
        assert!(page.contains("bob@example.com") && !page.contains("carl@example.com"));

        for (who, cookie, addresses) in [("ada", &ada, false), ("the platform admin", &admin, true)]
        {
            let events: Value = app
                .call_json(
                    "/api/organization-admin/audit",
                    &[("slug", "acme")],
                    Some(cookie),
                )
                .await
                .json()
                .await
                .expect("json");
            let events = events["events"].as_array().expect("events").clone();
            assert!(!events.is_empty(), "{who}");
            assert!(
                events.iter().all(|e| e["organization"] == "Acme"),
                "only Acme's events for {who}: {events:?}"
            );
            assert!(
                events.iter().any(|e| e["action"] == "organization.create"),
                "{who}: {events:?}"
            );
            assert_eq!(
                events.iter().all(|e| e["ip_address"].is_null()),
                !addresses,
                "{who} sees addresses: {addresses}"
            );
        }

        // The lens's CSV export holds the organization's events only, and only for the lens.
        let export = "/admin/organizations/acme/audit/export.csv";
        let csv = app.get(export, Some(&ada)).await;
        assert_eq!(csv.status(), StatusCode::OK);
        let csv = csv.text().await.expect("csv");
        let rows: Vec<&str> = csv
            .split("\r\n")
            .filter(|row| !row.is_empty())
            .skip(1)
            .collect();
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|row| row.contains(",Acme,")), "{csv}");
        assert_eq!(
            app.get(export, Some(&carl)).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/admin/organizations/nope/audit/export.csv", Some(&admin))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    })
    .await;
}
