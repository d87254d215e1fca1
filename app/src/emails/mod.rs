//! The mail the app sends. Each message is described once, as data ([`Email`]: a subject and
//! a list of [`Block`]s), and that one description is rendered twice: to HTML through the
//! Leptos components below, on the server, and to plain text. The core asks for both through
//! `sigra::mail::EmailTemplates`. Styles are inline: mail clients ignore stylesheets.

use leptos::prelude::*;
use leptos::reactive::owner::Owner;
use sigra::mail::{EmailTemplates, Link, Message, Recipient, RenderedEmail};

/// The app's wording of every message.
#[derive(Clone, Copy, Debug, Default)]
pub struct Templates;

impl EmailTemplates for Templates {
    fn render(&self, app_name: &str, to: Recipient<'_>, message: &Message) -> RenderedEmail {
        let mut email = describe(app_name, message.clone());
        if let Some(name) = to.name {
            email
                .body
                .insert(0, Block::Paragraph(vec![format!("Hi {name},").into()]));
        }
        RenderedEmail {
            text: email.text(),
            html: email.html(app_name),
            subject: email.subject,
        }
    }
}

/// A message in words, before it is rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Email {
    /// The subject line, also the heading of the HTML part.
    subject: String,
    /// The body, top to bottom.
    body: Vec<Block>,
}

/// A part of the body.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Block {
    /// Running text.
    Paragraph(Vec<Inline>),
    /// The call to action: a button in HTML, `label: url` on a line of its own in text.
    Button { label: &'static str, url: String },
    /// A code to type in, after its lead-in: set large in HTML, on the lead-in's line in text.
    Code { lead: &'static str, code: String },
    /// Labelled lines, such as "When: …" and "Where: …".
    Facts(Vec<(&'static str, String)>),
    /// The small print at the end.
    Small(Vec<Inline>),
}

/// A piece of running text. Every dynamic value goes in as one of these, so the HTML part
/// escapes it (Leptos escapes text and attribute values).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Inline {
    /// Plain words.
    Text(String),
    /// Words in bold (in the text part, plain).
    Strong(String),
    /// A link; the text part writes `label: url`, so it should end its sentence.
    Link { label: &'static str, url: String },
}

impl From<String> for Inline {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Inline {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

fn strong(text: String) -> Inline {
    Inline::Strong(text)
}

/// Building a message block by block, top to bottom.
impl Email {
    fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            body: Vec::new(),
        }
    }

    fn block(mut self, block: Block) -> Self {
        self.body.push(block);
        self
    }

    /// A paragraph of plain words.
    fn para(self, text: impl Into<Inline>) -> Self {
        self.block(Block::Paragraph(vec![text.into()]))
    }

    /// A paragraph of mixed parts (bold words, links).
    fn parts<const N: usize>(self, parts: [Inline; N]) -> Self {
        self.block(Block::Paragraph(parts.into()))
    }

    fn button(self, label: &'static str, url: Link) -> Self {
        self.block(Block::Button {
            label,
            url: url.into(),
        })
    }

    fn code(self, lead: &'static str, code: String) -> Self {
        self.block(Block::Code { lead, code })
    }

    fn facts<const N: usize>(self, lines: [(&'static str, String); N]) -> Self {
        self.block(Block::Facts(lines.into()))
    }

    /// Small print of plain words.
    fn small(self, text: impl Into<Inline>) -> Self {
        self.block(Block::Small(vec![text.into()]))
    }
}

/// The wording of `message` for a product called `app`.
fn describe(app: &str, message: Message) -> Email {
    match message {
        Message::ConfirmEmail { url, code, valid_for_minutes } => {
            // "482 913" reads more easily; a code that cannot be split so is shown as it is.
            let spaced = match (code.get(..3), code.get(3..)) {
                (Some(head), Some(tail)) if !tail.is_empty() => format!("{head} {tail}"),
                _ => code,
            };
            let valid = duration(valid_for_minutes);
            Email::new("Confirm your email address")
                .para(format!("Welcome to {app}. Confirm your email address to finish setting up your account."))
                .button("Confirm my email address", url)
                .code("Or enter this code:", spaced)
                .small(format!(
                    "The link and the code work for {valid}. If you did not create an account, you can ignore this message."
                ))
        }
        Message::RegistrationAttempt { log_in_url, reset_url } => {
            Email::new("Someone tried to register with your address")
                .para(format!(
                    "Someone tried to create a {app} account with this email address, which already has one."
                ))
                .para("If it was you, log in:")
                .button("Log in", log_in_url)
                .parts(["Forgot your password? ".into(), Inline::Link { label: "Reset it", url: reset_url.into() }])
                .small("If it was not you, nothing has changed and you can ignore this message.")
        }
        Message::MagicLink { url, valid_for_minutes } => {
            let valid = duration(valid_for_minutes);
            Email::new(format!("Your log-in link for {app}"))
                .para(format!("Open this link to log in to {app}:"))
                .button("Log in", url)
                .small(format!(
                    "The link works once, for {valid}. If you did not ask for it, you can ignore this message."
                ))
        }
        Message::ResetPassword { url, valid_for_minutes, signs_in_with } => {
            let valid = duration(valid_for_minutes);
            let email = Email::new("Reset your password")
                .para(format!("Someone asked to reset the password of your {app} account."));
            let email = if signs_in_with.is_empty() {
                email
            } else {
                email.para(format!(
                    "Your account has no password: it logs in with {}. You can keep logging in that way, \
                     or choose a password here to log in with it too.",
                    signs_in_with.join(" or ")
                ))
            };
            email
                .button("Choose a new password", url)
                .small(format!(
                    "The link works once, for {valid}. If you did not ask, ignore this message: your password stays as it is."
                ))
        }
        Message::PasswordChanged { reset_url } => Email::new("Your password was changed")
            .para(format!(
                "The password of your {app} account was just changed, and your other sessions were logged out."
            ))
            .para("If this was not you, reset your password now:")
            .button("Reset my password", reset_url),
        Message::ConfirmEmailChange { url, new_email, valid_for_minutes } => {
            let valid = duration(valid_for_minutes);
            Email::new("Confirm your new email address")
                .parts([
                    "Confirm that ".into(),
                    strong(new_email),
                    format!(" is the new address of your {app} account.").into(),
                ])
                .button("Confirm my new address", url)
                .small(format!("The link works once, for {valid}. Until then your old address stays in use."))
        }
        Message::EmailChangeRequested { new_email } => Email::new("An email change was requested")
            .parts([
                format!("Someone logged in to your {app} account asked to change its email address to ").into(),
                strong(new_email),
                ".".into(),
            ])
            .small("Nothing changes until the new address is confirmed. If this was not you, change your password now."),
        Message::EmailChanged { new_email } => Email::new("Your email address was changed")
            .parts([
                format!("The email address of your {app} account is now ").into(),
                strong(new_email),
                ". Mail will go there from now on.".into(),
            ])
            .small("If this was not you, contact support right away."),
        Message::AccountLocked { minutes, reset_url } => {
            let lock = duration(minutes);
            Email::new("Your account was locked for a while")
                .para(format!(
                    "There were too many wrong passwords for your {app} account, so it is locked for {lock}."
                ))
                .para("If it was you, wait and try again, or reset your password:")
                .button("Reset my password", reset_url)
                .small("If it was not you, someone may be guessing your password; a long, unique password keeps it safe.")
        }
        Message::NewSignIn { ip, location, device, at, reset_url } => {
            let place = location.map(|l| format!(" ({l})")).unwrap_or_default();
            Email::new(format!("New log-in to your {app} account"))
                .para(format!("Your {app} account was just logged in from an address it has not used before."))
                .facts([("When", at), ("Where", format!("{ip}{place}")), ("Device", device)])
                .para("If this was you, there is nothing to do. If not, reset your password now:")
                .button("Reset my password", reset_url)
        }
        Message::MfaEnabled => Email::new("Two-factor authentication is on")
            .para(format!(
                "Two-factor authentication was turned on for your {app} account. Log-ins now ask for a code \
                 from your authenticator app after the password."
            ))
            .para("Keep your backup codes somewhere safe: each one logs you in once if you lose your phone.")
            .small("If this was not you, reset your password and contact us."),
        Message::MfaDisabled { reset_url } => Email::new("Two-factor authentication was turned off")
            .para(format!(
                "Two-factor authentication was turned off for your {app} account, and trusted browsers were \
                 forgotten. Log-ins now need only the password."
            ))
            .para("If this was not you, reset your password now:")
            .button("Reset my password", reset_url),
        Message::BackupCodeUsed { remaining } => {
            let left = match remaining {
                0 => "You have no backup codes left: make a new set in your security settings now.".to_owned(),
                1 => "You have 1 backup code left. Consider making a new set in your security settings.".to_owned(),
                n => format!("You have {n} backup codes left."),
            };
            Email::new("A backup code was used to log in")
                .para(format!(
                    "One of your backup codes was just used to log in to your {app} account. It cannot be used again."
                ))
                .para(left)
                .small(
                    "If this was not you, reset your password and turn two-factor authentication off and on again \
                     to get a new secret.",
                )
        }
        Message::BackupCodesRegenerated { reset_url } => Email::new("New backup codes were made")
            .para(format!(
                "A new set of backup codes was made for your {app} account. The old codes no longer work."
            ))
            .para("If this was not you, reset your password now:")
            .button("Reset my password", reset_url),
        Message::PasskeyAdded { name } => Email::new("A passkey was added to your account")
            .parts([
                "A passkey named “".into(),
                Inline::Text(name),
                format!("” was added to your {app} account. It can now log in without a password.").into(),
            ])
            .small("If this was not you, remove it in your security settings and reset your password."),
        Message::ProviderLinked { provider } => Email::new(format!("{provider} was linked to your account"))
            .para(format!("You can now log in to your {app} account with {provider}."))
            .small("If this was not you, unlink it in your account settings and reset your password."),
        Message::ProviderUnlinked { provider } => Email::new(format!("{provider} was unlinked from your account"))
            .para(format!("{provider} can no longer be used to log in to your {app} account."))
            .small("If this was not you, reset your password now."),
        Message::ApiTokenCreated { name, scopes, tokens_url } => {
            Email::new("A new API token was created")
                .parts(["A personal API token named ".into(), strong(name), format!(" was created for your {app} account.").into()])
                .facts([("Scopes", scopes)])
                .para("Anyone holding it can use your account within those scopes until it expires or is revoked.")
                .button("Review your API tokens", tokens_url)
                .small("If you did not create it, revoke it there and change your password.")
        }
        Message::OrganizationInvitation { organization, invited_by, role, url, valid_for_days } => {
            Email::new(format!("You are invited to join {organization}"))
                .parts([
                    Inline::Text(invited_by),
                    " invited you to join ".into(),
                    strong(organization),
                    format!(" on {app} as {role}.").into(),
                ])
                .button("Accept the invitation", url)
                .small(format!(
                    "The invitation works for {valid_for_days} days, only for an account with this email address. \
                     If you did not expect it, ignore this mail."
                ))
        }
        Message::MfaLocked { minutes, reset_url } => {
            let lock = duration(minutes);
            Email::new("Two-factor log-in locked for a while")
                .para(format!(
                    "Someone entered your {app} password correctly, then too many wrong two-factor codes, so the \
                     code step is locked for {lock}."
                ))
                .para("If it was you, wait and try again. If not, your password is known to someone: reset it now:")
                .button("Reset my password", reset_url)
        }
        Message::DeletionScheduled { delete_at, keep_url } => {
            // "2026-12-20T10:00:00.000Z" reads as "2026-12-20 at 10:00 UTC".
            let when = match (delete_at.get(..10), delete_at.get(11..16)) {
                (Some(day), Some(time)) => format!("{day} at {time} UTC"),
                _ => delete_at,
            };
            Email::new(format!("Your {app} account will be deleted"))
                .parts([
                    format!("Your {app} account is scheduled for deletion on ").into(),
                    strong(when),
                    ". Every session and token was ended.".into(),
                ])
                .para("Changed your mind? Log in before then and choose to keep your account:")
                .button("Keep my account", keep_url)
                .small("If you did not ask for this, log in and keep your account, then change your password.")
        }
        Message::AccountCreated { url, valid_for_minutes } => {
            let valid = duration(valid_for_minutes);
            Email::new(format!("Your {app} account is ready"))
                .para(format!("An administrator made a {app} account for this address. Choose your password to start:"))
                .button("Choose my password", url)
                .small(format!(
                    "The link works once, for {valid}. If you did not expect this, ignore this message: nobody can \
                     use the account without the link."
                ))
        }
        Message::TestMail => Email::new(format!("A test message from {app}"))
            .para(format!("The mail settings of {app} work: this message was sent by `server doctor`."))
            .small("Nothing needs doing."),
        Message::DeletionCancelled => Email::new(format!("Your {app} account will not be deleted"))
            .para(format!("You kept your {app} account: the deletion you asked for is cancelled."))
            .small("If this was not you, change your password now."),
        Message::AccountDeleted => Email::new(format!("Your {app} account was deleted"))
            .para(format!(
                "Your {app} account was deleted as you asked. This address is no longer linked to it, and \
                 you can register again with it at any time."
            ))
            .small("This is the last message about that account."),
    }
}

/// "10 minutes", "1 hour", "48 hours".
fn duration(minutes: u64) -> String {
    match minutes {
        m if m % 60 == 0 && m >= 60 => {
            let hours = m / 60;
            format!("{hours} hour{}", if hours == 1 { "" } else { "s" })
        }
        m => format!("{m} minute{}", if m == 1 { "" } else { "s" }),
    }
}

// ---- plain text ----

impl Email {
    /// The plain-text part: blocks apart by a blank line, links as whole words.
    fn text(&self) -> String {
        let blocks: Vec<String> = self.body.iter().map(Block::text).collect();
        format!("{}\n", blocks.join("\n\n"))
    }
}

impl Block {
    fn text(&self) -> String {
        match self {
            Self::Paragraph(parts) | Self::Small(parts) => parts.iter().map(Inline::text).collect(),
            Self::Button { label, url } => format!("{label}: {url}"),
            Self::Code { lead, code } => format!("{lead} {code}"),
            Self::Facts(lines) => lines
                .iter()
                .map(|(label, value)| format!("{label}: {value}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

impl Inline {
    fn text(&self) -> String {
        match self {
            Self::Text(text) | Self::Strong(text) => text.clone(),
            Self::Link { label, url } => format!("{label}: {url}"),
        }
    }
}

// ---- HTML ----

impl Email {
    /// The HTML part, a whole document.
    fn html(&self, app: &str) -> String {
        let (subject, body) = (self.subject.clone(), self.body.clone());
        let html = Owner::new().with(|| {
            view! {
                <Layout app=app.to_owned() subject>
                    {body.into_iter().map(Block::view).collect_view()}
                </Layout>
            }
            .to_html()
        });
        format!("<!DOCTYPE html>{html}")
    }
}

impl Block {
    fn view(self) -> AnyView {
        match self {
            Self::Paragraph(parts) => view! { <Paragraph>{inlines(parts)}</Paragraph> }.into_any(),
            Self::Small(parts) => view! { <Small>{inlines(parts)}</Small> }.into_any(),
            Self::Button { label, url } => view! { <Button href=url label /> }.into_any(),
            Self::Code { lead, code } => view! {
                <Paragraph>{lead}</Paragraph>
                <p style="font-size:28px;font-weight:700;letter-spacing:6px;margin:8px 0 16px">{code}</p>
            }
            .into_any(),
            Self::Facts(lines) => view! { <Facts lines /> }.into_any(),
        }
    }
}

fn inlines(parts: Vec<Inline>) -> impl IntoView {
    parts
        .into_iter()
        .map(|part| match part {
            Inline::Text(text) => text.into_any(),
            Inline::Strong(text) => view! { <strong>{text}</strong> }.into_any(),
            Inline::Link { label, url } => view! { <a href=url style=LINK>{label}</a> }.into_any(),
        })
        .collect_view()
}

const LINK: &str = "color:#4f46e5;text-decoration:underline";

#[component]
fn Layout(app: String, subject: String, children: Children) -> impl IntoView {
    view! {
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <title>{subject.clone()}</title>
            </head>
            <body style="margin:0;padding:24px;background:#f1f5f9;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#0f172a">
                <div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:12px;padding:32px;border:1px solid #e2e8f0">
                    <p style="margin:0 0 24px;font-size:18px;font-weight:700;color:#4f46e5">{app}</p>
                    <h1 style="margin:0 0 16px;font-size:22px">{subject}</h1>
                    {children()}
                </div>
            </body>
        </html>
    }
}

#[component]
fn Paragraph(children: Children) -> impl IntoView {
    view! { <p style="margin:0 0 16px;font-size:16px;line-height:1.5">{children()}</p> }
}

#[component]
fn Small(children: Children) -> impl IntoView {
    view! { <p style="margin:16px 0 0;font-size:13px;line-height:1.5;color:#64748b">{children()}</p> }
}

#[component]
fn Button(href: String, label: &'static str) -> impl IntoView {
    view! {
        <p style="margin:8px 0 24px">
            <a href=href style="display:inline-block;background:#4f46e5;color:#ffffff;padding:12px 20px;border-radius:8px;font-weight:600;text-decoration:none">
                {label}
            </a>
        </p>
    }
}

/// Labelled lines, one under the other.
#[component]
fn Facts(lines: Vec<(&'static str, String)>) -> impl IntoView {
    let count = lines.len();
    view! {
        <p style="margin:0 0 16px;font-size:14px;line-height:1.6;color:#334155">
            {lines
                .into_iter()
                .enumerate()
                .map(|(i, (label, value))| view! {
                    {label} ": " {value}
                    {(i + 1 < count).then(|| view! { <br /> })}
                })
                .collect_view()}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every link a message carries. No wildcard: a new message must say what its links are.
    fn links(message: &Message) -> Vec<&str> {
        match message {
            Message::ConfirmEmail { url, .. }
            | Message::MagicLink { url, .. }
            | Message::ResetPassword { url, .. }
            | Message::ConfirmEmailChange { url, .. }
            | Message::AccountCreated { url, .. } => vec![url.as_str()],
            Message::RegistrationAttempt {
                log_in_url,
                reset_url,
            } => vec![log_in_url.as_str(), reset_url.as_str()],
            Message::PasswordChanged { reset_url }
            | Message::AccountLocked { reset_url, .. }
            | Message::NewSignIn { reset_url, .. }
            | Message::MfaDisabled { reset_url }
            | Message::BackupCodesRegenerated { reset_url }
            | Message::MfaLocked { reset_url, .. } => vec![reset_url.as_str()],
            Message::ApiTokenCreated { tokens_url, .. } => vec![tokens_url.as_str()],
            Message::OrganizationInvitation { url, .. } => vec![url.as_str()],
            Message::DeletionScheduled { keep_url, .. } => vec![keep_url.as_str()],
            Message::EmailChangeRequested { .. }
            | Message::DeletionCancelled
            | Message::AccountDeleted
            | Message::TestMail
            | Message::EmailChanged { .. }
            | Message::MfaEnabled
            | Message::BackupCodeUsed { .. }
            | Message::PasskeyAdded { .. }
            | Message::ProviderLinked { .. }
            | Message::ProviderUnlinked { .. } => vec![],
        }
    }

    fn sample(base_url: &str, name: &str) -> Message {
        Message::samples(base_url)
            .into_iter()
            .find(|message| message.name() == name)
            .expect("a sample of every message")
    }

    #[test]
    fn every_message_renders_html_and_text_with_its_links() {
        for message in Message::samples("https://auth.example.com") {
            let name = message.name();
            let email = Templates.render("Acme", Recipient::default(), &message);
            assert!(!email.subject.is_empty(), "{name}");
            assert!(email.html.starts_with("<!DOCTYPE html><html"), "{name}");
            assert!(email.text.contains("Acme"), "{name}");
            assert!(email.html.contains("Acme"), "{name}");
            for url in links(&message) {
                // Tests and people copy links out of the text part word by word.
                assert!(
                    email.text.split_whitespace().any(|word| word == url),
                    "{name}: {url} stands alone in the text:\n{}",
                    email.text
                );
                assert!(
                    email.html.contains(&format!("href=\"{url}\"")),
                    "{name}: the HTML links to {url}"
                );
            }
        }
    }

    #[test]
    fn text_and_html_say_the_same() {
        let message = sample("https://auth.example.com", "confirm_email");
        let email = Templates.render("Acme", Recipient::default(), &message);
        assert_eq!(email.subject, "Confirm your email address");
        assert!(
            email.text.contains("Or enter this code: 482 913\n"),
            "{}",
            email.text
        );
        assert!(email.html.contains(">482 913<"), "{}", email.html);
        for phrase in [
            "Welcome to Acme.",
            "The link and the code work for 48 hours.",
        ] {
            assert!(email.text.contains(phrase), "{phrase}");
            assert!(email.html.contains(phrase), "{phrase}");
        }
        assert!(!email.text.contains('<'), "no markup in the text part");
    }

    #[test]
    fn a_named_recipient_is_greeted_by_name_and_the_name_cannot_add_markup() {
        let message = sample("https://auth.example.com", "confirm_email");
        let to = Recipient {
            name: Some("Ada <b>L</b>"),
        };
        let email = Templates.render("Acme", to, &message);
        assert!(
            email.text.starts_with("Hi Ada <b>L</b>,\n"),
            "{}",
            email.text
        );
        assert!(
            email.html.contains("Hi Ada &lt;b&gt;L&lt;/b&gt;,"),
            "{}",
            email.html
        );
        let unnamed = Templates.render("Acme", Recipient::default(), &message);
        assert!(!unnamed.text.contains("Hi "), "no greeting without a name");
    }

    #[test]
    fn facts_stand_on_lines_of_their_own() {
        let message = sample("https://auth.example.com", "new_sign_in");
        let email = Templates.render("Acme", Recipient::default(), &message);
        assert!(email.text.contains(
            "When: 2026-11-27T10:00:00.000Z\nWhere: 203.0.113.7 (Lyon, FR)\nDevice: Firefox 146 on Linux"
        ));
        assert_eq!(email.html.matches("<br").count(), 2, "{}", email.html);
    }

    #[test]
    fn user_supplied_text_is_escaped() {
        let script = "<script>alert(1)</script>";
        let messages = [
            Message::EmailChanged {
                new_email: format!("{script}@example.com"),
            },
            Message::PasskeyAdded {
                name: script.to_owned(),
            },
            Message::NewSignIn {
                ip: script.to_owned(),
                location: Some(script.to_owned()),
                device: script.to_owned(),
                at: script.to_owned(),
                // A base URL with markup in it, the one way text reaches a link.
                reset_url: match sample("https://auth.example.com/\"><script>", "new_sign_in") {
                    Message::NewSignIn { reset_url, .. } => reset_url,
                    _ => unreachable!("the sample is a new log-in"),
                },
            },
        ];
        for message in messages {
            let email = Templates.render("<b>Acme</b>", Recipient::default(), &message);
            assert!(!email.html.contains("<script>"), "{}", message.name());
            assert!(!email.html.contains("<b>Acme"), "{}", message.name());
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(10), "10 minutes");
        assert_eq!(duration(60), "1 hour");
        assert_eq!(duration(48 * 60), "48 hours");
        assert_eq!(duration(1), "1 minute");
    }
}
