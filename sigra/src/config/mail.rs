//! Outgoing mail: the transport, the sender, the SMTP server and the per-address limit.

use std::str::FromStr;
use std::time::Duration;

use super::sources::{Reader, Setting};
use super::{Expected, SecretText};

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "mail.transport", aliases: &[] },
    Setting { key: "mail.from", aliases: &[] },
    Setting { key: "mail.per_email_limit", aliases: &[] },
    Setting { key: "mail.per_email_window", aliases: &[] },
    Setting { key: "smtp.host", aliases: &[] },
    Setting { key: "smtp.port", aliases: &[] },
    Setting { key: "smtp.security", aliases: &[] },
    Setting { key: "smtp.username", aliases: &[] },
    Setting { key: "smtp.password", aliases: &[] },
    Setting { key: "smtp.timeout", aliases: &[] },
];

/// Outgoing mail settings.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// How mail leaves.
    pub transport: MailTransport,
    /// The sender, `Name <address>`.
    pub from: String,
    /// The SMTP server, when the transport is SMTP.
    pub smtp: Option<SmtpConfig>,
    /// Mails of one kind sent to one address per window, at most (resends, reset and magic
    /// link requests); further requests get the same answer and send nothing.
    pub per_email_limit: u32,
    /// The window of that limit.
    pub per_email_window: Duration,
}

/// How mail leaves the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// Stored in the database and shown at `/dev/mailbox` (development only).
    DevMailbox,
    /// Sent through an SMTP server.
    Smtp,
}

impl FromStr for MailTransport {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "dev_mailbox" => Ok(Self::DevMailbox),
            "smtp" => Ok(Self::Smtp),
            _ => Err(Expected("dev_mailbox or smtp")),
        }
    }
}

/// An SMTP server.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// Host name.
    pub host: String,
    /// Port (587 for STARTTLS, 465 for TLS by default).
    pub port: u16,
    /// Transport security.
    pub security: SmtpSecurity,
    /// User name and password, if the server wants them.
    pub credentials: Option<(String, SecretText)>,
    /// How long one delivery may take.
    pub timeout: Duration,
}

/// SMTP transport security.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required, not opportunistic).
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: a local relay or a test sink only.
    None,
}

impl FromStr for SmtpSecurity {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        match text {
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            "none" => Ok(Self::None),
            _ => Err(Expected("starttls, tls or none")),
        }
    }
}

impl MailConfig {
    pub(super) fn read(r: &mut Reader, production: bool, app_name: &str) -> Self {
        let default_transport = if production {
            MailTransport::Smtp
        } else {
            MailTransport::DevMailbox
        };
        let transport = r.parse("mail.transport", default_transport);
        if production && transport == MailTransport::DevMailbox {
            r.invalid(
                "mail.transport",
                "is dev_mailbox, which is for development; use smtp in production",
            );
        }
        let from = match r.given("mail.from") {
            Some(text) => {
                if text.parse::<lettre::message::Mailbox>().is_err() {
                    r.invalid(
                        "mail.from",
                        "should be an address such as \"Acme <no-reply@acme.example>\"",
                    );
                }
                text
            }
            None => {
                if production {
                    r.problems.push("SIGRA_MAIL_FROM is required in production (such as \"Acme <no-reply@acme.example>\")".to_owned());
                }
                format!("{app_name} <no-reply@localhost>")
            }
        };
        let smtp = (transport == MailTransport::Smtp).then(|| SmtpConfig::read(r));
        Self {
            transport,
            from,
            smtp,
            per_email_limit: r.number("mail.per_email_limit", 3),
            per_email_window: r.duration("mail.per_email_window", "15m"),
        }
    }
}

impl SmtpConfig {
    fn read(r: &mut Reader) -> Self {
        let host = r.text("smtp.host", "");
        if host.is_empty() {
            let transport = r.origin("mail.transport");
            r.invalid("smtp.host", format!("is required when {transport} is smtp"));
        }
        let security = r.parse("smtp.security", SmtpSecurity::StartTls);
        let default_port = if security == SmtpSecurity::Tls {
            465
        } else {
            587
        };
        let username = r.text("smtp.username", "");
        let password = r.text("smtp.password", "");
        Self {
            host,
            port: r.number("smtp.port", default_port),
            security,
            credentials: (!username.is_empty()).then_some((username, SecretText(password))),
            timeout: r.duration("smtp.timeout", "20s"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::production;

    #[test]
    fn the_development_mailbox_is_refused_in_production() {
        let err = production(&[("SIGRA_MAIL_TRANSPORT", "dev_mailbox")]).expect_err("must fail");
        assert!(err.to_string().contains("use smtp in production"), "{err}");
    }
}
