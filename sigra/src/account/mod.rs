//! Changes a signed-in user makes to their own account: password, email address, deletion,
//! the personal data export, and the forced password change an operator can require.

mod deletion;
mod display_name;
mod email_change;
mod export;
mod password_change;

pub use deletion::{DeletionConfirmation, DeletionScheduled};
pub use export::{
    AccountData, ApiTokenData, AuditEventData, AuthenticatorData, BackupCodeData, Flag,
    IdentityData, PasskeyData, PersonalData, SecondFactorData, SessionData, EXPORT_SCHEMA_VERSION,
};

use crate::plumbing::Core;

/// The signed-in user's own changes: `sigra.account()`.
#[derive(Clone, Copy)]
pub struct Account<'a> {
    pub(crate) core: &'a Core,
}
