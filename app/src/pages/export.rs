//! `/users/settings/export`: download everything the site holds about the account.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::{export_overview, ExportView};
use crate::components::account_page::AccountPage;
use crate::components::account_page::BackToSettings;
use crate::components::forms::FormCard;
use crate::components::ui::TextLink;
use crate::paths;

/// The page: after sudo, a plain form whose answer is the file (so it downloads the same way
/// with or without JavaScript).
#[component]
pub fn ExportDataPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| export_overview());
    view! {
        <Title text="Download your data" />
        <BackToSettings />
        <AccountPage data page=export_form />
    }
}

fn export_form(data: ExportView) -> impl IntoView {
    view! {
        <FormCard title="Download your data">
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-300">
                "One JSON file with everything we hold about you: your account, sessions, linked providers, "
                "second factors and passkeys (what they are, never their secrets), API tokens (never the "
                "tokens), and the security events of your account."
            </p>
            {if data.sudo {
                view! {
                    <form method="post" action=paths::EXPORT_DOWNLOAD>
                        <button
                            type="submit"
                            class="w-full rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white shadow-sm hover:bg-indigo-500"
                        >
                            "Download my data"
                        </button>
                    </form>
                }
                .into_any()
            } else {
                view! {
                    <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="export-sudo">
                        "To download your data, "
                        <TextLink href=paths::with_return_to(paths::SUDO, paths::EXPORT_DATA)>"confirm it is you"</TextLink>
                        " first."
                    </p>
                }
                .into_any()
            }}
        </FormCard>
    }
}
