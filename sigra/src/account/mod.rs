//! Changes a signed-in user makes to their own account: password, email address, and the
//! forced password change an operator can require.

mod email_change;
mod password_change;

use crate::error::{Error, Result};
use crate::password::{Password, Verification};
use crate::sessions::Authenticated;
use crate::users;
use crate::Sigra;

impl Sigra {
    /// Checks the current password of the signed-in user, to authorise a sensitive change.
    pub(crate) async fn verify_current_password(
        &self,
        current: &Authenticated,
        password: &Password,
    ) -> Result<()> {
        let credentials = {
            let mut conn = self.db().acquire().await?;
            users::store::credentials(&mut conn, users::store::Lookup::Id(&current.user().id))
                .await?
        };
        let Some(hash) = credentials.and_then(|c| c.password_hash) else {
            self.hasher().verify_dummy(password).await?;
            return Err(Error::WrongPassword);
        };
        match self.hasher().verify(password, &hash).await? {
            Verification::Match { .. } => Ok(()),
            Verification::Mismatch => Err(Error::WrongPassword),
        }
    }
}
