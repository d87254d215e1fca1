//! What is wrong with the settings: every problem together, and what a named value may be.

use std::fmt;

/// The settings could not be used; each line names what to fix.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl ConfigError {
    pub(super) fn one(problem: String) -> Self {
        Self {
            problems: vec![problem],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the configuration has {} problem(s):",
            self.problems.len()
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// The error of parsing a setting's text that names none of the values it accepts; shows those
/// values (`auto, on or off`), so a problem reads "… should be auto, on or off".
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Expected(pub(super) &'static str);
