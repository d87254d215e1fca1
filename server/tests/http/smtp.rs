//! Every mail flow once more, delivered through real SMTP to a local sink (Python's aiosmtpd,
//! installed by `make setup`), following the link in the received message.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

use server::testing::{
    location, on_each_engine_with, session_cookie, Setup, TestApp, CANARY_PASSWORD,
};

/// A running aiosmtpd writing to a Maildir.
pub(crate) struct SmtpSink {
    child: Child,
    pub(crate) port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sink_python() -> PathBuf {
    if let Ok(path) = std::env::var("SMTP_SINK_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/python");
    assert!(
        venv.exists(),
        "aiosmtpd is missing: run `make setup` (or set SMTP_SINK_PYTHON)"
    );
    venv
}

pub(crate) async fn start_sink() -> SmtpSink {
    let dir = tempfile::tempdir().expect("temp dir");
    // aiosmtpd creates the Maildir itself and fails if the folder already exists.
    let maildir = dir.path().join("maildir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new(sink_python())
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    let sink = SmtpSink {
        child,
        port,
        maildir,
        _dir: dir,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return sink;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("aiosmtpd did not start");
}

impl SmtpSink {
    /// How many messages to `to` arrived.
    pub(crate) fn count_to(&self, to: &str) -> usize {
        std::fs::read_dir(self.maildir.join("new"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .filter(|text| text.contains(&format!("To: {to}")))
                    .count()
            })
            .unwrap_or(0)
    }

    /// The newest message to `to` whose subject is `subject`, as raw text.
    fn message(&self, to: &str, subject: &str) -> String {
        let mut found: Vec<(std::time::SystemTime, String)> =
            std::fs::read_dir(self.maildir.join("new"))
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter_map(|e| {
                            Some((
                                e.metadata().ok()?.modified().ok()?,
                                std::fs::read_to_string(e.path()).ok()?,
                            ))
                        })
                        .filter(|(_, text)| {
                            text.contains(&format!("To: {to}"))
                                && text.contains(&format!("Subject: {subject}"))
                        })
                        .collect()
                })
                .unwrap_or_default();
        found.sort();
        found
            .pop()
            .map(|(_, text)| text)
            .unwrap_or_else(|| panic!("no {subject:?} to {to} in the sink"))
    }

    /// The app link starting with `path` in that message, undoing quoted-printable breaks.
    fn link(&self, to: &str, subject: &str, path: &str) -> String {
        let text = self
            .message(to, subject)
            .replace("=\r\n", "")
            .replace("=\n", "")
            .replace("=3D", "=");
        let prefix = format!("http://localhost:3000{path}");
        text.split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
            .find(|word| word.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {path} link in {text}"))
            .trim_start_matches("http://localhost:3000")
            .to_owned()
    }
}

#[tokio::test]
async fn every_flow_works_through_real_smtp() {
    let sink = start_sink().await;
    let port = sink.port;
    let setup = move || Setup {
        env: vec![
            ("SIGRA_MAIL_TRANSPORT", "smtp".to_owned()),
            ("SIGRA_MAIL_FROM", "Sigra <no-reply@example.com>".to_owned()),
            ("SIGRA_SMTP_HOST", "127.0.0.1".to_owned()),
            ("SIGRA_SMTP_PORT", port.to_string()),
            ("SIGRA_SMTP_SECURITY", "none".to_owned()),
        ],
        ..Setup::default()
    };
    let sink = &sink;
    on_each_engine_with(setup, |app: TestApp| async move {
        let email = format!("smtp-{}@example.com", uuid::Uuid::new_v4().simple());
        let email = email.as_str();

        // Confirmation.
        app.register(email, CANARY_PASSWORD).await;
        app.deliver_mail().await;
        let (cookie, page) = app
            .open_link(&sink.link(email, "Confirm your email address", "/users/confirm/"))
            .await;
        app.post_link_form(&page, &cookie, &[], None).await;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE confirmed_at IS NOT NULL")
                .await,
            1
        );

        // Magic link.
        app.post_form(
            "/users/log-in/email-link",
            "/users/log-in",
            &[("email", email)],
            None,
        )
        .await;
        app.deliver_mail().await;
        let (cookie, page) = app
            .open_link(&sink.link(email, "Your log-in link", "/users/log-in/"))
            .await;
        let session = session_cookie(&app.post_link_form(&page, &cookie, &[], None).await)
            .expect("logged in");
        assert_eq!(app.me(&session).await, StatusCode::OK);

        // Email change.
        let new_email = format!("new-{email}");
        let form = [
            ("new_email", new_email.as_str()),
            ("current_password", CANARY_PASSWORD),
        ];
        app.post_form(
            "/users/settings/email",
            "/users/settings",
            &form,
            Some(&session),
        )
        .await;
        app.deliver_mail().await;
        sink.message(email, "An email change was requested");
        let link = sink.link(
            &new_email,
            "Confirm your new email address",
            "/users/settings/confirm-email/",
        );
        let (cookie, page) = app.open_link(&link).await;
        app.post_link_form(&page, &cookie, &[], Some(&session))
            .await;

        // Password reset, at the new address.
        app.post_form(
            "/users/reset-password",
            "/users/reset-password",
            &[("email", &new_email)],
            None,
        )
        .await;
        app.deliver_mail().await;
        let (cookie, page) = app
            .open_link(&sink.link(&new_email, "Reset your password", "/users/reset-password/"))
            .await;
        let response = app
            .post_link_form(
                &page,
                &cookie,
                &[("password", "a passphrase chosen over smtp")],
                None,
            )
            .await;
        assert_eq!(location(&response), "/users/log-in");
        app.deliver_mail().await;
        sink.message(&new_email, "Your password was changed");
        assert!(session_cookie(
            &app.log_in(&new_email, "a passphrase chosen over smtp", false)
                .await
        )
        .is_some());
    })
    .await;
}

#[tokio::test]
async fn starttls_is_required_so_a_server_without_it_gets_nothing_in_clear() {
    // The sink offers no STARTTLS; the default security is `starttls`.
    let sink = start_sink().await;
    let port = sink.port;
    let setup = move || Setup {
        env: vec![
            ("SIGRA_MAIL_TRANSPORT", "smtp".to_owned()),
            ("SIGRA_MAIL_FROM", "Sigra <no-reply@example.com>".to_owned()),
            ("SIGRA_SMTP_HOST", "127.0.0.1".to_owned()),
            ("SIGRA_SMTP_PORT", port.to_string()),
        ],
        ..Setup::default()
    };
    let sink = &sink;
    on_each_engine_with(setup, |app: TestApp| async move {
        let email = format!("clear-{}@example.com", uuid::Uuid::new_v4().simple());
        app.register(&email, CANARY_PASSWORD).await;
        app.deliver_mail().await;
        assert_eq!(sink.count_to(&email), 0, "nothing was sent in clear");
        let (attempts, error): (i64, Option<String>) =
            sqlx::query_as("SELECT attempts, last_error FROM jobs WHERE kind = 'send_email'")
                .fetch_one(app.sigra.db().pool())
                .await
                .expect("the mail job");
        assert_eq!(attempts, 1);
        assert!(error.is_some(), "the delivery failed and says why");
    })
    .await;
}
