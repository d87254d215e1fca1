//! The account's owner at the keyboard. A platform admin impersonating a user has a real session
//! of that user, but may not change how the account is secured: its password, address, second
//! factors, passkeys, linked providers, API tokens, or its deletion. Every such change takes an
//! [`AccountOwner`] (directly, or through [`super::Sudo`], which is only granted to one), and
//! only [`Sessions::account_owner`] builds one, refusing an impersonation with an audit row.
//!
//! ```compile_fail
//! # use sigra::sessions::{AccountOwner, Authenticated};
//! # fn forge(current: Authenticated) {
//! let owner = AccountOwner { current };
//! # }
//! ```

use crate::audit::{Action, AuditEvent};
use crate::error::{Error, Result};
use crate::request::RequestContext;
use crate::users::User;

use super::{Authenticated, SessionInfo, Sessions};

/// Proof that the session is the user's own, not an impersonation.
#[derive(Clone, Debug)]
pub struct AccountOwner {
    current: Authenticated,
}

impl AccountOwner {
    /// The signed-in user.
    pub fn user(&self) -> &User {
        self.current.user()
    }

    /// The session.
    pub fn session(&self) -> &SessionInfo {
        self.current.session()
    }

    /// The session proof.
    pub fn authenticated(&self) -> &Authenticated {
        &self.current
    }
}

impl Sessions<'_> {
    /// The owner proof for `current`, for a security change named `attempted` (kept in the
    /// audit row of a refusal, e.g. `password_change`).
    ///
    /// # Errors
    /// `ForbiddenWhileImpersonating` for an impersonation (audited as
    /// `admin.impersonation.denied`); the database failed.
    pub async fn account_owner(
        &self,
        current: &Authenticated,
        attempted: &'static str,
        request: &RequestContext,
    ) -> Result<AccountOwner> {
        if current.impersonator().is_some() {
            let event = AuditEvent::new(Action::ImpersonationDenied)
                .actor(&current.user().id)
                .target_user(&current.user().id)
                .session(current.session().id.as_str())
                .meta("reason", "security_change")
                .meta("attempted", attempted);
            self.core.audit_alone(event, request).await?;
            return Err(Error::ForbiddenWhileImpersonating);
        }
        Ok(AccountOwner {
            current: current.clone(),
        })
    }
}
