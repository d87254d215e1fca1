//! The settings of the whole site rather than one capability: development or production, the
//! public URL, logging, and the small switches for geolocation, new-address mail and metrics.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use url::Url;

use super::sources::{Reader, Setting};
use super::{Expected, SecretText};

/// The settings of the whole site; each section's own are declared beside it.
#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "env", aliases: &[] },
    Setting { key: "app_name", aliases: &[] },
    Setting { key: "base_url", aliases: &[] },
    Setting { key: "log.format", aliases: &[] },
    Setting { key: "sudo.timeout", aliases: &[] },
    Setting { key: "geoip.database", aliases: &[] },
    Setting { key: "notify.new_ip", aliases: &[] },
    Setting { key: "metrics.token", aliases: &[] },
];

/// Development or production. Production refuses weak or missing settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// Local work: generated secrets, an http base URL, the dev mailbox.
    Development,
    /// A deployment: real secrets, https, HSTS, JSON logs.
    Production,
}

impl FromStr for Environment {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "development" | "dev" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            _ => Err(Expected("development or production")),
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for a log pipeline.
    Json,
}

impl FromStr for LogFormat {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "json" => Ok(Self::Json),
            "pretty" => Ok(Self::Pretty),
            _ => Err(Expected("json or pretty")),
        }
    }
}

pub(super) fn read_base_url(r: &mut Reader, production: bool) -> Url {
    let Some(text) = r.given("base_url") else {
        if production {
            r.problems.push(
                "SIGRA_BASE_URL is required in production (the public https origin, such as https://auth.example.com)"
                    .to_owned(),
            );
        }
        return default_base_url();
    };
    match Url::parse(&text) {
        Ok(url) if url.host().is_some() && matches!(url.scheme(), "http" | "https") => {
            if production && url.scheme() != "https" {
                r.invalid(
                    "base_url",
                    format!("must be an https URL in production, got {text:?}"),
                );
            }
            url
        }
        _ => {
            r.invalid(
                "base_url",
                format!("should be an absolute http(s) URL, got {text:?}"),
            );
            default_base_url()
        }
    }
}

fn default_base_url() -> Url {
    // A literal known to parse; `Url::parse` cannot fail on it.
    Url::parse("http://localhost:3000").unwrap_or_else(|_| unreachable_url())
}

#[cold]
fn unreachable_url() -> Url {
    #[allow(clippy::panic)]
    {
        panic!("a constant URL failed to parse")
    }
}

pub(super) fn read_geoip_database(r: &mut Reader) -> Option<PathBuf> {
    let path = r.text("geoip.database", "");
    if path.is_empty() {
        return None;
    }
    if !Path::new(&path).is_file() {
        r.invalid(
            "geoip.database",
            format!("names {path}, which is not a readable file"),
        );
    }
    Some(PathBuf::from(path))
}

pub(super) fn read_metrics_token(r: &mut Reader) -> Option<SecretText> {
    let token = r.text("metrics.token", "");
    if token.is_empty() {
        return None;
    }
    if token.len() < 16 {
        r.invalid("metrics.token", "must be at least 16 characters");
        return None;
    }
    Some(SecretText(token))
}
