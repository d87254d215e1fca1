//! Which optional capabilities this deployment offers. Each is on unless switched off
//! (`capabilities.passkeys = false`, `SIGRA_CAPABILITIES_PASSKEYS=false`); a capability that is
//! off has no routes, no buttons and no settings pages, and the core refuses its credentials.
//! Passkeys, OAuth and JWT are also Cargo features of the core: a build without one has that
//! capability off, and switching it on is refused at start-up.

use std::fmt;

use super::sources::{Reader, Setting};

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "capabilities.magic_links", aliases: &[] },
    Setting { key: "capabilities.passkeys", aliases: &[] },
    Setting { key: "capabilities.oauth", aliases: &[] },
    Setting { key: "capabilities.second_factors", aliases: &[] },
    Setting { key: "capabilities.organizations", aliases: &[] },
    Setting { key: "capabilities.admin", aliases: &[] },
    Setting { key: "capabilities.api_tokens", aliases: &[] },
    Setting { key: "capabilities.jwt", aliases: &[] },
];

/// An optional capability. Passwords, email confirmation, sessions and account deletion are
/// the core every deployment has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Logging in with a mailed link.
    MagicLinks,
    /// Passkeys: log-in, second step and sudo.
    Passkeys,
    /// Logging in with an OAuth or OpenID Connect provider, and linked accounts.
    OAuth,
    /// An authenticator app (TOTP), backup codes and trusted browsers.
    SecondFactors,
    /// Organizations, memberships and invitations.
    Organizations,
    /// The admin area: users, audit explorer, organization lens and impersonation.
    Admin,
    /// Personal API tokens.
    ApiTokens,
    /// JWT access and refresh tokens for API clients, and the key set.
    Jwt,
}

impl Capability {
    /// Every capability, in the order the settings list them.
    pub const ALL: [Self; 8] = [
        Self::MagicLinks,
        Self::Passkeys,
        Self::OAuth,
        Self::SecondFactors,
        Self::Organizations,
        Self::Admin,
        Self::ApiTokens,
        Self::Jwt,
    ];

    /// The name in settings (`capabilities.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::MagicLinks => "magic_links",
            Self::Passkeys => "passkeys",
            Self::OAuth => "oauth",
            Self::SecondFactors => "second_factors",
            Self::Organizations => "organizations",
            Self::Admin => "admin",
            Self::ApiTokens => "api_tokens",
            Self::Jwt => "jwt",
        }
    }

    /// The Cargo feature that compiles it in, for the capabilities whose crates are heavy.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            Self::Passkeys => Some("passkeys"),
            Self::OAuth => Some("oauth"),
            Self::Jwt => Some("jwt"),
            Self::MagicLinks
            | Self::SecondFactors
            | Self::Organizations
            | Self::Admin
            | Self::ApiTokens => None,
        }
    }

    /// Whether this build has its code.
    pub fn compiled(self) -> bool {
        match self {
            Self::Passkeys => cfg!(feature = "passkeys"),
            Self::OAuth => cfg!(feature = "oauth"),
            Self::Jwt => cfg!(feature = "jwt"),
            Self::MagicLinks
            | Self::SecondFactors
            | Self::Organizations
            | Self::Admin
            | Self::ApiTokens => true,
        }
    }

    fn key(self) -> String {
        format!("capabilities.{}", self.name())
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The capabilities switched on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    off: [bool; Capability::ALL.len()],
}

impl Default for Capabilities {
    /// Everything this build has.
    fn default() -> Self {
        Capability::ALL
            .into_iter()
            .fold(Self::everything(), |set, c| set.with(c, c.compiled()))
    }
}

impl Capabilities {
    fn everything() -> Self {
        Self {
            off: [false; Capability::ALL.len()],
        }
    }

    /// Whether `capability` is on (never one this build leaves out, whatever `with` said).
    pub fn has(&self, capability: Capability) -> bool {
        !self.off[Self::index(capability)] && capability.compiled()
    }

    /// The same set with `capability` switched as `on` says.
    #[must_use]
    pub fn with(mut self, capability: Capability, on: bool) -> Self {
        self.off[Self::index(capability)] = !on;
        self
    }

    /// The capabilities that are off.
    pub fn off(&self) -> impl Iterator<Item = Capability> + '_ {
        Capability::ALL.into_iter().filter(|c| !self.has(*c))
    }

    /// Its place in `off`: the variants are declared in the order of `Capability::ALL`.
    fn index(capability: Capability) -> usize {
        capability as usize
    }

    pub(super) fn read(r: &mut Reader) -> Self {
        Capability::ALL
            .into_iter()
            .fold(Self::default(), |set, capability| {
                let key = capability.key();
                let on = r.flag(&key, capability.compiled());
                if let (true, Some(feature)) = (on && !capability.compiled(), capability.feature())
                {
                    r.invalid(
                        &key,
                        format!(
                            "is on, but this build leaves out the `{feature}` Cargo feature: \
                             build the server with it (it is a default feature) or switch it off"
                        ),
                    );
                }
                set.with(capability, on && capability.compiled())
            })
    }
}

/// Settings that need a capability that is off: refused at start-up, so a deployment never
/// promises what it cannot do.
pub(super) fn check_dependencies(
    r: &mut Reader,
    capabilities: &Capabilities,
    mfa_required: bool,
    personal_organizations: bool,
) {
    if mfa_required
        && !capabilities.has(Capability::SecondFactors)
        && !capabilities.has(Capability::Passkeys)
    {
        // Only what this build can switch on is offered.
        let passkeys = if Capability::Passkeys.compiled() {
            " or capabilities.passkeys (SIGRA_CAPABILITIES_PASSKEYS)"
        } else {
            ""
        };
        r.invalid(
            "mfa.required",
            format!(
                "needs a second factor to enrol: switch on capabilities.second_factors \
                 (SIGRA_CAPABILITIES_SECOND_FACTORS){passkeys}"
            ),
        );
    }
    if personal_organizations && !capabilities.has(Capability::Organizations) {
        r.invalid(
            "organizations.personal",
            "needs capabilities.organizations (SIGRA_CAPABILITIES_ORGANIZATIONS), which is off",
        );
    }
}

/// What an operator should know about the capabilities switched off.
pub(super) fn notices(capabilities: &Capabilities) -> Vec<String> {
    let mut notices = Vec::new();
    if !capabilities.has(Capability::SecondFactors) {
        notices.push(
            "capabilities.second_factors is off: accounts that enrolled an authenticator app \
             log in without it, and their backup codes and trusted browsers are ignored"
                .to_owned(),
        );
    }
    if !capabilities.has(Capability::Passkeys) {
        notices.push(
            "capabilities.passkeys is off: registered passkeys neither log in nor count as a second step"
                .to_owned(),
        );
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::super::tests::production;
    use super::*;

    #[test]
    fn every_capability_this_build_has_is_on_unless_switched_off() {
        let config = production(&[]).expect("valid");
        assert_eq!(config.capabilities, Capabilities::default());
        let off: Vec<_> = config.capabilities.off().collect();
        let left_out: Vec<_> = Capability::ALL
            .into_iter()
            .filter(|c| !c.compiled())
            .collect();
        assert_eq!(off, left_out);

        let config = production(&[
            ("SIGRA_CAPABILITIES_PASSKEYS", "false"),
            ("SIGRA_CAPABILITIES_JWT", "false"),
        ])
        .expect("valid");
        assert!(!config.capabilities.has(Capability::Passkeys));
        assert!(!config.capabilities.has(Capability::Jwt));
        assert!(config.capabilities.has(Capability::ApiTokens));
    }

    #[test]
    fn a_capability_left_out_of_the_build_cannot_be_switched_on() {
        for capability in Capability::ALL {
            let variable = format!("SIGRA_CAPABILITIES_{}", capability.name().to_uppercase());
            let asked = production(&[(variable.as_str(), "true")]);
            match (capability.compiled(), capability.feature()) {
                (true, _) => assert!(asked.expect("valid").capabilities.has(capability)),
                (false, Some(feature)) => {
                    let error = asked.expect_err("refused").to_string();
                    assert!(
                        error.contains(&variable)
                            && error.contains(&format!("`{feature}` Cargo feature")),
                        "{error}"
                    );
                }
                (false, None) => unreachable!("only a feature leaves a capability out"),
            }
        }
    }

    #[test]
    fn a_switch_that_is_not_true_or_false_is_refused_by_name() {
        let error = production(&[("SIGRA_CAPABILITIES_ADMIN", "no")]).expect_err("refused");
        assert!(
            error.to_string().contains("SIGRA_CAPABILITIES_ADMIN"),
            "{error}"
        );
    }

    #[test]
    fn required_second_factors_need_a_factor_to_enrol() {
        let factors_off = [
            ("SIGRA_MFA_REQUIRED", "true"),
            ("SIGRA_CAPABILITIES_SECOND_FACTORS", "false"),
        ];
        assert_eq!(
            production(&factors_off).is_ok(),
            Capability::Passkeys.compiled(),
            "passkeys can still enrol where the build has them"
        );
        let error = production(
            &[
                &factors_off[..],
                &[("SIGRA_CAPABILITIES_PASSKEYS", "false")],
            ]
            .concat(),
        )
        .expect_err("nothing to enrol");
        assert!(
            error
                .to_string()
                .contains("SIGRA_MFA_REQUIRED needs a second factor"),
            "{error}"
        );
    }

    #[test]
    fn personal_organizations_need_organizations() {
        let error = production(&[
            ("SIGRA_ORGANIZATIONS_PERSONAL", "true"),
            ("SIGRA_CAPABILITIES_ORGANIZATIONS", "false"),
        ])
        .expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("SIGRA_ORGANIZATIONS_PERSONAL needs"),
            "{error}"
        );
    }

    #[test]
    fn switching_off_a_factor_says_what_happens_to_enrolled_accounts() {
        let config = production(&[("SIGRA_CAPABILITIES_SECOND_FACTORS", "false")]).expect("valid");
        assert!(
            config
                .notices
                .iter()
                .any(|n| n.contains("log in without it")),
            "{:?}",
            config.notices
        );
    }
}
