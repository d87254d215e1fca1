//! The root secret and other secret settings: a configured key, or in development one
//! generated and kept in a private file so sessions survive a restart.

use std::fmt;
use std::path::{Path, PathBuf};

use super::sources::{Reader, Setting};
use crate::crypto::SecretKey;

pub(super) const SETTINGS: &[Setting] = &[Setting {
    key: "secret_key",
    aliases: &[],
}];

/// Where a development secret is kept between runs, so sessions survive a restart.
pub(super) const DEV_SECRET_FILE: &str = "data/dev-secret-key";

/// A secret setting: its `Debug` shows nothing.
#[derive(Clone)]
pub struct SecretText(pub(super) String);

impl SecretText {
    /// The value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The configured secret key; in development without one, the saved or a new generated key
/// (with a notice saying which). `None` when a problem was recorded.
pub(super) fn read_secret_key(
    r: &mut Reader,
    production: bool,
    dev_secret_file: Option<&Path>,
    notices: &mut Vec<String>,
) -> Option<SecretKey> {
    match r.given("secret_key") {
        Some(text) => {
            let key = SecretKey::parse(&text);
            if key.is_none() {
                r.invalid(
                    "secret_key",
                    "must be at least 32 random bytes in base64 (generate one with `server generate-secret`)",
                );
            }
            key
        }
        None if production => {
            r.problems.push(
                "SIGRA_SECRET_KEY is required in production (generate one with `server generate-secret`)".to_owned(),
            );
            None
        }
        None => match dev_secret(dev_secret_file) {
            Ok((key, notice)) => {
                notices.push(notice);
                Some(key)
            }
            Err(problem) => {
                r.problems.push(problem);
                None
            }
        },
    }
}

/// Reads the development secret, or generates and saves one. Returns the notice to log.
fn dev_secret(file: Option<&Path>) -> Result<(SecretKey, String), String> {
    let Some(path) = file else {
        let key =
            SecretKey::parse(&SecretKey::generate_text()).ok_or("could not generate a secret")?;
        return Ok((
            key,
            "development mode: generated a secret key for this run only".to_owned(),
        ));
    };
    if let Ok(text) = std::fs::read_to_string(path) {
        if let Some(key) = SecretKey::parse(&text) {
            return Ok((
                key,
                format!(
                    "development mode: using the generated secret key in {}",
                    path.display()
                ),
            ));
        }
    }
    let text = SecretKey::generate_text();
    let saved = save_private(path, &text);
    let key = SecretKey::parse(&text).ok_or("could not generate a secret")?;
    let notice = match saved {
        Ok(()) => format!(
            "development mode: generated a secret key and saved it to {} (set SIGRA_SECRET_KEY in production)",
            path.display()
        ),
        Err(e) => format!("development mode: generated a secret key for this run only ({} not writable: {e})", path.display()),
    };
    Ok((key, notice))
}

fn save_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    use std::io::Write as _;
    options
        .open(PathBuf::from(path))?
        .write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use crate::config::tests::env;
    use crate::config::Config;

    #[test]
    fn dev_secret_is_saved_and_reused() {
        let dir = std::env::temp_dir().join(format!("sigra-cfg-{}", uuid::Uuid::new_v4()));
        let file = dir.join("secret");
        let first = Config::from_sources(None, &env(&[]), Some(&file)).expect("valid");
        let second = Config::from_sources(None, &env(&[]), Some(&file)).expect("valid");
        let sign = |c: &Config| c.secret_key.derive("t").sign("m");
        assert_eq!(sign(&first), sign(&second));
        assert!(second.notices[0].contains("using the generated secret key"));
        std::fs::remove_dir_all(dir).ok();
    }
}
