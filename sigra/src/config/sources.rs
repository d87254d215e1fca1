//! Where settings come from: an optional TOML file, then environment variables, which win.
//! Every setting has one dotted key (`session.idle_timeout`) and one variable
//! (`SIGRA_SESSION_IDLE_TIMEOUT`); problems are collected, not returned one at a time, and each
//! names where its value came from: the variable, or the key and the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use super::ConfigError;

/// One setting a config reader knows about.
pub(super) struct Setting {
    pub key: &'static str,
    /// Extra variable names accepted besides the derived `SIGRA_*` one (`DATABASE_URL`).
    pub aliases: &'static [&'static str],
}

impl Setting {
    pub fn env_name(&self) -> String {
        format!("SIGRA_{}", self.key.replace('.', "_").to_uppercase())
    }
}

/// A parsed TOML config file, with the path its values are reported under.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    path: PathBuf,
    table: toml::Table,
}

impl ConfigFile {
    /// Reads and parses the file at `path`.
    ///
    /// # Errors
    /// The file cannot be read or is not valid TOML.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::one(format!(
                "SIGRA_CONFIG names {} but it cannot be read: {e}",
                path.display()
            ))
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text` as the contents of the file at `path`.
    ///
    /// # Errors
    /// The text is not valid TOML.
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<Self, ConfigError> {
        let path = path.into();
        match text.parse::<toml::Table>() {
            Ok(table) => Ok(Self { path, table }),
            Err(e) => Err(ConfigError::one(format!(
                "{} is not valid TOML: {e}",
                path.display()
            ))),
        }
    }
}

/// Settings of things the operator names (one OAuth provider each): `{prefix}.{name}.{field}`
/// in the file, `SIGRA_{PREFIX}_{NAME}_{FIELD}` in the environment. Every field of a named
/// thing is declared once any of its fields is given.
pub(super) struct NamedSection {
    pub prefix: &'static str,
    pub fields: &'static [&'static str],
}

impl NamedSection {
    /// The name and field of a file key under this section.
    fn split_key<'k>(&self, key: &'k str) -> Option<(&'k str, &'k str)> {
        let rest = key.strip_prefix(self.prefix)?.strip_prefix('.')?;
        let (name, field) = rest.split_once('.')?;
        (self.fields.contains(&field) && !name.is_empty()).then_some((name, field))
    }

    /// The name (lower case) and field of a variable under this section.
    fn split_env(&self, variable: &str) -> Option<(String, &'static str)> {
        let rest = variable.strip_prefix(&format!("SIGRA_{}_", self.prefix.to_uppercase()))?;
        let mut fields: Vec<&'static str> = self.fields.to_vec();
        fields.sort_by_key(|field| std::cmp::Reverse(field.len()));
        fields.into_iter().find_map(|field| {
            let name = rest.strip_suffix(&format!("_{}", field.to_uppercase()))?;
            (!name.is_empty()).then(|| (name.to_lowercase(), field))
        })
    }
}

/// Raw text values by key, each with where it came from, and the problems found reading them.
pub(super) struct Reader {
    values: BTreeMap<String, (String, String)>,
    /// The variable of every declared setting: the name given for one left at its default.
    env_names: BTreeMap<String, String>,
    /// The names given under each named section, by prefix.
    named: BTreeMap<&'static str, BTreeSet<String>>,
    pub problems: Vec<String>,
}

impl Reader {
    /// Reads `file` and `env`, for the settings of every section.
    pub fn new(
        sections: &[&[Setting]],
        named_sections: &[NamedSection],
        file: Option<&ConfigFile>,
        env: &BTreeMap<String, String>,
    ) -> Self {
        let settings = || sections.iter().flat_map(|section| section.iter());
        let mut reader = Reader {
            values: BTreeMap::new(),
            env_names: settings()
                .map(|s| (s.key.to_owned(), s.env_name()))
                .collect(),
            named: BTreeMap::new(),
            problems: Vec::new(),
        };
        let mut flat = Vec::new();
        if let Some(file) = file {
            flatten("", &file.table, &mut flat);
        }
        // Names first, so every field of a named thing is declared before values are read.
        for section in named_sections {
            let from_file = flat
                .iter()
                .filter_map(|(key, _)| section.split_key(key).map(|(name, _)| name.to_owned()));
            let from_env = env
                .keys()
                .filter_map(|variable| section.split_env(variable).map(|(name, _)| name));
            let names: BTreeSet<String> = from_file.chain(from_env).collect();
            for name in &names {
                for field in section.fields {
                    let key = format!("{}.{name}.{field}", section.prefix);
                    let variable = format!(
                        "SIGRA_{}_{}_{}",
                        section.prefix.to_uppercase(),
                        name.to_uppercase(),
                        field.to_uppercase()
                    );
                    reader.env_names.insert(key, variable);
                }
            }
            reader.named.insert(section.prefix, names);
        }
        if let Some(file) = file {
            let path = file.path.display();
            for (key, value) in flat {
                if reader.env_names.contains_key(key.as_str()) {
                    let from = format!("{key} in {path}");
                    reader.values.insert(key, (value, from));
                } else {
                    reader
                        .problems
                        .push(format!("unknown setting `{key}` in {path}"));
                }
            }
        }
        for setting in settings() {
            let names = std::iter::once(setting.env_name())
                .chain(setting.aliases.iter().map(|a| (*a).to_owned()));
            for name in names {
                if let Some(value) = env.get(&name) {
                    reader
                        .values
                        .insert(setting.key.to_owned(), (value.clone(), name));
                    break;
                }
            }
        }
        let named_keys: Vec<(String, String)> = reader
            .env_names
            .iter()
            .filter(|(key, _)| !settings().any(|s| s.key == key.as_str()))
            .map(|(key, variable)| (key.clone(), variable.clone()))
            .collect();
        for (key, variable) in named_keys {
            if let Some(value) = env.get(&variable) {
                reader.values.insert(key, (value.clone(), variable));
            }
        }
        let env_names: BTreeSet<&String> = reader.env_names.values().collect();
        let unknown: Vec<String> = env
            .keys()
            .filter(|name| name.starts_with("SIGRA_") && *name != "SIGRA_CONFIG")
            .filter(|name| !env_names.contains(name))
            .map(|name| format!("unknown setting `{name}` in the environment"))
            .collect();
        reader.problems.extend(unknown);
        reader
    }

    /// A setting read in code but missing from the table could never be set: say so loudly.
    fn check_known(&mut self, key: &str) {
        if !self.env_names.contains_key(key) {
            self.problems.push(format!(
                "internal: the setting `{key}` is read but not declared"
            ));
        }
    }

    /// The names given under a named section (`oauth` → the providers), sorted.
    pub fn names(&self, prefix: &str) -> Vec<String> {
        self.named
            .get(prefix)
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The text of a setting as given, if it was.
    pub fn given(&mut self, key: &str) -> Option<String> {
        self.check_known(key);
        self.values.get(key).map(|(text, _)| text.clone())
    }

    /// Where a setting's value came from: its variable, or its key in the file. A setting left
    /// at its default is named by its variable.
    pub fn origin(&self, key: &str) -> String {
        match self.values.get(key) {
            Some((_, from)) => from.clone(),
            None => self.env_names.get(key).cloned().unwrap_or_default(),
        }
    }

    /// Records that a setting's value cannot be used: `what` follows the value's origin.
    pub fn invalid(&mut self, key: &str, what: impl Display) {
        let problem = format!("{} {what}", self.origin(key));
        self.problems.push(problem);
    }

    /// A setting parsed with `parse`, or `default` when absent. A bad value is recorded as a
    /// problem naming its origin and what `parse` expected, and the default is used so the
    /// other checks still run.
    pub fn value<T, E: Display>(
        &mut self,
        key: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> T {
        self.check_known(key);
        let parsed = match self.values.get(key) {
            None => return default,
            Some((text, _)) => {
                parse(text.trim()).map_err(|expected| format!("should be {expected}, got {text:?}"))
            }
        };
        parsed.unwrap_or_else(|what| {
            self.invalid(key, what);
            default
        })
    }

    /// A setting of a type that parses itself, such as one of the config enums.
    pub fn parse<T: FromStr>(&mut self, key: &str, default: T) -> T
    where
        T::Err: Display,
    {
        self.value(key, default, T::from_str)
    }

    pub fn duration(&mut self, key: &str, default: &str) -> Duration {
        let fallback = humantime::parse_duration(default).unwrap_or_default();
        self.value(key, fallback, |t| {
            humantime::parse_duration(t).map_err(|_| "a duration such as 30m, 24h or 30d")
        })
    }

    pub fn number<T: FromStr>(&mut self, key: &str, default: T) -> T {
        self.value(key, default, |t| t.parse().map_err(|_| "a whole number"))
    }

    pub fn flag(&mut self, key: &str, default: bool) -> bool {
        self.value(key, default, |t| t.parse().map_err(|_| "true or false"))
    }

    pub fn text(&mut self, key: &str, default: &str) -> String {
        self.value(key, default.to_owned(), |t| {
            Ok::<_, std::convert::Infallible>(t.to_owned())
        })
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&key, inner, out),
            toml::Value::String(s) => out.push((key, s.clone())),
            other => out.push((key, other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::tests::env;
    use crate::config::{Config, ConfigFile};

    fn file(text: &str) -> ConfigFile {
        ConfigFile::parse("sigra.toml", text).expect("valid toml")
    }

    #[test]
    fn environment_overrides_the_file_and_bad_values_are_all_reported() {
        let file = file(
            r#"
            app_name = "Acme"
            [session]
            idle_timeout = "10m"
            [password]
            min_length = 20
        "#,
        );
        let config = Config::from_sources(
            Some(&file),
            &env(&[("SIGRA_PASSWORD_MIN_LENGTH", "16")]),
            None,
        )
        .expect("valid");
        assert_eq!(config.app_name, "Acme");
        assert_eq!(config.sessions.idle_timeout, Duration::from_secs(600));
        assert_eq!(config.passwords.min_length, 16);

        let err = Config::from_sources(
            None,
            &env(&[
                ("SIGRA_SESSION_IDLE_TIMEOUT", "soon"),
                ("SIGRA_PASSWORD_MIN_LENGTH", "4"),
                ("SIGRA_SESION_TYPO", "1"),
            ]),
            None,
        )
        .expect_err("three problems");
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err
            .to_string()
            .contains("SIGRA_SESSION_IDLE_TIMEOUT should be a duration"));
        assert!(err
            .to_string()
            .contains("unknown setting `SIGRA_SESION_TYPO`"));
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let file = file("[session]\nidle = \"5m\"");
        let err = Config::from_sources(Some(&file), &env(&[]), None).expect_err("unknown key");
        assert!(err
            .to_string()
            .contains("unknown setting `session.idle` in sigra.toml"));
    }

    #[test]
    fn a_bad_environment_value_names_its_variable() {
        let err = Config::from_sources(None, &env(&[("SIGRA_SESSION_CACHE", "sometimes")]), None)
            .expect_err("bad value");
        assert_eq!(
            err.problems,
            ["SIGRA_SESSION_CACHE should be auto, on or off, got \"sometimes\""]
        );
    }

    #[test]
    fn a_bad_file_value_names_its_key_and_the_file() {
        let file = file("[session]\ncache = \"sometimes\"\n[password]\nmin_length = 4");
        let err = Config::from_sources(Some(&file), &env(&[]), None).expect_err("bad values");
        assert_eq!(
            err.problems,
            [
                "session.cache in sigra.toml should be auto, on or off, got \"sometimes\"",
                "password.min_length in sigra.toml must be at least 8 (NIST SP 800-63B)",
            ]
        );
    }
}
