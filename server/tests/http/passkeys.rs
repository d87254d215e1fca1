//! Passkeys against a software authenticator written here (P-256, CBOR, "none" attestation):
//! registration under sudo, names from the AAGUID, passwordless log-in, the passkey as a second
//! factor, replayed and foreign answers, the limit, owner-scoped changes, and the three
//! sign-count policies with a cloned credential.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use reqwest::StatusCode;
use serde_cbor_2::Value as Cbor;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use server::testing::{
    location, on_each_engine, on_each_engine_with, session_cookie, Browser, Setup, TestApp,
    CANARY_PASSWORD,
};

const ORIGIN: &str = "http://localhost:3000";
const SECURITY: &str = "/users/settings/security";
/// Bitwarden's AAGUID: the passkey should be named after it.
const AAGUID: &str = "d548826e-79b4-db40-a3d8-11116f7e8349";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// One credential on a software authenticator. Cloning it is cloning the credential, counter
/// included: what a copied private key looks like to the server.
#[derive(Clone)]
pub(crate) struct SoftPasskey {
    key: SigningKey,
    credential_id: Vec<u8>,
    user_handle: String,
    counter: u32,
    /// Whether the authenticator says it verified the user (PIN, biometrics).
    verifies_user: bool,
    /// A synced passkey (iCloud Keychain, Google Password Manager): its counter stays 0.
    synced: bool,
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false })
        .to_string()
        .into_bytes()
}

fn rp_id_hash() -> Vec<u8> {
    Sha256::digest(b"localhost").to_vec()
}

impl SoftPasskey {
    /// Answers `navigator.credentials.create()` options: a new credential and its response.
    pub(crate) fn create(options: &Value) -> (Self, String) {
        let key = SigningKey::from_bytes(&sigra::crypto::random_bytes::<32>().into()).expect("key");
        let credential_id = sigra::crypto::random_bytes::<16>().to_vec();
        let point = key.verifying_key().to_encoded_point(false);
        let cose = Cbor::Map(BTreeMap::from([
            (Cbor::Integer(1), Cbor::Integer(2)),
            (Cbor::Integer(3), Cbor::Integer(-7)),
            (Cbor::Integer(-1), Cbor::Integer(1)),
            (
                Cbor::Integer(-2),
                Cbor::Bytes(point.x().expect("x").to_vec()),
            ),
            (
                Cbor::Integer(-3),
                Cbor::Bytes(point.y().expect("y").to_vec()),
            ),
        ]));
        let mut auth_data = rp_id_hash();
        auth_data.push(0x01 | 0x04 | 0x40); // user present, user verified, attested data
        auth_data.extend_from_slice(&0_u32.to_be_bytes());
        auth_data.extend_from_slice(uuid::Uuid::parse_str(AAGUID).expect("aaguid").as_bytes());
        auth_data.extend_from_slice(
            &u16::try_from(credential_id.len())
                .expect("len")
                .to_be_bytes(),
        );
        auth_data.extend_from_slice(&credential_id);
        auth_data.extend(serde_cbor_2::to_vec(&cose).expect("cose"));
        let attestation = Cbor::Map(BTreeMap::from([
            (Cbor::Text("fmt".to_owned()), Cbor::Text("none".to_owned())),
            (Cbor::Text("attStmt".to_owned()), Cbor::Map(BTreeMap::new())),
            (Cbor::Text("authData".to_owned()), Cbor::Bytes(auth_data)),
        ]));
        let challenge = options["challenge"].as_str().expect("challenge");
        let response = json!({
            "id": b64(&credential_id),
            "rawId": b64(&credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&serde_cbor_2::to_vec(&attestation).expect("cbor")),
                "clientDataJSON": b64(&client_data("webauthn.create", challenge, ORIGIN)),
            },
            "extensions": {},
        });
        let passkey = Self {
            key,
            credential_id,
            user_handle: options["user"]["id"].as_str().expect("user id").to_owned(),
            counter: 0,
            verifies_user: true,
            synced: false,
        };
        (passkey, response.to_string())
    }

    /// Answers `navigator.credentials.get()` options from `origin`, counting the use.
    fn get_from(&mut self, options: &Value, origin: &str) -> String {
        if !self.synced {
            self.counter += 1;
        }
        let mut auth_data = rp_id_hash();
        auth_data.push(if self.verifies_user {
            0x01 | 0x04
        } else {
            0x01
        });
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        let challenge = options["challenge"].as_str().expect("challenge");
        let client_data = client_data("webauthn.get", challenge, origin);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": self.user_handle,
            },
            "extensions": {},
        })
        .to_string()
    }

    pub(crate) fn get(&mut self, options: &Value) -> String {
        self.get_from(options, ORIGIN)
    }
}

/// A started ceremony: its id and its options.
pub(crate) async fn start(app: &Browser, path: &str, cookie: Option<&str>) -> (String, Value) {
    let response = app.call_json(path, &[], cookie).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let body: Value = response.json().await.expect("json");
    let options =
        serde_json::from_str(body["options"].as_str().expect("options")).expect("options json");
    (
        body["ceremony"].as_str().expect("ceremony").to_owned(),
        options,
    )
}

/// Registers a passkey for the signed-in `cookie` (entering sudo first).
pub(crate) async fn register(app: &TestApp, cookie: &mut String, name: &str) -> SoftPasskey {
    app.enter_sudo(cookie, SECURITY).await;
    let (ceremony, options) =
        start(app, "/users/settings/security/passkey-start", Some(cookie)).await;
    assert_eq!(options["rp"]["id"], "localhost");
    let (passkey, response) = SoftPasskey::create(&options);
    let finished = app
        .call_json(
            "/users/settings/security/passkey-finish",
            &[
                ("ceremony", &ceremony),
                ("response", &response),
                ("name", name),
            ],
            Some(cookie),
        )
        .await;
    assert_eq!(finished.status(), StatusCode::OK);
    passkey
}

/// A passwordless log-in: the status, and the session cookie if one was set.
async fn log_in(app: &TestApp, passkey: &mut SoftPasskey) -> (StatusCode, Option<String>) {
    let (ceremony, options) = start(app, "/users/log-in/passkey-start", None).await;
    let response = passkey.get(&options);
    answer_log_in(app, &ceremony, &response).await
}

pub(crate) async fn answer_log_in(
    app: &Browser,
    ceremony: &str,
    response: &str,
) -> (StatusCode, Option<String>) {
    let answer = app
        .call_json(
            "/users/log-in/passkey",
            &[("ceremony", ceremony), ("response", response)],
            None,
        )
        .await;
    (answer.status(), session_cookie(&answer))
}

async fn list(app: &TestApp, cookie: &str) -> Vec<Value> {
    let response = app
        .call_json("/api/account/passkeys", &[], Some(cookie))
        .await;
    let mut view: Value = response.json().await.expect("json");
    serde_json::from_value(view["passkeys"].take()).expect("a list")
}

#[tokio::test]
async fn register_a_passkey_and_log_in_with_it_without_a_password() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("passkey@example.com").await;
        let mut passkey = register(&app, &mut cookie, "").await;
        let listed = list(&app, &cookie).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["name"], "Bitwarden", "named after its AAGUID");
        let mail = app.mailbox("passkey@example.com").await;
        assert_eq!(mail[0].subject, "A passkey was added to your account");

        let (status, session) = log_in(&app, &mut passkey).await;
        assert_eq!(status, StatusCode::OK);
        let session = session.expect("a session");
        assert_eq!(app.me(&session).await, StatusCode::OK);
        assert_eq!(
            app.count("SELECT sign_count FROM user_passkeys").await,
            1,
            "the new counter is stored"
        );
        assert!(list(&app, &session).await[0]["last_used_at"].is_string());
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.success' AND metadata LIKE '%passkey%'")
                .await,
            1
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'passkey.register.success'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM webauthn_ceremonies").await, 0, "ceremonies are spent");
    })
    .await;
}

#[tokio::test]
async fn replayed_foreign_and_stale_answers_are_refused() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("replay@example.com").await;
        let mut passkey = register(&app, &mut cookie, "Laptop").await;

        let (ceremony, options) = start(&app, "/users/log-in/passkey-start", None).await;
        let answer = passkey.get(&options);
        assert_eq!(answer_log_in(&app, &ceremony, &answer).await.0, StatusCode::OK);
        assert_eq!(answer_log_in(&app, &ceremony, &answer).await.0, StatusCode::BAD_REQUEST, "the same ceremony twice");
        let (fresh, _) = start(&app, "/users/log-in/passkey-start", None).await;
        assert_eq!(
            answer_log_in(&app, &fresh, &answer).await.0,
            StatusCode::BAD_REQUEST,
            "an old answer to a new challenge"
        );

        let (ceremony, options) = start(&app, "/users/log-in/passkey-start", None).await;
        let phished = passkey.get_from(&options, "https://evil.example");
        assert_eq!(answer_log_in(&app, &ceremony, &phished).await.0, StatusCode::BAD_REQUEST, "another origin");

        let (ceremony, options) = start(&app, "/users/log-in/passkey-start", None).await;
        let late = passkey.get(&options);
        app.advance(std::time::Duration::from_secs(5 * 60));
        assert_eq!(answer_log_in(&app, &ceremony, &late).await.0, StatusCode::BAD_REQUEST, "expired");

        let mut unverified = passkey.clone();
        unverified.verifies_user = false;
        let (ceremony, options) = start(&app, "/users/log-in/passkey-start", None).await;
        let presence_only = unverified.get(&options);
        assert_eq!(
            answer_log_in(&app, &ceremony, &presence_only).await.0,
            StatusCode::BAD_REQUEST,
            "user verification is required"
        );

        let (ceremony, _) = start(&app, "/users/log-in/passkey-start", None).await;
        assert_eq!(answer_log_in(&app, &ceremony, "{not json").await.0, StatusCode::BAD_REQUEST);
        let mut stranger = passkey.clone();
        stranger.key = SigningKey::from_bytes(&sigra::crypto::random_bytes::<32>().into()).expect("key");
        let (ceremony, options) = start(&app, "/users/log-in/passkey-start", None).await;
        let forged = stranger.get(&options);
        assert_eq!(answer_log_in(&app, &ceremony, &forged).await.0, StatusCode::BAD_REQUEST, "a wrong key");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.failure' AND metadata LIKE '%passkey_rejected%'")
                .await,
            7,
            "one row for each of the seven refusals above"
        );
    })
    .await;
}

fn policy(name: &'static str) -> impl Fn() -> Setup {
    move || Setup {
        env: vec![("SIGRA_PASSKEYS_SIGN_COUNT_POLICY", name.to_owned())],
        ..Setup::default()
    }
}

/// Logs in with `original` twice, then with a clone made before those uses (its counter is
/// behind): the answer to the clone's log-in.
async fn clone_behind(app: &TestApp, email: &str) -> (StatusCode, Option<String>) {
    let mut cookie = app.signed_in(email).await;
    let mut original = register(app, &mut cookie, "Phone").await;
    let mut clone = original.clone();
    assert_eq!(log_in(app, &mut original).await.0, StatusCode::OK);
    assert_eq!(log_in(app, &mut original).await.0, StatusCode::OK);
    log_in(app, &mut clone).await
}

#[tokio::test]
async fn a_cloned_passkey_is_let_in_and_recorded_under_the_warn_policy() {
    on_each_engine_with(policy("warn"), |app: TestApp| async move {
        let (status, session) = clone_behind(&app, "warn@example.com").await;
        assert_eq!(status, StatusCode::OK);
        assert!(session.is_some());
        assert_eq!(
            app.count("SELECT sign_count FROM user_passkeys").await,
            2,
            "the higher count is kept"
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'passkey.sign_count_regression'"
            )
            .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_synced_passkey_reporting_a_counter_of_zero_logs_in_every_time_under_the_default_policy()
{
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("synced@example.com").await;
        let mut passkey = register(&app, &mut cookie, "Phone").await;
        passkey.synced = true;
        for use_ in 1..=3 {
            let (status, session) = log_in(&app, &mut passkey).await;
            assert_eq!(status, StatusCode::OK, "use {use_}");
            assert_eq!(
                app.me(&session.expect("a session")).await,
                StatusCode::OK,
                "use {use_}"
            );
        }
        assert_eq!(
            app.count("SELECT sign_count FROM user_passkeys").await,
            0,
            "the counter stays 0"
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'passkey.sign_count_regression'"
            )
            .await,
            0,
            "never a regression"
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.success' \
                 AND metadata LIKE '%passkey%'"
            )
            .await,
            3
        );
    })
    .await;
}

#[tokio::test]
async fn a_cloned_passkey_is_refused_under_the_default_require_reauth_policy() {
    on_each_engine(|app: TestApp| async move {
        let (status, session) = clone_behind(&app, "reauth@example.com").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(session.is_none());
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_passkeys").await,
            1,
            "kept"
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'passkey.sign_count_regression'"
            )
            .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_cloned_passkey_is_deleted_under_the_revoke_policy() {
    on_each_engine_with(policy("revoke"), |app: TestApp| async move {
        let (status, _) = clone_behind(&app, "revoke@example.com").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_passkeys").await,
            0,
            "revoked"
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'passkey.sign_count_regression'"
            )
            .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_passkey_is_a_second_factor_after_the_password() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("second@example.com").await;
        let mut passkey = register(&app, &mut cookie, "Key").await;
        let response = app
            .log_in("second@example.com", CANARY_PASSWORD, false)
            .await;
        assert!(
            location(&response).starts_with("/users/mfa"),
            "a passkey makes the password not enough"
        );
        let pending = session_cookie(&response).expect("pending");
        let (ceremony, options) = start(&app, "/users/mfa/passkey-start", Some(&pending)).await;
        assert!(options["allowCredentials"]
            .as_array()
            .is_some_and(|c| c.len() == 1));
        let answer = passkey.get(&options);
        let done = app
            .call_json(
                "/users/mfa/passkey",
                &[
                    ("ceremony", &ceremony),
                    ("response", &answer),
                    ("return_to", "/users/sessions"),
                ],
                Some(&pending),
            )
            .await;
        assert_eq!(done.status(), StatusCode::OK);
        let session = session_cookie(&done).expect("a full session");
        let target: Value = done.json().await.expect("json");
        assert_eq!(target, "/users/sessions");
        assert_eq!(app.me(&session).await, StatusCode::OK);

        // Without a pending log-in there is nothing to start.
        let refused = app.call_json("/users/mfa/passkey-start", &[], None).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn registration_needs_sudo_and_stops_at_the_limit() {
    let setup = || Setup {
        env: vec![("SIGRA_PASSKEYS_MAX_PER_USER", "2".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        assert_eq!(
            app.call_json("/users/settings/security/passkey-start", &[], None)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
        let mut cookie = app.signed_in("limit@example.com").await;
        assert_eq!(
            app.call_json("/users/settings/security/passkey-start", &[], Some(&cookie))
                .await
                .status(),
            StatusCode::FORBIDDEN,
            "sudo first"
        );
        register(&app, &mut cookie, "One").await;
        register(&app, &mut cookie, "Two").await;
        let third = app
            .call_json("/users/settings/security/passkey-start", &[], Some(&cookie))
            .await;
        assert_eq!(third.status(), StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

#[tokio::test]
async fn renaming_and_deleting_touch_only_your_own_passkeys() {
    on_each_engine(|app: TestApp| async move {
        let mut owner = app.signed_in("owner@example.com").await;
        register(&app, &mut owner, "Mine").await;
        // A second one, so removing the first leaves a second factor (the last one needs a
        // passkey's answer: see the next test).
        register(&app, &mut owner, "Spare").await;
        let id = list(&app, &owner).await[0]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let mut intruder = app.signed_in("intruder@example.com").await;
        app.enter_sudo(&mut intruder, SECURITY).await;
        let renamed = app
            .call_json(
                "/users/settings/security/passkey-rename",
                &[("id", &id), ("name", "Stolen")],
                Some(&intruder),
            )
            .await;
        assert_eq!(renamed.status(), StatusCode::BAD_REQUEST);
        let deleted = app
            .call_json(
                "/users/settings/security/passkey-delete",
                &[("id", &id)],
                Some(&intruder),
            )
            .await;
        assert_eq!(deleted.status(), StatusCode::BAD_REQUEST);
        assert_eq!(list(&app, &owner).await[0]["name"], "Mine");

        let renamed = app
            .post_form(
                "/users/settings/security/passkey-rename",
                SECURITY,
                &[("id", &id), ("name", "  Work key ")],
                Some(&owner),
            )
            .await;
        assert_eq!(location(&renamed), SECURITY);
        assert_eq!(list(&app, &owner).await[0]["name"], "Work key");
        let deleted = app
            .post_form(
                "/users/settings/security/passkey-delete",
                SECURITY,
                &[("id", &id)],
                Some(&owner),
            )
            .await;
        assert_eq!(location(&deleted), SECURITY);
        let left = list(&app, &owner).await;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["name"], "Spare");
        for action in ["passkey.rename", "passkey.delete"] {
            let sql = format!("SELECT COUNT(*) FROM audit_events WHERE action = '{action}'");
            assert_eq!(app.count(&sql).await, 1, "{action}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_passkey_opens_sudo_once_per_ceremony_and_only_for_its_owner() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("sudo-key@example.com").await;
        let mut passkey = register(&app, &mut cookie, "Key").await;
        // A new session (the passkey is its second factor): sudo starts closed.
        let pending = session_cookie(&app.log_in("sudo-key@example.com", CANARY_PASSWORD, false).await).expect("pending");
        let (ceremony, options) = start(&app, "/users/mfa/passkey-start", Some(&pending)).await;
        let answer = passkey.get(&options);
        let done = app
            .call_json("/users/mfa/passkey", &[("ceremony", &ceremony), ("response", &answer)], Some(&pending))
            .await;
        let fresh = session_cookie(&done).expect("a full session");
        let closed = app.count("SELECT COUNT(*) FROM user_sessions WHERE sudo_at IS NOT NULL").await;

        let (ceremony, options) = start(&app, "/users/sudo/passkey-start", Some(&fresh)).await;
        let answer = passkey.get(&options);
        let granted = app
            .call_json(
                "/users/sudo/passkey",
                &[("ceremony", &ceremony), ("response", &answer), ("return_to", "/users/sessions")],
                Some(&fresh),
            )
            .await;
        assert_eq!(granted.status(), StatusCode::OK);
        let fresh = session_cookie(&granted).expect("sudo hands the session a new token");
        let target: Value = granted.json().await.expect("json");
        assert_eq!(target, "/users/sessions");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_sessions WHERE sudo_at IS NOT NULL").await,
            closed + 1
        );
        let sudo = app
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'session.sudo_enter' AND metadata LIKE '%\"method\":\"passkey\"%'")
            .await;
        assert_eq!(sudo, 1);

        // The same answer again: the ceremony is spent.
        let replayed = app
            .call_json("/users/sudo/passkey", &[("ceremony", &ceremony), ("response", &answer)], Some(&fresh))
            .await;
        assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);

        // Another account's session cannot use this user's passkey for its own sudo.
        let other = app.signed_in("sudo-other@example.com").await;
        let started = app.call_json("/users/sudo/passkey-start", &[], Some(&other)).await;
        assert_eq!(started.status(), StatusCode::BAD_REQUEST, "no passkey, no ceremony");
        let (ceremony, options) = start(&app, "/users/sudo/passkey-start", Some(&fresh)).await;
        let answer = passkey.get(&options);
        let stolen = app
            .call_json("/users/sudo/passkey", &[("ceremony", &ceremony), ("response", &answer)], Some(&other))
            .await;
        assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    })
    .await;
}

/// The row count of the user's passkeys, the `passkey.delete` audit rows and the trust epoch.
async fn removal_state(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("SELECT COUNT(*) FROM user_passkeys").await,
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'passkey.delete'")
            .await,
        app.count("SELECT mfa_trust_epoch FROM users WHERE email = 'last@example.com'")
            .await,
    )
}

#[tokio::test]
async fn removing_the_last_second_factor_needs_a_passkey_answer() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("last@example.com").await;
        let mut passkey = register(&app, &mut cookie, "Only").await;
        let listed = list(&app, &cookie).await;
        assert_eq!(listed[0]["last_second_factor"], true);
        let id = listed[0]["id"].as_str().expect("id").to_owned();
        let before = removal_state(&app).await;

        let refused = app
            .call_json(
                "/users/settings/security/passkey-delete",
                &[("id", &id)],
                Some(&cookie),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            refused.text().await.expect("body"),
            r#""SecondFactorRequired""#
        );
        assert_eq!(removal_state(&app).await, before, "nothing changed");

        // An answer that does not check out (a foreign origin) is refused and spends the
        // ceremony.
        let (ceremony, options) = start(
            &app,
            "/users/settings/security/passkey-confirm-start",
            Some(&cookie),
        )
        .await;
        let forged = passkey.get_from(&options, "https://evil.example");
        let refused = app
            .call_json(
                "/users/settings/security/passkey-delete",
                &[("id", &id), ("ceremony", &ceremony), ("response", &forged)],
                Some(&cookie),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(removal_state(&app).await, before);
        let replayed = passkey.get(&options);
        let refused = app
            .call_json(
                "/users/settings/security/passkey-delete",
                &[
                    ("id", &id),
                    ("ceremony", &ceremony),
                    ("response", &replayed),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::BAD_REQUEST,
            "a spent ceremony"
        );
        assert_eq!(removal_state(&app).await, before);

        let (ceremony, options) = start(
            &app,
            "/users/settings/security/passkey-confirm-start",
            Some(&cookie),
        )
        .await;
        let answer = passkey.get(&options);
        let removed = app
            .call_json(
                "/users/settings/security/passkey-delete",
                &[("id", &id), ("ceremony", &ceremony), ("response", &answer)],
                Some(&cookie),
            )
            .await;
        assert_eq!(removed.status(), StatusCode::OK);
        let (passkeys, deletions, epoch) = removal_state(&app).await;
        assert_eq!((passkeys, deletions), (0, 1));
        assert_eq!(epoch, before.2 + 1, "trusted browsers are forgotten");
        let (metadata,): (String,) =
            sqlx::query_as("SELECT metadata FROM audit_events WHERE action = 'passkey.delete'")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("the row");
        let metadata: Value = serde_json::from_str(&metadata).expect("json");
        assert_eq!(metadata["last_second_factor"], true);
        assert_eq!(
            app.mailbox("last@example.com").await[0].subject,
            "Two-factor authentication was turned off"
        );
    })
    .await;
}

#[tokio::test]
async fn another_accounts_passkey_answer_removes_nothing() {
    on_each_engine(|app: TestApp| async move {
        let mut victim = app.signed_in("last@example.com").await;
        register(&app, &mut victim, "Victim's").await;
        let id = list(&app, &victim).await[0]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let mut attacker = app.signed_in("attacker@example.com").await;
        let mut own = register(&app, &mut attacker, "Attacker's").await;
        let (ceremony, options) = start(
            &app,
            "/users/settings/security/passkey-confirm-start",
            Some(&attacker),
        )
        .await;
        let answer = own.get(&options);
        let refused = app
            .call_json(
                "/users/settings/security/passkey-delete",
                &[("id", &id), ("ceremony", &ceremony), ("response", &answer)],
                Some(&attacker),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.count("SELECT COUNT(*) FROM user_passkeys").await, 2);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'passkey.delete'")
                .await,
            0
        );
    })
    .await;
}

#[tokio::test]
async fn a_new_registration_excludes_the_accounts_passkeys() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("exclude@example.com").await;
        let first = register(&app, &mut cookie, "First").await;
        let (_, options) = start(
            &app,
            "/users/settings/security/passkey-start",
            Some(&cookie),
        )
        .await;
        let excluded: Vec<&str> = options["excludeCredentials"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|c| c["id"].as_str().expect("an id"))
            .collect();
        assert_eq!(excluded, [b64(&first.credential_id)]);
    })
    .await;
}

#[tokio::test]
async fn a_ceremony_is_finished_only_by_the_user_who_started_it() {
    on_each_engine(|app: TestApp| async move {
        let mut alice = app.signed_in("alice@example.com").await;
        app.enter_sudo(&mut alice, SECURITY).await;
        let (ceremony, options) =
            start(&app, "/users/settings/security/passkey-start", Some(&alice)).await;
        let (_, response) = SoftPasskey::create(&options);
        let mut mallory = app.signed_in("mallory@example.com").await;
        app.enter_sudo(&mut mallory, SECURITY).await;
        let stolen = app
            .call_json(
                "/users/settings/security/passkey-finish",
                &[("ceremony", &ceremony), ("response", &response)],
                Some(&mallory),
            )
            .await;
        assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.count("SELECT COUNT(*) FROM user_passkeys").await, 0);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM webauthn_ceremonies").await,
            1,
            "Alice's ceremony is still hers to finish"
        );
        let finished = app
            .call_json(
                "/users/settings/security/passkey-finish",
                &[("ceremony", &ceremony), ("response", &response)],
                Some(&alice),
            )
            .await;
        assert_eq!(finished.status(), StatusCode::OK);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM user_passkeys p JOIN users u ON u.id = p.user_id \
                 WHERE u.email = 'alice@example.com'"
            )
            .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_ceremony_started_in_one_process_is_finished_in_another() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("across@example.com").await;
        let mut passkey = register(&app, &mut cookie, "Phone").await;
        // A second server process: its own pool and core over the same database.
        let config = sigra::testing::config(app.database_url());
        let db = sigra::db::Db::connect(&config.database)
            .await
            .expect("connect");
        let other = sigra::Sigra::builder(config, std::sync::Arc::new(app::emails::Templates))
            .clock(std::sync::Arc::new(app.clock.clone()))
            .with_db(db)
            .expect("core");
        let (ceremony, options) = start(&app, "/users/log-in/passkey-start", None).await;
        let answer = passkey.get(&options);
        let request = sigra::request::RequestContext::default();
        let session = other
            .passkeys()
            .log_in_with_passkey(&ceremony, &answer, None, &request)
            .await
            .expect("the other process finishes the ceremony");
        let cookie = format!("__Host-sigra_session={}", session.token.expose());
        assert_eq!(
            app.me(&cookie).await,
            StatusCode::OK,
            "and the first serves the session"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM webauthn_ceremonies").await,
            0
        );
    })
    .await;
}
