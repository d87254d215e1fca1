//! Capability switches: a capability switched off in the configuration is gone, not hidden.
//! Its pages answer the "not found" page, its server functions and routes answer 404, no page
//! links to it, and the credentials it issued while it was on stop working.

use std::sync::Arc;

use reqwest::StatusCode;
use sigra::config::Capability;
use sigra::crypto::SecretKey;
use sigra::testing::Engine;

use app::capabilities::ssr::{core_server_fns, optional_server_fns, switches};
use app::capabilities::Switches;
use server::testing::{on_each_engine_with, session_cookie, Setup, TestApp, CANARY_PASSWORD};

use crate::admin::make_admin;
use crate::providers::op_settings;

const ADMIN: &str = "ada@example.com";

/// The settings of an app with `off` switched off (and a provider configured, so switching
/// OAuth off has something to take away).
fn settings(off: &[Capability]) -> Vec<(&'static str, String)> {
    let mut env = op_settings();
    for capability in off {
        let name = format!("SIGRA_CAPABILITIES_{}", capability.name().to_uppercase());
        env.push((Box::leak(name.into_boxed_str()), "false".to_owned()));
    }
    env
}

fn setup(off: &[Capability]) -> Setup {
    Setup {
        env: settings(off),
        ..Setup::default()
    }
}

/// A signed-in platform admin's cookie.
async fn admin(app: &TestApp) -> String {
    let cookie = app.signed_in(ADMIN).await;
    make_admin(app, ADMIN).await;
    cookie
}

/// The pages of the optional capabilities, with what each needs.
fn optional_pages() -> Vec<(app::capabilities::Needs, &'static str)> {
    vec![
        (|s| s.magic_links, "/users/log-in/link"),
        (Switches::any_second_factor, "/users/settings/security"),
        (Switches::any_second_factor, "/users/mfa"),
        (|s| s.api_tokens, "/users/settings/api-tokens"),
        (|s| s.oauth, "/users/settings/accounts"),
        (|s| s.oauth, "/users/oauth/link"),
        (|s| s.oauth, "/users/oauth/email"),
        (|s| s.oauth, "/users/oauth/error"),
        (|s| s.organizations, "/organizations"),
        (|s| s.organizations, "/organizations/new"),
        (|s| s.organizations, "/invitations/accept"),
        (|s| s.admin, "/admin"),
        (|s| s.admin, "/admin/users"),
        (|s| s.admin, "/admin/audit"),
        (Switches::organization_admin, "/admin/organizations"),
    ]
}

/// The routes outside the pages and server functions: (needs, method, path).
fn optional_routes() -> Vec<(app::capabilities::Needs, reqwest::Method, &'static str)> {
    use reqwest::Method;
    vec![
        (
            |s| s.magic_links,
            Method::GET,
            "/users/log-in/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        (
            |s| s.organizations,
            Method::GET,
            "/invitations/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        (|s| s.oauth, Method::GET, "/auth/oidc"),
        (|s| s.oauth, Method::GET, "/auth/oidc/callback"),
        (|s| s.admin, Method::GET, "/admin/audit/export.csv"),
        (|s| s.admin, Method::GET, "/api/live/admin"),
        (|s| s.api_tokens, Method::GET, "/api/v1/api-tokens"),
        (|s| s.jwt, Method::POST, "/api/v1/auth/token"),
        (|s| s.jwt, Method::POST, "/api/v1/auth/refresh"),
        (|s| s.jwt, Method::GET, "/.well-known/jwks.json"),
        (
            |s| s.jwt && s.passkeys,
            Method::POST,
            "/api/v1/auth/passkey/options",
        ),
    ]
}

/// What the app serves of every optional page, server function and route: which answer
/// "not found" and which do not.
async fn answers(app: &TestApp) -> Vec<(String, bool)> {
    let cookie = admin(app).await;
    let mut found = Vec::new();
    for (_, path) in optional_pages() {
        let response = app.get(path, Some(&cookie)).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        let not_found = status == StatusCode::NOT_FOUND;
        assert_eq!(
            not_found,
            body.contains("Page not found"),
            "{path} answered {status}"
        );
        found.push((format!("page {path}"), !not_found));
    }
    for (_, path) in optional_server_fns() {
        let status = app.call_json(path, &[], Some(&cookie)).await.status();
        found.push((
            format!("server function {path}"),
            status != StatusCode::NOT_FOUND,
        ));
    }
    for (_, method, path) in optional_routes() {
        let status = app.route_status(method.clone(), path, &cookie).await;
        found.push((format!("{method} {path}"), status != StatusCode::NOT_FOUND));
    }
    for path in core_server_fns() {
        let status = app.call_json(path, &[], Some(&cookie)).await.status();
        assert_ne!(
            status,
            StatusCode::NOT_FOUND,
            "the core's {path} is always there"
        );
    }
    found
}

/// Asserts that the app serves exactly what `switched` says, naming what it got wrong.
async fn assert_serves(app: &TestApp, switched: &Switches) {
    let wrong: Vec<String> = answers(app)
        .await
        .into_iter()
        .zip(expected(switched))
        .filter(|(got, want)| got != want)
        .map(|((what, served), _)| {
            format!("{what} is {}", if served { "served" } else { "not found" })
        })
        .collect();
    assert!(wrong.is_empty(), "with {switched:?}: {wrong:#?}");
}

/// What `answers` should be when `switched` are the switches.
fn expected(switched: &Switches) -> Vec<(String, bool)> {
    let pages = optional_pages()
        .into_iter()
        .map(|(needs, path)| (format!("page {path}"), needs(switched)));
    let calls = optional_server_fns()
        .into_iter()
        .map(|(needs, path)| (format!("server function {path}"), needs(switched)));
    let routes = optional_routes()
        .into_iter()
        .map(|(needs, method, path)| (format!("{method} {path}"), needs(switched)));
    pages.chain(calls).chain(routes).collect()
}

#[tokio::test]
async fn with_every_capability_on_every_optional_page_server_function_and_route_is_served() {
    on_each_engine_with(
        || setup(&[]),
        |app| async move {
            assert_serves(&app, &Switches::default()).await;
        },
    )
    .await;
}

#[tokio::test]
async fn each_capability_switched_off_takes_its_pages_server_functions_and_routes_with_it() {
    for capability in Capability::ALL {
        on_each_engine_with(
            || setup(&[capability]),
            |app| async move {
                let switched = switches(&app.sigra.config().capabilities);
                assert_serves(&app, &switched).await;
                // The operator's doctor says so, and checks nothing of what is off.
                let checks = app.sigra.doctor(None).await;
                let enabled = checks
                    .iter()
                    .find(|c| c.name == "enabled")
                    .expect("enabled");
                assert!(
                    enabled.detail.contains(&format!("; off: {capability};")),
                    "{}",
                    enabled.detail
                );
                let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
                let passkeys_checked = names.contains(&"passkeys");
                let provider_checked = names.contains(&"oauth oidc");
                assert_eq!(
                    passkeys_checked,
                    capability != Capability::Passkeys,
                    "{names:?}"
                );
                assert_eq!(
                    provider_checked,
                    capability != Capability::OAuth,
                    "{names:?}"
                );
            },
        )
        .await;
    }
}

/// Markup that links to or starts an optional capability, on the pages a signed-in admin and
/// a guest see.
const MARKERS: &[(&str, &str, &str)] = &[
    ("/users/log-in", "magic link form", "Email me a log-in link"),
    ("/users/log-in", "passkey button", "Log in with a passkey"),
    (
        "/users/log-in",
        "provider buttons",
        "data-testid=\"providers\"",
    ),
    (
        "/users/register",
        "provider buttons",
        "data-testid=\"providers\"",
    ),
    (
        "/users/settings",
        "linked providers",
        "href=\"/users/settings/accounts\"",
    ),
    (
        "/users/settings",
        "two-factor settings",
        "href=\"/users/settings/security\"",
    ),
    (
        "/users/settings",
        "API tokens",
        "href=\"/users/settings/api-tokens\"",
    ),
    (
        "/users/settings",
        "organizations in the header",
        "href=\"/organizations\"",
    ),
    (
        "/users/settings",
        "admin area in the header",
        "href=\"/admin\"",
    ),
    ("/dashboard", "organizations", "Your organizations"),
];

async fn markers_shown(app: &TestApp) -> Vec<&'static str> {
    let cookie = admin(app).await;
    let mut shown = Vec::new();
    for (path, what, marker) in MARKERS {
        let signed_in = !path.starts_with("/users/log-in") && !path.starts_with("/users/register");
        let response = app.get(path, signed_in.then_some(cookie.as_str())).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        if response.text().await.expect("body").contains(marker) {
            shown.push(*what);
        }
    }
    shown
}

#[tokio::test]
async fn no_page_links_to_a_capability_that_is_switched_off() {
    on_each_engine_with(
        || setup(&[]),
        |app| async move {
            let every: Vec<&str> = MARKERS.iter().map(|(_, what, _)| *what).collect();
            assert_eq!(markers_shown(&app).await, every, "all on");
        },
    )
    .await;
    on_each_engine_with(
        || setup(&Capability::ALL),
        |app| async move {
            assert_eq!(markers_shown(&app).await, Vec::<&str>::new(), "all off");
        },
    )
    .await;
}

/// Two apps on one database with one secret: what `first` made, `second` is asked about.
async fn one_database(
    engine: Engine,
    first_off: &[Capability],
    second_off: &[Capability],
) -> (TestApp, TestApp) {
    let secret = SecretKey::generate_text();
    let first = TestApp::spawn_with(
        engine,
        Setup {
            env: [
                settings(first_off),
                vec![("SIGRA_SECRET_KEY", secret.clone())],
            ]
            .concat(),
            ..Setup::default()
        },
    )
    .await;
    let url = first.database_url().to_owned();
    let second = TestApp::spawn_with(
        engine,
        Setup {
            env: [settings(second_off), vec![("SIGRA_SECRET_KEY", secret)]].concat(),
            database_url: Some(Arc::new(move |_: &str| url.clone())),
            ..Setup::default()
        },
    )
    .await;
    (first, second)
}

async fn bearer_status(app: &TestApp, token: &str) -> StatusCode {
    app.api(reqwest::Method::GET, "/api/v1/me", Some(token), None)
        .await
        .status()
}

#[tokio::test]
async fn tokens_issued_while_their_capability_was_on_stop_working_once_it_is_off() {
    for engine in Engine::available() {
        for (off, still_on) in [
            (&[Capability::ApiTokens, Capability::Jwt][..], false),
            (&[Capability::Organizations][..], true),
        ] {
            let (issuer, app) = one_database(engine, &[], off).await;
            let mut cookie = issuer.signed_in(ADMIN).await;
            let api_token = issuer
                .create_api_token(&mut cookie, "ci", &["profile:read"])
                .await;
            let (status, tokens) = issuer.api_log_in(ADMIN, CANARY_PASSWORD).await;
            assert_eq!(status, StatusCode::OK, "{tokens}");
            let access = tokens["access_token"].as_str().expect("an access token");
            let expected = if still_on {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(
                bearer_status(&app, &api_token).await,
                expected,
                "API token, {off:?} off on {engine:?}"
            );
            assert_eq!(
                bearer_status(&app, access).await,
                expected,
                "access token, {off:?} off on {engine:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_second_factor_of_a_capability_switched_off_is_not_asked_for_at_log_in() {
    for engine in Engine::available() {
        for (off, asked) in [
            (&[Capability::SecondFactors][..], false),
            (&[Capability::Admin][..], true),
        ] {
            let (enrolment, app) = one_database(engine, &[], off).await;
            let mut cookie = enrolment.signed_in(ADMIN).await;
            enrolment.enable_totp(&mut cookie).await;

            let challenges =
                "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.mfa_challenge'";
            let response = app.log_in(ADMIN, CANARY_PASSWORD, false).await;
            let target = server::testing::location(&response);
            assert_eq!(
                app.count(challenges).await == 1,
                asked,
                "{off:?} off on {engine:?}: the second step is audited only when asked"
            );
            assert_eq!(
                target.starts_with("/users/mfa"),
                asked,
                "{off:?} off on {engine:?}: went to {target}"
            );
            let session = session_cookie(&response).expect("a session");
            let me = app.me(&session).await;
            assert_eq!(
                me == StatusCode::OK,
                !asked,
                "{off:?} off on {engine:?}: /api/v1/me {me}"
            );
        }
    }
}

#[tokio::test]
async fn a_passkey_does_not_meet_a_required_second_factor_where_passkeys_are_switched_off() {
    for engine in Engine::available() {
        let required = vec![("SIGRA_MFA_REQUIRED", "true".to_owned())];
        let secret = SecretKey::generate_text();
        let spawn = |off: &[Capability], url: Option<String>| {
            let env = [
                settings(off),
                required.clone(),
                vec![("SIGRA_SECRET_KEY", secret.clone())],
            ]
            .concat();
            TestApp::spawn_with(
                engine,
                Setup {
                    env,
                    database_url: url.map(|url| {
                        Arc::new(move |_: &str| url.clone()) as server::testing::UrlRewrite
                    }),
                    ..Setup::default()
                },
            )
        };
        let enrolment = spawn(&[], None).await;
        let url = Some(enrolment.database_url().to_owned());
        let without_passkeys = spawn(&[Capability::Passkeys], url).await;

        let mut cookie = enrolment.signed_in(ADMIN).await;
        assert_eq!(
            enrolment.me(&cookie).await,
            StatusCode::FORBIDDEN,
            "{engine:?}"
        );
        crate::passkeys::register(&enrolment, &mut cookie, "Laptop").await;
        assert_eq!(
            enrolment.me(&cookie).await,
            StatusCode::OK,
            "{engine:?}: the passkey meets the requirement where passkeys are on"
        );

        let response = without_passkeys.log_in(ADMIN, CANARY_PASSWORD, false).await;
        let session = session_cookie(&response).expect("a session");
        assert_eq!(
            without_passkeys.me(&session).await,
            StatusCode::FORBIDDEN,
            "{engine:?}: where passkeys are off, the account must set up a factor it can use"
        );
    }
}

#[tokio::test]
async fn a_log_in_link_mailed_before_magic_links_were_switched_off_no_longer_logs_in() {
    for engine in Engine::available() {
        let (mailer, app) = one_database(engine, &[], &[Capability::MagicLinks]).await;
        mailer.signed_in(ADMIN).await;
        let asked = mailer
            .post_form(
                "/users/log-in/email-link",
                "/users/log-in",
                &[("email", ADMIN)],
                None,
            )
            .await;
        assert!(asked.status().is_redirection(), "{}", asked.status());
        mailer.deliver_mail().await;
        let link = mailer.link_in_mail(ADMIN, "/users/log-in/").await;
        let token = link.trim_start_matches("/users/log-in/");
        let presented = sigra::crypto::PresentedToken::parse(token).expect("a token");
        let request = sigra::request::RequestContext::command("test");
        let sessions = app.session_rows().await;
        let used_links =
            "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.magic_link_verify.success'";

        assert_eq!(
            app.get(&link, None).await.status(),
            StatusCode::NOT_FOUND,
            "{engine:?}"
        );
        let refused = app
            .sigra
            .auth()
            .log_in_with_link(&presented, None, None, &request)
            .await;
        assert!(
            matches!(refused, Err(sigra::Error::NotFound)),
            "{engine:?}: {refused:?}"
        );
        assert_eq!(
            app.session_rows().await,
            sessions,
            "{engine:?}: no session started"
        );
        assert_eq!(
            app.count(used_links).await,
            0,
            "{engine:?}: the link is not spent"
        );
        // The same link still works where magic links are on: the refusal was the switch.
        let used = mailer
            .sigra
            .auth()
            .log_in_with_link(&presented, None, None, &request)
            .await;
        assert!(used.is_ok(), "{engine:?}: {:?}", used.err());
        assert_eq!(app.session_rows().await, sessions + 1, "{engine:?}");
        assert_eq!(app.count(used_links).await, 1, "{engine:?}");
    }
}

#[tokio::test]
async fn every_page_shows_the_configured_site_name() {
    let named = || Setup {
        env: vec![("SIGRA_APP_NAME", "Acme Cloud".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(named, |app| async move {
        for path in ["/", "/users/log-in", "/no-such-page"] {
            let html = app.get(path, None).await.text().await.expect("body");
            let title = html
                .split_once("<title>")
                .and_then(|(_, rest)| rest.split_once("</title>"))
                .map(|(title, _)| title)
                .unwrap_or_default();
            assert!(title.ends_with(" · Acme Cloud"), "{path}: {title:?}");
            assert!(!title.contains("Sigra"), "{path}: {title:?}");
            let header = html
                .split_once("</nav>")
                .map(|(header, _)| header)
                .unwrap_or_default();
            assert!(
                header.contains("Acme Cloud"),
                "{path}: the header names the site"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn an_authenticator_code_proves_nothing_where_second_factors_are_switched_off() {
    for engine in Engine::available() {
        // The API client's second step began where second factors were on; it is answered
        // where they are off, with a right code.
        let (issuer, app) = one_database(engine, &[], &[Capability::SecondFactors]).await;
        let mut cookie = issuer.signed_in(ADMIN).await;
        let (setup, _) = issuer.enable_totp(&mut cookie).await;
        let (status, step) = issuer.api_log_in(ADMIN, CANARY_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{step}");
        let mfa_token = step["mfa_token"]
            .as_str()
            .expect("the second step")
            .to_owned();
        // The next step's code: the step that confirmed the set-up is spent.
        issuer.advance(std::time::Duration::from_secs(30));
        app.advance(std::time::Duration::from_secs(30));
        let code = issuer.totp_code(&setup.secret);
        let refused = exchange_mfa(&app, &mfa_token, &code).await;
        assert_eq!(
            refused,
            StatusCode::BAD_REQUEST,
            "{engine:?}: refused where off"
        );
        assert_eq!(
            issuer
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.verify'")
                .await,
            0,
            "{engine:?}: the refusal counts no failed attempt"
        );
        // The same code answers where second factors are on: the switch was the refusal.
        assert_eq!(
            exchange_mfa(&issuer, &mfa_token, &code).await,
            StatusCode::OK,
            "{engine:?}"
        );
    }
}

/// Answers an API log-in's second step on `on`.
async fn exchange_mfa(on: &TestApp, mfa_token: &str, code: &str) -> StatusCode {
    let body = serde_json::json!({ "mfa_token": mfa_token, "code": code });
    on.api(reqwest::Method::POST, "/api/v1/auth/mfa", None, Some(body))
        .await
        .status()
}
