//! Organizations over HTTP: the pages and server functions of one organization answer anyone
//! outside it with 404 and change nothing (enumerated, so a new route needs a case here);
//! invitations join only the invited address, once, also by signing up through the link; an
//! old slug redirects until its time is up; the switcher works as a plain form; a member of an
//! organization that requires two-factor authentication is sent to set it up first.

use std::time::Duration;

use reqwest::StatusCode;

use server::testing::{
    form_refusal, location, on_each_engine, session_cookie, set_cookies, TestApp, CANARY_PASSWORD,
};

/// Adds the project `name` to `slug` as the member with `cookie`.
pub(crate) async fn create_project(app: &TestApp, cookie: &str, slug: &str, name: &str) {
    let response = app
        .post_form(
            "/api/organizations/create-project",
            &format!("/organizations/{slug}/projects"),
            &[("slug", slug), ("name", name)],
            Some(cookie),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND, "{name}");
}

async fn text(app: &TestApp, sql: &str) -> String {
    sqlx::query_scalar::<_, String>(sql)
        .fetch_one(app.sigra.db().pool())
        .await
        .expect("a row")
}

/// Every row an organization route could change, as text.
async fn organization_state(app: &TestApp) -> String {
    const QUERIES: &[&str] = &[
        "SELECT id || '|' || name || '|' || slug || '|' || COALESCE(CAST(deleted_at AS TEXT), '-') \
            || '|' || CAST(members_need_second_factor AS TEXT) FROM organizations ORDER BY id",
        "SELECT organization_id || '|' || user_id || '|' || role FROM organization_memberships ORDER BY id",
        "SELECT id || '|' || email || '|' || COALESCE(CAST(revoked_at AS TEXT), '-') || '|' \
            || COALESCE(CAST(accepted_at AS TEXT), '-') FROM organization_invitations ORDER BY id",
        "SELECT id || '|' || organization_id || '|' || name FROM projects ORDER BY id",
        "SELECT slug || '|' || organization_id FROM organization_slug_aliases ORDER BY slug",
        "SELECT id || '|' || COALESCE(active_organization_id, '-') FROM user_sessions ORDER BY id",
        "SELECT id || '|' || kind FROM jobs ORDER BY id",
    ];
    let mut state = String::new();
    for query in QUERIES {
        let rows: Vec<String> = sqlx::query_scalar(query)
            .fetch_all(app.sigra.db().pool())
            .await
            .expect("state query");
        state.push_str(&rows.join("\n"));
        state.push_str("\n--\n");
    }
    state
}

/// What an attacker sends to one organization server function: the victim organization's
/// slug (or their own) with the victim's ids. `None` for a function without a case.
fn attack_form(endpoint: &str, slug: &str, victim: &Victim) -> Option<Vec<(&'static str, String)>> {
    let slug = ("slug", slug.to_owned());
    Some(match endpoint {
        "switch" | "overview" | "members" | "settings" | "projects" => vec![slug],
        "invite" => vec![
            slug,
            ("email", "mallory-friend@example.com".to_owned()),
            ("role", "owner".to_owned()),
        ],
        "revoke-invitation" => vec![slug, ("id", victim.invitation.clone())],
        "change-role" => vec![
            slug,
            ("user_id", victim.owner.clone()),
            ("role", "member".to_owned()),
        ],
        "remove-member" => vec![slug, ("user_id", victim.owner.clone())],
        "update" => vec![
            slug,
            ("name", "Taken over".to_owned()),
            ("members_need_second_factor", "on".to_owned()),
        ],
        "change-slug" => vec![
            slug,
            ("new_slug", "taken-over".to_owned()),
            ("confirm_slug", victim.slug.clone()),
        ],
        "delete" => vec![slug, ("confirm_name", "Acme".to_owned())],
        "create-project" => vec![slug, ("name", "Planted".to_owned())],
        "delete-project" => vec![slug, ("id", victim.project.clone())],
        _ => return None,
    })
}

/// The organization under attack and the ids in it.
struct Victim {
    slug: String,
    owner: String,
    invitation: String,
    project: String,
}

#[tokio::test]
async fn every_organization_page_and_server_function_answers_an_outsider_404_and_changes_nothing() {
    on_each_engine(|app: TestApp| async move {
        let ada = app.signed_in("ada@example.com").await;
        let acme = app.create_organization(&ada, "Acme").await;
        app.invite_member(&ada, &acme, "someone@example.com", "member")
            .await;
        let projects = format!("/organizations/{acme}/projects");
        app.post_form(
            "/api/organizations/create-project",
            &projects,
            &[("slug", &acme), ("name", "Secret plans")],
            Some(&ada),
        )
        .await;
        let victim = Victim {
            owner: text(&app, "SELECT id FROM users WHERE email = 'ada@example.com'").await,
            invitation: text(&app, "SELECT id FROM organization_invitations").await,
            project: text(&app, "SELECT id FROM projects").await,
            slug: acme.clone(),
        };
        // Mallory owns an organization of her own (so she holds admin proofs there) and has
        // re-entered her password (so sudo is not what stops her).
        let mut mallory = app.signed_in("mallory@example.com").await;
        let own = app.create_organization(&mallory, "Mallory Inc").await;
        app.enter_sudo(&mut mallory, "/organizations").await;
        let before = organization_state(&app).await;

        let pages: Vec<String> = leptos_axum::generate_route_list(app::App)
            .iter()
            .map(|route| route.path().to_owned())
            .filter(|path| path.contains("{slug}"))
            .collect();
        assert!(pages.len() >= 4, "{pages:?}");
        for page in &pages {
            let victims = page.replace("{slug}", &acme);
            let response = app.get(&victims, Some(&mallory)).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{victims}");
            assert_eq!(
                app.get(&victims, Some(&ada)).await.status(),
                StatusCode::OK,
                "a member sees {victims}"
            );
        }

        let functions = app::organizations::scoped_paths();
        assert!(functions.len() >= 14, "{functions:?}");
        for path in &functions {
            let endpoint = path.trim_start_matches("/api/organizations/");
            let form = attack_form(endpoint, &acme, &victim)
                .unwrap_or_else(|| panic!("{path} has no case in attack_form: add one"));
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = app.call_json(path, &form, Some(&mallory)).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            // Her own organization's slug with the victim's ids reaches nothing either.
            let form = attack_form(endpoint, &own, &victim).expect("a case");
            let takes_an_id = form.iter().any(|(k, _)| *k == "id" || *k == "user_id");
            if takes_an_id {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let response = app.call_json(path, &form, Some(&mallory)).await;
                assert_eq!(
                    response.status(),
                    StatusCode::NOT_FOUND,
                    "{path} with her own slug and the victim's ids"
                );
            }
        }
        assert_eq!(organization_state(&app).await, before, "nothing changed");
    })
    .await;
}

#[tokio::test]
async fn an_invitation_joins_only_the_signed_in_account_with_its_address_and_only_once() {
    on_each_engine(|app: TestApp| async move {
        let ada = app.signed_in("ada@example.com").await;
        let acme = app.create_organization(&ada, "Acme").await;
        let bea = app.signed_in("bea@example.com").await;
        let eve = app.signed_in("eve@example.com").await;
        app.invite_member(&ada, &acme, "bea@example.com", "member")
            .await;
        let link = app.link_in_mail("bea@example.com", "/invitations/").await;
        let (link_cookie, page) = app.open_link(&link).await;
        assert_eq!(page, "/invitations/accept");
        let members = "SELECT COUNT(*) FROM organization_memberships";

        let refused = app
            .post_link_form("/api/invitations/accept", &link_cookie, &[], Some(&eve))
            .await;
        let (back, error) = form_refusal(&refused);
        assert_eq!(back, "/invitations/accept");
        assert!(
            error
                .unwrap_or_default()
                .contains("InvitationForAnotherAddress"),
            "another address is told so"
        );
        assert_eq!(app.count(members).await, 1, "eve did not join");

        let joined = app
            .post_link_form("/api/invitations/accept", &link_cookie, &[], Some(&bea))
            .await;
        assert_eq!(location(&joined), format!("/organizations/{acme}"));
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM organization_memberships m JOIN users u ON u.id = m.user_id \
                 WHERE u.email = 'bea@example.com' AND m.role = 'member'"
            )
            .await,
            1
        );
        let replay = app
            .post_link_form("/api/invitations/accept", &link_cookie, &[], Some(&bea))
            .await;
        let (_, error) = form_refusal(&replay);
        assert!(error.is_some(), "a used invitation is refused");
        assert_eq!(app.count(members).await, 2);
        assert_eq!(
            app.get(&format!("/organizations/{acme}"), Some(&bea))
                .await
                .status(),
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn someone_without_an_account_signs_up_through_the_invitation_and_joins_confirmed() {
    on_each_engine(|app: TestApp| async move {
        let ada = app.signed_in("ada@example.com").await;
        let acme = app.create_organization(&ada, "Acme").await;
        app.invite_member(&ada, &acme, "newcomer@example.com", "member")
            .await;
        let link = app
            .link_in_mail("newcomer@example.com", "/invitations/")
            .await;
        let (link_cookie, _) = app.open_link(&link).await;
        let page = app.get("/invitations/accept", Some(&link_cookie)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let body = page.text().await.expect("body");
        assert!(body.contains("newcomer@example.com") && body.contains("Acme"));

        let joined = app
            .post_link_form(
                "/api/invitations/join",
                &link_cookie,
                &[("password", CANARY_PASSWORD)],
                None,
            )
            .await;
        assert_eq!(location(&joined), format!("/organizations/{acme}"));
        let session = session_cookie(&joined).expect("logged in");
        assert!(
            set_cookies(joined.headers())
                .iter()
                .any(|c| c.starts_with("__Host-sigra_link=;")),
            "the link is forgotten"
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM users u JOIN organization_memberships m ON m.user_id = u.id \
                 WHERE u.email = 'newcomer@example.com' AND u.confirmed_at IS NOT NULL"
            )
            .await,
            1,
            "the account is made, confirmed by the link, and a member"
        );
        assert_eq!(
            app.get(&format!("/organizations/{acme}"), Some(&session))
                .await
                .status(),
            StatusCode::OK
        );
        let again = app
            .post_link_form(
                "/api/invitations/join",
                &link_cookie,
                &[("password", CANARY_PASSWORD)],
                None,
            )
            .await;
        assert!(form_refusal(&again).1.is_some(), "the link joins once");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE email = 'newcomer@example.com'")
                .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn an_old_slug_redirects_to_the_new_one_until_its_redirect_ends() {
    on_each_engine(|app: TestApp| async move {
        let mut ada = app.signed_in("ada@example.com").await;
        let acme = app.create_organization(&ada, "Acme").await;
        let settings = format!("/organizations/{acme}/settings");
        app.enter_sudo(&mut ada, &settings).await;
        let changed = app
            .post_form(
                "/api/organizations/change-slug",
                &settings,
                &[
                    ("slug", &acme),
                    ("new_slug", "acme-labs"),
                    ("confirm_slug", &acme),
                ],
                Some(&ada),
            )
            .await;
        assert_eq!(location(&changed), "/organizations/acme-labs/settings");
        let old = app
            .get(&format!("/organizations/{acme}/members"), Some(&ada))
            .await;
        assert_eq!(old.status(), StatusCode::FOUND);
        assert_eq!(location(&old), "/organizations/acme-labs/members");

        app.advance(Duration::from_secs(8 * 24 * 3600));
        let ada = server::testing::session_cookie(
            &app.log_in("ada@example.com", CANARY_PASSWORD, false).await,
        )
        .expect("logged in again");
        let gone = app
            .get(&format!("/organizations/{acme}/members"), Some(&ada))
            .await;
        assert_eq!(gone.status(), StatusCode::NOT_FOUND, "the redirect ended");
        assert_eq!(
            app.get("/organizations/acme-labs/members", Some(&ada))
                .await
                .status(),
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn the_switcher_as_a_plain_form_makes_an_organization_the_sessions_and_only_a_members() {
    on_each_engine(|app: TestApp| async move {
        let ada = app.signed_in("ada@example.com").await;
        let acme = app.create_organization(&ada, "Acme").await;
        let beta = app.create_organization(&ada, "Beta").await;
        let active = "SELECT COALESCE(o.slug, '-') FROM user_sessions s \
                      LEFT JOIN organizations o ON o.id = s.active_organization_id";
        assert_eq!(
            text(&app, active).await,
            beta,
            "the new one is the session's"
        );

        let switched = app
            .post_form(
                "/api/organizations/switch",
                "/users/settings",
                &[("slug", &acme)],
                Some(&ada),
            )
            .await;
        assert_eq!(switched.status(), StatusCode::FOUND);
        assert_eq!(location(&switched), format!("/organizations/{acme}"));
        assert_eq!(text(&app, active).await, acme);
        let header = app.get("/users/settings", Some(&ada)).await;
        let body = header.text().await.expect("body");
        assert!(
            body.contains(&format!("<option value=\"{acme}\" selected")),
            "the switcher shows the session's organization"
        );

        let eve = app.signed_in("eve@example.com").await;
        let refused = app
            .call_json("/api/organizations/switch", &[("slug", &acme)], Some(&eve))
            .await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM user_sessions s JOIN users u ON u.id = s.user_id \
                 WHERE u.email = 'eve@example.com' AND s.active_organization_id IS NOT NULL"
            )
            .await,
            0
        );
    })
    .await;
}

#[tokio::test]
async fn a_member_without_a_second_factor_is_sent_to_set_one_up_by_an_organization_that_requires_it(
) {
    on_each_engine(|app: TestApp| async move {
        let ada = app.signed_in("ada@example.com").await;
        let acme = app.create_organization(&ada, "Acme").await;
        sqlx::query("UPDATE organizations SET members_need_second_factor = 1")
            .execute(app.sigra.db().pool())
            .await
            .expect("required");
        let page = app.get(&format!("/organizations/{acme}"), Some(&ada)).await;
        assert_eq!(page.status(), StatusCode::FOUND);
        assert_eq!(location(&page), "/users/settings/security");
        let call = app
            .call_json(
                "/api/organizations/overview",
                &[("slug", &acme)],
                Some(&ada),
            )
            .await;
        assert_eq!(call.status(), StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn a_cross_site_post_to_any_organization_function_is_refused_and_changes_nothing() {
    on_each_engine(|app: TestApp| async move {
        let mut ada = app.signed_in("ada@example.com").await;
        let acme = app.create_organization(&ada, "Acme").await;
        app.invite_member(&ada, &acme, "someone@example.com", "member")
            .await;
        let projects = format!("/organizations/{acme}/projects");
        app.post_form(
            "/api/organizations/create-project",
            &projects,
            &[("slug", &acme), ("name", "Plans")],
            Some(&ada),
        )
        .await;
        app.enter_sudo(&mut ada, "/organizations").await;
        let victim = Victim {
            owner: text(&app, "SELECT id FROM users WHERE email = 'ada@example.com'").await,
            invitation: text(&app, "SELECT id FROM organization_invitations").await,
            project: text(&app, "SELECT id FROM projects").await,
            slug: acme.clone(),
        };
        let before = organization_state(&app).await;
        let mut functions = app::organizations::scoped_paths();
        functions.extend(["/api/user-organizations/create"]);
        for path in &functions {
            let endpoint = path.trim_start_matches("/api/organizations/");
            let form = attack_form(endpoint, &acme, &victim)
                .unwrap_or_else(|| vec![("name", "Forged".to_owned())]);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let forged = app
                .post_form_with(
                    path,
                    &projects,
                    &form,
                    Some(&ada),
                    &[
                        ("sec-fetch-site", "cross-site"),
                        ("origin", "https://evil.example"),
                    ],
                )
                .await;
            assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(organization_state(&app).await, before, "nothing changed");
    })
    .await;
}
