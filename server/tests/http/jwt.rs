//! JWT access tokens, refresh families and the API log-in (security.md J1–J10): a hostile
//! token corpus, refresh rotation with reuse detection under a race, the family's absolute
//! lifetime, the token epoch, key rotation and the JWKS, and the MFA step of the log-in.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::mfa::{enrol, next_code, pyotp_code};
use crate::passkeys::register;
use server::testing::{on_each_engine, on_each_engine_with, Setup, TestApp, CANARY_PASSWORD};

const MINUTE: Duration = Duration::from_secs(60);

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn part(value: &Value) -> String {
    b64(value.to_string().as_bytes())
}

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap_or_default()
}

/// Registers an account and logs an API client in: the token response.
async fn api_client(app: &TestApp, email: &str) -> Value {
    app.register(email, CANARY_PASSWORD).await;
    let (status, tokens) = app.api_log_in(email, CANARY_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.api(Method::GET, "/api/v1/me", Some(token), None)
        .await
        .status()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.api(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({ "refresh_token": refresh_token })),
    )
    .await
}

/// Claims the app would issue for `sub`, at the app's now.
fn claims_for(app: &TestApp, sub: &str) -> Value {
    let now = app.sigra.now().as_millis() / 1000;
    json!({
        "iss": "http://localhost:3000", "sub": sub, "aud": "http://localhost:3000/api/v1",
        "exp": now + 600, "iat": now, "nbf": now,
        "jti": "0192f3a47b1c7d2e8f90a1b2c3d4e5f6", "scope": "profile:read", "epoch": 0,
    })
}

#[tokio::test]
async fn a_password_log_in_gets_an_eddsa_access_token_and_an_opaque_refresh_token() {
    on_each_engine(|app: TestApp| async move {
        let tokens = api_client(&app, "client@example.com").await;
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["expires_in"], 900);
        let access = tokens["access_token"].as_str().expect("access");
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD.decode(access.split('.').next().expect("header")).expect("b64"),
        )
        .expect("json");
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["typ"], "at+jwt");
        let kid = header["kid"].as_str().expect("kid");
        let jwks = app.api(Method::GET, "/.well-known/jwks.json", None, None).await;
        assert!(jwks
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("max-age=300")));
        let jwks = body(jwks).await;
        assert_eq!(jwks["keys"][0]["kid"], kid);
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
        assert!(jwks["keys"][0].get("d").is_none(), "never the private half");
        let me = body(app.api(Method::GET, "/api/v1/me", Some(access), None).await).await;
        assert_eq!(me["credential"], "access_token");
        let refresh_token = tokens["refresh_token"].as_str().expect("refresh");
        assert_eq!(refresh_token.len(), 43);
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM jwt_refresh_tokens WHERE token_hash = '{refresh_token}'")).await,
            0,
            "refresh tokens are stored hashed"
        );
        assert_eq!(me_status(&app, refresh_token).await, StatusCode::UNAUTHORIZED, "a refresh token is no bearer");
        let success = app
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.success' AND metadata LIKE '%\"client\":\"api\"%'")
            .await;
        assert_eq!(success, 1);
    })
    .await;
}

#[tokio::test]
async fn the_hostile_token_corpus_is_refused_with_401() {
    on_each_engine(|app: TestApp| async move {
        let tokens = api_client(&app, "corpus@example.com").await;
        let access = tokens["access_token"].as_str().expect("access").to_owned();
        assert_eq!(
            me_status(&app, &access).await,
            StatusCode::OK,
            "the control passes"
        );
        let sub = body(
            app.api(Method::GET, "/api/v1/me", Some(&access), None)
                .await,
        )
        .await["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let kid = app.sigra.jwt().signing_key_id().await.expect("kid");
        let jwks = body(
            app.api(Method::GET, "/.well-known/jwks.json", None, None)
                .await,
        )
        .await;
        let public_x = URL_SAFE_NO_PAD
            .decode(jwks["keys"][0]["x"].as_str().expect("x"))
            .expect("x");
        let claims = claims_for(&app, &sub);
        let signed = |header: Value, claims: Value| {
            let sigra = app.sigra.clone();
            async move {
                sigra
                    .jwt()
                    .sign_as_given(&header, &claims)
                    .await
                    .expect("signed")
            }
        };
        let real = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid});
        assert_eq!(
            me_status(&app, &signed(real.clone(), claims.clone()).await).await,
            StatusCode::OK,
            "forgery control"
        );

        // A listener for `jku`/`x5u`: any fetch would show up as a connection.
        let trap = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        trap.set_nonblocking(true).expect("nonblocking");
        let trap_url = format!("http://{}/keys", trap.local_addr().expect("addr"));

        let mut corpus: Vec<(String, String)> = Vec::new();
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = json!({"alg": alg, "typ": "at+jwt", "kid": kid});
            corpus.push((
                format!("alg {alg}, no signature"),
                format!("{}.{}.", part(&header), part(&claims)),
            ));
            corpus.push((
                format!("alg {alg}, junk signature"),
                format!("{}.{}.{}", part(&header), part(&claims), b64(b"x")),
            ));
        }
        for (label, secret) in [
            ("raw public key", public_x.clone()),
            ("public JWK", jwks["keys"][0].to_string().into_bytes()),
        ] {
            let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": kid});
            let input = format!("{}.{}", part(&header), part(&claims));
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret).expect("hmac");
            mac.update(input.as_bytes());
            corpus.push((
                format!("HS256 with the {label}"),
                format!("{input}.{}", b64(&mac.finalize().into_bytes())),
            ));
        }
        for alg in ["ES256", "RS256", "PS256"] {
            let token = signed(
                json!({"alg": alg, "typ": "at+jwt", "kid": kid}),
                claims.clone(),
            )
            .await;
            corpus.push((format!("{alg} header on the EdDSA key"), token));
        }
        for bad_kid in [
            "../../../../dev/null".to_owned(),
            "1' OR '1'='1".to_owned(),
            "0192f3a47b1c7d2e8f90a1b2c3d4e5f6".to_owned(),
            "k".repeat(10 * 1024),
        ] {
            let token = signed(
                json!({"alg": "EdDSA", "typ": "at+jwt", "kid": bad_kid}),
                claims.clone(),
            )
            .await;
            corpus.push((format!("kid {}", &bad_kid[..bad_kid.len().min(24)]), token));
        }
        for (member, value) in [
            ("jku", json!(trap_url)),
            ("x5u", json!(trap_url)),
            ("jwk", jwks["keys"][0].clone()),
            ("x5c", json!(["MIIB"])),
            ("crit", json!(["exp"])),
        ] {
            let mut header = real.clone();
            header[member] = value;
            corpus.push((
                format!("{member} header"),
                signed(header, claims.clone()).await,
            ));
        }
        let now = app.sigra.now().as_millis() / 1000;
        let mut claim_cases: Vec<(&str, Value)> = Vec::new();
        let mut expired = claims.clone();
        expired["exp"] = json!(now - 31);
        expired["iat"] = json!(now - 600);
        expired["nbf"] = json!(now - 600);
        claim_cases.push(("expired past the leeway", expired));
        let mut future = claims.clone();
        future["nbf"] = json!(now + 31);
        future["iat"] = json!(now + 31);
        future["exp"] = json!(now + 600);
        claim_cases.push(("not yet valid", future));
        let mut wrong_iss = claims.clone();
        wrong_iss["iss"] = json!("https://evil.example");
        claim_cases.push(("wrong iss", wrong_iss));
        let mut wrong_aud = claims.clone();
        wrong_aud["aud"] = json!("https://other.example/api");
        claim_cases.push(("wrong aud", wrong_aud));
        let mut no_exp = claims.clone();
        no_exp.as_object_mut().expect("object").remove("exp");
        claim_cases.push(("no exp", no_exp));
        let mut long = claims.clone();
        long["exp"] = json!(now + 365 * 86_400);
        claim_cases.push(("a year long", long));
        let mut stale = claims.clone();
        stale["epoch"] = json!(-1);
        claim_cases.push(("stale epoch", stale));
        let mut other_user = claims.clone();
        other_user["sub"] = json!("0192f3a4-7b1c-7d2e-8f90-a1b2c3d4e5f6");
        claim_cases.push(("unknown user", other_user));
        for (label, case) in claim_cases {
            corpus.push((label.to_owned(), signed(real.clone(), case).await));
        }
        for typ in ["JWT", "at+JWT", "id_token", "refresh+jwt"] {
            corpus.push((
                format!("typ {typ}"),
                signed(
                    json!({"alg": "EdDSA", "typ": typ, "kid": kid}),
                    claims.clone(),
                )
                .await,
            ));
        }
        corpus.push((
            "no typ".to_owned(),
            signed(json!({"alg": "EdDSA", "kid": kid}), claims.clone()).await,
        ));
        let good = signed(real.clone(), claims.clone()).await;
        corpus.push((
            "truncated signature".to_owned(),
            good[..good.len() - 4].to_owned(),
        ));
        corpus.push(("signature of another token".to_owned(), {
            let (input, _) = good.rsplit_once('.').expect("dot");
            let (_, other_signature) = access.rsplit_once('.').expect("dot");
            format!("{input}.{other_signature}")
        }));
        corpus.push(("four parts".to_owned(), format!("{good}.x")));
        corpus.push((
            "refresh token as access token".to_owned(),
            tokens["refresh_token"].as_str().expect("r").to_owned(),
        ));

        for (label, token) in &corpus {
            let response = app.api(Method::GET, "/api/v1/me", Some(token), None).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{label}");
        }
        assert!(
            trap.accept().is_err(),
            "no key was fetched from a token's URL"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_of_one_token_have_one_winner_and_the_reuse_revokes_the_family()
{
    on_each_engine(|app: TestApp| async move {
        let tokens = api_client(&app, "race@example.com").await;
        let original = tokens["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_owned();
        let attempts = (0..20).map(|_| refresh(&app, &original));
        let responses = futures::future::join_all(attempts).await;
        let mut winners = Vec::new();
        for response in responses {
            match response.status() {
                StatusCode::OK => winners.push(body(response).await),
                StatusCode::UNAUTHORIZED => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one refresh wins");
        let next = winners[0]["refresh_token"]
            .as_str()
            .expect("next")
            .to_owned();
        // The losers presented a superseded token: with no grace, that is reuse.
        assert_eq!(
            refresh(&app, &next).await.status(),
            StatusCode::UNAUTHORIZED,
            "the family is revoked"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'api.jwt_refresh_reuse'")
                .await,
            1,
            "one reuse row, however many losers"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM jwt_refresh_families WHERE revoked_at IS NOT NULL")
                .await,
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn within_the_reuse_grace_racing_refreshes_lose_quietly_and_a_later_replay_revokes_the_family(
) {
    on_each_engine_with(
        || Setup {
            env: vec![("SIGRA_JWT_REFRESH_REUSE_GRACE", "10s".to_owned())],
            ..Setup::default()
        },
        |app: TestApp| async move {
            let tokens = api_client(&app, "grace@example.com").await;
            let original = tokens["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned();
            let responses =
                futures::future::join_all((0..20).map(|_| refresh(&app, &original))).await;
            let ok: Vec<_> = responses
                .into_iter()
                .filter(|r| r.status() == StatusCode::OK)
                .collect();
            assert_eq!(ok.len(), 1);
            let next = body(ok.into_iter().next().expect("winner")).await["refresh_token"]
                .as_str()
                .expect("next")
                .to_owned();
            assert_eq!(
                app.count(
                    "SELECT COUNT(*) FROM audit_events WHERE action = 'api.jwt_refresh_reuse'"
                )
                .await,
                0
            );
            let after = refresh(&app, &next).await;
            assert_eq!(after.status(), StatusCode::OK, "the winner's family lives");
            let latest = body(after).await["refresh_token"]
                .as_str()
                .expect("latest")
                .to_owned();
            app.advance(Duration::from_secs(11));
            assert_eq!(
                refresh(&app, &original).await.status(),
                StatusCode::UNAUTHORIZED
            );
            assert_eq!(
                refresh(&app, &latest).await.status(),
                StatusCode::UNAUTHORIZED,
                "reuse revoked every descendant"
            );
            assert_eq!(
                app.count(
                    "SELECT COUNT(*) FROM audit_events WHERE action = 'api.jwt_refresh_reuse'"
                )
                .await,
                1
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_family_dies_at_its_absolute_lifetime_however_often_it_rotates() {
    on_each_engine_with(
        || Setup {
            env: vec![
                ("SIGRA_JWT_FAMILY_LIFETIME", "2h".to_owned()),
                ("SIGRA_JWT_REFRESH_TTL", "1h".to_owned()),
            ],
            ..Setup::default()
        },
        |app: TestApp| async move {
            let tokens = api_client(&app, "family@example.com").await;
            let mut current = tokens["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned();
            for _ in 0..2 {
                app.advance(50 * MINUTE);
                let response = refresh(&app, &current).await;
                assert_eq!(response.status(), StatusCode::OK);
                current = body(response).await["refresh_token"]
                    .as_str()
                    .expect("next")
                    .to_owned();
            }
            app.advance(21 * MINUTE);
            assert_eq!(
                refresh(&app, &current).await.status(),
                StatusCode::UNAUTHORIZED,
                "past two hours"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_password_change_or_signing_out_everywhere_ends_every_jwt_and_refresh_family() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("epoch@example.com").await;
        let (_, tokens) = app.api_log_in("epoch@example.com", CANARY_PASSWORD).await;
        let access = tokens["access_token"].as_str().expect("access").to_owned();
        let api_token = app
            .create_api_token(&mut cookie, "survivor", &["profile:read"])
            .await;
        assert_eq!(me_status(&app, &access).await, StatusCode::OK);
        let changed = app
            .post_form(
                "/users/settings/password",
                "/users/settings/password",
                &[
                    ("current_password", CANARY_PASSWORD),
                    ("new_password", "a different passphrase of length"),
                ],
                Some(&cookie),
            )
            .await;
        assert!(changed.status().is_redirection(), "{}", changed.status());
        let cookie = server::testing::session_cookie(&changed)
            .expect("a password change moves the session token");
        assert_eq!(
            me_status(&app, &access).await,
            StatusCode::UNAUTHORIZED,
            "the epoch moved"
        );
        let refreshed = refresh(&app, tokens["refresh_token"].as_str().expect("r")).await;
        assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            me_status(&app, &api_token).await,
            StatusCode::OK,
            "personal tokens are revoked by hand"
        );

        let (_, again) = app
            .api_log_in("epoch@example.com", "a different passphrase of length")
            .await;
        let access = again["access_token"].as_str().expect("access").to_owned();
        let sudo = app
            .post_form(
                "/users/sudo",
                "/users/sudo",
                &[
                    ("password", "a different passphrase of length"),
                    ("return_to", "/users/sessions"),
                ],
                Some(&cookie),
            )
            .await;
        let cookie = server::testing::session_cookie(&sudo).expect("sudo moves the session token");
        let ended = app
            .post_form(
                "/users/sessions/revoke-others",
                "/users/sessions",
                &[],
                Some(&cookie),
            )
            .await;
        assert_eq!(server::testing::location(&ended), "/users/sessions");
        assert_eq!(
            me_status(&app, &access).await,
            StatusCode::UNAUTHORIZED,
            "log out everywhere"
        );
    })
    .await;
}

#[tokio::test]
async fn a_rotated_key_keeps_verifying_its_tokens_until_they_expire_then_leaves_the_jwks() {
    on_each_engine(|app: TestApp| async move {
        let tokens = api_client(&app, "rotate@example.com").await;
        let old_access = tokens["access_token"].as_str().expect("access").to_owned();
        let old_kid = app.sigra.jwt().signing_key_id().await.expect("kid");
        let new_kid = app
            .sigra
            .jwt()
            .rotate_keys(&sigra::request::RequestContext::command("test"))
            .await
            .expect("rotated");
        let jwks = body(
            app.api(Method::GET, "/.well-known/jwks.json", None, None)
                .await,
        )
        .await;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert!(
            kids.contains(&new_kid.as_str()) && kids.contains(&old_kid.as_str()),
            "published before it signs"
        );
        app.advance(MINUTE + Duration::from_secs(1));
        let refreshed =
            body(refresh(&app, tokens["refresh_token"].as_str().expect("r")).await).await;
        let new_access = refreshed["access_token"]
            .as_str()
            .expect("access")
            .to_owned();
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(new_access.split('.').next().expect("header"))
                .expect("b64"),
        )
        .expect("json");
        assert_eq!(
            header["kid"],
            new_kid.as_str(),
            "the new key signs once it is active"
        );
        assert_eq!(
            me_status(&app, &old_access).await,
            StatusCode::OK,
            "the overlap"
        );
        app.advance(15 * MINUTE + Duration::from_secs(31));
        assert_eq!(me_status(&app, &old_access).await, StatusCode::UNAUTHORIZED);
        let jwks = body(
            app.api(Method::GET, "/.well-known/jwks.json", None, None)
                .await,
        )
        .await;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert_eq!(kids, [new_kid.as_str()], "the rotated-out key is gone");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'api.jwt_keys_rotate'")
                .await,
            1
        );
    })
    .await;
}

/// The key ids a JWKS answer publishes.
async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks = body(
        app.api(Method::GET, "/.well-known/jwks.json", None, None)
            .await,
    )
    .await;
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn rotating_before_any_key_exists_makes_the_one_key_that_signs_at_once() {
    on_each_engine(|app: TestApp| async move {
        let kid = app
            .sigra
            .jwt()
            .rotate_keys(&sigra::request::RequestContext::command("test"))
            .await
            .expect("rotated");
        api_client(&app, "first-key@example.com").await;
        assert_eq!(app.sigra.jwt().signing_key_id().await.expect("kid"), kid);
        assert_eq!(published_kids(&app).await, [kid]);
        assert_eq!(app.count("SELECT COUNT(*) FROM jwt_signing_keys").await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_key_rotated_by_another_process_is_read_within_thirty_seconds() {
    let secret = sigra::crypto::SecretKey::generate_text();
    let setup = || Setup {
        env: vec![("SIGRA_SECRET_KEY", secret.clone())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| {
        let secret = secret.clone();
        async move {
            let first = published_kids(&app).await;
            assert_eq!(first.len(), 1, "the first key is made on first use");
            // Another server process (its own pool and core on the same database and secret)
            // rotates the keys, as `server rotate-jwt-keys` does.
            let config =
                sigra::testing::config_with(app.database_url(), &[("SIGRA_SECRET_KEY", &secret)]);
            let db = sigra::db::Db::connect(&config.database)
                .await
                .expect("connect");
            let other = sigra::Sigra::builder(config, std::sync::Arc::new(app::emails::Templates))
                .clock(std::sync::Arc::new(app.clock.clone()))
                .with_db(db)
                .expect("core");
            let new_kid = other
                .jwt()
                .rotate_keys(&sigra::request::RequestContext::command("test"))
                .await
                .expect("rotated");

            app.advance(Duration::from_secs(29));
            assert_eq!(published_kids(&app).await, first, "read at most every 30 s");
            app.advance(Duration::from_secs(1));
            let kids = published_kids(&app).await;
            assert!(
                kids.contains(&new_kid) && kids.contains(&first[0]),
                "30 s after its last read the process publishes the new key: {kids:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn an_account_with_a_second_factor_gets_an_mfa_token_and_no_tokens_until_the_code() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("apimfa@example.com").await;
        let (secret, backup_codes) = enrol(&app, &mut cookie).await;
        let (status, step) = app.api_log_in("apimfa@example.com", CANARY_PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(step["mfa_required"], true);
        assert!(step.get("access_token").is_none() && step.get("refresh_token").is_none());
        assert_eq!(
            app.count("SELECT COUNT(*) FROM jwt_refresh_families").await,
            0,
            "no tokens before the code"
        );
        let mfa_token = step["mfa_token"].as_str().expect("mfa token").to_owned();
        assert_eq!(
            me_status(&app, &mfa_token).await,
            StatusCode::UNAUTHORIZED,
            "an MFA token is no bearer"
        );
        let app = &app;
        let exchange = |code: String| {
            let token = mfa_token.clone();
            async move {
                app.api(
                    Method::POST,
                    "/api/v1/auth/mfa",
                    None,
                    Some(json!({"mfa_token": token, "code": code})),
                )
                .await
            }
        };
        let wrong = exchange("000000".to_owned()).await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        let done = exchange(next_code(app, &secret)).await;
        assert_eq!(done.status(), StatusCode::OK);
        let tokens = body(done).await;
        assert_eq!(
            me_status(app, tokens["access_token"].as_str().expect("access")).await,
            StatusCode::OK
        );
        let again = exchange(backup_codes[0].clone()).await;
        assert_eq!(
            again.status(),
            StatusCode::UNAUTHORIZED,
            "an MFA token is single use"
        );
    })
    .await;
}

#[tokio::test]
async fn wrong_codes_on_the_api_lock_the_same_second_factor_step_as_the_browser() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("apilock@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        let (_, step) = app.api_log_in("apilock@example.com", CANARY_PASSWORD).await;
        let mfa_token = step["mfa_token"].as_str().expect("mfa token").to_owned();
        let mut last = StatusCode::OK;
        for _ in 0..5 {
            last = app
                .api(
                    Method::POST,
                    "/api/v1/auth/mfa",
                    None,
                    Some(json!({"mfa_token": mfa_token, "code": "000000"})),
                )
                .await
                .status();
        }
        assert_eq!(
            last,
            StatusCode::TOO_MANY_REQUESTS,
            "the fifth wrong code locks"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.lockout'")
                .await,
            1
        );
        let right = app
            .api(
                Method::POST,
                "/api/v1/auth/mfa",
                None,
                Some(json!({"mfa_token": mfa_token, "code": next_code(&app, &secret)})),
            )
            .await;
        assert_eq!(
            right.status(),
            StatusCode::UNAUTHORIZED,
            "the lock ended the MFA token"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM jwt_refresh_families").await,
            0
        );
    })
    .await;
}

#[tokio::test]
async fn api_log_in_counts_toward_the_lockout_and_tells_nothing_about_accounts() {
    on_each_engine(|app: TestApp| async move {
        app.register("apilockout@example.com", CANARY_PASSWORD)
            .await;
        let (unknown_status, unknown) = app
            .api_log_in("nobody@example.com", "whatever it is here")
            .await;
        let (wrong_status, wrong) = app
            .api_log_in("apilockout@example.com", "whatever it is here")
            .await;
        assert_eq!(
            (unknown_status, wrong_status),
            (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            unknown, wrong,
            "one answer for an unknown email and a wrong password"
        );
        for _ in 0..4 {
            app.api_log_in("apilockout@example.com", "whatever it is here")
                .await;
        }
        let (status, _) = app
            .api_log_in("apilockout@example.com", CANARY_PASSWORD)
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "locked: even the right password is refused"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'security.lockout'")
                .await,
            1
        );
        assert!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.failure'")
                .await
                >= 6
        );
    })
    .await;
}

#[tokio::test]
async fn guest_api_posts_share_the_per_address_limit() {
    on_each_engine_with(
        || Setup {
            env: vec![("SIGRA_RATE_LIMIT_AUTH_LIMIT", "10".to_owned())],
            ..Setup::default()
        },
        |app: TestApp| async move {
            let mut statuses = Vec::new();
            for _ in 0..11 {
                let response = app
                    .api(
                        Method::POST,
                        "/api/v1/auth/refresh",
                        None,
                        Some(json!({"refresh_token": "x"})),
                    )
                    .await;
                statuses.push(response.status());
            }
            assert_eq!(statuses[9], StatusCode::UNAUTHORIZED);
            assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
        },
    )
    .await;
}

#[tokio::test]
async fn requested_scopes_limit_the_access_token() {
    on_each_engine(|app: TestApp| async move {
        app.register("narrow@example.com", CANARY_PASSWORD).await;
        let response = app
            .api(
                Method::POST,
                "/api/v1/auth/token",
                None,
                Some(json!({"grant_type": "password", "email": "narrow@example.com", "password": CANARY_PASSWORD, "scope": "sessions:read"})),
            )
            .await;
        let tokens = body(response).await;
        assert_eq!(tokens["scope"], "sessions:read");
        let access = tokens["access_token"].as_str().expect("access");
        assert_eq!(me_status(&app, access).await, StatusCode::FORBIDDEN);
        assert_eq!(app.api(Method::GET, "/api/v1/sessions", Some(access), None).await.status(), StatusCode::OK);
        let refreshed = body(refresh(&app, tokens["refresh_token"].as_str().expect("r")).await).await;
        assert_eq!(refreshed["scope"], "sessions:read", "a refresh keeps the family's scopes");
    })
    .await;
}

#[tokio::test]
async fn a_client_logging_out_ends_its_family() {
    on_each_engine(|app: TestApp| async move {
        let tokens = api_client(&app, "logout@example.com").await;
        let refresh_token = tokens["refresh_token"].as_str().expect("r");
        let response = app
            .api(
                Method::POST,
                "/api/v1/auth/revoke",
                None,
                Some(json!({"refresh_token": refresh_token})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            refresh(&app, refresh_token).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'api.jwt_revoke'")
                .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_passkey_logs_an_api_client_in_as_both_factors_and_its_answer_works_once() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("apipasskey@example.com").await;
        let mut passkey = register(&app, &mut cookie, "Key").await;
        enrol(&app, &mut cookie).await;
        let options = body(app.api(Method::POST, "/api/v1/auth/passkey/options", None, Some(json!({}))).await).await;
        let answer = passkey.get(&options["options"]);
        let grant = json!({"grant_type": "passkey", "ceremony": options["ceremony"], "response": answer});
        let response = app.api(Method::POST, "/api/v1/auth/token", None, Some(grant.clone())).await;
        assert_eq!(response.status(), StatusCode::OK);
        let tokens = body(response).await;
        assert!(tokens.get("mfa_required").is_none(), "a user-verified passkey is both factors");
        assert_eq!(me_status(&app, tokens["access_token"].as_str().expect("access")).await, StatusCode::OK);
        let replay = app.api(Method::POST, "/api/v1/auth/token", None, Some(grant)).await;
        assert!(replay.status().is_client_error(), "{}", replay.status());
        assert_eq!(app.count("SELECT COUNT(*) FROM jwt_refresh_families").await, 1);
        let rows = app
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.success' AND metadata LIKE '%\"method\":\"passkey\"%'")
            .await;
        assert_eq!(rows, 1);
    })
    .await;
}

#[tokio::test]
async fn es256_signs_when_configured_and_the_jwks_publishes_a_p256_key() {
    on_each_engine_with(
        || Setup {
            env: vec![("SIGRA_JWT_ALGORITHM", "ES256".to_owned())],
            ..Setup::default()
        },
        |app: TestApp| async move {
            let tokens = api_client(&app, "es256@example.com").await;
            let access = tokens["access_token"].as_str().expect("access");
            let header: Value = serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(access.split('.').next().expect("header"))
                    .expect("b64"),
            )
            .expect("json");
            assert_eq!(header["alg"], "ES256");
            let jwks = body(
                app.api(Method::GET, "/.well-known/jwks.json", None, None)
                    .await,
            )
            .await;
            assert_eq!(jwks["keys"][0]["crv"], "P-256");
            assert_eq!(me_status(&app, access).await, StatusCode::OK);
        },
    )
    .await;
}

/// A host's claims: a plan, and an attempt to overwrite a registered claim.
struct Plan;

impl sigra::jwt::CustomClaims for Plan {
    fn claims(
        &self,
        user: &sigra::users::User,
        _scopes: &sigra::api_tokens::Scopes,
    ) -> serde_json::Map<String, Value> {
        let mut claims = serde_json::Map::new();
        claims.insert("plan".to_owned(), json!("gold"));
        claims.insert("email".to_owned(), json!(user.email.to_string()));
        claims.insert("sub".to_owned(), json!("someone-else"));
        claims.insert("exp".to_owned(), json!(i64::MAX));
        claims
    }
}

#[tokio::test]
async fn a_hosts_custom_claims_ride_in_the_token_but_never_replace_the_cores() {
    on_each_engine_with(
        || Setup {
            claims: Some(std::sync::Arc::new(Plan)),
            ..Setup::default()
        },
        |app: TestApp| async move {
            let tokens = api_client(&app, "claims@example.com").await;
            let access = tokens["access_token"].as_str().expect("access");
            let claims: Value = serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(access.split('.').nth(1).expect("claims"))
                    .expect("b64"),
            )
            .expect("json");
            assert_eq!(claims["plan"], "gold");
            assert_eq!(claims["email"], "claims@example.com");
            assert_ne!(claims["sub"], "someone-else");
            assert!(claims["exp"].as_i64().is_some_and(|exp| exp < i64::MAX));
            let verified = app
                .sigra
                .jwt()
                .verify_access(access)
                .await
                .expect("verifies");
            assert_eq!(verified.claim("plan"), Some(&json!("gold")));
        },
    )
    .await;
}

#[tokio::test]
async fn a_retired_key_stays_until_the_next_rotation_deletes_it() {
    on_each_engine(|app: TestApp| async move {
        api_client(&app, "retire@example.com").await;
        let first = app.sigra.jwt().signing_key_id().await.expect("kid");
        let command = sigra::request::RequestContext::command("test");
        let second = app
            .sigra
            .jwt()
            .rotate_keys(&command)
            .await
            .expect("rotated");
        let stored = |kid: String| {
            let app = &app;
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM jwt_signing_keys WHERE id = $1")
                    .bind(kid)
                    .fetch_one(app.sigra.db().pool())
                    .await
                    .expect("count")
                    == 1
            }
        };
        // Past the overlap: the first key has retired (it left the JWKS) but is still stored.
        app.advance(MINUTE + 15 * MINUTE + Duration::from_secs(31));
        let jwks = body(
            app.api(Method::GET, "/.well-known/jwks.json", None, None)
                .await,
        )
        .await;
        assert!(!jwks.to_string().contains(&first), "retired: {jwks}");
        assert!(stored(first.clone()).await, "kept until the next rotation");

        let third = app
            .sigra
            .jwt()
            .rotate_keys(&command)
            .await
            .expect("rotated");
        assert!(!stored(first.clone()).await, "deleted by the next rotation");
        assert!(
            stored(second).await && stored(third).await,
            "the key retiring now and the new one stay"
        );
    })
    .await;
}

#[tokio::test]
async fn signing_keys_are_stored_with_the_private_half_sealed() {
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    // ES256, so the test can tell a P-256 private scalar from its public point.
    let setup = || Setup {
        env: vec![("SIGRA_JWT_ALGORITHM", "ES256".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let command = sigra::request::RequestContext::command("test");
        assert_eq!(
            app.get("/health", None).await.status(),
            StatusCode::OK,
            "the app is up"
        );
        app.sigra.jwt().rotate_keys(&command).await.expect("a key");
        let (sealed, jwk): (String, String) =
            sqlx::query_as("SELECT private_key_sealed, public_jwk FROM jwt_signing_keys")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("the key row");
        let jwk: Value = serde_json::from_str(&jwk).expect("jwk");
        assert!(jwk.get("d").is_none(), "the public JWK has no private part");
        let public = (
            jwk["x"].as_str().expect("x").to_owned(),
            jwk["y"].as_str().expect("y").to_owned(),
        );
        // Every way the column could hold the scalar in the clear: its bytes, base64 of either
        // alphabet, hex; any 32-byte run of them that is the scalar of the published key.
        let mut readings = vec![sealed.as_bytes().to_vec()];
        readings.extend(URL_SAFE_NO_PAD.decode(sealed.trim_end_matches('=')).ok());
        readings.extend(
            base64::engine::general_purpose::STANDARD
                .decode(&sealed)
                .ok(),
        );
        readings.extend(hex::decode(&sealed).ok());
        assert!(readings.len() > 1, "the column is some encoding: {sealed}");
        for bytes in &readings {
            for window in bytes.windows(32) {
                let Ok(secret) = p256::SecretKey::from_slice(window) else {
                    continue;
                };
                let point = secret.public_key().to_encoded_point(false);
                let shown = (b64(point.x().expect("x")), b64(point.y().expect("y")));
                assert_ne!(shown, public, "the private key is stored in the clear");
            }
        }
        assert!(!sealed.contains("PRIVATE KEY"));
    })
    .await;
}

#[tokio::test]
async fn the_mfa_step_answer_says_it_lives_five_minutes_and_it_does() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("mfattl@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        let exchange = |step: Value, code: String| {
            let app = &app;
            async move {
                app.api(
                    Method::POST,
                    "/api/v1/auth/mfa",
                    None,
                    Some(json!({ "mfa_token": step["mfa_token"], "code": code })),
                )
                .await
                .status()
            }
        };
        let (_, in_time) = app.api_log_in("mfattl@example.com", CANARY_PASSWORD).await;
        let (_, late) = app.api_log_in("mfattl@example.com", CANARY_PASSWORD).await;
        for step in [&in_time, &late] {
            assert_eq!(step["mfa_required"], true);
            assert_eq!(step["expires_in"], 300, "{step}");
        }
        app.advance(5 * MINUTE - Duration::from_secs(30));
        let code = pyotp_code(&app, &secret);
        assert_eq!(exchange(in_time, code).await, StatusCode::OK, "in time");
        app.advance(Duration::from_secs(31));
        let code = pyotp_code(&app, &secret);
        assert_eq!(
            exchange(late, code).await,
            StatusCode::UNAUTHORIZED,
            "five minutes and a second later"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM jwt_refresh_families").await,
            1,
            "only the exchange in time made tokens"
        );
    })
    .await;
}
