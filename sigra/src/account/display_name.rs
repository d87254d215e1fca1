//! Setting the name an account goes by ([`DisplayName`]).

use crate::audit::{Action, AuditEvent};
use crate::error::Result;
use crate::request::RequestContext;
use crate::sessions::AccountOwner;
use crate::users::{self, DisplayName};

impl super::Account<'_> {
    /// Sets (or, with `None`, clears) the signed-in user's display name. The name mail greets
    /// the account by is its owner's to choose: an admin working as the user cannot.
    ///
    /// # Errors
    /// The database failed.
    pub async fn set_display_name(
        &self,
        owner: &AccountOwner,
        name: Option<DisplayName>,
        request: &RequestContext,
    ) -> Result<()> {
        let user = &owner.authenticated().user().id;
        let mut change = self.core.begin_change(request).await?;
        users::store::set_display_name(&mut change, user, name.as_ref()).await?;
        change
            .audit(
                AuditEvent::new(Action::DisplayNameChange)
                    .actor(user)
                    .meta("cleared", name.is_none()),
            )
            .await?;
        change.commit().await
    }
}
