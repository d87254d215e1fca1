//! The scope registry: the built-in scopes, plus those the host registers in code. A scope is
//! `resource:action` in lowercase letters and underscores, or `*` (everything, including scopes
//! added later). Write does not imply read.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::{ApiTokenProblem, Error, Result};

/// Everything, including scopes registered later.
pub const WILDCARD: &str = "*";

/// The scopes the core's own API routes check.
pub const BUILT_IN: &[&str] = &[
    "profile:read",
    "profile:write",
    "sessions:read",
    "sessions:write",
    "api_tokens:read",
    "api_tokens:write",
    "mfa:read",
];

/// Whether `scope` has the form `resource:action` (or is `*`).
pub fn valid_format(scope: &str) -> bool {
    if scope == WILDCARD {
        return true;
    }
    let part = |p: &str| {
        !p.is_empty() && p.len() <= 64 && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    };
    scope
        .split_once(':')
        .is_some_and(|(resource, action)| part(resource) && part(action))
}

/// Every scope a token may carry: the built-ins and the host's.
#[derive(Clone, Debug)]
pub struct ScopeRegistry {
    known: BTreeSet<String>,
}

impl ScopeRegistry {
    /// The built-ins plus `host` scopes.
    ///
    /// # Errors
    /// A host scope is not of the form `resource:action`.
    pub fn new(host: &[&str]) -> Result<Self> {
        let mut known: BTreeSet<String> = BUILT_IN.iter().map(|s| (*s).to_owned()).collect();
        for scope in host {
            if *scope == WILDCARD || !valid_format(scope) {
                return Err(Error::Internal(
                    format!("the host scope `{scope}` is not of the form resource:action").into(),
                ));
            }
            known.insert((*scope).to_owned());
        }
        Ok(Self { known })
    }

    /// Every registered scope (without `*`), sorted.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.known.iter().map(String::as_str)
    }

    /// Whether `scope` is registered (or is `*`).
    pub fn contains(&self, scope: &str) -> bool {
        scope == WILDCARD || self.known.contains(scope)
    }

    /// Checks requested scopes: at least one, each well-formed and registered.
    ///
    /// # Errors
    /// `InvalidApiToken(ScopesRequired | InvalidScopeFormat)`; `UnregisteredScopes` naming
    /// the unknown ones.
    pub fn validate<S: AsRef<str>>(&self, requested: &[S]) -> Result<Scopes> {
        let requested: Vec<&str> = requested
            .iter()
            .map(|s| s.as_ref().trim())
            .filter(|s| !s.is_empty())
            .collect();
        if requested.is_empty() {
            return Err(Error::InvalidApiToken(ApiTokenProblem::ScopesRequired));
        }
        if requested.iter().any(|s| !valid_format(s)) {
            return Err(Error::InvalidApiToken(ApiTokenProblem::InvalidScopeFormat));
        }
        let unknown: BTreeSet<String> = requested
            .iter()
            .filter(|s| !self.contains(s))
            .map(|s| (*s).to_owned())
            .collect();
        if !unknown.is_empty() {
            return Err(Error::UnregisteredScopes(unknown.into_iter().collect()));
        }
        Ok(Scopes(requested.into_iter().map(str::to_owned).collect()))
    }
}

/// A set of scopes a credential carries, sorted and without repeats.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Whether these scopes allow `required` (`*` allows everything).
    pub fn grants(&self, required: &str) -> bool {
        self.0.contains(WILDCARD) || self.0.contains(required)
    }

    /// The scopes of `required` that these do not grant.
    pub fn missing<'r>(&self, required: &[&'r str]) -> Vec<&'r str> {
        required
            .iter()
            .copied()
            .filter(|r| !self.grants(r))
            .collect()
    }

    /// The scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Reads scopes as stored (space-separated), keeping only well-formed ones.
    pub(crate) fn from_stored(text: &str) -> Self {
        Self(
            text.split_whitespace()
                .filter(|s| valid_format(s))
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Whether these are a subset of `other` (what a narrower request may ask for).
    pub fn within(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.grants(s))
    }
}

/// Space-separated, as stored and as the OAuth `scope` claim has it.
impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_are_resource_colon_action_or_the_wildcard() {
        for good in ["profile:read", "api_tokens:write", "*", "billing_v:read"] {
            assert!(valid_format(good), "{good}");
        }
        for bad in [
            "",
            "profile",
            "Profile:read",
            "profile:",
            ":read",
            "a:b:c",
            "profile:read ",
            "pro file:read",
            "profile:read\n",
            "prof1le:read",
            "**",
        ] {
            assert!(!valid_format(bad), "{bad:?}");
        }
    }

    #[test]
    fn unregistered_scopes_are_named_and_bad_ones_refused() {
        let registry = ScopeRegistry::new(&["billing:read"]).expect("valid host scope");
        assert!(registry.validate(&["billing:read", "profile:read"]).is_ok());
        match registry.validate(&["profile:read", "nuclear:launch", "alpha:beta"]) {
            Err(Error::UnregisteredScopes(unknown)) => {
                assert_eq!(unknown, ["alpha:beta", "nuclear:launch"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            registry.validate(&["<script>"]),
            Err(Error::InvalidApiToken(ApiTokenProblem::InvalidScopeFormat))
        ));
        assert!(matches!(
            registry.validate::<&str>(&[]),
            Err(Error::InvalidApiToken(ApiTokenProblem::ScopesRequired))
        ));
        assert!(ScopeRegistry::new(&["Bad Scope"]).is_err());
        assert!(ScopeRegistry::new(&["*"]).is_err());
    }

    #[test]
    fn the_wildcard_grants_everything_and_write_does_not_imply_read() {
        let registry = ScopeRegistry::new(&[]).expect("registry");
        let all = registry.validate(&["*"]).expect("valid");
        assert!(all.grants("sessions:write") && all.grants("anything:else"));
        let write = registry.validate(&["profile:write"]).expect("valid");
        assert!(!write.grants("profile:read"));
        assert_eq!(
            write.missing(&["profile:read", "profile:write"]),
            ["profile:read"]
        );
        assert_eq!(Scopes::from_stored(&write.to_string()), write);
    }

    proptest! {
        #[test]
        fn stored_scopes_read_back_only_well_formed_names(text in "\\PC{0,80}") {
            let scopes = Scopes::from_stored(&text);
            prop_assert!(scopes.iter().all(valid_format));
            prop_assert_eq!(Scopes::from_stored(&scopes.to_string()), scopes);
        }
    }
}
