//! The policy document, as typed rules. Deserialising is the only way to build one, and
//! it rejects unknown keys and impossible values, so evaluation never meets a bad rule.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use warden_claims::Algorithm;

use crate::roles::normalize_role;
use crate::{Duration, RuleSeverity};

/// Default for [`Policy::max_token_length`]: 8 KiB, well above typical tokens (under 2 KiB)
/// and below the header limits of common HTTP servers.
pub const DEFAULT_MAX_TOKEN_LENGTH: usize = 8 * 1024;

/// A Warden security policy, version 1.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Format version; only `1` exists.
    pub version: Version,
    /// Short name shown in reports.
    #[serde(default)]
    pub name: Option<String>,
    /// Free text for the people who maintain the policy.
    #[serde(default)]
    pub description: Option<String>,
    /// Signature algorithms a token may use. `none` can never be listed.
    pub algorithms: Algorithms,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`. Default `0s`.
    #[serde(default)]
    pub leeway: Duration,
    /// Longest token accepted, in bytes, checked before any decoding. Default 8192.
    #[serde(
        default = "default_max_token_length",
        deserialize_with = "positive_usize"
    )]
    pub max_token_length: usize,
    /// The claim rules; a rule that is not listed does not run.
    #[serde(default)]
    pub rules: Rules,
}

fn default_max_token_length() -> usize {
    DEFAULT_MAX_TOKEN_LENGTH
}

fn positive_usize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    let value = usize::deserialize(deserializer)?;
    if value == 0 {
        return Err(serde::de::Error::custom("must be greater than 0"));
    }
    Ok(value)
}

/// Policy format version. Only `1` is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Version(u64);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let version = u64::deserialize(deserializer)?;
        if version != 1 {
            return Err(serde::de::Error::custom(format_args!(
                "unsupported policy version `{version}`; this Warden reads version 1"
            )));
        }
        Ok(Version(version))
    }
}

/// Non-empty, duplicate-free algorithm allowlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
        use serde::de::Error;
        let names = Vec::<String>::deserialize(deserializer)?;
        if names.is_empty() {
            return Err(D::Error::custom(
                "algorithms must list at least one algorithm",
            ));
        }
        let mut algorithms = Vec::with_capacity(names.len());
        for name in names {
            if name.eq_ignore_ascii_case("none") {
                return Err(D::Error::custom("algorithm `none` can never be allowed"));
            }
            let algorithm: Algorithm = name.parse().map_err(|_| {
                D::Error::custom(format_args!(
                    "unknown algorithm `{name}`; expected one of {}",
                    Algorithm::ALL.map(Algorithm::as_str).join(", ")
                ))
            })?;
            if algorithms.contains(&algorithm) {
                return Err(D::Error::custom(format_args!(
                    "algorithm `{name}` is listed twice"
                )));
            }
            algorithms.push(algorithm);
        }
        Ok(Algorithms(algorithms))
    }
}

/// The claim rules of a policy. Each field is one rule, named by its stable rule id.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Deny tokens found in the revocation list.
    pub revocation: Option<SeverityOnly>,
    /// Deny tokens whose `exp` has passed.
    pub expiry: Option<ExpiryRule>,
    /// Deny tokens whose `nbf` is still ahead.
    pub not_before: Option<SeverityOnly>,
    /// Deny tokens whose `iat` is in the future.
    pub issued_in_future: Option<SeverityOnly>,
    /// Flag tokens issued longer ago than `max`.
    pub max_age: Option<MaxAgeRule>,
    /// Claims every token must carry.
    pub required_claims: Option<RequiredClaimsRule>,
    /// Allowed `iss` values.
    pub issuer: Option<AllowListRule>,
    /// Allowed `aud` values; a token passes when any of its audiences is listed.
    pub audience: Option<AllowListRule>,
    /// Role names that deserve a second look, compared in normal form.
    pub suspicious_roles: Option<SuspiciousRolesRule>,
    /// Upper bound on the number of permissions.
    pub max_permissions: Option<MaxPermissionsRule>,
    /// Tokens must carry a `jti`.
    pub jti_required: Option<SeverityOnly>,
    /// Per-token usage thresholds.
    pub usage: Option<UsageRule>,
    /// What happens when the revocation or usage store cannot answer.
    pub store_unavailable: Option<SeverityOnly>,
}

/// A rule whose only setting is its severity. Default `error`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityOnly {
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// Expiry check.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryRule {
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
    /// Also report a token without `exp`. Default false.
    #[serde(default)]
    pub required: bool,
}

/// Maximum time since `iat`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MaxAgeRule {
    /// Oldest acceptable token age.
    pub max: Duration,
    /// Severity of the rule's findings. Default `warning`.
    #[serde(default = "RuleSeverity::warning")]
    pub severity: RuleSeverity,
}

/// Claims that must be present.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredClaimsRule {
    /// Claim names, each reported separately when missing.
    pub claims: NonEmptyStrings,
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// A claim's allowed values.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AllowListRule {
    /// Accepted values, compared exactly.
    pub allowed: NonEmptyStrings,
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// Role names to flag.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SuspiciousRolesRule {
    /// Role names, compared after normalisation (see [`crate::normalize_role`]).
    pub roles: RoleSet,
    /// Severity of the rule's findings. Default `warning`.
    #[serde(default = "RuleSeverity::warning")]
    pub severity: RuleSeverity,
}

/// Maximum permission count.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MaxPermissionsRule {
    /// Most permissions a token may carry.
    pub max: usize,
    /// Severity of the rule's findings. Default `warning`.
    #[serde(default = "RuleSeverity::warning")]
    pub severity: RuleSeverity,
}

/// What a usage counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum UsageScope {
    /// The token identity (a hash of header and payload).
    #[default]
    Token,
    /// The `jti` claim, with `iss`.
    Jti,
    /// The `sub` claim, with `iss`.
    Subject,
}

/// Usage thresholds: at least one of `warn_after` and `deny_after`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, try_from = "UsageRuleFields")]
pub struct UsageRule {
    /// What is counted. Default `token`.
    pub per: UsageScope,
    /// Length of the fixed counting window; absent means the count lasts as long as the
    /// token.
    pub window: Option<Duration>,
    /// Report a warning once the count exceeds this number.
    pub warn_after: Option<u64>,
    /// Report an error once the count exceeds this number.
    pub deny_after: Option<u64>,
    /// `off` disables the rule; any other value keeps each threshold's own severity.
    pub severity: RuleSeverity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageRuleFields {
    #[serde(default)]
    per: UsageScope,
    #[serde(default)]
    window: Option<Duration>,
    #[serde(default)]
    warn_after: Option<u64>,
    #[serde(default)]
    deny_after: Option<u64>,
    #[serde(default = "RuleSeverity::warning")]
    severity: RuleSeverity,
}

impl TryFrom<UsageRuleFields> for UsageRule {
    type Error = String;

    fn try_from(fields: UsageRuleFields) -> Result<Self, String> {
        if fields.warn_after.is_none() && fields.deny_after.is_none() {
            return Err("usage needs `warn_after`, `deny_after` or both".to_owned());
        }
        if let (Some(warn), Some(deny)) = (fields.warn_after, fields.deny_after)
            && warn >= deny
        {
            return Err(format!(
                "usage `warn_after` ({warn}) must be below `deny_after` ({deny})"
            ));
        }
        if fields.window.is_some_and(|window| window.as_secs() == 0) {
            return Err("usage `window` must be longer than 0s".to_owned());
        }
        Ok(UsageRule {
            per: fields.per,
            window: fields.window,
            warn_after: fields.warn_after,
            deny_after: fields.deny_after,
            severity: fields.severity,
        })
    }
}

/// A non-empty list of distinct, non-empty strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
        use serde::de::Error;
        let values = Vec::<String>::deserialize(deserializer)?;
        if values.is_empty() {
            return Err(D::Error::custom("list must not be empty"));
        }
        let mut seen = HashSet::new();
        for value in &values {
            if value.is_empty() {
                return Err(D::Error::custom("list entries must not be empty"));
            }
            if !seen.insert(value.as_str()) {
                return Err(D::Error::custom(format_args!("`{value}` is listed twice")));
            }
        }
        Ok(NonEmptyStrings(values))
    }
}

/// Role names as written, with their normal forms for matching.
#[derive(Clone, Serialize)]
#[serde(transparent)]
pub struct RoleSet {
    written: Vec<String>,
    #[serde(skip)]
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
        use serde::de::Error;
        let NonEmptyStrings(written) = NonEmptyStrings::deserialize(deserializer)?;
        let mut normalized = HashSet::new();
        for role in &written {
            let normal = normalize_role(role);
            if normal.is_empty() {
                return Err(D::Error::custom(format_args!(
                    "role `{role}` is blank after normalisation"
                )));
            }
            if !normalized.insert(normal.clone()) {
                return Err(D::Error::custom(format_args!(
                    "role `{role}` is listed twice (same normal form `{normal}`)"
                )));
            }
        }
        Ok(RoleSet {
            written,
            normalized,
        })
    }
}
