//! The operator's account commands, run as a real `server` process against the app's database:
//! `user create`, `user unlock`, `user disable-mfa` and `sessions revoke`. Each changes what it
//! says, writes its audit row by the system with the account as target, mails where it says,
//! and refuses an address without an account without changing anything.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use reqwest::{Method, StatusCode};

use server::testing::{
    location, on_each_engine_with, session_cookie, Setup, TestApp, CANARY_PASSWORD,
};

/// The app, with a secret key the command shares (queued mail is sealed with it).
pub(crate) fn with_secret(secret: &str) -> impl Fn() -> Setup + '_ {
    move || Setup {
        env: vec![("SIGRA_SECRET_KEY", secret.to_owned())],
        ..Setup::default()
    }
}

/// Runs `server ARGS` on the app's database, feeding `stdin`.
pub(crate) fn server(app: &TestApp, secret: &str, args: &[&str], stdin: Option<&str>) -> Output {
    server_with(app, secret, args, stdin, &[])
}

/// Like [`server`], with more settings.
fn server_with(
    app: &TestApp,
    secret: &str,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .env("DATABASE_URL", app.database_url())
        .env("SIGRA_SECRET_KEY", secret)
        .env("SIGRA_PASSWORD_ARGON2_MEMORY_KIB", "1024")
        .env("SIGRA_PASSWORD_ARGON2_ITERATIONS", "1")
        .env("SIGRA_LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the server binary");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("the command finishes")
}

/// Lets the app's clock catch up with the command's (the real one), so the mail it queued is
/// due for the app's job runner.
fn catch_up(app: &TestApp) {
    app.advance(std::time::Duration::from_secs(60));
}

pub(crate) fn succeeded(output: &Output) -> bool {
    output.status.success()
}

pub(crate) fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn system_rows(app: &TestApp, action: &str, email: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' AND actor_type = 'system' \
         AND target_id = (SELECT id FROM users WHERE email = '{email}')"
    ))
    .await
}

/// Each command refuses an address without an account, says so, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_account_command_refuses_an_unknown_address_and_changes_nothing() {
    let secret = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let secret = secret.clone();
        async move {
            app.signed_in("known@example.com").await;
            let before = app.account_snapshot().await;
            for args in [
                ["user", "unlock", "nobody@example.com"],
                ["user", "disable-mfa", "nobody@example.com"],
                ["sessions", "revoke", "nobody@example.com"],
            ] {
                let output = server(&app, &secret, &args, None);
                assert!(!succeeded(&output), "{args:?}");
                assert!(
                    said(&output).contains("no account has that email address"),
                    "{}",
                    said(&output)
                );
            }
            let taken = server(
                &app,
                &secret,
                &["user", "create", "known@example.com"],
                None,
            );
            assert!(!succeeded(&taken));
            assert!(
                said(&taken).contains("That address already has an account"),
                "{}",
                said(&taken)
            );
            assert_eq!(app.account_snapshot().await, before);
            for args in [["user", "--help"], ["sessions", "--help"]] {
                assert!(succeeded(&server(&app, &secret, &args, None)), "{args:?}");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_create_mails_a_link_to_choose_the_password_which_confirms_the_address() {
    let secret = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let secret = secret.clone();
        async move {
            let email = "made@example.com";
            let output = server(&app, &secret, &["user", "create", email], None);
            assert!(succeeded(&output), "{}", said(&output));
            assert_eq!(
                app.count("SELECT COUNT(*) FROM users WHERE email = 'made@example.com' AND password_hash IS NULL AND confirmed_at IS NULL").await,
                1
            );
            assert_eq!(system_rows(&app, "account.create", email).await, 1);
            catch_up(&app);
            let link = app.link_in_mail(email, "/users/reset-password/").await;
            let (cookie, page) = app.open_link(&link).await;
            let chosen = app
                .post_link_form(&page, &cookie, &[("password", "an entirely new passphrase 42")], None)
                .await;
            assert!(chosen.status().is_redirection(), "{}", chosen.status());
            assert_eq!(
                app.count("SELECT COUNT(*) FROM users WHERE email = 'made@example.com' AND password_hash IS NOT NULL AND confirmed_at IS NOT NULL").await,
                1,
                "the password is set and the address confirmed"
            );
            let logged_in = app.log_in(email, "an entirely new passphrase 42", false).await;
            assert!(session_cookie(&logged_in).is_some(), "{}", location(&logged_in));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_create_with_a_password_from_stdin_makes_an_account_that_must_confirm_its_address() {
    let secret = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let secret = secret.clone();
        async move {
            let weak = server(
                &app,
                &secret,
                &["user", "create", "weak@example.com", "--password-stdin"],
                Some("password\n"),
            );
            assert!(!succeeded(&weak), "the password policy applies");
            assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

            let email = "typed@example.com";
            let output = server(
                &app,
                &secret,
                &["user", "create", email, "--password-stdin"],
                Some(&format!("{CANARY_PASSWORD}\n")),
            );
            assert!(succeeded(&output), "{}", said(&output));
            assert!(
                !said(&output).contains(CANARY_PASSWORD),
                "the password is never printed"
            );
            let logged_in = app.log_in(email, CANARY_PASSWORD, false).await;
            assert!(session_cookie(&logged_in).is_some());
            catch_up(&app);
            assert!(app
                .link_in_mail(email, "/users/confirm/")
                .await
                .contains("/users/confirm/"));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_unlock_lifts_the_password_lock() {
    let secret = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let secret = secret.clone();
        async move {
            let email = "locked@example.com";
            app.signed_in(email).await;
            for _ in 0..5 {
                app.log_in(email, "not the password at all", false).await;
            }
            let refused = app.log_in(email, CANARY_PASSWORD, false).await;
            assert!(session_cookie(&refused).is_none(), "locked");
            let output = server(&app, &secret, &["user", "unlock", email], None);
            assert!(succeeded(&output), "{}", said(&output));
            assert_eq!(system_rows(&app, "account.unlock", email).await, 1);
            let let_in = app.log_in(email, CANARY_PASSWORD, false).await;
            assert!(session_cookie(&let_in).is_some(), "unlocked");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_disable_mfa_removes_every_second_factor_and_mails_the_owner() {
    let secret = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let secret = secret.clone();
        async move {
            let email = "lostphone@example.com";
            let mut cookie = app.signed_in(email).await;
            crate::mfa::enrol(&app, &mut cookie).await;
            crate::passkeys::register(&app, &mut cookie, "Phone").await;
            let output = server(&app, &secret, &["user", "disable-mfa", email], None);
            assert!(succeeded(&output), "{}", said(&output));
            for table in ["user_totp", "user_backup_codes", "user_passkeys"] {
                assert_eq!(
                    app.count(&format!("SELECT COUNT(*) FROM {table}")).await,
                    0,
                    "{table}"
                );
            }
            assert_eq!(system_rows(&app, "mfa.disable", email).await, 1);
            catch_up(&app);
            let mail = app.mailbox(email).await;
            assert!(
                mail.iter()
                    .any(|m| m.subject == "Two-factor authentication was turned off"),
                "the owner is told"
            );
            let logged_in = app.log_in(email, CANARY_PASSWORD, false).await;
            assert_eq!(
                location(&logged_in),
                "/dashboard",
                "no second step any more"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_revoke_ends_every_session_and_access_token_of_the_account_only() {
    let secret = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let secret = secret.clone();
        async move {
            let email = "stolen@example.com";
            let cookie = app.signed_in(email).await;
            let (_, tokens) = app.api_log_in(email, CANARY_PASSWORD).await;
            let access = tokens["access_token"].as_str().expect("access").to_owned();
            let bystander = app.signed_in("bystander@example.com").await;
            let output = server(&app, &secret, &["sessions", "revoke", email], None);
            assert!(succeeded(&output), "{}", said(&output));
            assert_eq!(app.me(&cookie).await, StatusCode::UNAUTHORIZED);
            let answer = app
                .api(Method::GET, "/api/v1/me", Some(&access), None)
                .await;
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                app.me(&bystander).await,
                StatusCode::OK,
                "other accounts keep theirs"
            );
            assert_eq!(system_rows(&app, "session.revoke_all", email).await, 1);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_backfill_personal_gives_each_account_without_one_a_personal_organization_once(
) {
    let secret = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let secret = secret.clone();
        async move {
            app.signed_in("ada@example.com").await;
            app.signed_in("bob@example.com").await;
            let personal = "SELECT COUNT(*) FROM organizations o \
                            JOIN organization_memberships m ON m.organization_id = o.id \
                            WHERE o.personal = 1 AND m.role = 'owner'";
            assert_eq!(app.count(personal).await, 0);
            let args = ["organizations", "backfill-personal"];
            let output = server(&app, &secret, &args, None);
            assert!(succeeded(&output), "{}", said(&output));
            assert_eq!(
                app.count(personal).await,
                2,
                "one each, owned by the account"
            );
            assert_eq!(
                app.count(
                    "SELECT COUNT(*) FROM audit_events WHERE action = 'organization.create' \
                     AND actor_type = 'system'"
                )
                .await,
                2
            );
            assert!(succeeded(&server(&app, &secret, &args, None)));
            assert_eq!(app.count(personal).await, 2, "none the second time");
            assert!(succeeded(&server(
                &app,
                &secret,
                &["organizations", "--help"],
                None
            )));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_grant_list_and_revoke_manage_platform_admins_of_confirmed_accounts_only() {
    let secret = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let secret = secret.clone();
        async move {
            let email = "ops@example.com";
            let cookie = app.signed_in(email).await;
            let unconfirmed = server(&app, &secret, &["admin", "grant", email], None);
            assert!(!succeeded(&unconfirmed), "{}", said(&unconfirmed));
            assert_eq!(
                app.get("/admin", Some(&cookie)).await.status(),
                StatusCode::FORBIDDEN
            );
            sqlx::query("UPDATE users SET confirmed_at = 1 WHERE email = $1")
                .bind(email)
                .execute(app.sigra.db().pool())
                .await
                .expect("confirmed");
            let granted = server(&app, &secret, &["admin", "grant", email], None);
            assert!(succeeded(&granted), "{}", said(&granted));
            assert_eq!(
                app.get("/admin", Some(&cookie)).await.status(),
                StatusCode::OK
            );
            let list = server(&app, &secret, &["admin", "list"], None);
            assert!(
                String::from_utf8_lossy(&list.stdout).contains(email),
                "{}",
                said(&list)
            );
            assert_eq!(system_rows(&app, "admin.grant", email).await, 1);
            let revoked = server(&app, &secret, &["admin", "revoke", email], None);
            assert!(succeeded(&revoked), "{}", said(&revoked));
            assert_eq!(
                app.get("/admin", Some(&cookie)).await.status(),
                StatusCode::FORBIDDEN
            );
            assert_eq!(system_rows(&app, "admin.revoke", email).await, 1);
            let unknown = server(
                &app,
                &secret,
                &["admin", "grant", "nobody@example.com"],
                None,
            );
            assert!(said(&unknown).contains("no account has that email address"));
            assert!(succeeded(&server(
                &app,
                &secret,
                &["admin", "--help"],
                None
            )));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_on_a_working_deployment_says_ok_to_every_check_and_sends_a_test_mail() {
    let secret = sigra::crypto::SecretKey::generate_text();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let secret = secret.clone();
        async move {
            let output = server(
                &app,
                &secret,
                &["doctor", "--send-test-mail", "ops@example.com"],
                None,
            );
            let report = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(succeeded(&output), "{}", said(&output));
            for line in [
                "ok    configuration: development at http://localhost:3000/",
                "ok    migrations: every migration is applied",
                "ok    mail: devmailbox reachable",
                "ok    test mail: sent to ops@example.com",
                "ok    passkeys: relying party localhost for http://localhost:3000/",
            ] {
                assert!(report.lines().any(|l| l == line), "{line:?} in\n{report}");
            }
            let enabled = format!(
                "ok    enabled: on: passwords, magic links, passkeys, sign-in providers (none configured), \
                 authenticator apps, organizations, admin area, API tokens (prefix {}), JWT",
                app.sigra.config().api_tokens.prefix
            );
            assert!(
                report
                    .lines()
                    .any(|l| l.starts_with(&enabled) && l.contains("; off: nothing;")),
                "what is on and off in\n{report}"
            );
            for prefix in ["ok    database: ", "ok    clock: "] {
                assert!(
                    report.lines().any(|l| l.starts_with(prefix)),
                    "{prefix:?} in\n{report}"
                );
            }
            let mail = app.mailbox("ops@example.com").await;
            assert_eq!(mail[0].subject, "A test message from Sigra");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_pending_migrations_unreachable_mail_and_a_provider_it_cannot_discover() {
    let secret = sigra::crypto::SecretKey::generate_text();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port()
        .to_string();
    on_each_engine_with(with_secret(&secret), |app: TestApp| {
        let (secret, closed) = (secret.clone(), closed.clone());
        async move {
            let last: i64 = app.count("SELECT MAX(version) FROM _sqlx_migrations").await;
            sqlx::query(&format!(
                "DELETE FROM _sqlx_migrations WHERE version = {last}"
            ))
            .execute(app.sigra.db().pool())
            .await
            .expect("forget the last migration");
            let issuer = format!("http://127.0.0.1:{closed}");
            let output = server_with(
                &app,
                &secret,
                &["doctor"],
                None,
                &[
                    ("SIGRA_MAIL_TRANSPORT", "smtp"),
                    ("SIGRA_SMTP_HOST", "127.0.0.1"),
                    ("SIGRA_SMTP_PORT", &closed),
                    ("SIGRA_SMTP_SECURITY", "none"),
                    ("SIGRA_SMTP_TIMEOUT", "2s"),
                    ("SIGRA_OAUTH_ALLOW_HTTP_LOOPBACK", "true"),
                    ("SIGRA_OAUTH_BROKEN_KIND", "oidc"),
                    ("SIGRA_OAUTH_BROKEN_ISSUER", &issuer),
                    ("SIGRA_OAUTH_BROKEN_CLIENT_ID", "client"),
                    ("SIGRA_OAUTH_BROKEN_CLIENT_SECRET", "a-client-secret"),
                ],
            );
            let report = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(!succeeded(&output), "{report}");
            assert!(
                report
                    .lines()
                    .any(|l| l.starts_with("warn  migrations: pending")
                        && l.contains(&format!("{last:04}_"))),
                "{report}"
            );
            assert!(
                report
                    .lines()
                    .any(|l| l.starts_with("FAIL  mail: smtp cannot be reached")),
                "{report}"
            );
            assert!(
                report
                    .lines()
                    .any(|l| l == format!("FAIL  oauth broken: discovery failed at {issuer}/")),
                "{report}"
            );
            assert!(!report.contains("a-client-secret"), "no secret is printed");
            assert_eq!(
                app.count(&format!(
                    "SELECT COUNT(*) FROM _sqlx_migrations WHERE version = {last}"
                ))
                .await,
                0,
                "the doctor applies nothing"
            );
        }
    })
    .await;
}
