//! Value types of a policy that check themselves while they are deserialised.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use warden_claims::Algorithm;

use crate::roles::normalize_role;

/// Policy format version. Only `1` is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(u64);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VersionVisitor;

        impl serde::de::Visitor<'_> for VersionVisitor {
            type Value = Version;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("policy version 1")
            }

            fn visit_u64<E: serde::de::Error>(self, version: u64) -> Result<Version, E> {
                if version != 1 {
                    return Err(E::custom(format_args!(
                        "unsupported policy version `{version}`; this Warden reads version 1"
                    )));
                }
                Ok(Version(version))
            }

            fn visit_i64<E: serde::de::Error>(self, version: i64) -> Result<Version, E> {
                Err(E::custom(format_args!(
                    "unsupported policy version `{version}`; this Warden reads version 1"
                )))
            }
        }

        deserializer.deserialize_u64(VersionVisitor)
    }
}

/// Deserialises a sequence of strings, calling `check` on each as it is read, so an error
/// points at the offending item rather than at the whole list.
fn string_list<'de, D, F>(deserializer: D, mut check: F) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
    F: FnMut(&str, &[String]) -> Result<(), String>,
{
    struct ListVisitor<F>(F);

    impl<'de, F> serde::de::Visitor<'de> for ListVisitor<F>
    where
        F: FnMut(&str, &[String]) -> Result<(), String>,
    {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of strings")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            mut self,
            mut seq: A,
        ) -> Result<Vec<String>, A::Error> {
            let mut items: Vec<String> = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                (self.0)(&item, &items).map_err(serde::de::Error::custom)?;
                items.push(item);
            }
            if items.is_empty() {
                return Err(serde::de::Error::custom("list must not be empty"));
            }
            Ok(items)
        }
    }

    deserializer.deserialize_seq(ListVisitor(&mut check))
}

/// Non-empty, duplicate-free algorithm allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Algorithms(Vec<Algorithm>);

impl Algorithms {
    /// Returns true when `algorithm` is allowed.
    pub fn contains(&self, algorithm: Algorithm) -> bool {
        self.0.contains(&algorithm)
    }

    /// Iterates over the allowed algorithms in policy order.
    pub fn iter(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.0.iter().copied()
    }
}

impl<'de> Deserialize<'de> for Algorithms {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = string_list(deserializer, |name, earlier| {
            if name.eq_ignore_ascii_case("none") {
                return Err("algorithm `none` can never be allowed".to_owned());
            }
            if name.parse::<Algorithm>().is_err() {
                let known: Vec<&str> = Algorithm::ALL
                    .iter()
                    .map(|algorithm| algorithm.as_str())
                    .collect();
                return Err(format!(
                    "unknown algorithm `{name}`; expected one of {}",
                    known.join(", ")
                ));
            }
            if earlier.iter().any(|other| other == name) {
                return Err(format!("algorithm `{name}` is listed twice"));
            }
            Ok(())
        })?;
        let algorithms = names.iter().filter_map(|name| name.parse().ok()).collect();
        Ok(Algorithms(algorithms))
    }
}

/// A non-empty list of distinct, non-empty strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmptyStrings(Vec<String>);

impl NonEmptyStrings {
    /// Iterates over the values in policy order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Returns true when `value` is listed.
    pub fn contains(&self, value: &str) -> bool {
        self.0.iter().any(|item| item == value)
    }
}

impl<'de> Deserialize<'de> for NonEmptyStrings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let values = string_list(deserializer, |value, earlier| {
            if value.is_empty() {
                return Err("list entries must not be empty".to_owned());
            }
            if earlier.iter().any(|other| other == value) {
                return Err(format!("`{value}` is listed twice"));
            }
            Ok(())
        })?;
        Ok(NonEmptyStrings(values))
    }
}

/// Role names as written, with their normal forms for matching.
#[derive(Clone)]
pub struct RoleSet {
    written: Vec<String>,
    normalized: HashSet<String>,
}

impl RoleSet {
    /// Returns the listed role whose normal form equals that of `raw`, if any.
    pub fn matching(&self, raw: &str) -> Option<&str> {
        let normal = normalize_role(raw);
        if !self.normalized.contains(&normal) {
            return None;
        }
        self.written
            .iter()
            .map(String::as_str)
            .find(|written| normalize_role(written) == normal)
    }
}

impl fmt::Debug for RoleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.written).finish()
    }
}

impl<'de> Deserialize<'de> for RoleSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut normalized = HashSet::new();
        let written = string_list(deserializer, |role, _| {
            let normal = normalize_role(role);
            if normal.is_empty() {
                return Err(format!("role `{role}` is blank after normalisation"));
            }
            if !normalized.insert(normal.clone()) {
                return Err(format!(
                    "role `{role}` is listed twice (same normal form `{normal}`)"
                ));
            }
            Ok(())
        })?;
        Ok(RoleSet {
            written,
            normalized,
        })
    }
}

impl JsonSchema for Version {
    fn schema_name() -> Cow<'static, str> {
        "Version".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "description": "Policy format version.", "const": 1 })
    }
}

impl JsonSchema for Algorithms {
    fn schema_name() -> Cow<'static, str> {
        "Algorithms".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Algorithm::ALL
            .iter()
            .map(|algorithm| algorithm.as_str())
            .collect();
        json_schema!({
            "type": "array",
            "minItems": 1,
            "uniqueItems": true,
            "items": { "enum": names },
        })
    }
}

impl JsonSchema for NonEmptyStrings {
    fn schema_name() -> Cow<'static, str> {
        "NonEmptyStrings".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "minItems": 1,
            "uniqueItems": true,
            "items": { "type": "string", "minLength": 1 },
        })
    }
}

impl JsonSchema for RoleSet {
    fn schema_name() -> Cow<'static, str> {
        "RoleSet".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        NonEmptyStrings::json_schema(generator)
    }
}

impl RoleSet {
    /// Iterates over the role names as written in the policy.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.written.iter().map(String::as_str)
    }
}

/// Maximum length of a permission or resource pattern, in bytes.
const MAX_PATTERN_LEN: usize = 256;

/// Shell-style patterns where `*` matches any run of characters and everything else matches
/// itself, such as `camera:*`. Each pattern must match a whole value.
#[derive(Debug, Clone)]
pub struct Patterns {
    written: Vec<String>,
    compiled: regex::RegexSet,
}

impl Patterns {
    /// Returns true when some pattern matches all of `value`.
    pub fn matches(&self, value: &str) -> bool {
        self.compiled.is_match(value)
    }

    /// Iterates over the patterns as written.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.written.iter().map(String::as_str)
    }
}

impl<'de> Deserialize<'de> for Patterns {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let NonEmptyStrings(written) = NonEmptyStrings::deserialize(deserializer)?;
        let mut sources = Vec::with_capacity(written.len());
        for pattern in &written {
            if pattern.len() > MAX_PATTERN_LEN {
                return Err(D::Error::custom(format_args!(
                    "pattern is longer than {MAX_PATTERN_LEN} bytes"
                )));
            }
            let pieces: Vec<String> = pattern.split('*').map(regex::escape).collect();
            sources.push(format!("^{}$", pieces.join(".*")));
        }
        let compiled = regex::RegexSet::new(&sources).map_err(D::Error::custom)?;
        Ok(Patterns { written, compiled })
    }
}

impl JsonSchema for Patterns {
    fn schema_name() -> Cow<'static, str> {
        "Patterns".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        NonEmptyStrings::json_schema(generator)
    }
}

/// A dotted path to a claim, such as `org.id`; each segment names an object member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath(Vec<String>);

impl ClaimPath {
    /// Iterates over the path's segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Returns the value at this path in `claims`, if every segment exists.
    pub fn lookup<'a>(&self, claims: &'a serde_json::Value) -> Option<&'a serde_json::Value> {
        self.0
            .iter()
            .try_fold(claims, |value, segment| value.get(segment.as_str()))
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

impl<'de> Deserialize<'de> for ClaimPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(deserializer)?;
        let segments: Vec<String> = text.split('.').map(str::to_owned).collect();
        if segments.iter().any(String::is_empty) {
            return Err(D::Error::custom(format_args!(
                "invalid claim path `{text}`; write names separated by dots, such as `org.id`"
            )));
        }
        Ok(ClaimPath(segments))
    }
}

impl JsonSchema for ClaimPath {
    fn schema_name() -> Cow<'static, str> {
        "ClaimPath".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[^.]+(\\.[^.]+)*$" })
    }
}

/// A rule id chosen by the policy author: lowercase letters, digits, `_`, `-` and `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleId(String);

impl RuleId {
    /// Returns the id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let id = String::deserialize(deserializer)?;
        let valid = !id.is_empty()
            && id.len() <= 64
            && id.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')
            });
        if !valid {
            return Err(D::Error::custom(format_args!(
                "invalid rule id `{id}`; use 1 to 64 lowercase letters, digits, `_`, `-` or `.`"
            )));
        }
        Ok(RuleId(id))
    }
}

impl JsonSchema for RuleId {
    fn schema_name() -> Cow<'static, str> {
        "RuleId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[a-z0-9_.-]{1,64}$" })
    }
}

/// Deserialises a present key into `Some`, rejecting an empty value (`expiry:` or
/// `expiry: ~`), which would otherwise read as "rule absent" and silently turn it off.
pub(crate) fn settings<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    match Option::<T>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(serde::de::Error::custom(
            "this key has no value; write `{}` to use the defaults, or remove the key to turn it off",
        )),
    }
}
