//! The mail the app sends, as Leptos components rendered on the server to HTML, each with a
//! plain-text part. The core asks for them through `sigra::mail::EmailTemplates`. Styles are
//! inline: mail clients ignore stylesheets.

use leptos::prelude::*;
use leptos::reactive::owner::Owner;
use sigra::mail::{EmailTemplates, Message, RenderedEmail};

/// The app's wording of every message.
#[derive(Clone, Copy, Debug, Default)]
pub struct Templates;

impl EmailTemplates for Templates {
    fn render(&self, app_name: &str, message: &Message) -> RenderedEmail {
        let app = app_name.to_owned();
        let (subject, text, body): (String, String, AnyView) = match message.clone() {
            Message::ConfirmEmail { url, code, valid_for_minutes } => {
                let spaced = format!("{} {}", &code[..3.min(code.len())], &code[3.min(code.len())..]);
                let valid = duration(valid_for_minutes);
                (
                    "Confirm your email address".to_owned(),
                    format!(
                        "Welcome to {app}.\n\nConfirm your email address by opening this link:\n{url}\n\n\
                         Or enter this code: {spaced}\n\nThe link and the code work for {valid}. \
                         If you did not create an account, you can ignore this message.\n"
                    ),
                    view! {
                        <Paragraph>"Welcome to " {app.clone()} ". Confirm your email address to finish setting up your account."</Paragraph>
                        <Button href=url label="Confirm my email address" />
                        <Paragraph>"Or enter this code on the confirmation page:"</Paragraph>
                        <p style="font-size:28px;font-weight:700;letter-spacing:6px;margin:8px 0 16px">{spaced}</p>
                        <Small>"The link and the code work for " {valid} ". If you did not create an account, you can ignore this message."</Small>
                    }
                    .into_any(),
                )
            }
            Message::RegistrationAttempt { log_in_url, reset_url } => (
                "Someone tried to register with your address".to_owned(),
                format!(
                    "Someone tried to create a {app} account with this email address, which already has one.\n\n\
                     If it was you, log in: {log_in_url}\nForgot your password? Reset it: {reset_url}\n\n\
                     If it was not you, nothing has changed and you can ignore this message.\n"
                ),
                view! {
                    <Paragraph>"Someone tried to create a " {app.clone()} " account with this email address, which already has one."</Paragraph>
                    <Button href=log_in_url label="Log in" />
                    <Paragraph>"Forgot your password? " <a href=reset_url style=LINK>"Reset it"</a> "."</Paragraph>
                    <Small>"If it was not you, nothing has changed and you can ignore this message."</Small>
                }
                .into_any(),
            ),
            Message::MagicLink { url, valid_for_minutes } => {
                let valid = duration(valid_for_minutes);
                (
                    format!("Your log-in link for {app}"),
                    format!(
                        "Open this link to log in to {app}:\n{url}\n\nIt works once, for {valid}. \
                         If you did not ask for it, you can ignore this message.\n"
                    ),
                    view! {
                        <Paragraph>"Use this button to log in to " {app.clone()} "."</Paragraph>
                        <Button href=url label="Log in" />
                        <Small>"The link works once, for " {valid} ". If you did not ask for it, you can ignore this message."</Small>
                    }
                    .into_any(),
                )
            }
            Message::ResetPassword { url, valid_for_minutes } => {
                let valid = duration(valid_for_minutes);
                (
                    "Reset your password".to_owned(),
                    format!(
                        "Someone asked to reset the password of your {app} account.\n\n\
                         Choose a new password here:\n{url}\n\nThe link works once, for {valid}. \
                         If you did not ask, ignore this message: your password stays as it is.\n"
                    ),
                    view! {
                        <Paragraph>"Someone asked to reset the password of your " {app.clone()} " account."</Paragraph>
                        <Button href=url label="Choose a new password" />
                        <Small>"The link works once, for " {valid} ". If you did not ask, ignore this message: your password stays as it is."</Small>
                    }
                    .into_any(),
                )
            }
            Message::PasswordChanged { reset_url } => (
                "Your password was changed".to_owned(),
                format!(
                    "The password of your {app} account was just changed, and your other sessions were logged out.\n\n\
                     If this was not you, reset your password now: {reset_url}\n"
                ),
                view! {
                    <Paragraph>"The password of your " {app.clone()} " account was just changed, and your other sessions were logged out."</Paragraph>
                    <Paragraph>"If this was not you, reset your password now:"</Paragraph>
                    <Button href=reset_url label="Reset my password" />
                }
                .into_any(),
            ),
            Message::ConfirmEmailChange { url, new_email, valid_for_minutes } => {
                let valid = duration(valid_for_minutes);
                (
                    "Confirm your new email address".to_owned(),
                    format!(
                        "Confirm that {new_email} is the new address of your {app} account:\n{url}\n\n\
                         The link works once, for {valid}. Until then your old address stays in use.\n"
                    ),
                    view! {
                        <Paragraph>"Confirm that " <strong>{new_email}</strong> " is the new address of your " {app.clone()} " account."</Paragraph>
                        <Button href=url label="Confirm my new address" />
                        <Small>"The link works once, for " {valid} ". Until then your old address stays in use."</Small>
                    }
                    .into_any(),
                )
            }
            Message::EmailChangeRequested { new_email } => (
                "An email change was requested".to_owned(),
                format!(
                    "Someone signed in to your {app} account asked to change its email address to {new_email}.\n\n\
                     Nothing changes until the new address is confirmed. If this was not you, change your password now.\n"
                ),
                view! {
                    <Paragraph>"Someone signed in to your " {app.clone()} " account asked to change its email address to " <strong>{new_email}</strong> "."</Paragraph>
                    <Small>"Nothing changes until the new address is confirmed. If this was not you, change your password now."</Small>
                }
                .into_any(),
            ),
            Message::EmailChanged { new_email } => (
                "Your email address was changed".to_owned(),
                format!(
                    "The email address of your {app} account is now {new_email}. Mail will go there from now on.\n\n\
                     If this was not you, contact support right away.\n"
                ),
                view! {
                    <Paragraph>"The email address of your " {app.clone()} " account is now " <strong>{new_email}</strong> ". Mail will go there from now on."</Paragraph>
                    <Small>"If this was not you, contact support right away."</Small>
                }
                .into_any(),
            ),
            Message::AccountLocked { minutes, reset_url } => {
                let lock = duration(minutes);
                (
                    "Your account was locked for a while".to_owned(),
                    format!(
                        "There were too many wrong passwords for your {app} account, so it is locked for {lock}.\n\n\
                         If it was you, wait and try again, or reset your password: {reset_url}\n\
                         If it was not you, someone may be guessing your password; a long, unique password keeps it safe.\n"
                    ),
                    view! {
                        <Paragraph>"There were too many wrong passwords for your " {app.clone()} " account, so it is locked for " {lock} "."</Paragraph>
                        <Paragraph>"If it was you, wait and try again, or reset your password:"</Paragraph>
                        <Button href=reset_url label="Reset my password" />
                        <Small>"If it was not you, someone may be guessing your password; a long, unique password keeps it safe."</Small>
                    }
                    .into_any(),
                )
            }
            Message::NewSignIn { ip, location, device, at, reset_url } => {
                let place = location.map(|l| format!(" ({l})")).unwrap_or_default();
                (
                    format!("New sign-in to your {app} account"),
                    format!(
                        "Your {app} account was just signed in from an address it has not used before.\n\n\
                         When: {at}\nWhere: {ip}{place}\nDevice: {device}\n\n\
                         If this was you, there is nothing to do. If not, reset your password now: {reset_url}\n"
                    ),
                    view! {
                        <Paragraph>"Your " {app.clone()} " account was just signed in from an address it has not used before."</Paragraph>
                        <p style="margin:0 0 16px;font-size:14px;line-height:1.6;color:#334155">
                            "When: " {at} <br /> "Where: " {ip} {place} <br /> "Device: " {device}
                        </p>
                        <Paragraph>"If this was you, there is nothing to do. If not, reset your password now:"</Paragraph>
                        <Button href=reset_url label="Reset my password" />
                    }
                    .into_any(),
                )
            }
            Message::MfaEnabled => (
                "Two-factor authentication is on".to_owned(),
                format!(
                    "Two-factor authentication was turned on for your {app} account. Log-ins now ask for a code \
                     from your authenticator app after the password.\n\n\
                     Keep your backup codes somewhere safe: each one logs you in once if you lose your phone.\n\n\
                     If this was not you, reset your password and contact us.\n"
                ),
                view! {
                    <Paragraph>"Two-factor authentication was turned on for your " {app.clone()} " account. Log-ins now ask for a code from your authenticator app after the password."</Paragraph>
                    <Paragraph>"Keep your backup codes somewhere safe: each one logs you in once if you lose your phone."</Paragraph>
                    <Small>"If this was not you, reset your password and contact us."</Small>
                }
                .into_any(),
            ),
            Message::MfaDisabled { reset_url } => (
                "Two-factor authentication was turned off".to_owned(),
                format!(
                    "Two-factor authentication was turned off for your {app} account, and trusted browsers were forgotten. \
                     Log-ins now need only the password.\n\n\
                     If this was not you, reset your password now: {reset_url}\n"
                ),
                view! {
                    <Paragraph>"Two-factor authentication was turned off for your " {app.clone()} " account, and trusted browsers were forgotten. Log-ins now need only the password."</Paragraph>
                    <Paragraph>"If this was not you, reset your password now:"</Paragraph>
                    <Button href=reset_url label="Reset my password" />
                }
                .into_any(),
            ),
            Message::BackupCodeUsed { remaining } => {
                let left = match remaining {
                    0 => "You have no backup codes left: make a new set in your security settings now.".to_owned(),
                    1 => "You have 1 backup code left. Consider making a new set in your security settings.".to_owned(),
                    n => format!("You have {n} backup codes left."),
                };
                (
                    "A backup code was used to log in".to_owned(),
                    format!(
                        "One of your backup codes was just used to log in to your {app} account. It cannot be used again.\n\n\
                         {left}\n\nIf this was not you, reset your password and turn two-factor authentication off and on again \
                         to get a new secret.\n"
                    ),
                    view! {
                        <Paragraph>"One of your backup codes was just used to log in to your " {app.clone()} " account. It cannot be used again."</Paragraph>
                        <Paragraph>{left}</Paragraph>
                        <Small>"If this was not you, reset your password and turn two-factor authentication off and on again to get a new secret."</Small>
                    }
                    .into_any(),
                )
            }
            Message::PasskeyAdded { name } => (
                "A passkey was added to your account".to_owned(),
                format!(
                    "A passkey named \"{name}\" was added to your {app} account. It can now log in without a password.\n\n\
                     If this was not you, remove it in your security settings and reset your password.\n"
                ),
                view! {
                    <Paragraph>"A passkey named “" {name} "” was added to your " {app.clone()} " account. It can now log in without a password."</Paragraph>
                    <Small>"If this was not you, remove it in your security settings and reset your password."</Small>
                }
                .into_any(),
            ),
            Message::MfaLocked { minutes, reset_url } => {
                let lock = duration(minutes);
                (
                    "Two-factor log-in locked for a while".to_owned(),
                    format!(
                        "Someone entered your {app} password correctly, then too many wrong two-factor codes, so the code step \
                         is locked for {lock}.\n\n\
                         If it was you, wait and try again. If not, your password is known to someone: reset it now: {reset_url}\n"
                    ),
                    view! {
                        <Paragraph>"Someone entered your " {app.clone()} " password correctly, then too many wrong two-factor codes, so the code step is locked for " {lock} "."</Paragraph>
                        <Paragraph>"If it was you, wait and try again. If not, your password is known to someone: reset it now."</Paragraph>
                        <Button href=reset_url label="Reset my password" />
                    }
                    .into_any(),
                )
            }
        };
        let html = Owner::new().with(|| {
            view! { <Layout app=app_name.to_owned() subject=subject.clone()>{body}</Layout> }
                .to_html()
        });
        RenderedEmail {
            subject,
            html: format!("<!DOCTYPE html>{html}"),
            text,
        }
    }
}

const LINK: &str = "color:#4f46e5;text-decoration:underline";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_renders_html_and_text_with_its_link() {
        for message in Message::samples("https://auth.example.com") {
            let email = Templates.render("Acme", &message);
            assert!(!email.subject.is_empty());
            assert!(
                email.html.starts_with("<!DOCTYPE html><html"),
                "{}",
                message.name()
            );
            assert!(email.text.contains("Acme"), "{}", message.name());
            for url in [
                "https://auth.example.com/users/confirm/SAMPLE-TOKEN",
                "https://auth.example.com/users/reset-password/SAMPLE-TOKEN",
            ] {
                if email.text.contains(url) {
                    assert!(
                        email.html.contains(url),
                        "{}: the HTML carries the same link",
                        message.name()
                    );
                }
            }
        }
    }

    #[test]
    fn user_supplied_text_is_escaped() {
        let message = Message::EmailChanged {
            new_email: "<script>alert(1)</script>@example.com".to_owned(),
        };
        let email = Templates.render("Acme", &message);
        assert!(!email.html.contains("<script>"));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(10), "10 minutes");
        assert_eq!(duration(60), "1 hour");
        assert_eq!(duration(48 * 60), "48 hours");
        assert_eq!(duration(1), "1 minute");
    }
}
