use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{check_email_overview, CheckEmailView, ResendMail, SentMail};
use crate::components::forms::{FormError, Submit};
use crate::components::ui::{Banner, Loading, TextLink};
use crate::paths;

/// `/users/check-email`: where every "we sent you a mail" form ends. The flash says which mail;
/// the page names the address this browser typed, says what to do next, and offers the same
/// mail again. It reads the same whether or not an account exists.
#[component]
pub fn CheckEmailPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| check_email_overview());
    let resend = ServerAction::<ResendMail>::new();
    view! {
        <Title text="Check your email" />
        <section class="mx-auto max-w-md space-y-4">
            <h1 class="text-2xl font-semibold tracking-tight">"Check your email"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    let CheckEmailView { address, mail, mailbox } = overview.await.unwrap_or(CheckEmailView {
                        address: None,
                        mail: None,
                        mailbox: None,
                    });
                    view! {
                        {address.map(|address| view! {
                            <p data-testid="sent-to">
                                "We sent it to " <strong class="break-all">{address}</strong> "."
                            </p>
                        })}
                        <p class="text-slate-600 dark:text-slate-300">
                            "Mail usually arrives within a minute. If it does not, look in your spam folder."
                        </p>
                        {(mail == Some(SentMail::Confirmation)).then(|| view! {
                            <p class="text-sm">
                                "The mail has a link and a six-digit code. "
                                <TextLink href=paths::CONFIRM>"Enter the code"</TextLink>
                                " if you read your mail on another device."
                            </p>
                        })}
                        {mail.is_some().then(|| view! {
                            <ActionForm action=resend attr:class="space-y-3">
                                <FormError action=resend />
                                {move || resend.value().get().and_then(Result::ok).map(|mail| view! {
                                    <Banner tone=mail.sent().tone() attr:role="status" attr:data-testid="sent-again">{mail.sent().message()}</Banner>
                                })}
                                <Submit label="Send it again" pending=resend.pending().into() />
                            </ActionForm>
                        })}
                        {mailbox.map(|mailbox| view! {
                            <p class="rounded-md border border-dashed border-slate-300 p-3 text-sm dark:border-slate-700" data-testid="dev-mailbox">
                                "In development, mail is not sent: it waits in the "
                                <a href=mailbox rel="external" class="font-medium text-indigo-700 underline dark:text-indigo-300">"development mailbox"</a>
                                "."
                            </p>
                        })}
                    }
                })}
            </Suspense>
            <p class="text-sm">
                <TextLink href=paths::LOG_IN>"Back to log in"</TextLink>
            </p>
        </section>
    }
}
