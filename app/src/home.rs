//! What the home page shows: a signed-in visitor's account at a glance, and, while the site
//! runs in development, a guide for the developer who just cloned the template.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::account::SecondFactorsView;
use crate::error::UiError;

/// The home page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    /// The signed-in visitor's account, if any.
    pub account: Option<AccountGlance>,
    /// What is running, in development only (a production home page is the host's own).
    pub development: Option<DevelopmentView>,
}

/// A signed-in visitor's account at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountGlance {
    /// Their address.
    pub email: String,
    /// Whether it is confirmed.
    pub confirmed: bool,
    /// Their second factors.
    pub second_factors: SecondFactorsView,
    /// How many sessions they have open.
    pub sessions: usize,
}

/// What the development server is running with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevelopmentView {
    /// "SQLite" or "PostgreSQL".
    pub database: String,
    /// Where mail goes: the development mailbox's path, when it is used.
    pub mailbox: Option<String>,
    /// The site's address.
    pub base_url: String,
}

/// The home page's data.
#[server(prefix = "/api", endpoint = "home")]
pub async fn home_overview() -> Result<HomeView, UiError> {
    let cx = crate::ssr::context().await?;
    let account = match &cx.current {
        Some(current) => {
            let user = current.user();
            let sessions = cx.sigra.sessions().list_sessions(current).await?.len();
            Some(AccountGlance {
                email: user.email.to_string(),
                confirmed: user.confirmed_at.is_some(),
                second_factors: SecondFactorsView::of(&cx, &user.id).await?,
                sessions,
            })
        }
        None => None,
    };
    let config = cx.sigra.config();
    let development = (!config.is_production()).then(|| DevelopmentView {
        database: if config.database.url.starts_with("postgres") {
            "PostgreSQL".to_owned()
        } else {
            "SQLite".to_owned()
        },
        mailbox: cx
            .sigra
            .dev_mailbox()
            .map(|_| sigra::mail::DEV_MAILBOX_PATH.to_owned()),
        base_url: config.base_url.to_string(),
    });
    Ok(HomeView {
        account,
        development,
    })
}
