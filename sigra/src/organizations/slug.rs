//! Slugs: the name of an organization in its URLs (`/organizations/acme-labs/members`). A slug
//! is 3 to 63 characters of `a-z0-9-`, starts with a letter and ends with a letter or digit
//! (`^[a-z][a-z0-9-]*[a-z0-9]$`), and is not one of the reserved words the site's own pages
//! use. One is generated from the name when an organization is made; an owner may choose
//! another later. Everything here is pure: which slugs are taken is the store's business.

use std::collections::BTreeSet;
use std::fmt;

use unicode_normalization::UnicodeNormalization as _;

use crate::error::{Error, OrganizationProblem, Result};

/// Shortest slug.
pub const MIN_LEN: usize = 3;
/// Longest slug (a DNS label's length, so a host may use slugs as subdomains).
pub const MAX_LEN: usize = 63;

/// Words kept for the site's own pages and well-known paths; a host adds its own in the
/// configuration (`organizations.reserved_slugs`).
pub const RESERVED: &[&str] = &[
    "admin",
    "api",
    "app",
    "auth",
    "billing",
    "blog",
    "cdn",
    "dashboard",
    "docs",
    "help",
    "login",
    "logout",
    "new",
    "oauth",
    "orgs",
    "organizations",
    "register",
    "settings",
    "signup",
    "static",
    "status",
    "support",
    "switch",
    "system",
    "webhooks",
    "www",
];

/// What a generated slug starts with when the name does not start with a letter, and what it
/// is when the name has no usable character at all.
const FALLBACK: &str = "org";

/// A slug of the allowed form. Only [`SlugRules::check`] and the store (reading back what it
/// wrote) make one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub(crate) fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` has the slug form: length, alphabet, first and last character.
pub fn is_well_formed(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    (MIN_LEN..=MAX_LEN).contains(&bytes.len())
        && first.is_ascii_lowercase()
        && (last.is_ascii_lowercase() || last.is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// The reserved words (built-in plus the host's) and the checks that use them.
#[derive(Clone, Debug)]
pub struct SlugRules {
    reserved: BTreeSet<String>,
}

impl SlugRules {
    /// The built-in reserved words plus `additional` (already validated by the configuration).
    pub fn new(additional: &[String]) -> Self {
        let reserved = RESERVED
            .iter()
            .map(|word| (*word).to_owned())
            .chain(additional.iter().cloned())
            .collect();
        Self { reserved }
    }

    /// Whether `slug` is kept for the site.
    pub fn is_reserved(&self, slug: &str) -> bool {
        self.reserved.contains(slug)
    }

    /// Checks a slug someone chose.
    ///
    /// # Errors
    /// `SlugInvalid` for the wrong form, `SlugReserved` for a reserved word.
    pub fn check(&self, text: &str) -> Result<Slug> {
        let text = text.trim();
        if !is_well_formed(text) {
            return Err(Error::Organization(OrganizationProblem::SlugInvalid));
        }
        if self.is_reserved(text) {
            return Err(Error::Organization(OrganizationProblem::SlugReserved));
        }
        Ok(Slug(text.to_owned()))
    }

    /// The candidates for a new organization called `name`, best first: the slug made from the
    /// name, then the same with `-2`, `-3`, … Reserved words are skipped; the store takes the
    /// first candidate that is free. Every candidate is well formed.
    pub fn candidates(&self, name: &str) -> impl Iterator<Item = Slug> + '_ {
        let base = from_name(name);
        std::iter::once(base.clone())
            .chain((2_u32..).map(move |n| with_suffix(&base, n)))
            .filter(|candidate| !self.is_reserved(candidate))
            .map(Slug)
    }
}

/// A well-formed slug made from a name: lowercased, accents and ligatures folded to ASCII,
/// every run of other characters turned into one dash, prefixed with `org-` when it does not
/// start with a letter, padded with `-org` when shorter than three characters, and cut at 63.
pub fn from_name(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    for c in name.nfkd().flat_map(char::to_lowercase) {
        match fold(c) {
            Some(text) => folded.push_str(text),
            None if c.is_ascii_alphanumeric() => folded.push(c),
            // Combining marks left by the decomposition (the accent of é) vanish.
            None if is_combining_mark(c) => {}
            None => folded.push('-'),
        }
    }
    let mut slug = String::with_capacity(folded.len());
    for c in folded.trim_matches('-').chars() {
        if !(c == '-' && slug.ends_with('-')) {
            slug.push(c);
        }
    }
    if slug.is_empty() {
        return FALLBACK.to_owned();
    }
    if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        slug = format!("{FALLBACK}-{slug}");
    }
    if slug.len() < MIN_LEN {
        slug = format!("{slug}-{FALLBACK}");
    }
    truncate(&slug, MAX_LEN)
}

/// `base` with `-n` appended, cut so the whole stays within 63 characters.
fn with_suffix(base: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    format!("{}{suffix}", truncate(base, MAX_LEN - suffix.len()))
}

/// The first `max` characters of an ASCII slug, without a dash at the end.
fn truncate(slug: &str, max: usize) -> String {
    slug[..slug.len().min(max)].trim_end_matches('-').to_owned()
}

/// Letters that do not decompose into an ASCII letter and a mark, but have a usual spelling.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'đ' | 'ð' => "d",
        'ł' => "l",
        'þ' => "th",
        'ı' => "i",
        '&' => "-and-",
        _ => return None,
    })
}

/// Combining diacritical marks (U+0300 to U+036F): what NFKD splits off accented letters.
fn is_combining_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_become_slugs() {
        let corpus = [
            ("Acme", "acme"),
            ("Acme Labs", "acme-labs"),
            ("  Acme   Labs  ", "acme-labs"),
            ("ACME---Labs!!", "acme-labs"),
            ("Café Zürich", "cafe-zurich"),
            ("Ærø Straße", "aero-strasse"),
            ("Łódź Ørsted", "lodz-orsted"),
            ("Smith & Sons", "smith-and-sons"),
            ("ﬁnance", "finance"),
            ("3M", "org-3m"),
            ("42", "org-42"),
            ("-leading-dash", "leading-dash"),
            ("Ab", "ab-org"),
            ("X", "x-org"),
            ("東京", "org"),
            ("", "org"),
            ("!!!", "org"),
            ("Ünïcödé ☃ snowman", "unicode-snowman"),
            ("under_score.dot", "under-score-dot"),
        ];
        for (name, slug) in corpus {
            assert_eq!(from_name(name), slug, "{name:?}");
            assert!(is_well_formed(slug), "{slug} is well formed");
        }
    }

    #[test]
    fn long_names_are_cut_to_63_without_a_dash_at_the_end() {
        let name = format!("{} tail", "a".repeat(62));
        let slug = from_name(&name);
        assert_eq!(slug, "a".repeat(62), "the cut leaves no trailing dash");
        assert_eq!(from_name(&"b".repeat(100)).len(), MAX_LEN);
    }

    #[test]
    fn the_slug_form_is_the_checklist_pattern() {
        for good in ["abc", "a-1", "acme-labs", "a1b2c3", &"z".repeat(63)] {
            assert!(is_well_formed(good), "{good}");
        }
        for bad in [
            "ab",
            "1abc",
            "-abc",
            "abc-",
            "Abc",
            "ab_c",
            "ab c",
            "café",
            &"z".repeat(64),
            "",
        ] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn reserved_words_are_refused_and_hosts_add_their_own() {
        let rules = SlugRules::new(&["projects".to_owned()]);
        for word in RESERVED.iter().copied().chain(["projects"]) {
            assert!(
                matches!(
                    rules.check(word),
                    Err(Error::Organization(OrganizationProblem::SlugReserved))
                ),
                "{word}"
            );
        }
        assert_eq!(rules.check("acme").expect("free").as_str(), "acme");
        assert!(matches!(
            rules.check("Acme"),
            Err(Error::Organization(OrganizationProblem::SlugInvalid))
        ));
    }

    #[test]
    fn candidates_skip_reserved_words_and_count_up() {
        let rules = SlugRules::new(&[]);
        let acme: Vec<String> = rules
            .candidates("Acme")
            .take(3)
            .map(|s| s.as_str().to_owned())
            .collect();
        assert_eq!(acme, ["acme", "acme-2", "acme-3"]);
        let admin = rules.candidates("Admin").next().expect("a candidate");
        assert_eq!(admin.as_str(), "admin-2", "a reserved name gets a suffix");
        let long = rules
            .candidates(&"c".repeat(63))
            .nth(1)
            .expect("a candidate");
        assert_eq!(long.as_str(), format!("{}-2", "c".repeat(61)));
    }

    proptest! {
        #[test]
        fn every_name_gives_a_well_formed_slug(name in "\\PC{0,100}") {
            let slug = from_name(&name);
            prop_assert!(is_well_formed(&slug), "{name:?} gave {slug:?}");
        }

        #[test]
        fn every_candidate_is_well_formed_and_free_of_reserved_words(name in "\\PC{0,80}", n in 0usize..12) {
            let rules = SlugRules::new(&[]);
            let slug = rules.candidates(&name).nth(n).expect("candidates never end");
            prop_assert!(is_well_formed(slug.as_str()));
            prop_assert!(!rules.is_reserved(slug.as_str()));
        }
    }
}
