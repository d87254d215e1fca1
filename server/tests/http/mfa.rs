//! Second factors: TOTP set-up and log-in with codes from an independent implementation
//! (Python's pyotp), replay, backup codes (single use under a race), the lock, trusted
//! browsers, turning it off, the pending session opening nothing else, `mfa.required`, and
//! key rotation.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;
use sigra::request::RequestContext;

use server::testing::{
    clears_session, cookie_pair, form_refusal, location, on_each_engine, on_each_engine_with,
    session_cookie, set_cookies, Browser, Setup, TestApp, CANARY_PASSWORD,
};

const STEP: Duration = Duration::from_secs(30);
const SECURITY: &str = "/users/settings/security";

/// The code pyotp computes for `secret` (base32) at the app's current time.
pub(crate) fn pyotp_code(app: &TestApp, secret: &str) -> String {
    pyotp_code_at(app, secret, 0)
}

/// Runs a Python snippet with pyotp (from `make setup`) and returns what it prints.
fn pyotp(script: &str, args: &[&str]) -> String {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/python");
    assert!(python.exists(), "pyotp is missing: run `make setup`");
    let output = std::process::Command::new(python)
        .args(["-c", script])
        .args(args)
        .output()
        .expect("run pyotp");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// The code pyotp computes for `secret` `offset` seconds from the app's current time.
fn pyotp_code_at(app: &TestApp, secret: &str, offset: i64) -> String {
    pyotp_code_at_unix(secret, app.sigra.now().as_millis() / 1000 + offset)
}

/// The code pyotp computes for `secret` at `unix` seconds.
pub(crate) fn pyotp_code_at_unix(secret: &str, unix: i64) -> String {
    let script = "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))";
    pyotp(script, &[secret, &unix.to_string()])
        .trim()
        .to_owned()
}

/// The issuer, account name and secret length (bits) pyotp reads from an `otpauth://` URI.
fn pyotp_parse(uri: &str) -> (String, String, usize) {
    let script = "import base64, pyotp, sys; t = pyotp.parse_uri(sys.argv[1]); \
                  print(t.issuer); print(t.name); print(len(base64.b32decode(t.secret + '=' * (-len(t.secret) % 8))) * 8)";
    let text = pyotp(script, &[uri]);
    let mut lines = text.lines();
    let mut next = || lines.next().expect("a line").to_owned();
    (next(), next(), next().parse().expect("bits"))
}

/// A code for the next step (each step is accepted once).
pub(crate) fn next_code(app: &TestApp, secret: &str) -> String {
    app.advance(STEP);
    pyotp_code(app, secret)
}

/// Sets up TOTP for the signed-in `cookie` with codes from pyotp, checking what pyotp reads
/// of the set-up: the secret and the first backup codes.
pub(crate) async fn enrol(app: &TestApp, cookie: &mut String) -> (String, Vec<String>) {
    let setup = app.start_totp(cookie).await;
    let view = app.security_view(cookie).await;
    assert!(view["setup"]["qr_svg"]
        .as_str()
        .is_some_and(|svg| svg.contains("<svg")));
    let (issuer, account, bits) = pyotp_parse(&setup.uri);
    assert_eq!(issuer, app.sigra.config().app_name);
    assert!(
        account.ends_with("@example.com"),
        "the label names the account: {account}"
    );
    assert!(bits >= 160, "{bits} bits");
    let codes = app
        .confirm_totp(cookie, &pyotp_code(app, &setup.secret))
        .await;
    assert_eq!(codes.len(), 8);
    assert_eq!(app.security_view(cookie).await["backup_codes_left"], 8);
    (setup.secret, codes)
}

/// Logs in with the password; the answer must ask for the second factor. Returns the pending
/// session's cookie.
pub(crate) async fn log_in_pending(app: &Browser, email: &str) -> String {
    let response = app.log_in(email, CANARY_PASSWORD, false).await;
    assert!(
        location(&response).starts_with("/users/mfa?return_to="),
        "{}",
        location(&response)
    );
    session_cookie(&response).expect("a pending session")
}

pub(crate) async fn verify(app: &Browser, pending: &str, code: &str, trust: bool) -> Response {
    let mut form = vec![("code", code), ("return_to", "/users/sessions")];
    if trust {
        form.push(("trust_browser", "on"));
    }
    app.post_form("/users/mfa", "/users/mfa", &form, Some(pending))
        .await
}

#[tokio::test]
async fn totp_set_up_and_log_in_with_codes_from_an_independent_implementation() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("totp@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        assert_eq!(
            app.security_view(&cookie).await["new_backup_codes"],
            Value::Null,
            "the codes are shown once"
        );
        let mail = app.mailbox("totp@example.com").await;
        assert_eq!(mail[0].subject, "Two-factor authentication is on");

        let pending = log_in_pending(&app, "totp@example.com").await;
        assert_eq!(app.me(&pending).await, StatusCode::UNAUTHORIZED, "a pending session is not a session");
        let wrong = verify(&app, &pending, "000000", false).await;
        assert!(session_cookie(&wrong).is_none());
        let code = next_code(&app, &secret);
        let done = verify(&app, &pending, &code, false).await;
        assert_eq!(location(&done), "/users/sessions", "on to where the log-in was going");
        let full = session_cookie(&done).expect("a full session");
        assert_ne!(full, pending, "a new token");
        assert_eq!(app.me(&full).await, StatusCode::OK);
        assert_eq!(app.me(&pending).await, StatusCode::UNAUTHORIZED, "the pending token is dead");

        // The same code again (same step) is a replay, even on a new log-in.
        let again = log_in_pending(&app, "totp@example.com").await;
        assert!(session_cookie(&verify(&app, &again, &code, false).await).is_none(), "replay refused");
        // The previous step is inside the ±1 window but older than the last used one.
        app.advance(STEP);
        assert!(session_cookie(&verify(&app, &again, &code, false).await).is_none());
        let code = pyotp_code(&app, &secret);
        assert!(session_cookie(&verify(&app, &again, &code, false).await).is_some());

        for (action, times) in [
            ("auth.mfa_challenge", 2),
            ("mfa.enroll.success", 1),
            ("mfa.enroll.start", 1),
        ] {
            let sql = format!("SELECT COUNT(*) FROM audit_events WHERE action = '{action}'");
            assert_eq!(app.count(&sql).await, times, "{action}");
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.verify' AND outcome = 'failure'")
                .await,
            3
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login.success' AND metadata LIKE '%totp%'")
                .await,
            2
        );
    })
    .await;
}

#[tokio::test]
async fn codes_one_step_either_side_are_accepted_and_two_steps_away_refused() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("drift@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        // Each code below is for a step no earlier code used, so only the window decides.
        app.advance(10 * STEP);
        let behind = pyotp_code_at(&app, &secret, -30);
        let pending = log_in_pending(&app, "drift@example.com").await;
        assert!(
            session_cookie(&verify(&app, &pending, &behind, false).await).is_some(),
            "a phone a step behind"
        );
        app.advance(10 * STEP);
        let ahead = pyotp_code_at(&app, &secret, 30);
        let pending = log_in_pending(&app, "drift@example.com").await;
        assert!(
            session_cookie(&verify(&app, &pending, &ahead, false).await).is_some(),
            "a phone a step ahead"
        );
        app.advance(10 * STEP);
        let pending = log_in_pending(&app, "drift@example.com").await;
        for offset in [-60, 60] {
            let far = pyotp_code_at(&app, &secret, offset);
            let refused = verify(&app, &pending, &far, false).await;
            assert!(session_cookie(&refused).is_none(), "{offset} s away");
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.verify' AND outcome = 'failure'")
                .await,
            2
        );
        let now = pyotp_code(&app, &secret);
        assert!(session_cookie(&verify(&app, &pending, &now, false).await).is_some());
    })
    .await;
}

#[tokio::test]
async fn a_pending_session_opens_nothing_but_the_second_factor_step() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("bypass@example.com").await;
        enrol(&app, &mut cookie).await;
        let pending = log_in_pending(&app, "bypass@example.com").await;

        for page in [
            "/users/settings",
            "/users/settings/email",
            "/users/settings/password",
            "/users/settings/security",
            "/users/sessions",
        ] {
            let response = app.get(page, Some(&pending)).await;
            assert_eq!(response.status(), StatusCode::FOUND, "{page}");
            assert!(
                location(&response).starts_with("/users/log-in"),
                "{page}: {}",
                location(&response)
            );
        }
        assert_eq!(app.me(&pending).await, StatusCode::UNAUTHORIZED);
        let header = app
            .call_json("/api/session/state", &[], Some(&pending))
            .await;
        let state: Value = header.json().await.expect("json");
        assert_eq!(
            state["email"],
            Value::Null,
            "the header shows nobody logged in"
        );

        let calls: &[(&str, &[(&str, &str)])] = &[
            ("/api/account/overview", &[]),
            ("/api/account/sessions", &[]),
            ("/api/account/security", &[]),
            ("/users/sudo", &[("password", CANARY_PASSWORD)]),
            ("/users/sessions/revoke", &[("id", "x")]),
            ("/users/sessions/revoke-others", &[]),
            (
                "/users/settings/password",
                &[
                    ("current_password", CANARY_PASSWORD),
                    ("new_password", "A-new-long-password-1234"),
                ],
            ),
            (
                "/users/settings/email",
                &[
                    ("new_email", "other@example.com"),
                    ("current_password", CANARY_PASSWORD),
                ],
            ),
            ("/users/settings/email/cancel", &[]),
            ("/users/settings/security/totp-start", &[]),
            (
                "/users/settings/security/totp-confirm",
                &[("code", "123456")],
            ),
            (
                "/users/settings/security/backup-codes",
                &[("code", "123456")],
            ),
            (
                "/users/settings/security/totp-disable",
                &[("code", "123456")],
            ),
            ("/users/settings/security/forget-browsers", &[]),
            ("/api/account/passkeys", &[]),
            ("/users/settings/security/passkey-start", &[]),
            (
                "/users/settings/security/passkey-finish",
                &[("ceremony", "x"), ("response", "{}")],
            ),
            (
                "/users/settings/security/passkey-rename",
                &[("id", "x"), ("name", "y")],
            ),
            ("/users/settings/security/passkey-delete", &[("id", "x")]),
            ("/users/settings/security/passkey-confirm-start", &[]),
            ("/api/account/deletion", &[]),
            (
                "/users/settings/delete",
                &[
                    ("confirm_email", "bypass@example.com"),
                    ("current_password", CANARY_PASSWORD),
                ],
            ),
            ("/users/reactivation/keep", &[]),
        ];
        let before = app.account_snapshot().await;
        for (path, form) in calls {
            let response = app.call_json(path, form, Some(&pending)).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
            assert_eq!(
                app.account_snapshot().await,
                before,
                "{path} changed the account's state"
            );
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_totp WHERE confirmed_at IS NOT NULL")
                .await,
            1,
            "still on"
        );

        // Cancelling ends the pending session.
        let cancelled = app
            .post_form("/users/mfa/cancel", "/users/mfa", &[], Some(&pending))
            .await;
        assert_eq!(location(&cancelled), "/users/log-in");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_sessions WHERE kind = 'mfa_pending'")
                .await,
            0
        );
    })
    .await;
}

#[tokio::test]
async fn a_pending_log_in_takes_only_its_own_accounts_codes() {
    on_each_engine(|app: TestApp| async move {
        let mut alice = app.signed_in("alice@example.com").await;
        enrol(&app, &mut alice).await;
        let mut bob = app.signed_in("bob@example.com").await;
        let (bob_secret, bob_codes) = enrol(&app, &mut bob).await;
        let pending = log_in_pending(&app, "alice@example.com").await;
        let code = next_code(&app, &bob_secret);
        assert!(session_cookie(&verify(&app, &pending, &code, false).await).is_none());
        assert!(session_cookie(&verify(&app, &pending, &bob_codes[0], false).await).is_none());
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_backup_codes WHERE used_at IS NOT NULL")
                .await,
            0
        );
    })
    .await;
}

#[tokio::test]
async fn a_pending_session_expires_after_five_minutes() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("slow@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        // Just inside the five minutes, the code finishes the log-in.
        let in_time = log_in_pending(&app, "slow@example.com").await;
        app.advance(Duration::from_secs(5 * 60 - 1));
        let code = pyotp_code(&app, &secret);
        let done = verify(&app, &in_time, &code, false).await;
        assert!(session_cookie(&done).is_some(), "in time");

        let late = log_in_pending(&app, "slow@example.com").await;
        app.advance(Duration::from_secs(5 * 60));
        let code = pyotp_code(&app, &secret);
        let response = verify(&app, &late, &code, false).await;
        assert!(session_cookie(&response).is_none());
        assert_eq!(
            form_refusal(&response),
            (
                "/users/mfa".to_owned(),
                Some(r#""Unauthenticated""#.to_owned())
            ),
            "back to the step, which says the log-in has to start again"
        );
        assert!(clears_session(&response), "the dead pending cookie goes");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_sessions WHERE kind = 'mfa_pending'")
                .await,
            0,
            "the expired pending session is deleted"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_uses_of_one_backup_code_exactly_one_wins() {
    // The 19 losers are wrong codes; a lock after five would hide which one won.
    let setup = || Setup {
        env: vec![("SIGRA_MFA_LOCKOUT_THRESHOLD", "100".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let mut cookie = app.signed_in("race@example.com").await;
        let (_, codes) = enrol(&app, &mut cookie).await;
        let mut pendings = Vec::new();
        for _ in 0..20 {
            pendings.push(log_in_pending(&app, "race@example.com").await);
        }
        let app = Arc::new(app);
        let attempts = pendings.into_iter().map(|pending| {
            let app = Arc::clone(&app);
            let code = codes[0].clone();
            tokio::spawn(async move {
                session_cookie(&verify(&app, &pending, &code, false).await).is_some()
            })
        });
        let mut wins = 0;
        for attempt in attempts {
            if attempt.await.expect("task") {
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "exactly one use of the code succeeds");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_backup_codes WHERE used_at IS NOT NULL")
                .await,
            1
        );
        let mail = app.mailbox("race@example.com").await;
        assert_eq!(mail[0].subject, "A backup code was used to log in");
        assert!(
            mail[0].text.contains("You have 7 backup codes left."),
            "{}",
            mail[0].text
        );
    })
    .await;
}

#[tokio::test]
async fn five_wrong_codes_lock_the_second_factor_step_across_log_ins() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("guess@example.com").await;
        let (secret, codes) = enrol(&app, &mut cookie).await;
        let pending = log_in_pending(&app, "guess@example.com").await;
        for _ in 0..4 {
            let response = verify(&app, &pending, "999999", false).await;
            assert!(session_cookie(&response).is_none());
        }
        let locked = app
            .call_json("/users/mfa", &[("code", "999999")], Some(&pending))
            .await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
        let body: Value = locked.json().await.expect("json");
        assert_eq!(body, Value::String("MfaLocked".to_owned()));
        assert_eq!(app.me(&pending).await, StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_sessions WHERE kind = 'mfa_pending'")
                .await,
            0,
            "the lock ended the pending session"
        );

        // A new log-in with the password does not reset the lock; right codes are refused.
        let again = log_in_pending(&app, "guess@example.com").await;
        let code = next_code(&app, &secret);
        assert!(session_cookie(&verify(&app, &again, &code, false).await).is_none());
        let again = log_in_pending(&app, "guess@example.com").await;
        assert!(session_cookie(&verify(&app, &again, &codes[1], false).await).is_none());
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_backup_codes WHERE used_at IS NOT NULL")
                .await,
            0,
            "a locked step spends nothing"
        );

        let mail = app.mailbox("guess@example.com").await;
        assert_eq!(mail[0].subject, "Two-factor log-in locked for a while");
        assert!(mail[0].text.contains("15 minutes"));
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.lockout'")
                .await,
            1
        );

        app.advance(Duration::from_secs(15 * 60));
        let pending = log_in_pending(&app, "guess@example.com").await;
        let code = pyotp_code(&app, &secret);
        assert!(
            session_cookie(&verify(&app, &pending, &code, false).await).is_some(),
            "the lock ends"
        );
    })
    .await;
}

#[tokio::test]
async fn each_second_factor_lock_in_a_row_lasts_twice_the_last() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("again@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        let lock_out = || async {
            let pending = log_in_pending(&app, "again@example.com").await;
            for _ in 0..5 {
                verify(&app, &pending, "999999", false).await;
            }
        };
        let opens = || async {
            let pending = log_in_pending(&app, "again@example.com").await;
            let code = next_code(&app, &secret);
            session_cookie(&verify(&app, &pending, &code, false).await).is_some()
        };
        lock_out().await;
        app.advance(Duration::from_secs(15 * 60));
        lock_out().await;
        app.advance(Duration::from_secs(15 * 60));
        assert!(!opens().await, "the second lock outlasts the first");
        app.advance(Duration::from_secs(15 * 60));
        assert!(opens().await, "after 30 minutes it ends");
        let minutes: Vec<String> = sqlx::query_scalar(
            "SELECT metadata FROM audit_events WHERE action = 'mfa.lockout' ORDER BY occurred_at, id",
        )
        .fetch_all(app.sigra.db().pool())
        .await
        .expect("rows");
        assert_eq!(
            minutes,
            [
                r#"{"locks_in_a_row":1,"minutes":15}"#,
                r#"{"locks_in_a_row":2,"minutes":30}"#
            ]
        );
        lock_out().await;
        let last: String = sqlx::query_scalar(
            "SELECT metadata FROM audit_events WHERE action = 'mfa.lockout' \
             ORDER BY occurred_at DESC, id DESC LIMIT 1",
        )
        .fetch_one(app.sigra.db().pool())
        .await
        .expect("row");
        assert_eq!(
            last, r#"{"locks_in_a_row":1,"minutes":15}"#,
            "a right second factor starts the growth over"
        );
    })
    .await;
}

#[tokio::test]
async fn a_trusted_browser_skips_the_code_but_never_the_password() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("trust@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        app.signed_in("other@example.com").await;

        let pending = log_in_pending(&app, "trust@example.com").await;
        let code = next_code(&app, &secret);
        let done = verify(&app, &pending, &code, true).await;
        let line = set_cookies(done.headers())
            .into_iter()
            .find(|c| c.starts_with("__Host-sigra_trusted_browser="))
            .expect("the trust cookie");
        for attribute in [
            "Max-Age=2592000",
            "Secure",
            "HttpOnly",
            "Path=/",
            "SameSite=Lax",
        ] {
            assert!(line.contains(attribute), "{attribute} in {line}");
        }
        let trusted = cookie_pair(&done, "__Host-sigra_trusted_browser").expect("pair");

        let skipped = app
            .post_form(
                "/users/log-in",
                "/users/log-in",
                &[
                    ("email", "trust@example.com"),
                    ("password", CANARY_PASSWORD),
                ],
                Some(&trusted),
            )
            .await;
        assert_eq!(location(&skipped), "/dashboard", "no code asked");
        assert_eq!(
            app.me(&session_cookie(&skipped).expect("session")).await,
            StatusCode::OK
        );
        let wrong = app
            .post_form(
                "/users/log-in",
                "/users/log-in",
                &[
                    ("email", "trust@example.com"),
                    ("password", "not the password at all, sorry"),
                ],
                Some(&trusted),
            )
            .await;
        assert!(
            session_cookie(&wrong).is_none(),
            "the password is still needed"
        );

        // Bound to its user: another account with a second factor is still asked.
        let other = app
            .log_in("other@example.com", CANARY_PASSWORD, false)
            .await;
        let mut other_cookie = session_cookie(&other).expect("session");
        enrol(&app, &mut other_cookie).await;
        assert!(asks_for_code(&app, "other@example.com", &trusted).await);
        assert!(!asks_for_code(&app, "trust@example.com", &trusted).await);

        // Expires after 30 days.
        app.advance(Duration::from_secs(30 * 24 * 3600));
        assert!(asks_for_code(&app, "trust@example.com", &trusted).await);
    })
    .await;
}

/// Logs in with a code and "trust this browser": the session and the trust cookies.
async fn trust(app: &TestApp, email: &str, secret: &str) -> (String, String) {
    let pending = log_in_pending(app, email).await;
    let code = next_code(app, secret);
    let done = verify(app, &pending, &code, true).await;
    (
        session_cookie(&done).expect("session"),
        cookie_pair(&done, "__Host-sigra_trusted_browser").expect("trust"),
    )
}

/// Whether a password log-in carrying `trusted` is still asked for a code.
async fn asks_for_code(app: &TestApp, email: &str, trusted: &str) -> bool {
    let response = app
        .post_form(
            "/users/log-in",
            "/users/log-in",
            &[("email", email), ("password", CANARY_PASSWORD)],
            Some(trusted),
        )
        .await;
    location(&response).starts_with("/users/mfa")
}

#[tokio::test]
async fn trusted_browsers_are_forgotten_all_at_once_on_sign_out_everywhere_and_on_a_password_change(
) {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("forget@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        let (mut session, trusted) = trust(&app, "forget@example.com", &secret).await;
        assert!(!asks_for_code(&app, "forget@example.com", &trusted).await);
        app.enter_sudo(&mut session, SECURITY).await;
        let forgot = app
            .post_form(
                "/users/settings/security/forget-browsers",
                SECURITY,
                &[],
                Some(&session),
            )
            .await;
        assert_eq!(location(&forgot), SECURITY);
        assert!(
            asks_for_code(&app, "forget@example.com", &trusted).await,
            "forgotten"
        );

        let (mut session, trusted) = trust(&app, "forget@example.com", &secret).await;
        app.enter_sudo(&mut session, "/users/sessions").await;
        app.post_form(
            "/users/sessions/revoke-others",
            "/users/sessions",
            &[],
            Some(&session),
        )
        .await;
        assert!(
            asks_for_code(&app, "forget@example.com", &trusted).await,
            "signing out everywhere else forgets trusted browsers"
        );

        let (session, trusted) = trust(&app, "forget@example.com", &secret).await;
        let changed = app
            .post_form(
                "/users/settings/password",
                "/users/settings/password",
                &[
                    ("current_password", CANARY_PASSWORD),
                    ("new_password", "Another-Canary-pw-2c9d-horse"),
                ],
                Some(&session),
            )
            .await;
        assert_eq!(changed.status(), StatusCode::FOUND);
        let response = app
            .post_form(
                "/users/log-in",
                "/users/log-in",
                &[
                    ("email", "forget@example.com"),
                    ("password", "Another-Canary-pw-2c9d-horse"),
                ],
                Some(&trusted),
            )
            .await;
        assert!(
            location(&response).starts_with("/users/mfa"),
            "a new password forgets trusted browsers"
        );
    })
    .await;
}

#[tokio::test]
async fn trusted_browsers_are_forgotten_by_a_password_reset_and_by_turning_two_factor_off() {
    on_each_engine(|app: TestApp| async move {
        // A reset: the new password alone no longer skips the code in the trusted browser.
        let mut cookie = app.signed_in("reset-trust@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        let (_, trusted) = trust(&app, "reset-trust@example.com", &secret).await;
        assert!(!asks_for_code(&app, "reset-trust@example.com", &trusted).await);
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", "reset-trust@example.com")],
            None,
        )
        .await;
        let link = app
            .link_in_mail("reset-trust@example.com", "/users/reset-password/")
            .await;
        let (link_cookie, page) = app.open_link(&link).await;
        let new_password = "Another-Canary-pw-2c9d-horse";
        let reset = app
            .post_link_form(&page, &link_cookie, &[("password", new_password)], None)
            .await;
        assert_eq!(location(&reset), "/users/log-in");
        let response = app
            .post_form(
                "/users/log-in",
                "/users/log-in",
                &[
                    ("email", "reset-trust@example.com"),
                    ("password", new_password),
                ],
                Some(&trusted),
            )
            .await;
        assert!(
            location(&response).starts_with("/users/mfa"),
            "a reset forgets trusted browsers"
        );

        // Turning two-factor off, then on again: the browser trusted before is not trusted now.
        let mut cookie = app.signed_in("off-trust@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        let (mut session, trusted) = trust(&app, "off-trust@example.com", &secret).await;
        app.enter_sudo(&mut session, SECURITY).await;
        let code = next_code(&app, &secret);
        let off = app
            .post_form(
                "/users/settings/security/totp-disable",
                SECURITY,
                &[("code", &code)],
                Some(&session),
            )
            .await;
        assert_eq!(location(&off), SECURITY);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM user_totp WHERE confirmed_at IS NOT NULL")
                .await,
            1,
            "only the first account still has an app"
        );
        enrol(&app, &mut session).await;
        assert!(
            asks_for_code(&app, "off-trust@example.com", &trusted).await,
            "turning two-factor off forgets trusted browsers"
        );
    })
    .await;
}

#[tokio::test]
async fn backup_codes_log_in_once_and_regenerate_only_with_an_app_code_and_a_mail() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("codes@example.com").await;
        let (secret, codes) = enrol(&app, &mut cookie).await;

        let pending = log_in_pending(&app, "codes@example.com").await;
        let typed = codes[2].to_uppercase().replace('-', " ");
        let done = verify(&app, &pending, &typed, false).await;
        let mut session = session_cookie(&done).expect("logged in with a backup code");
        assert_eq!(app.security_view(&session).await["backup_codes_left"], 7);
        let pending = log_in_pending(&app, "codes@example.com").await;
        assert!(
            session_cookie(&verify(&app, &pending, &codes[2], false).await).is_none(),
            "used once"
        );
        assert!(session_cookie(&verify(&app, &pending, &codes[3], false).await).is_some());

        app.enter_sudo(&mut session, SECURITY).await;
        let refused = app
            .call_json(
                "/users/settings/security/backup-codes",
                &[("code", &codes[4])],
                Some(&session),
            )
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::BAD_REQUEST,
            "a backup code cannot make more"
        );
        let code = next_code(&app, &secret);
        let made = app
            .post_form(
                "/users/settings/security/backup-codes",
                SECURITY,
                &[("code", &code)],
                Some(&session),
            )
            .await;
        let shown = cookie_pair(&made, "__Host-sigra_new_backup_codes").expect("shown");
        let view = app.security_view(&format!("{session}; {shown}")).await;
        assert_eq!(view["new_backup_codes"].as_array().map(Vec::len), Some(8));
        assert_eq!(view["backup_codes_left"], 8);
        let pending = log_in_pending(&app, "codes@example.com").await;
        assert!(
            session_cookie(&verify(&app, &pending, &codes[5], false).await).is_none(),
            "old codes are gone"
        );
        let regenerated = app
            .mailbox("codes@example.com")
            .await
            .into_iter()
            .filter(|mail| mail.subject == "New backup codes were made")
            .count();
        assert_eq!(regenerated, 1, "the owner is told");

        // The shown codes are bound to the session that made them.
        let elsewhere = app
            .log_in("codes@example.com", CANARY_PASSWORD, false)
            .await;
        let elsewhere = session_cookie(&elsewhere).expect("pending");
        let fresh = view["new_backup_codes"][0]
            .as_str()
            .expect("code")
            .to_owned();
        assert!(session_cookie(&verify(&app, &elsewhere, &fresh, false).await).is_some());
        let other_view = app
            .security_view(&format!(
                "{}; {shown}",
                session_cookie(
                    &verify(
                        &app,
                        &log_in_pending(&app, "codes@example.com").await,
                        view["new_backup_codes"][1].as_str().expect("code"),
                        false
                    )
                    .await
                )
                .expect("session")
            ))
            .await;
        assert_eq!(other_view["new_backup_codes"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn turning_it_off_needs_sudo_and_a_code_and_tells_the_owner() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("off@example.com").await;
        let (secret, codes) = enrol(&app, &mut cookie).await;
        app.advance(Duration::from_secs(6 * 60));
        let no_sudo = app
            .call_json(
                "/users/settings/security/totp-disable",
                &[("code", &codes[0])],
                Some(&cookie),
            )
            .await;
        assert_eq!(no_sudo.status(), StatusCode::FORBIDDEN, "sudo has expired");
        app.enter_sudo(&mut cookie, SECURITY).await;
        let wrong = app
            .call_json(
                "/users/settings/security/totp-disable",
                &[("code", "000000")],
                Some(&cookie),
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        let code = next_code(&app, &secret);
        let off = app
            .post_form(
                "/users/settings/security/totp-disable",
                SECURITY,
                &[("code", &code)],
                Some(&cookie),
            )
            .await;
        assert_eq!(location(&off), SECURITY);
        assert_eq!(app.security_view(&cookie).await["totp_enabled"], false);
        assert_eq!(app.count("SELECT COUNT(*) FROM user_backup_codes").await, 0);
        let mail = app.mailbox("off@example.com").await;
        assert_eq!(mail[0].subject, "Two-factor authentication was turned off");
        let response = app.log_in("off@example.com", CANARY_PASSWORD, false).await;
        assert_eq!(location(&response), "/dashboard", "no code asked any more");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.disable'")
                .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn the_set_up_secret_is_shown_only_under_sudo_and_a_second_set_up_is_refused() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("setup@example.com").await;
        let refused = app
            .call_json("/users/settings/security/totp-start", &[], Some(&cookie))
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "needs sudo");
        app.enter_sudo(&mut cookie, SECURITY).await;
        app.post_form(
            "/users/settings/security/totp-start",
            SECURITY,
            &[],
            Some(&cookie),
        )
        .await;
        assert!(app.security_view(&cookie).await["setup"]["secret"].is_string());
        app.advance(Duration::from_secs(6 * 60));
        let view = app.security_view(&cookie).await;
        assert_eq!(view["setup"], Value::Null, "hidden once sudo lapses");
        assert_eq!(view["sudo"], false);
        let stored: String = sqlx::query_scalar("SELECT secret_sealed FROM user_totp")
            .fetch_one(app.sigra.db().pool())
            .await
            .expect("row");
        app.enter_sudo(&mut cookie, SECURITY).await;
        let secret = app.security_view(&cookie).await["setup"]["secret"]
            .as_str()
            .expect("secret")
            .to_owned();
        assert!(!stored.contains(&secret), "sealed at rest");
        let code = pyotp_code(&app, &secret);
        app.post_form(
            "/users/settings/security/totp-confirm",
            SECURITY,
            &[("code", &code)],
            Some(&cookie),
        )
        .await;
        let again = app
            .call_json("/users/settings/security/totp-start", &[], Some(&cookie))
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
    })
    .await;
}

#[tokio::test]
async fn magic_links_ask_for_the_second_factor_too_and_the_log_in_row_names_both_factors() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("link@example.com").await;
        let (secret, _) = enrol(&app, &mut cookie).await;
        app.post_form(
            "/users/log-in/email-link",
            "/users/log-in",
            &[("email", "link@example.com")],
            None,
        )
        .await;
        let link = app.link_in_mail("link@example.com", "/users/log-in/").await;
        let (link_cookie, page) = app.open_link(&link).await;
        let response = app.post_link_form(&page, &link_cookie, &[], None).await;
        assert!(
            location(&response).starts_with("/users/mfa"),
            "{}",
            location(&response)
        );
        let pending = session_cookie(&response).expect("pending");
        assert_eq!(app.me(&pending).await, StatusCode::UNAUTHORIZED);

        let done = verify(&app, &pending, &next_code(&app, &secret), false).await;
        assert_eq!(location(&done), "/users/sessions");
        let metadata: String = sqlx::query_scalar(
            "SELECT metadata FROM audit_events WHERE action = 'auth.login.success' \
             ORDER BY occurred_at DESC, id DESC LIMIT 1",
        )
        .fetch_one(app.sigra.db().pool())
        .await
        .expect("the log-in row");
        let metadata: Value = serde_json::from_str(&metadata).expect("json");
        assert_eq!(metadata["method"], "magic_link");
        assert_eq!(metadata["second_factor"], "totp");
    })
    .await;
}

#[tokio::test]
async fn required_mfa_sends_every_page_to_set_up_until_done() {
    let setup = || Setup {
        env: vec![("SIGRA_MFA_REQUIRED", "true".to_owned())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let mut cookie = app.signed_in("must@example.com").await;
        for page in ["/users/settings", "/users/sessions", "/"] {
            let response = app.get(page, Some(&cookie)).await;
            assert_eq!(location(&response), SECURITY, "{page}");
        }
        assert_eq!(
            app.get(SECURITY, Some(&cookie)).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            app.get("/users/sudo", Some(&cookie)).await.status(),
            StatusCode::OK
        );
        enrol(&app, &mut cookie).await;
        assert_eq!(
            app.get("/users/settings", Some(&cookie)).await.status(),
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn rotating_the_encryption_key_re_seals_every_secret() {
    let old_key = sigra::crypto::SecretKey::generate_text();
    let new_key = sigra::crypto::SecretKey::generate_text();
    let setup = || Setup {
        env: vec![("SIGRA_MFA_ENCRYPTION_KEYS", format!("old:{old_key}"))],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| {
        let (old_key, new_key) = (old_key.clone(), new_key.clone());
        async move {
            let mut cookie = app.signed_in("rotate@example.com").await;
            let (secret, _) = enrol(&app, &mut cookie).await;
            let with_keys = |keys: String| {
                let config = sigra::testing::config_with(
                    app.database_url(),
                    &[("SIGRA_MFA_ENCRYPTION_KEYS", &keys)],
                );
                sigra::Sigra::builder(config, Arc::new(app::emails::Templates))
                    .clock(Arc::new(app.clock.clone()))
                    .with_db(app.sigra.db().clone())
                    .expect("core")
            };
            let rotating = with_keys(format!("new:{new_key},old:{old_key}"));
            assert_eq!(
                rotating
                    .mfa()
                    .rotate_mfa_keys(&RequestContext::command("test"))
                    .await
                    .expect("rotate"),
                1
            );
            assert_eq!(
                rotating
                    .mfa()
                    .rotate_mfa_keys(&RequestContext::command("test"))
                    .await
                    .expect("again"),
                0
            );
            let key_id: String = sqlx::query_scalar("SELECT key_id FROM user_totp")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("row");
            assert_eq!(key_id, "new");

            // A process that knows only the new key still checks codes.
            let only_new = with_keys(format!("new:{new_key}"));
            let request = RequestContext::new(None, Some("test"), None);
            let log_in = sigra::auth::LogIn {
                email: "rotate@example.com".to_owned(),
                password: sigra::password::Password::new(CANARY_PASSWORD.to_owned()),
                remember_me: false,
                trusted_browser: None,
            };
            let session = only_new
                .auth()
                .log_in(log_in, None, &request)
                .await
                .expect("password");
            assert!(session.needs_second_factor());
            let presented =
                sigra::crypto::PresentedToken::parse(session.token.expose()).expect("token");
            let sigra::sessions::SessionCheck::PendingMfa(pending) = only_new
                .sessions()
                .authenticate_session(&presented)
                .await
                .expect("check")
            else {
                panic!("a pending session");
            };
            let code = next_code(&app, &secret);
            let factor = sigra::mfa::SecondFactor::parse(&code);
            let done = only_new
                .mfa()
                .complete_mfa(&pending, factor, false, &request)
                .await
                .expect("code accepted");
            assert!(!done.session.needs_second_factor());
        }
    })
    .await;
}

#[tokio::test]
async fn regenerating_backup_codes_without_sudo_is_refused_and_changes_nothing() {
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("nosudo@example.com").await;
        let (secret, codes) = enrol(&app, &mut cookie).await;
        // A fresh log-in with an app code: a full session that never re-entered its password.
        let pending = log_in_pending(&app, "nosudo@example.com").await;
        let session =
            session_cookie(&verify(&app, &pending, &next_code(&app, &secret), false).await)
                .expect("a full session");
        let before = app.account_snapshot().await;
        let audit = app.count("SELECT COUNT(*) FROM audit_events").await;

        let refused = app
            .call_json(
                "/users/settings/security/backup-codes",
                &[("code", &next_code(&app, &secret))],
                Some(&session),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "sudo first");
        let form = app
            .post_form(
                "/users/settings/security/backup-codes",
                SECURITY,
                &[("code", &next_code(&app, &secret))],
                Some(&session),
            )
            .await;
        assert!(
            location(&form).starts_with("/users/sudo"),
            "the form goes to sudo: {}",
            location(&form)
        );
        assert_eq!(
            app.account_snapshot().await,
            before,
            "the same codes, no mail queued"
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events").await, audit);
        assert_eq!(app.security_view(&session).await["backup_codes_left"], 8);
        let pending = log_in_pending(&app, "nosudo@example.com").await;
        assert!(
            session_cookie(&verify(&app, &pending, &codes[0], false).await).is_some(),
            "the old codes still work"
        );
    })
    .await;
}

#[tokio::test]
async fn backup_codes_are_stored_only_as_keyed_digests() {
    use sha2::{Digest as _, Sha256};
    on_each_engine(|app: TestApp| async move {
        let mut cookie = app.signed_in("digests@example.com").await;
        let (_, codes) = enrol(&app, &mut cookie).await;
        let stored: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM user_backup_codes")
            .fetch_all(app.sigra.db().pool())
            .await
            .expect("rows");
        assert_eq!(stored.len(), codes.len());
        for code in &codes {
            let plain = code.replace('-', "");
            for form in [code.as_str(), plain.as_str()] {
                let unkeyed = hex::encode(Sha256::digest(form.as_bytes()));
                for row in &stored {
                    assert!(!row.contains(form), "a code in the clear");
                    assert!(!row.eq_ignore_ascii_case(&unkeyed), "an unkeyed digest");
                }
            }
        }
    })
    .await;
}
