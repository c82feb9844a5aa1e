//! Warden's YAML security policies: loading, typed rules and role normalisation.
//!
//! A policy is read once, at startup, into types that cannot hold a malformed rule:
//! unknown keys, unknown algorithms, `none`, durations without units and empty lists are
//! load errors that name the file, line and column. The validator then only reads fields.
//!
//! ```
//! let policy = warden_policy::Policy::from_yaml_str(
//!     "version: 1\nalgorithms: [HS256]\nrules:\n  max_age: { max: 30d }\n",
//!     "inline.yaml",
//! )?;
//! assert_eq!(policy.rules.max_age.unwrap().max.as_secs(), 30 * 86_400);
//! # Ok::<(), warden_policy::PolicyError>(())
//! ```
#![forbid(unsafe_code)]

mod custom;
mod duration;
mod lint;
mod load;
mod model;
mod refresh;
mod roles;
mod severity;
mod values;

pub use custom::{CustomCheck, CustomClaimRule, JsonType};
pub use duration::{Duration, DurationError};
pub use lint::{LintFinding, lint};
pub use load::PolicyError;
pub use model::{
    AllowListRule, AllowedRolesRule, DEFAULT_MAX_TOKEN_LENGTH, ExpiryRule,
    ForbiddenPermissionsRule, IssuerConfig, MaxAgeRule, MaxPermissionsRule, PermissionPatternsRule,
    Policy, RequiredClaimsRule, RoleDefinition, Rules, SeverityOnly, SuspiciousRolesRule, TypRule,
    UsageRule, UsageScope, pattern_matches,
};
pub use refresh::RefreshPolicy;
pub use roles::normalize_role;
pub use severity::{RuleSeverity, Severity};
pub use values::{Algorithms, ClaimPath, NonEmptyStrings, Patterns, RoleSet, RuleId, Version};

/// Returns the JSON Schema (draft-07) of policy files, generated from the policy types.
///
/// Editors use it through a `# yaml-language-server: $schema=...` line; the committed copy
/// is `policies/schema.json`.
pub fn json_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<Policy>();
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}
