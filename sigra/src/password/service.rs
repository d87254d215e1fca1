//! The checks every new password passes, wherever it is chosen (registration, reset, change).

use crate::error::{Error, Result};
use crate::users::EmailAddress;
use crate::Sigra;

use super::{strength, NewPassword, Password, PolicyViolation, Strength};

/// What the live meter shows while a password is typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assessment {
    /// The strength estimate.
    pub strength: Strength,
    /// The first policy rule broken, if any (the breach check runs only on submit).
    pub problem: Option<PolicyViolation>,
}

impl Sigra {
    /// Runs the policy and, when configured, the breached-password check.
    ///
    /// # Errors
    /// `WeakPassword` with the rule that was broken.
    pub async fn check_new_password(
        &self,
        password: Password,
        email: &EmailAddress,
    ) -> Result<NewPassword> {
        let password = self
            .password_policy()
            .check(password, email)
            .map_err(Error::WeakPassword)?;
        if let Some(check) = self.breach_check() {
            if check.is_breached(password.as_password()).await == Some(true) {
                return Err(Error::WeakPassword(PolicyViolation::Breached));
            }
        }
        Ok(password)
    }

    /// The meter's reading for a password being typed by the owner of `email` (if known).
    pub fn assess_password(&self, password: Password, email: Option<&EmailAddress>) -> Assessment {
        let strength = strength(&password);
        let placeholder;
        let email = match email {
            Some(email) => email,
            None => {
                // Without an address the context-word rule has nothing to compare against.
                placeholder = EmailAddress::parse("nobody@invalid.example").ok();
                match &placeholder {
                    Some(email) => email,
                    None => {
                        return Assessment {
                            strength,
                            problem: None,
                        }
                    }
                }
            }
        };
        let problem = self.password_policy().check(password, email).err();
        Assessment { strength, problem }
    }
}
