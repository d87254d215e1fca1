//! The admin area's access and its views of the accounts: `sigra.admin()`.
//!
//! Access is a type. [`PlatformAdmin`] is the proof that the signed-in user holds a platform
//! admin grant, and only [`Admin::platform_admin`] builds one (its fields are private); every
//! admin view takes it, so a page that forgot the check does not compile. Grants are made and
//! taken away only by the operator ([`grants`], the `server admin …` commands), for confirmed
//! accounts; nothing is inferred from the order of sign-up or the address's domain.
//!
//! ```compile_fail
//! # use sigra::admin::PlatformAdmin;
//! # use sigra::{sessions::SessionId, users::User};
//! # fn forge(user: User, session: SessionId) {
//! let admin = PlatformAdmin { user, session };
//! # }
//! ```

mod accounts;
pub mod explorer;
pub mod extensions;
pub mod grants;
mod impersonation;
mod lens;
mod users;

use crate::error::{Error, Result};
use crate::plumbing::Core;
use crate::sessions::{Authenticated, SessionId};
use crate::users::User;

pub use accounts::{EventInfo, PasskeyInfo, SessionInfo, UserDetail};
pub use impersonation::{Impersonation, ImpersonationEnd};
pub use lens::{LensMember, LensOverview, OrgLens, OrganizationRow};
pub use users::{DeletedFilter, Overview, StatusFilter, UserList, UserQuery, UserRow, UserSort};

/// Proof that the signed-in user is a platform admin, read on this request.
#[derive(Clone, Debug)]
pub struct PlatformAdmin {
    user: User,
    session: SessionId,
}

impl PlatformAdmin {
    /// The admin's account.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The session the proof was made on.
    pub fn session(&self) -> &SessionId {
        &self.session
    }
}

/// The admin area: `sigra.admin()`.
#[derive(Clone, Copy)]
pub struct Admin<'a> {
    pub(crate) core: &'a Core,
    pub(crate) roles: &'a crate::organizations::RoleRegistry,
    pub(crate) extensions: &'a dyn extensions::AdminExtensions,
}

impl Admin<'_> {
    /// The platform admin proof for the signed-in user.
    ///
    /// # Errors
    /// `AdminOnly` when the user holds no grant; `ForbiddenWhileImpersonating` on an
    /// impersonation (whatever grants the user holds, the admin area is the admin's own);
    /// the database failed.
    pub async fn platform_admin(&self, current: &Authenticated) -> Result<PlatformAdmin> {
        if current.impersonator().is_some() {
            return Err(Error::ForbiddenWhileImpersonating);
        }
        let user = current.user();
        let mut conn = self.core.db().acquire().await?;
        if !grants::store::is_granted(&mut conn, &user.id).await? {
            return Err(Error::AdminOnly);
        }
        Ok(PlatformAdmin {
            user: user.clone(),
            session: current.session().id.clone(),
        })
    }
}
