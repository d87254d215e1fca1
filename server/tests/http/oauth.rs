//! Log-in with providers, against a real OpenID provider (oidc-provider) and fakes of GitHub,
//! Apple and Facebook: the whole flow over HTTP, the routing of a callback (identity, verified
//! address, new account, no address, another account's address), linked accounts in settings,
//! sudo by provider, and every attack of the issue (security.md O1–O15).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sigra::testing::Engine;

use crate::providers::{
    op_settings, openid_provider, posted_fields, query_param, with_query, Browser, FakeProvider,
    Fault, Flavour, APP_BASE,
};
use server::testing::{
    location, on_each_engine_with, session_cookie, set_cookies, Setup, TestApp, CANARY_PASSWORD,
};

/// Runs `test` on each engine, on an app with these provider settings.
async fn each_engine<F, Fut>(env: Vec<(&'static str, String)>, test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let setup = || Setup {
        env: env.clone(),
        ..Setup::default()
    };
    on_each_engine_with(setup, test).await;
}

async fn texts(app: &TestApp, sql: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(sql)
        .fetch_all(app.sigra.db().pool())
        .await
        .expect("query")
}

async fn execute(app: &TestApp, sql: &str) {
    sqlx::query(sql)
        .execute(app.sigra.db().pool())
        .await
        .expect("statement");
}

/// The reasons of the `oauth.callback.failure` rows, oldest first.
async fn failure_reasons(app: &TestApp) -> Vec<String> {
    texts(
        app,
        "SELECT metadata FROM audit_events WHERE action = 'oauth.callback.failure' ORDER BY occurred_at, id",
    )
    .await
    .iter()
    .map(|m| {
        serde_json::from_str::<Value>(m).expect("json")["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    })
    .collect()
}

async fn actions(app: &TestApp) -> Vec<String> {
    texts(
        app,
        "SELECT action FROM audit_events ORDER BY occurred_at, id",
    )
    .await
}

/// Where a refused callback sends the browser, with the fixed code of the failure.
fn assert_refused(response: &reqwest::Response, code: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(response),
        format!("/users/oauth/error?code={code}")
    );
    assert!(
        session_cookie(response).is_none(),
        "no session on a refusal"
    );
}

fn assert_signed_in(response: &reqwest::Response, target: &str) {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        location(response)
    );
    assert_eq!(location(response), target);
    assert!(session_cookie(response).is_some(), "a session starts");
}

#[tokio::test]
async fn signing_in_with_an_openid_provider_creates_a_confirmed_passwordless_account_with_a_remembered_session(
) {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        let authorize = browser.start("oidc", None).await;
        // O1: PKCE S256 with a 43-character challenge, a 256-bit state and a nonce; the
        // transaction lives on the server, bound to a __Host- cookie.
        assert!(authorize.starts_with(openid_provider()), "{authorize}");
        assert_eq!(query_param(&authorize, "code_challenge_method").as_deref(), Some("S256"));
        assert_eq!(query_param(&authorize, "code_challenge").map(|c| c.len()), Some(43));
        assert_eq!(query_param(&authorize, "state").map(|s| s.len()), Some(43));
        assert!(query_param(&authorize, "nonce").is_some_and(|n| n.len() >= 43));
        assert_eq!(
            query_param(&authorize, "redirect_uri").as_deref(),
            Some(format!("{APP_BASE}/auth/oidc/callback").as_str())
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM oauth_transactions").await, 1);
        let state = query_param(&authorize, "state").expect("state");
        let stored = texts(&app, "SELECT state_hash FROM oauth_transactions").await;
        assert!(!stored[0].contains(&state), "only the state's digest is stored");
        let binding = browser.cookie("__Host-sigra_oauth").expect("a binding cookie").to_owned();
        assert_eq!(binding.len(), 43);

        let callback = browser
            .through_provider(&with_query(&authorize, "login_hint", "alice"))
            .await;
        assert!(query_param(&callback, "iss").is_some(), "the OP names itself (RFC 9207)");
        let finished = browser.callback(&callback).await;
        assert_signed_in(&finished, "/dashboard");
        assert_eq!(finished.headers()["referrer-policy"], "no-referrer");
        let cookie_line = set_cookies(finished.headers())
            .into_iter()
            .find(|c| c.starts_with("__Host-sigra_session="))
            .expect("session cookie");
        assert!(cookie_line.contains("Max-Age=2592000"), "remember-me by default: {cookie_line}");

        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE email = 'alice@example.test' AND confirmed_at IS NOT NULL AND password_hash IS NULL").await,
            1
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_identities WHERE provider = 'oidc' AND subject = 'alice' AND email_verified = 1").await,
            1
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM oauth_transactions").await, 0, "taken by its use");
        let actions = actions(&app).await;
        for expected in ["oauth.authorize", "auth.register.success", "oauth.register", "oauth.login", "auth.login.success"] {
            assert!(actions.iter().any(|a| a == expected), "{expected} in {actions:?}");
        }
        let method = texts(&app, "SELECT metadata FROM audit_events WHERE action = 'auth.login.success'").await;
        assert!(method[0].contains(r#""method":"oauth""#), "{method:?}");
        assert_eq!(app.me(&browser.cookies()).await, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn the_same_identity_logs_into_the_same_account_and_a_changed_address_does_not_remap_it() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    each_engine(fake.settings("forge"), |app| {
        let fake = &fake;
        async move {
            fake.set(|b| {
                b.subject = format!("same-{}", uuid());
                b.email = Some("first@example.test".to_owned());
            });
            let mut first = Browser::new(&app);
            let url = first.start("forge", None).await;
            let callback = first.through_provider(&url).await;
            assert_signed_in(&first.callback(&callback).await, "/dashboard");

            // The provider now reports another address: still the same account.
            fake.set(|b| b.email = Some("renamed@example.test".to_owned()));
            let mut second = Browser::new(&app);
            let url = second.start("forge", None).await;
            let callback = second.through_provider(&url).await;
            assert_signed_in(&second.callback(&callback).await, "/dashboard");
            assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
            assert_eq!(
                app.count(
                    "SELECT COUNT(*) FROM user_identities WHERE email = 'renamed@example.test'"
                )
                .await,
                1,
                "the identity keeps what the provider says now"
            );
            assert_eq!(
                app.count("SELECT COUNT(*) FROM users WHERE email = 'first@example.test'")
                    .await,
                1
            );
        }
    })
    .await;
}

#[tokio::test]
async fn the_same_subject_at_two_providers_is_two_identities() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    let mut env = op_settings();
    env.extend(fake.settings("forge"));
    each_engine(env, |app| {
        let fake = &fake;
        async move {
            fake.set(|b| {
                b.subject = "alice".to_owned();
                b.email = Some(format!("forge-{}@example.test", uuid()));
            });
            let mut browser = Browser::new(&app);
            assert_signed_in(&browser.sign_in_with_op("alice").await, "/dashboard");
            let mut other = Browser::new(&app);
            let url = other.start("forge", None).await;
            let callback = other.through_provider(&url).await;
            assert_signed_in(&other.callback(&callback).await, "/dashboard");
            assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 2);
            assert_eq!(
                app.count(
                    "SELECT COUNT(DISTINCT user_id) FROM user_identities WHERE subject = 'alice'"
                )
                .await,
                2
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_tampered_or_missing_state_is_refused_before_any_token_request() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    each_engine(fake.settings("forge"), |app| {
        let fake = &fake;
        async move {
            let before = fake.token_requests();
            let mut browser = Browser::new(&app);
            let url = browser.start("forge", None).await;
            let callback = browser.through_provider(&url).await;
            let tampered = with_query(
                &format!("{APP_BASE}{callback}"),
                "state",
                "A".repeat(43).as_str(),
            )
            .trim_start_matches(APP_BASE)
            .to_owned();
            assert_refused(&browser.callback(&tampered).await, "oauth_failed");
            let missing = callback
                .split('&')
                .filter(|part| !part.starts_with("state=") && !part.contains("?state="))
                .collect::<Vec<_>>()
                .join("&");
            assert_refused(&browser.callback(&missing).await, "oauth_failed");
            assert_eq!(fake.token_requests(), before, "no token request was made");
            assert_eq!(
                failure_reasons(&app).await,
                ["state_unknown", "state_missing"]
            );
            assert_eq!(
                app.count("SELECT COUNT(*) FROM oauth_transactions").await,
                1,
                "the real one still waits"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        let url = browser.start("oidc", None).await;
        let callback = browser
            .through_provider(&with_query(&url, "login_hint", "replay"))
            .await;
        assert_signed_in(&browser.callback(&callback).await, "/dashboard");
        assert_refused(&browser.callback(&callback).await, "oauth_failed");
        assert_eq!(failure_reasons(&app).await, ["state_unknown"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM user_sessions").await, 1);
    })
    .await;
}

#[tokio::test]
async fn parallel_callbacks_with_one_state_start_one_session() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        let url = browser.start("oidc", None).await;
        let callback = browser
            .through_provider(&with_query(&url, "login_hint", "racer"))
            .await;
        let cookies = browser.cookies();
        let attempts = (0..10).map(|_| app.get(&callback, Some(&cookies)));
        let responses = futures::future::join_all(attempts).await;
        let sessions = responses
            .iter()
            .filter(|r| session_cookie(r).is_some())
            .count();
        assert_eq!(sessions, 1, "exactly one callback wins");
        assert_eq!(app.count("SELECT COUNT(*) FROM user_sessions").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_rewritten_pkce_challenge_is_refused_at_the_token_endpoint() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        let url = browser.start("oidc", None).await;
        // The attacker's own challenge: the app's verifier no longer matches it.
        let forged = with_query(
            &url,
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        );
        let callback = browser
            .through_provider(&with_query(&forged, "login_hint", "pkce"))
            .await;
        assert_refused(&browser.callback(&callback).await, "oauth_failed");
        assert_eq!(failure_reasons(&app).await, ["token_exchange"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    })
    .await;
}

#[tokio::test]
async fn a_rewritten_nonce_is_refused() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        let url = browser.start("oidc", None).await;
        let forged = with_query(&url, "nonce", "attacker-chosen-nonce-0123456789abcdef0123");
        let callback = browser
            .through_provider(&with_query(&forged, "login_hint", "nonce"))
            .await;
        assert_refused(&browser.callback(&callback).await, "oauth_failed");
        assert_eq!(failure_reasons(&app).await, ["id_token_nonce"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    })
    .await;
}

#[tokio::test]
async fn a_wrong_or_missing_iss_parameter_is_refused() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        let url = browser.start("oidc", None).await;
        let callback = browser
            .through_provider(&with_query(&url, "login_hint", "mixup"))
            .await;
        let full = format!("{APP_BASE}{callback}");
        let wrong = with_query(&full, "iss", "https://evil.example").replace(APP_BASE, "");
        assert_refused(&browser.callback(&wrong).await, "oauth_failed");

        let url = browser.start("oidc", None).await;
        let callback = browser
            .through_provider(&with_query(&url, "login_hint", "mixup"))
            .await;
        let without: String = {
            let mut parsed = url::Url::parse(&format!("{APP_BASE}{callback}")).expect("url");
            let kept: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| k != "iss")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            parsed.query_pairs_mut().clear().extend_pairs(kept);
            parsed.to_string().replace(APP_BASE, "")
        };
        assert_refused(&browser.callback(&without).await, "oauth_failed");
        assert_eq!(failure_reasons(&app).await, ["iss_mismatch", "iss_missing"]);
    })
    .await;
}

#[tokio::test]
async fn a_callback_from_another_browser_is_refused() {
    each_engine(op_settings(), |app| async move {
        // The attacker starts a log-in and stops at the callback; the victim's browser (with
        // no binding cookie, or its own) is made to open it: login CSRF.
        let mut attacker = Browser::new(&app);
        let url = attacker.start("oidc", None).await;
        let callback = attacker
            .through_provider(&with_query(&url, "login_hint", "attacker"))
            .await;
        let mut victim = Browser::new(&app);
        assert_refused(&victim.callback(&callback).await, "oauth_failed");

        let url = attacker.start("oidc", None).await;
        let callback = attacker
            .through_provider(&with_query(&url, "login_hint", "attacker"))
            .await;
        let mut victim = Browser::new(&app);
        victim.start("oidc", None).await;
        assert_refused(&victim.callback(&callback).await, "oauth_failed");
        assert_eq!(
            failure_reasons(&app).await,
            ["browser_mismatch", "browser_mismatch"]
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    })
    .await;
}

#[tokio::test]
async fn a_provider_error_shows_a_clear_page_and_starts_no_session() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        let url = browser.start("oidc", None).await;
        let callback = browser
            .through_provider(&with_query(&url, "login_hint", "deny"))
            .await;
        assert_eq!(
            query_param(&callback, "error").as_deref(),
            Some("access_denied")
        );
        let refused = browser.callback(&callback).await;
        assert_refused(&refused, "oauth_cancelled");
        let page = browser
            .get(&location(&refused))
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains("was cancelled. Nothing was changed."),
            "{page}"
        );
        assert!(
            !page.contains("The user declined"),
            "the provider's words never reach the page"
        );
        assert_eq!(failure_reasons(&app).await, ["access_denied"]);
        assert_eq!(app.session_rows().await, 0);
    })
    .await;
}

#[tokio::test]
async fn an_unverified_address_equal_to_an_account_neither_links_nor_logs_in() {
    each_engine(op_settings(), |app| async move {
        app.register("victim@example.test", CANARY_PASSWORD).await;
        let mut mallory = Browser::new(&app);
        let refused = mallory
            .sign_in_with_op("unverified:victim@example.test")
            .await;
        assert_refused(&refused, "oauth_failed");
        assert_eq!(failure_reasons(&app).await, ["unverified_email_in_use"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM user_identities").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM oauth_pending").await, 0);
        assert_eq!(app.session_rows().await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_verified_address_of_an_account_links_only_after_its_owner_proves_it() {
    each_engine(op_settings(), |app| async move {
        let owner = app.signed_in("owner@example.test").await;
        execute(&app, "UPDATE users SET confirmed_at = 1 WHERE email = 'owner@example.test'").await;

        // The owner's browser, logged in already, logs in with the provider.
        let mut browser = Browser::new(&app);
        browser.jar.insert("__Host-sigra_session".to_owned(), owner.trim_start_matches("__Host-sigra_session=").to_owned());
        let answer = browser.sign_in_with_op("owner@example.test").await;
        assert_eq!(location(&answer), "/users/oauth/link");
        assert!(session_cookie(&answer).is_none(), "never linked or logged in silently");
        assert_eq!(app.count("SELECT COUNT(*) FROM user_identities").await, 0);
        let page = browser.get("/users/oauth/link").await.text().await.expect("page");
        assert!(page.contains("An account already uses owner@example.test"), "{page}");

        // The session the browser already had proves nothing: a new log-in must.
        let stale = browser.post("/users/oauth/link/confirm", "/users/oauth/link", &[]).await;
        assert_ne!(location(&stale), "/users/settings/accounts");
        assert_eq!(app.count("SELECT COUNT(*) FROM user_identities").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM oauth_pending").await, 0, "a refused link spends it");
        let answer = browser.sign_in_with_op("owner@example.test").await;
        assert_eq!(location(&answer), "/users/oauth/link");

        // The owner logs in here, with the password, then links.
        let logged_in = browser
            .post(
                "/users/log-in",
                "/users/log-in",
                &[("email", "owner@example.test"), ("password", CANARY_PASSWORD), ("return_to", "/users/oauth/link")],
            )
            .await;
        assert_eq!(location(&logged_in), "/users/oauth/link");
        let linked = browser.post("/users/oauth/link/confirm", "/users/oauth/link", &[]).await;
        assert_eq!(location(&linked), "/users/settings/accounts");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_identities i JOIN users u ON u.id = i.user_id WHERE u.email = 'owner@example.test'").await,
            1
        );
        assert!(actions(&app).await.iter().any(|a| a == "oauth.link"));
        let mail = app.mailbox("owner@example.test").await;
        assert!(mail.iter().any(|m| m.subject.contains("was linked to your account")), "a notice");

        // Next time the provider logs straight in.
        let mut later = Browser::new(&app);
        assert_signed_in(&later.sign_in_with_op("owner@example.test").await, "/dashboard");
    })
    .await;
}

#[tokio::test]
async fn an_unconfirmed_account_preregistered_with_the_address_loses_its_credentials() {
    each_engine(op_settings(), |app| async move {
        // The attacker registers the victim's address first, with a password, sets up a second
        // factor and a passkey, asks for a reset link and keeps a session open (account
        // pre-hijacking).
        let mut attacker = app.signed_in("prey@example.com").await;
        crate::mfa::enrol(&app, &mut attacker).await;
        crate::passkeys::register(&app, &mut attacker, "attacker's key").await;
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "prey@example.com")],
            None,
        )
        .await;
        let user = "(SELECT id FROM users WHERE email = 'prey@example.com')";
        let left = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE user_id = {user}");
        let pending_links = format!("{} AND used_at IS NULL", left("user_tokens"));
        assert!(app.count(&pending_links).await > 0, "a link is pending");
        let epoch = format!("SELECT mfa_trust_epoch FROM users WHERE id = {user}");
        let epoch_before = app.count(&epoch).await;

        let mut victim = Browser::new(&app);
        assert_signed_in(&victim.sign_in_with_op("prey@example.com").await, "/dashboard");
        assert_eq!(app.me(&attacker).await, StatusCode::UNAUTHORIZED, "the attacker's session ended");
        let retry = app.log_in("prey@example.com", CANARY_PASSWORD, false).await;
        assert!(session_cookie(&retry).is_none(), "the attacker's password is gone");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE email = 'prey@example.com' AND password_hash IS NULL AND confirmed_at IS NOT NULL").await,
            1
        );
        for table in ["user_totp", "user_backup_codes", "user_passkeys"] {
            assert_eq!(app.count(&left(table)).await, 0, "{table} is emptied");
        }
        assert_eq!(app.count(&pending_links).await, 0, "the mailed links are spent");
        assert_eq!(app.count(&left("user_sessions")).await, 1, "only the victim's session");
        assert!(app.count(&epoch).await > epoch_before, "trusted browsers are forgotten");
        let link = texts(&app, "SELECT metadata FROM audit_events WHERE action = 'oauth.link'").await;
        assert!(link[0].contains(r#""reset_unconfirmed":true"#), "{link:?}");
    })
    .await;
}

#[tokio::test]
async fn a_replayed_authorization_code_is_refused() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        let url = browser.start("oidc", None).await;
        let callback = browser
            .through_provider(&with_query(&url, "login_hint", "codes"))
            .await;
        let code = query_param(&callback, "code").expect("code");
        assert_signed_in(&browser.callback(&callback).await, "/dashboard");

        // A new authorization in the same browser, answered with the spent code.
        let url = browser.start("oidc", None).await;
        let fresh = browser
            .through_provider(&with_query(&url, "login_hint", "codes"))
            .await;
        let replayed =
            with_query(&format!("{APP_BASE}{fresh}"), "code", &code).replace(APP_BASE, "");
        assert_refused(&browser.callback(&replayed).await, "oauth_failed");
        assert_eq!(failure_reasons(&app).await, ["token_exchange"]);
    })
    .await;
}

#[tokio::test]
async fn return_to_never_leaves_the_site() {
    each_engine(op_settings(), |app| async move {
        for (attack, expected) in [
            ("https://evil.example/", "/"),
            ("//evil.example", "/"),
            ("/\\evil.example", "/"),
            ("/users/sessions", "/users/sessions"),
        ] {
            let mut browser = Browser::new(&app);
            let url = browser.start("oidc", Some(attack)).await;
            let callback = browser
                .through_provider(&with_query(&url, "login_hint", "wanderer"))
                .await;
            assert_signed_in(&browser.callback(&callback).await, expected);
        }
    })
    .await;
}

#[tokio::test]
async fn a_user_with_totp_signs_in_with_a_provider_and_is_asked_for_the_code_unless_the_browser_is_trusted(
) {
    each_engine(op_settings(), |app| async move {
        let mut cookie = app.signed_in("twofactor@example.com").await;
        execute(
            &app,
            "UPDATE users SET confirmed_at = 1 WHERE email = 'twofactor@example.com'",
        )
        .await;
        let (secret, _) = crate::mfa::enrol(&app, &mut cookie).await;
        // Link the provider from settings (under sudo).
        let mut browser = Browser::new(&app);
        browser.jar.insert(
            "__Host-sigra_session".to_owned(),
            cookie
                .trim_start_matches("__Host-sigra_session=")
                .to_owned(),
        );
        browser.enter_sudo("/users/settings/accounts").await;
        let started = browser
            .post(
                "/auth/oidc",
                "/users/settings/accounts",
                &[("intent", "link")],
            )
            .await;
        assert_eq!(started.status(), StatusCode::SEE_OTHER);
        let callback = browser
            .through_provider(&with_query(
                &location(&started),
                "login_hint",
                "twofactor@example.com",
            ))
            .await;
        let linked = browser.callback(&callback).await;
        assert_eq!(location(&linked), "/users/settings/accounts");

        let mut fresh = Browser::new(&app);
        let answer = fresh.sign_in_with_op("twofactor@example.com").await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert!(
            location(&answer).starts_with("/users/mfa?return_to="),
            "{}",
            location(&answer)
        );
        let pending = session_cookie(&answer).expect("a pending session");
        assert_eq!(
            app.me(&pending).await,
            StatusCode::UNAUTHORIZED,
            "it opens nothing yet"
        );
        let challenge = texts(
            &app,
            "SELECT metadata FROM audit_events WHERE action = 'auth.mfa_challenge'",
        )
        .await;
        assert!(challenge
            .last()
            .expect("a challenge")
            .contains(r#""method":"oauth""#));

        // The code, with "trust this browser": the next provider log-in in this browser skips
        // the code; another browser is still asked.
        let code = crate::mfa::next_code(&app, &secret);
        let verified = fresh
            .post(
                "/users/mfa",
                "/users/mfa",
                &[
                    ("code", &code),
                    ("trust_browser", "on"),
                    ("return_to", "/users/settings"),
                ],
            )
            .await;
        assert_eq!(location(&verified), "/users/settings");
        assert!(
            session_cookie(&verified).is_some(),
            "the code finishes the log-in"
        );
        assert!(fresh.cookie("__Host-sigra_trusted_browser").is_some());
        fresh.jar.remove("__Host-sigra_session");
        assert_signed_in(
            &fresh.sign_in_with_op("twofactor@example.com").await,
            "/dashboard",
        );
        let mut untrusted = Browser::new(&app);
        let asked = untrusted.sign_in_with_op("twofactor@example.com").await;
        assert!(
            location(&asked).starts_with("/users/mfa?return_to="),
            "{}",
            location(&asked)
        );
    })
    .await;
}

#[tokio::test]
async fn a_provider_account_reauthenticates_with_the_provider_for_sudo_sets_a_password_and_unlinks()
{
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        assert_signed_in(&browser.sign_in_with_op("nopass").await, "/dashboard");
        let accounts = "/users/settings/accounts";

        // Without sudo, unlinking sends the browser to confirm it is them.
        let id = texts(&app, "SELECT id FROM user_identities")
            .await
            .remove(0);
        let refused = browser
            .post("/users/settings/accounts/unlink", accounts, &[("id", &id)])
            .await;
        assert!(
            location(&refused).starts_with("/users/sudo"),
            "{}",
            location(&refused)
        );

        // Sudo by a fresh log-in at the provider (prompt=login, max_age=0).
        let started = browser
            .post(
                "/auth/oidc",
                "/users/sudo",
                &[("intent", "sudo"), ("return_to", accounts)],
            )
            .await;
        let authorize = location(&started);
        assert_eq!(query_param(&authorize, "prompt").as_deref(), Some("login"));
        assert_eq!(query_param(&authorize, "max_age").as_deref(), Some("0"));
        let callback = browser
            .through_provider(&with_query(&authorize, "login_hint", "nopass"))
            .await;
        let granted = browser.callback(&callback).await;
        assert_eq!(location(&granted), accounts);
        let sudo = texts(
            &app,
            "SELECT metadata FROM audit_events WHERE action = 'session.sudo_enter'",
        )
        .await;
        assert!(sudo[0].contains(r#""method":"oauth""#), "{sudo:?}");

        // The only way in cannot go.
        let last = browser
            .post("/users/settings/accounts/unlink", accounts, &[("id", &id)])
            .await;
        assert_ne!(location(&last), accounts);
        let answer = app
            .call_json(
                "/users/settings/accounts/unlink",
                &[("id", &id)],
                Some(&browser.cookies()),
            )
            .await;
        assert_eq!(answer.status(), StatusCode::CONFLICT);
        assert_eq!(
            answer.text().await.expect("body"),
            r#""LastSignInMethod""#,
            "the hydrated page is told why"
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM user_identities").await, 1);

        // A password, then the provider can go.
        let set = browser
            .post(
                "/users/settings/accounts/password",
                accounts,
                &[("new_password", CANARY_PASSWORD)],
            )
            .await;
        assert_eq!(location(&set), accounts);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE password_hash IS NOT NULL")
                .await,
            1
        );
        let unlinked = browser
            .post("/users/settings/accounts/unlink", accounts, &[("id", &id)])
            .await;
        assert_eq!(location(&unlinked), accounts);
        assert_eq!(app.count("SELECT COUNT(*) FROM user_identities").await, 0);
        let mail = app.mailbox("nopass@example.test").await;
        assert!(
            mail.iter().any(|m| m.subject.contains("was unlinked")),
            "an unlink notice"
        );
        let logged_in = app
            .log_in("nopass@example.test", CANARY_PASSWORD, false)
            .await;
        assert!(session_cookie(&logged_in).is_some(), "the password works");
        for action in ["account.password_set", "oauth.unlink"] {
            assert!(actions(&app).await.iter().any(|a| a == action), "{action}");
        }
    })
    .await;
}

/// Runs a log-in with the fake OpenID provider whose ID token has `fault`.
async fn broken_id_token(fault: Fault, reason: &'static str) {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    fake.set(|b| b.fault = Some(fault));
    each_engine(fake.settings("forge"), |app| {
        let fake = &fake;
        async move {
            let mut browser = Browser::new(&app);
            let url = browser.start("forge", None).await;
            let callback = browser.through_provider(&url).await;
            assert_refused(&browser.callback(&callback).await, "oauth_failed");
            assert_eq!(failure_reasons(&app).await, [reason]);
            assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
            assert!(fake.token_requests() > 0);
        }
    })
    .await;
}

#[tokio::test]
async fn an_id_token_from_another_issuer_is_refused() {
    broken_id_token(Fault::WrongIssuer, "id_token_issuer").await;
}

#[tokio::test]
async fn an_id_token_for_another_audience_is_refused() {
    broken_id_token(Fault::WrongAudience, "id_token_audience").await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    broken_id_token(Fault::Expired, "id_token_expired").await;
}

#[tokio::test]
async fn an_id_token_signed_by_another_key_is_refused() {
    broken_id_token(Fault::OtherKey, "id_token_signature").await;
}

#[tokio::test]
async fn an_unsigned_id_token_with_alg_none_is_refused() {
    broken_id_token(Fault::AlgNone, "id_token_malformed").await;
}

#[tokio::test]
async fn the_client_follows_no_redirect_from_the_token_endpoint() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    fake.set(|b| b.token_redirects = true);
    each_engine(fake.settings("forge"), |app| {
        let fake = &fake;
        async move {
            let mut browser = Browser::new(&app);
            let url = browser.start("forge", None).await;
            let callback = browser.through_provider(&url).await;
            assert_refused(&browser.callback(&callback).await, "oauth_failed");
            assert_eq!(failure_reasons(&app).await, ["token_exchange"]);
            assert_eq!(
                fake.state
                    .trap_hits
                    .load(std::sync::atomic::Ordering::SeqCst),
                0,
                "the redirect was not followed"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_stale_provider_log_in_does_not_open_sudo() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    each_engine(fake.settings("forge"), |app| {
        let fake = &fake;
        async move {
            fake.set(|b| {
                b.subject = format!("stale-{}", uuid());
                b.auth_age = 0;
            });
            let mut browser = Browser::new(&app);
            let url = browser.start("forge", None).await;
            let callback = browser.through_provider(&url).await;
            assert_signed_in(&browser.callback(&callback).await, "/dashboard");

            // The provider answers from a remembered log-in of an hour ago.
            fake.set(|b| b.auth_age = 3600);
            let started = browser
                .post(
                    "/auth/forge",
                    "/users/sudo",
                    &[("intent", "sudo"), ("return_to", "/users/sessions")],
                )
                .await;
            let callback = browser.through_provider(&location(&started)).await;
            assert_refused(&browser.callback(&callback).await, "oauth_failed");
            assert_eq!(failure_reasons(&app).await, ["stale_auth_time"]);
            assert_eq!(
                app.count("SELECT COUNT(*) FROM user_sessions WHERE sudo_at IS NOT NULL")
                    .await,
                0
            );
            assert_eq!(
                app.me(&browser.cookies()).await,
                StatusCode::OK,
                "still logged in"
            );
        }
    })
    .await;
}

/// A whole log-in with `provider` in a new browser: the app's answer to the callback.
async fn sign_in_with(app: &TestApp, provider: &str) -> reqwest::Response {
    let mut browser = Browser::new(app);
    let url = browser.start(provider, None).await;
    let callback = browser.through_provider(&url).await;
    browser.callback(&callback).await
}

/// Moves the app's clock and the fake provider's along with it.
fn advance(app: &TestApp, fake: &FakeProvider, seconds: u64) {
    app.advance(Duration::from_secs(seconds));
    fake.set(|b| b.clock_offset += i64::try_from(seconds).expect("seconds"));
}

#[tokio::test]
async fn the_signing_keys_are_fetched_again_for_an_unknown_key_id_at_most_once_a_minute() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    each_engine(fake.settings("forge"), |app| {
        let fake = &fake;
        async move {
            fake.set(|b| {
                b.subject = format!("rotate-{}", uuid());
                b.clock_offset = 0;
            });
            let fetched = fake.key_requests();
            assert_signed_in(&sign_in_with(&app, "forge").await, "/dashboard");
            assert_eq!(
                fake.key_requests(),
                fetched + 1,
                "discovery fetches the keys"
            );

            // The provider rotates: the new key id is unknown, so the keys are fetched again.
            fake.rotate_key();
            advance(&app, fake, 61);
            assert_signed_in(&sign_in_with(&app, "forge").await, "/dashboard");
            assert_eq!(fake.key_requests(), fetched + 2);

            // Another unknown key id within the minute is refused without asking the provider
            // (a stream of forged key ids cannot make the app hammer it).
            fake.rotate_key();
            advance(&app, fake, 30);
            assert_refused(&sign_in_with(&app, "forge").await, "oauth_failed");
            assert_eq!(fake.key_requests(), fetched + 2, "at most once a minute");
            assert_eq!(
                failure_reasons(&app).await.last().map(String::as_str),
                Some("id_token_unknown_key")
            );

            advance(&app, fake, 31);
            assert_signed_in(&sign_in_with(&app, "forge").await, "/dashboard");
            assert_eq!(fake.key_requests(), fetched + 3);
        }
    })
    .await;
}

#[tokio::test]
async fn discovery_and_keys_are_cached_for_the_discovery_cache_lifetime() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    let mut settings = fake.settings("forge");
    settings.push(("SIGRA_OAUTH_DISCOVERY_CACHE", "10m".to_owned()));
    each_engine(settings, |app| {
        let fake = &fake;
        async move {
            fake.set(|b| {
                b.subject = format!("cached-{}", uuid());
                b.clock_offset = 0;
            });
            let (discovered, fetched) = (fake.discovery_requests(), fake.key_requests());
            assert_signed_in(&sign_in_with(&app, "forge").await, "/dashboard");
            advance(&app, fake, 10 * 60 - 1);
            assert_signed_in(&sign_in_with(&app, "forge").await, "/dashboard");
            assert_eq!(
                (fake.discovery_requests(), fake.key_requests()),
                (discovered + 1, fetched + 1),
                "within the lifetime nothing is fetched again"
            );

            advance(&app, fake, 1);
            assert_signed_in(&sign_in_with(&app, "forge").await, "/dashboard");
            assert_eq!(
                (fake.discovery_requests(), fake.key_requests()),
                (discovered + 2, fetched + 2),
                "at the end of the lifetime both are fetched again"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_provider_slower_than_the_http_timeout_is_given_up_on() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    let mut settings = fake.settings("forge");
    settings.push(("SIGRA_OAUTH_HTTP_TIMEOUT", "1s".to_owned()));
    each_engine(settings, |app| {
        let fake = &fake;
        async move {
            fake.set(|b| {
                b.subject = format!("slow-{}", uuid());
                b.token_delay = Duration::from_secs(4);
            });
            assert_refused(&sign_in_with(&app, "forge").await, "oauth_failed");
            assert_eq!(failure_reasons(&app).await, ["token_exchange"]);
            assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

            // The control: the same provider answering in time logs in.
            fake.set(|b| b.token_delay = Duration::ZERO);
            assert_signed_in(&sign_in_with(&app, "forge").await, "/dashboard");
        }
    })
    .await;
}

#[tokio::test]
async fn apple_posts_its_answer_cross_site_and_the_browser_that_started_finishes_it() {
    let apple = FakeProvider::start(Flavour::Apple, "com.example.web").await;
    each_engine(apple.settings("apple"), |app| {
        let apple = &apple;
        async move {
            apple.set(|b| {
                b.subject = format!("001234.{}", uuid());
                b.email = Some(format!("apple-{}@privaterelay.appleid.com", uuid()));
                b.email_verified = json!("true");
                b.name = Some("Ada Lovelace".to_owned());
            });
            let mut browser = Browser::new(&app);
            let authorize = browser.start("apple", None).await;
            assert_eq!(
                query_param(&authorize, "response_mode").as_deref(),
                Some("form_post")
            );
            let page = reqwest::get(&authorize)
                .await
                .expect("apple")
                .text()
                .await
                .expect("page");
            let fields = posted_fields(&page);
            let form: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();

            // The cross-site POST carries no cookie of ours.
            let posted = app
                .post_form_with(
                    "/auth/apple/callback",
                    "/",
                    &form,
                    None,
                    &[("sec-fetch-site", "cross-site"), ("origin", "null")],
                )
                .await;
            assert_eq!(posted.status(), StatusCode::SEE_OTHER);
            let resume = location(&posted);
            assert!(
                resume.starts_with("/auth/apple/callback?state="),
                "{resume}"
            );
            assert!(
                !resume.contains("code="),
                "the code does not come back into the address bar"
            );
            assert!(session_cookie(&posted).is_none());
            // A second post of the same answer finds nothing to attach to.
            let again = app
                .post_form_with(
                    "/auth/apple/callback",
                    "/",
                    &form,
                    None,
                    &[("sec-fetch-site", "cross-site")],
                )
                .await;
            assert_eq!(location(&again), "/users/oauth/error?code=oauth_failed");

            // Another browser cannot finish it (and spends it); the one that started can.
            let stranger = app.get(&resume, None).await;
            assert_eq!(location(&stranger), "/users/oauth/error?code=oauth_failed");
            let posted = apple_post(&app, &browser.start("apple", None).await).await;
            assert_signed_in(&browser.callback(&location(&posted)).await, "/dashboard");
            assert_eq!(
                texts(&app, "SELECT name FROM user_identities").await,
                ["Ada Lovelace"],
                "the name Apple sends the first time is kept"
            );
            assert_eq!(
                app.count("SELECT COUNT(*) FROM users WHERE confirmed_at IS NOT NULL")
                    .await,
                1,
                "\"true\" as a string counts"
            );

            // Later authorizations carry no name; the one kept stays.
            apple.set(|b| b.name = None);
            let mut later = Browser::new(&app);
            let authorize = later.start("apple", None).await;
            let page = reqwest::get(&authorize)
                .await
                .expect("apple")
                .text()
                .await
                .expect("page");
            assert!(!page.contains("name=\"user\""));
            let posted = apple_post(&app, &authorize).await;
            assert_signed_in(&later.callback(&location(&posted)).await, "/dashboard");
            assert_eq!(
                texts(&app, "SELECT name FROM user_identities").await,
                ["Ada Lovelace"]
            );
        }
    })
    .await;
}

/// A whole log-in with the fake Apple in a new browser: the app's answer to the callback.
async fn sign_in_with_apple(app: &TestApp) -> reqwest::Response {
    let mut browser = Browser::new(app);
    let posted = apple_post(app, &browser.start("apple", None).await).await;
    browser.callback(&location(&posted)).await
}

/// The claims of a JWT, read without verifying it (the fake provider verified it).
fn jwt_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

#[tokio::test]
async fn apples_client_secret_is_reused_for_its_hour_and_remade_five_minutes_before_it_expires() {
    let apple = FakeProvider::start(Flavour::Apple, "com.example.web").await;
    each_engine(apple.settings("apple"), |app| {
        let apple = &apple;
        async move {
            apple.set(|b| {
                b.subject = format!("001234.{}", uuid());
                b.email = Some(format!("apple-{}@privaterelay.appleid.com", uuid()));
                b.clock_offset = 0;
            });
            let before = apple.client_secrets().len();
            assert_signed_in(&sign_in_with_apple(&app).await, "/dashboard");
            advance(&app, apple, 54 * 60);
            assert_signed_in(&sign_in_with_apple(&app).await, "/dashboard");
            advance(&app, apple, 2 * 60);
            assert_signed_in(&sign_in_with_apple(&app).await, "/dashboard");

            let secrets = apple.client_secrets().split_off(before);
            assert_eq!(secrets.len(), 3, "one per code exchange");
            assert_eq!(secrets[0], secrets[1], "made once for its hour");
            assert_ne!(secrets[1], secrets[2], "remade before it expires");
            let (first, remade) = (jwt_claims(&secrets[0]), jwt_claims(&secrets[2]));
            assert_eq!(
                first["exp"].as_i64().expect("exp") - first["iat"].as_i64().expect("iat"),
                3600,
                "an hour"
            );
            assert_eq!(
                remade["iat"].as_i64().expect("iat") - first["iat"].as_i64().expect("iat"),
                56 * 60,
                "made at the app's time"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn github_trusts_only_a_verified_primary_address() {
    let github = FakeProvider::start(Flavour::Github, "gh-client").await;
    each_engine(github.settings("github"), |app| {
        let github = &github;
        async move {
            app.register("taken@example.test", CANARY_PASSWORD).await;
            // A verified address that is not primary, and a primary one not verified: the
            // primary is read, and not trusted.
            github.set(|b| {
                b.subject = "1001".to_owned();
                b.github_emails = vec![
                    json!({"email": "taken@example.test", "verified": true, "primary": false, "visibility": null}),
                    json!({"email": "octo@example.test", "verified": false, "primary": true, "visibility": "public"}),
                ];
            });
            let mut browser = Browser::new(&app);
            let url = browser.start("github", None).await;
            let callback = browser.through_provider(&url).await;
            assert_signed_in(&browser.callback(&callback).await, "/dashboard");
            assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'octo@example.test' AND confirmed_at IS NULL").await, 1);
            assert_eq!(app.count("SELECT COUNT(*) FROM user_identities WHERE subject = '1001' AND email_verified = 0").await, 1);
            assert!(!app.mailbox("octo@example.test").await.is_empty(), "a confirmation mail");

            // Verified and primary: a confirmed account.
            github.set(|b| {
                b.subject = "1002".to_owned();
                b.github_emails = vec![json!({"email": "hub@example.test", "verified": true, "primary": true, "visibility": "private"})];
            });
            let mut browser = Browser::new(&app);
            let url = browser.start("github", None).await;
            let callback = browser.through_provider(&url).await;
            assert_signed_in(&browser.callback(&callback).await, "/dashboard");
            assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'hub@example.test' AND confirmed_at IS NOT NULL").await, 1);
            let avatar = texts(&app, "SELECT avatar_url FROM user_identities WHERE subject = '1002'").await;
            assert_eq!(avatar, ["https://avatars.example/u/1"]);
        }
    })
    .await;
}

#[tokio::test]
async fn a_provider_without_an_address_gets_one_confirmed_by_mail_before_the_account_works() {
    let github = FakeProvider::start(Flavour::Github, "gh-client").await;
    github.set(|b| {
        b.subject = "2001".to_owned();
        b.github_emails = Vec::new();
    });
    each_engine(github.settings("github"), |app| async move {
        let mut browser = Browser::new(&app);
        let url = browser.start("github", None).await;
        let callback = browser.through_provider(&url).await;
        let answer = browser.callback(&callback).await;
        assert_eq!(location(&answer), "/users/oauth/email");
        assert!(session_cookie(&answer).is_none());
        let page = browser.get("/users/oauth/email").await.text().await.expect("page");
        assert!(page.contains("did not tell us your email address"), "{page}");

        let given = browser.post("/users/oauth/email", "/users/oauth/email", &[("email", "given@example.test")]).await;
        assert_eq!(location(&given), "/users/check-email");
        assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'given@example.test' AND confirmed_at IS NULL AND password_hash IS NULL").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM oauth_pending").await, 0, "single use");

        // Not usable before the address is confirmed.
        let mut early = Browser::new(&app);
        let url = early.start("github", None).await;
        let callback = early.through_provider(&url).await;
        assert_refused(&early.callback(&callback).await, "unconfirmed");

        let link = app.link_in_mail("given@example.test", "/users/confirm/").await;
        let (cookie, page) = app.open_link(&link).await;
        let confirmed = app.post_link_form(&page, &cookie, &[], None).await;
        assert_eq!(confirmed.status(), StatusCode::FOUND);
        let mut later = Browser::new(&app);
        let url = later.start("github", None).await;
        let callback = later.through_provider(&url).await;
        assert_signed_in(&later.callback(&callback).await, "/dashboard");
    })
    .await;
}

#[tokio::test]
async fn facebook_addresses_are_never_treated_as_verified() {
    let facebook = FakeProvider::start(Flavour::Facebook, "fb-app").await;
    each_engine(facebook.settings("facebook"), |app| {
        let facebook = &facebook;
        async move {
            app.register("fbvictim@example.test", CANARY_PASSWORD).await;
            facebook.set(|b| {
                b.subject = "fb-1".to_owned();
                b.email = Some("fbvictim@example.test".to_owned());
                b.email_verified = Value::Bool(true);
            });
            let mut browser = Browser::new(&app);
            let url = browser.start("facebook", None).await;
            let callback = browser.through_provider(&url).await;
            assert_refused(&browser.callback(&callback).await, "oauth_failed");
            assert_eq!(failure_reasons(&app).await, ["unverified_email_in_use"]);

            facebook.set(|b| {
                b.subject = "fb-2".to_owned();
                b.email = Some("fbnew@example.test".to_owned());
            });
            let mut browser = Browser::new(&app);
            let url = browser.start("facebook", None).await;
            let callback = browser.through_provider(&url).await;
            assert_signed_in(&browser.callback(&callback).await, "/dashboard");
            assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'fbnew@example.test' AND confirmed_at IS NULL").await, 1);
            let avatar = texts(&app, "SELECT avatar_url FROM user_identities WHERE subject = 'fb-2'").await;
            assert_eq!(avatar, ["https://graph.example/p.jpg"]);
        }
    })
    .await;
}

#[tokio::test]
async fn with_confirmation_mode_block_a_provider_account_with_an_unverified_address_waits_for_the_mail(
) {
    let facebook = FakeProvider::start(Flavour::Facebook, "fb-app").await;
    let mut settings = facebook.settings("facebook");
    settings.push(("SIGRA_CONFIRMATION_MODE", "block".to_owned()));
    each_engine(settings, |app| {
        let facebook = &facebook;
        async move {
            facebook.set(|b| {
                b.subject = format!("fb-{}", uuid());
                b.email = Some("blocked@example.test".to_owned());
            });
            assert_refused(&sign_in_with(&app, "facebook").await, "unconfirmed");
            assert_eq!(
                app.count("SELECT COUNT(*) FROM users WHERE email = 'blocked@example.test' AND confirmed_at IS NULL").await,
                1,
                "the account and its identity are made"
            );
            assert_eq!(app.count("SELECT COUNT(*) FROM user_identities").await, 1);
            assert_eq!(app.count("SELECT COUNT(*) FROM user_sessions").await, 0);
            // A second try is refused the same way and mails no second account.
            assert_refused(&sign_in_with(&app, "facebook").await, "unconfirmed");
            assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);

            let link = app.link_in_mail("blocked@example.test", "/users/confirm/").await;
            let (cookie, page) = app.open_link(&link).await;
            let confirmed = app.post_link_form(&page, &cookie, &[], None).await;
            assert_eq!(confirmed.status(), StatusCode::FOUND);
            assert_signed_in(&sign_in_with(&app, "facebook").await, "/dashboard");
        }
    })
    .await;
}

#[tokio::test]
async fn an_identity_whose_address_belongs_to_another_account_is_refused() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    each_engine(fake.settings("forge"), |app| {
        let fake = &fake;
        async move {
            fake.set(|b| {
                b.subject = format!("a-{}", uuid());
                b.email = Some("user-a@example.test".to_owned());
            });
            let mut browser = Browser::new(&app);
            let url = browser.start("forge", None).await;
            let callback = browser.through_provider(&url).await;
            assert_signed_in(&browser.callback(&callback).await, "/dashboard");
            app.register("user-b@example.test", CANARY_PASSWORD).await;

            fake.set(|b| b.email = Some("user-b@example.test".to_owned()));
            let mut browser = Browser::new(&app);
            let url = browser.start("forge", None).await;
            let callback = browser.through_provider(&url).await;
            assert_refused(&browser.callback(&callback).await, "oauth_failed");
            assert_eq!(failure_reasons(&app).await, ["email_mismatch"]);
        }
    })
    .await;
}

#[tokio::test]
async fn provider_tokens_are_sealed_at_rest_and_refreshed_when_expired() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    each_engine(fake.settings("forge"), |app| {
        let fake = &fake;
        async move {
            fake.set(|b| {
                b.subject = format!("tokens-{}", uuid());
                b.expires_in = Some(60);
                b.refresh_token = Some("fake-refresh-token-canary".to_owned());
            });
            let mut browser = Browser::new(&app);
            let url = browser.start("forge", None).await;
            let callback = browser.through_provider(&url).await;
            assert_signed_in(&browser.callback(&callback).await, "/dashboard");
            let stored = texts(
                &app,
                "SELECT access_token_sealed || ' ' || refresh_token_sealed FROM user_identities",
            )
            .await;
            assert!(
                !stored[0].contains("fake-access-token")
                    && !stored[0].contains("fake-refresh-token"),
                "{stored:?}"
            );

            let current = match app
                .sigra
                .sessions()
                .authenticate_session(
                    &sigra::crypto::PresentedToken::parse(
                        browser.cookie("__Host-sigra_session").expect("session"),
                    )
                    .expect("token"),
                )
                .await
                .expect("check")
            {
                sigra::sessions::SessionCheck::Active(current, _) => current,
                other => panic!("{other:?}"),
            };
            let request = sigra::request::RequestContext::command("test");
            let refreshes = || {
                fake.state
                    .refreshes
                    .load(std::sync::atomic::Ordering::SeqCst)
            };
            let before = refreshes();
            let first = app
                .sigra
                .oauth()
                .access_token(&current, "forge", &request)
                .await
                .expect("token");
            assert!(first.starts_with("fake-access-token-"));
            assert_eq!(refreshes(), before, "a live token is used as it is");
            app.advance(Duration::from_secs(120));
            let refreshed = app
                .sigra
                .oauth()
                .access_token(&current, "forge", &request)
                .await
                .expect("token");
            assert_ne!(*refreshed, *first, "an expired token is refreshed");
            assert_eq!(refreshes(), before + 1);
            let again = app
                .sigra
                .oauth()
                .access_token(&current, "forge", &request)
                .await
                .expect("token");
            assert_eq!(*again, *refreshed, "and stored");
        }
    })
    .await;
}

#[tokio::test]
async fn linking_needs_sudo_mails_the_owner_and_refuses_an_identity_of_another_account() {
    each_engine(op_settings(), |app| async move {
        // Someone else's account already has the provider identity `shared`.
        let mut other = Browser::new(&app);
        assert_signed_in(&other.sign_in_with_op("shared").await, "/dashboard");

        let cookie = app.signed_in("linker@example.test").await;
        let mut browser = Browser::new(&app);
        browser.jar.insert(
            "__Host-sigra_session".to_owned(),
            cookie
                .trim_start_matches("__Host-sigra_session=")
                .to_owned(),
        );
        let without = browser
            .post(
                "/auth/oidc",
                "/users/settings/accounts",
                &[("intent", "link")],
            )
            .await;
        assert_eq!(
            location(&without),
            "/users/sudo?return_to=/users/settings/accounts"
        );
        // A cross-site form cannot start it.
        let forged = app
            .post_form_with(
                "/auth/oidc",
                "/",
                &[("intent", "link")],
                Some(&browser.cookies()),
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);

        browser.enter_sudo("/users/settings/accounts").await;
        let started = browser
            .post(
                "/auth/oidc",
                "/users/settings/accounts",
                &[("intent", "link")],
            )
            .await;
        let callback = browser
            .through_provider(&with_query(&location(&started), "login_hint", "shared"))
            .await;
        assert_refused(&browser.callback(&callback).await, "oauth_failed");
        assert_eq!(failure_reasons(&app).await, ["identity_linked_elsewhere"]);

        browser.forget_provider_session();
        let started = browser
            .post(
                "/auth/oidc",
                "/users/settings/accounts",
                &[("intent", "link")],
            )
            .await;
        let callback = browser
            .through_provider(&with_query(
                &location(&started),
                "login_hint",
                "linker-at-op",
            ))
            .await;
        assert_eq!(
            location(&browser.callback(&callback).await),
            "/users/settings/accounts"
        );
        let mail = app.mailbox("linker@example.test").await;
        assert!(mail
            .iter()
            .any(|m| m.subject == "Test OP was linked to your account"
                || m.subject.contains("was linked")));
        assert_eq!(app.count("SELECT COUNT(*) FROM user_identities").await, 2);
    })
    .await;
}

#[tokio::test]
async fn an_unknown_provider_is_a_404_and_buttons_show_only_configured_providers() {
    each_engine(op_settings(), |app| async move {
        assert_eq!(
            app.get("/auth/myspace", None).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/auth/myspace/callback?state=x&code=y", None)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let page = app
            .get("/users/log-in", None)
            .await
            .text()
            .await
            .expect("page");
        assert!(
            page.contains(r#"href="/auth/oidc""#),
            "the configured provider's button"
        );
        assert!(
            !page.contains("/auth/google"),
            "no button for what is not configured"
        );
    })
    .await;
    // Without providers, no buttons at all.
    let app = TestApp::spawn(Engine::Sqlite).await;
    let page = app
        .get("/users/log-in", None)
        .await
        .text()
        .await
        .expect("page");
    assert!(!page.contains("data-testid=\"providers\""));
}

#[tokio::test]
async fn password_log_in_to_an_account_without_a_password_answers_as_a_wrong_password() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        assert_signed_in(&browser.sign_in_with_op("passwordless").await, "/dashboard");
        let no_password = app.log_in("passwordless@example.test", CANARY_PASSWORD, false).await;
        let unknown = app.log_in("nobody-here@example.test", CANARY_PASSWORD, false).await;
        assert_eq!(no_password.status(), unknown.status());
        assert_eq!(location(&no_password), location(&unknown));
        assert!(session_cookie(&no_password).is_none());
        let reasons = texts(&app, "SELECT metadata FROM audit_events WHERE action = 'auth.login.failure' ORDER BY occurred_at, id").await;
        assert!(reasons[0].contains("no_password"), "{reasons:?}");
    })
    .await;
}

#[tokio::test]
async fn a_reset_mail_to_a_provider_account_says_how_it_signs_in() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        assert_signed_in(&browser.sign_in_with_op("forgetful").await, "/dashboard");
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "forgetful@example.test")],
            None,
        )
        .await;
        let mail = app.mailbox("forgetful@example.test").await;
        let reset = mail
            .iter()
            .find(|m| m.subject == "Reset your password")
            .expect("a reset mail");
        assert!(
            reset
                .text
                .contains("Your account has no password: it logs in with oidc."),
            "{}",
            reset.text
        );
    })
    .await;
}

#[tokio::test]
async fn a_cross_site_post_to_a_provider_that_does_not_post_is_refused() {
    each_engine(op_settings(), |app| async move {
        let mut browser = Browser::new(&app);
        let url = browser.start("oidc", None).await;
        let callback = browser
            .through_provider(&with_query(&url, "login_hint", "poster"))
            .await;
        let state = query_param(&callback, "state").expect("state");
        let code = query_param(&callback, "code").expect("code");
        let posted = app
            .post_form_with(
                "/auth/oidc/callback",
                "/",
                &[("state", &state), ("code", &code)],
                None,
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(location(&posted), "/users/oauth/error?code=oauth_failed");
        assert_eq!(failure_reasons(&app).await, ["not_form_post"]);
        // The real answer, in the browser that started, still works.
        assert_signed_in(&browser.callback(&callback).await, "/dashboard");
        // Elsewhere, a cross-site POST is refused as before.
        let forged = app
            .post_form_with(
                "/users/log-out",
                "/",
                &[],
                Some(&browser.cookies()),
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn rotating_the_encryption_keys_re_seals_provider_tokens() {
    let fake = FakeProvider::start(Flavour::OpenId, "forge-rp").await;
    let old_key = sigra::crypto::SecretKey::generate_text();
    let new_key = sigra::crypto::SecretKey::generate_text();
    let mut env = fake.settings("forge");
    env.push(("SIGRA_MFA_ENCRYPTION_KEYS", format!("old:{old_key}")));
    each_engine(env.clone(), |app| {
        let (fake, env, old_key, new_key) = (&fake, env.clone(), old_key.clone(), new_key.clone());
        async move {
            fake.set(|b| b.subject = format!("keys-{}", uuid()));
            let mut browser = Browser::new(&app);
            let url = browser.start("forge", None).await;
            let callback = browser.through_provider(&url).await;
            assert_signed_in(&browser.callback(&callback).await, "/dashboard");
            let with_keys = |keys: String| {
                let mut settings: Vec<(&str, &str)> = env
                    .iter()
                    .filter(|(k, _)| *k != "SIGRA_MFA_ENCRYPTION_KEYS")
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect();
                settings.push(("SIGRA_MFA_ENCRYPTION_KEYS", &keys));
                let config = sigra::testing::config_with(app.database_url(), &settings);
                sigra::Sigra::builder(config, std::sync::Arc::new(app::emails::Templates))
                    .clock(std::sync::Arc::new(app.clock.clone()))
                    .with_db(app.sigra.db().clone())
                    .expect("core")
            };
            let request = sigra::request::RequestContext::command("test");
            let moved = with_keys(format!("new:{new_key},old:{old_key}"))
                .mfa()
                .rotate_mfa_keys(&request)
                .await
                .expect("rotate");
            assert_eq!(moved, 1, "the identity's tokens moved");
            assert_eq!(
                texts(&app, "SELECT key_id FROM user_identities").await,
                ["new"]
            );

            // A process that knows only the new key still opens them.
            let only_new = with_keys(format!("new:{new_key}"));
            let token = sigra::crypto::PresentedToken::parse(
                browser.cookie("__Host-sigra_session").expect("session"),
            )
            .expect("token");
            let sigra::sessions::SessionCheck::Active(current, _) = only_new
                .sessions()
                .authenticate_session(&token)
                .await
                .expect("check")
            else {
                panic!("a live session");
            };
            let access = only_new
                .oauth()
                .access_token(&current, "forge", &request)
                .await
                .expect("opens");
            assert!(access.starts_with("fake-access-token-"));
        }
    })
    .await;
}

/// Opens Apple's authorization page and posts its answer back as Apple's page does: a
/// cross-site POST with no cookie of ours.
async fn apple_post(app: &TestApp, authorize: &str) -> reqwest::Response {
    let page = reqwest::get(authorize)
        .await
        .expect("apple")
        .text()
        .await
        .expect("page");
    let fields = posted_fields(&page);
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form_with(
        "/auth/apple/callback",
        "/",
        &form,
        None,
        &[("sec-fetch-site", "cross-site")],
    )
    .await
}

fn uuid() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[tokio::test]
async fn the_authorization_transaction_lives_fifteen_minutes() {
    each_engine(op_settings(), |app| async move {
        // Both browsers go through the provider now; they come back to the app later.
        let mut in_time = Browser::new(&app);
        let url = in_time.start("oidc", None).await;
        let in_time_callback = in_time
            .through_provider(&with_query(&url, "login_hint", "in-time"))
            .await;
        let mut late = Browser::new(&app);
        let url = late.start("oidc", None).await;
        let late_callback = late
            .through_provider(&with_query(&url, "login_hint", "late"))
            .await;

        app.advance(Duration::from_secs(15 * 60 - 1));
        assert_signed_in(&in_time.callback(&in_time_callback).await, "/dashboard");
        app.advance(Duration::from_secs(2));
        assert_refused(&late.callback(&late_callback).await, "oauth_failed");
        assert_eq!(failure_reasons(&app).await, ["expired"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM user_sessions").await, 1);
    })
    .await;
}

/// Logs in as `owner` in `browser`, then confirms the waiting link: whether it was linked.
async fn prove_and_link(owner: &str, mut browser: Browser<'_>) -> bool {
    let form = [
        ("email", owner),
        ("password", CANARY_PASSWORD),
        ("return_to", "/users/oauth/link"),
    ];
    let logged_in = browser.post("/users/log-in", "/users/log-in", &form).await;
    assert!(session_cookie(&logged_in).is_some(), "{owner} logs in");
    let linked = browser
        .post("/users/oauth/link/confirm", "/users/oauth/link", &[])
        .await;
    location(&linked) == "/users/settings/accounts"
}

#[tokio::test]
async fn a_pending_link_waits_fifteen_minutes() {
    each_engine(op_settings(), |app| async move {
        let mut browsers = Vec::new();
        for owner in ["prompt@example.test", "slow@example.test"] {
            app.register(owner, CANARY_PASSWORD).await;
            execute(
                &app,
                &format!("UPDATE users SET confirmed_at = 1 WHERE email = '{owner}'"),
            )
            .await;
            let mut browser = Browser::new(&app);
            let answer = browser.sign_in_with_op(owner).await;
            assert_eq!(location(&answer), "/users/oauth/link", "{owner} waits");
            browsers.push((owner, browser));
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM oauth_pending").await, 2);
        // The owner logs in here and links: a second before the end, and a second after.
        let (late_owner, late_browser) = browsers.pop().expect("two");
        let (owner, browser) = browsers.pop().expect("two");
        app.advance(Duration::from_secs(15 * 60 - 1));
        assert!(prove_and_link(owner, browser).await, "linked in time");
        app.advance(Duration::from_secs(2));
        assert!(
            !prove_and_link(late_owner, late_browser).await,
            "too late to link"
        );
        assert_eq!(
            texts(
                &app,
                "SELECT u.email FROM user_identities i JOIN users u ON u.id = i.user_id"
            )
            .await,
            ["prompt@example.test"]
        );
    })
    .await;
}

#[tokio::test]
async fn starts_are_limited_per_client_address() {
    let mut env = op_settings();
    env.push(("SIGRA_RATE_LIMIT_AUTH_LIMIT", "3".to_owned()));
    each_engine(env, |app| async move {
        for _ in 0..3 {
            let response = app.get("/auth/oidc", None).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
        }
        let limited = app.get("/auth/oidc", None).await;
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(limited.headers().contains_key("retry-after"));
        assert_eq!(
            app.count("SELECT COUNT(*) FROM oauth_transactions").await,
            3,
            "the refused start stored nothing"
        );
    })
    .await;
}
