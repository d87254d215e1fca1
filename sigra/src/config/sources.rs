//! Where settings come from: an optional TOML file, then environment variables, which win.
//! Every setting has one dotted key (`session.idle_timeout`) and one variable
//! (`SIGRA_SESSION_IDLE_TIMEOUT`); problems are collected, not returned one at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

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

/// Raw text values by key, and the problems found while reading them.
pub(super) struct Reader {
    values: BTreeMap<&'static str, (String, String)>,
    known: BTreeSet<&'static str>,
    pub problems: Vec<String>,
}

impl Reader {
    /// Reads `file` (a parsed TOML table) and `env`, for the given settings.
    pub fn new(
        settings: &[Setting],
        file: Option<&toml::Table>,
        env: &BTreeMap<String, String>,
    ) -> Self {
        let known: BTreeSet<&'static str> = settings.iter().map(|s| s.key).collect();
        let mut reader = Reader {
            values: BTreeMap::new(),
            known: known.clone(),
            problems: Vec::new(),
        };
        if let Some(table) = file {
            let mut flat = Vec::new();
            flatten("", table, &mut flat);
            for (key, value) in flat {
                match known.get(key.as_str()) {
                    Some(known_key) => {
                        reader
                            .values
                            .insert(known_key, (value, format!("{key} in the config file")));
                    }
                    None => reader
                        .problems
                        .push(format!("unknown setting `{key}` in the config file")),
                }
            }
        }
        let env_names: BTreeSet<String> = settings.iter().map(Setting::env_name).collect();
        for setting in settings {
            let names = std::iter::once(setting.env_name())
                .chain(setting.aliases.iter().map(|a| (*a).to_owned()));
            for name in names {
                if let Some(value) = env.get(&name) {
                    reader.values.insert(setting.key, (value.clone(), name));
                    break;
                }
            }
        }
        for name in env.keys() {
            let ours = name.starts_with("SIGRA_") && name != "SIGRA_CONFIG";
            if ours && !env_names.contains(name) {
                reader
                    .problems
                    .push(format!("unknown setting `{name}` in the environment"));
            }
        }
        reader
    }

    /// A setting read in code but missing from the table could never be set: say so loudly.
    fn check_known(&mut self, key: &str) {
        if !self.known.contains(key) {
            self.problems.push(format!(
                "internal: the setting `{key}` is read but not declared"
            ));
        }
    }

    /// The raw text of a setting and where it came from, if it was given.
    pub fn raw(&self, key: &str) -> Option<(&str, &str)> {
        self.values
            .get(key)
            .map(|(v, from)| (v.as_str(), from.as_str()))
    }

    /// A setting parsed with `parse`, or `default` when absent. A bad value is recorded as a
    /// problem naming its source and the default is used so the other checks still run.
    pub fn get<T>(
        &mut self,
        key: &str,
        default: T,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> T {
        self.check_known(key);
        match self.values.get(key) {
            None => default,
            Some((text, from)) => match parse(text.trim()) {
                Some(value) => value,
                None => {
                    self.problems
                        .push(format!("{from} should be {expected}, got {text:?}"));
                    default
                }
            },
        }
    }

    pub fn duration(&mut self, key: &str, default: &str) -> Duration {
        let fallback = humantime::parse_duration(default).unwrap_or_default();
        self.get(key, fallback, "a duration such as 30m, 24h or 30d", |t| {
            humantime::parse_duration(t).ok()
        })
    }

    pub fn number<T: std::str::FromStr>(&mut self, key: &str, default: T) -> T {
        self.get(key, default, "a whole number", |t| t.parse().ok())
    }

    pub fn text(&mut self, key: &str, default: &str) -> String {
        self.get(key, default.to_owned(), "text", |t| Some(t.to_owned()))
    }

    /// Where a key's value came from, for messages about values that parse but are invalid.
    pub fn source(&self, key: &str, env_name: &str) -> String {
        self.values
            .get(key)
            .map(|(_, from)| from.clone())
            .unwrap_or_else(|| format!("{env_name} (default)"))
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
