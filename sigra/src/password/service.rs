//! The checks every new password passes, wherever it is chosen (registration, reset, change).

use crate::error::{Error, Result};
use crate::plumbing::Core;
use crate::users::EmailAddress;

use super::{strength, NewPassword, Password, PasswordPolicy, PolicyViolation, Strength};

/// What the live meter shows while a password is typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assessment {
    /// The strength estimate.
    pub strength: Strength,
    /// The first policy rule broken, if any (the breach check runs only on submit).
    pub problem: Option<PolicyViolation>,
}

/// New passwords, the policy and the live meter: `sigra.passwords()`.
#[derive(Clone, Copy)]
pub struct Passwords<'a> {
    pub(crate) core: &'a Core,
}

/// The check of a new password, shared by registration, reset and change.
impl Core {
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
}

impl<'a> Passwords<'a> {
    /// The password policy, for hosts that describe it in forms.
    pub fn policy(&self) -> &'a PasswordPolicy {
        self.core.password_policy()
    }

    /// The meter's reading for a password being typed by the owner of `email` (if known).
    pub fn assess_password(&self, password: Password, email: Option<&EmailAddress>) -> Assessment {
        let context = super::strength::context_words(email, &self.core.config().app_name);
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        let strength = strength(&password, &context);
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
        let problem = self.core.password_policy().check(password, email).err();
        // A refused password never reads as strong: the meter and the policy agree.
        let strength = match problem {
            Some(_) => strength.refused(),
            None => strength,
        };
        Assessment { strength, problem }
    }
}
