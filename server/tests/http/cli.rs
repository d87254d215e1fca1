//! The binary's start-up checks, run as a user would run it.

use std::process::Command;

#[test]
fn production_refuses_to_start_and_names_what_is_missing() {
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env_clear()
        .env("SIGRA_ENV", "production")
        .env("SIGRA_BASE_URL", "http://auth.example.com")
        .output()
        .expect("run the server binary");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SIGRA_SECRET_KEY is required in production"),
        "{stderr}"
    );
    assert!(
        stderr.contains("must be an https URL in production"),
        "{stderr}"
    );
}

#[test]
fn generate_secret_prints_a_usable_key() {
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("generate-secret")
        .output()
        .expect("run the server binary");
    assert!(output.status.success());
    let secret = String::from_utf8_lossy(&output.stdout);
    assert!(sigra::crypto::SecretKey::parse(secret.trim()).is_some());
}

#[test]
fn migrate_applies_the_schema_and_exits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/m.db", dir.path().display()),
        )
        .env(
            "SIGRA_SECRET_KEY",
            sigra::crypto::SecretKey::generate_text(),
        )
        .output()
        .expect("run the server binary");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("m.db").exists());
}

#[test]
fn render_emails_writes_every_template_for_review() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["render-emails"])
        .arg(dir.path())
        .env(
            "SIGRA_SECRET_KEY",
            sigra::crypto::SecretKey::generate_text(),
        )
        .output()
        .expect("run the server binary");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("files")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(
        names.len(),
        2 * sigra::mail::Message::samples("http://x").len(),
        "{names:?}"
    );
    let reset =
        std::fs::read_to_string(dir.path().join("reset_password.txt")).expect("the reset mail");
    assert!(reset.starts_with("Subject: Reset your password"));
}
