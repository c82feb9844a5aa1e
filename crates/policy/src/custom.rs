//! Custom claim rules: a check on any claim, found by dotted path.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde_json::Value;

use crate::RuleSeverity;
use crate::values::{ClaimPath, RuleId};

/// JSON types a custom rule can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum JsonType {
    /// A string.
    String,
    /// A number, integer or not.
    Number,
    /// An integer.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// An array.
    Array,
    /// An object.
    Object,
    /// `null`.
    Null,
}

impl JsonType {
    /// Returns true when `value` has this type.
    pub fn matches(self, value: &Value) -> bool {
        match self {
            JsonType::String => value.is_string(),
            JsonType::Number => value.is_number(),
            JsonType::Integer => value.is_i64() || value.is_u64(),
            JsonType::Boolean => value.is_boolean(),
            JsonType::Array => value.is_array(),
            JsonType::Object => value.is_object(),
            JsonType::Null => value.is_null(),
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::Boolean => "boolean",
            JsonType::Array => "array",
            JsonType::Object => "object",
            JsonType::Null => "null",
        })
    }
}

/// The one check a custom rule makes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CustomCheck {
    /// The claim must exist (`true`) or must be absent (`false`).
    Exists(bool),
    /// The claim must equal this JSON value.
    Equals(Value),
    /// The claim must equal one of these JSON values.
    OneOf(Vec<Value>),
    /// The claim must be a string that this regular expression matches in full.
    Matches(regex::Regex),
    /// The claim must have this JSON type.
    Type(JsonType),
}

/// A check on one claim; exactly one of `exists`, `equals`, `one_of`, `matches` and `type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "CustomClaimFields")]
pub struct CustomClaimRule {
    /// Rule id reported in findings.
    pub id: RuleId,
    /// Dotted path of the claim, such as `org.id`.
    pub claim: ClaimPath,
    /// The check.
    pub check: CustomCheck,
    /// Severity of the rule's findings.
    pub severity: RuleSeverity,
    /// Message for findings; by default one is made from the check.
    pub message: Option<String>,
}

/// A custom claim rule as written in YAML.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CustomClaimRule")]
struct CustomClaimFields {
    /// Rule id reported in findings.
    id: RuleId,
    /// Dotted path of the claim, such as `org.id`.
    claim: ClaimPath,
    /// The claim must exist (`true`) or be absent (`false`).
    #[serde(default)]
    exists: Option<bool>,
    /// The claim must equal this value.
    #[serde(default)]
    equals: Option<Value>,
    /// The claim must equal one of these values.
    #[serde(default)]
    one_of: Option<Vec<Value>>,
    /// Regular expression (Rust `regex` syntax) that must match the whole string claim.
    #[serde(default)]
    matches: Option<String>,
    /// JSON type the claim must have.
    #[serde(default, rename = "type")]
    json_type: Option<JsonType>,
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    severity: RuleSeverity,
    /// Message for findings.
    #[serde(default)]
    message: Option<String>,
}

/// Maximum length of a `matches` regular expression, in bytes.
const MAX_REGEX_LEN: usize = 1024;

impl TryFrom<CustomClaimFields> for CustomClaimRule {
    type Error = String;

    fn try_from(fields: CustomClaimFields) -> Result<Self, String> {
        let mut checks = Vec::new();
        if let Some(exists) = fields.exists {
            checks.push(CustomCheck::Exists(exists));
        }
        if let Some(value) = fields.equals {
            checks.push(CustomCheck::Equals(value));
        }
        if let Some(values) = fields.one_of {
            if values.is_empty() {
                return Err(format!(
                    "custom rule `{}`: `one_of` must not be empty",
                    fields.id.as_str()
                ));
            }
            checks.push(CustomCheck::OneOf(values));
        }
        if let Some(pattern) = fields.matches {
            if pattern.len() > MAX_REGEX_LEN {
                return Err(format!(
                    "custom rule `{}`: `matches` is longer than {MAX_REGEX_LEN} bytes",
                    fields.id.as_str()
                ));
            }
            let anchored = format!("^(?:{pattern})$");
            let regex = regex::RegexBuilder::new(&anchored)
                .size_limit(1 << 20)
                .build()
                .map_err(|error| {
                    // regex errors span several lines; their last line describes the problem.
                    let reason = error
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim_start_matches("error: ")
                        .to_owned();
                    format!(
                        "custom rule `{}`: invalid regex `{pattern}`: {reason}",
                        fields.id.as_str()
                    )
                })?;
            checks.push(CustomCheck::Matches(regex));
        }
        if let Some(json_type) = fields.json_type {
            checks.push(CustomCheck::Type(json_type));
        }
        if checks.len() != 1 {
            return Err(format!(
                "custom rule `{}` needs exactly one of `exists`, `equals`, `one_of`, `matches` and `type`",
                fields.id.as_str()
            ));
        }
        let Some(check) = checks.pop() else {
            return Err(format!("custom rule `{}` has no check", fields.id.as_str()));
        };
        Ok(CustomClaimRule {
            id: fields.id,
            claim: fields.claim,
            check,
            severity: fields.severity,
            message: fields.message,
        })
    }
}

impl JsonSchema for CustomClaimRule {
    fn schema_name() -> Cow<'static, str> {
        "CustomClaimRule".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        CustomClaimFields::json_schema(generator)
    }
}

impl CustomClaimRule {
    /// Evaluates the rule on the whole claims object; returns a failure message, if any.
    pub fn evaluate(&self, claims: &Value) -> Option<String> {
        let value = self.claim.lookup(claims);
        let failure = match (&self.check, value) {
            (CustomCheck::Exists(true), None) => Some(format!("claim `{}` is missing", self.claim)),
            (CustomCheck::Exists(false), Some(_)) => {
                Some(format!("claim `{}` must be absent", self.claim))
            }
            (CustomCheck::Exists(_), _) => None,
            (_, None) => Some(format!("claim `{}` is missing", self.claim)),
            (CustomCheck::Equals(expected), Some(actual)) => (actual != expected)
                .then(|| format!("claim `{}` is {actual}, expected {expected}", self.claim)),
            (CustomCheck::OneOf(allowed), Some(actual)) => (!allowed.contains(actual)).then(|| {
                format!(
                    "claim `{}` is {actual}, not one of the allowed values",
                    self.claim
                )
            }),
            (CustomCheck::Matches(regex), Some(actual)) => match actual.as_str() {
                Some(text) if regex.is_match(text) => None,
                Some(text) => Some(format!(
                    "claim `{}` value `{text}` does not match the required pattern",
                    self.claim
                )),
                None => Some(format!("claim `{}` must be a string", self.claim)),
            },
            (CustomCheck::Type(json_type), Some(actual)) => (!json_type.matches(actual))
                .then(|| format!("claim `{}` must be of type {json_type}", self.claim)),
        };
        failure.map(|default| self.message.clone().unwrap_or(default))
    }

    /// Returns the expected value in words, for explanations.
    pub fn expectation(&self) -> String {
        match &self.check {
            CustomCheck::Exists(true) => "present".to_owned(),
            CustomCheck::Exists(false) => "absent".to_owned(),
            CustomCheck::Equals(value) => format!("= {value}"),
            CustomCheck::OneOf(values) => {
                let listed: Vec<String> = values.iter().map(Value::to_string).collect();
                format!("one of {}", listed.join(", "))
            }
            CustomCheck::Matches(regex) => format!("matches {}", regex.as_str()),
            CustomCheck::Type(json_type) => format!("of type {json_type}"),
        }
    }
}
