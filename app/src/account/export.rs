//! The personal data export page's data. The download itself is a plain form post to
//! `paths::EXPORT_DOWNLOAD`, which the server answers with the file.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::UiError;

/// What the export page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportView {
    /// Whether sudo is active, so the download can be asked for.
    pub sudo: bool,
}

/// The export page's data.
#[server(prefix = "/api/account", endpoint = "export")]
pub async fn export_overview() -> Result<ExportView, UiError> {
    let cx = crate::ssr::context().await?;
    let current = cx.require_user()?;
    Ok(ExportView {
        sudo: cx.sigra.sessions().sudo(current).is_ok(),
    })
}
