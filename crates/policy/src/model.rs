//! The policy document, as typed rules. Deserialising is the only way to build one, and
//! it rejects unknown keys and impossible values, so evaluation never meets a bad rule.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::custom::CustomClaimRule;
use crate::values::{Algorithms, NonEmptyStrings, Patterns, RoleSet, Version};
use crate::{Duration, RuleSeverity};

/// Default for [`Policy::max_token_length`]: 8 KiB, well above typical tokens (under 2 KiB)
/// and below the header limits of common HTTP servers.
pub const DEFAULT_MAX_TOKEN_LENGTH: usize = 8 * 1024;

/// A Warden security policy, version 1.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
    /// Maximum token length in bytes, checked before any decoding. Default 8192.
    #[serde(
        default = "default_max_token_length",
        deserialize_with = "positive_usize"
    )]
    pub max_token_length: usize,
    /// Trusted issuers, each with its own keys; when present, a token from any other
    /// issuer is denied.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub issuers: Option<Vec<IssuerConfig>>,
    /// Role definitions: the permissions and resources each role grants.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub roles: Option<BTreeMap<String, RoleDefinition>>,
    /// The claim rules; a rule that is not listed does not run.
    #[serde(default)]
    pub rules: Rules,
    /// When tokens may be refreshed; absent means never.
    #[serde(default)]
    pub refresh: Option<crate::RefreshPolicy>,
    /// Folder of the policy file; issuer key paths are relative to it.
    #[serde(skip)]
    #[schemars(skip)]
    pub source_dir: Option<PathBuf>,
}

/// A trusted issuer with its keys, algorithms and audiences.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The exact `iss` value.
    pub iss: String,
    /// Key file for this issuer (PEM, JWK set or HMAC secret), relative to the policy file.
    pub keys: PathBuf,
    /// Algorithms this issuer may use; a subset of the policy's `algorithms`. Default: all
    /// of them.
    #[serde(default)]
    pub algorithms: Option<Algorithms>,
    /// Audiences accepted from this issuer; absent means any.
    #[serde(default)]
    pub audiences: Option<NonEmptyStrings>,
}

/// Permissions and resources that one role grants.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleDefinition {
    /// Permissions the role grants; `*` patterns are allowed, such as `camera:*`.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Resource-access claims and the resources the role may name in them, such as
    /// `camera_access: [camera1]`; `*` grants every resource.
    #[serde(default)]
    pub resources: BTreeMap<String, Vec<String>>,
}

impl RoleDefinition {
    /// Returns true when the role grants `permission`.
    pub fn grants_permission(&self, permission: &str) -> bool {
        self.permissions
            .iter()
            .any(|granted| pattern_matches(granted, permission))
    }

    /// Returns true when the role may name `resource` in resource claim `claim`.
    pub fn grants_resource(&self, claim: &str, resource: &str) -> bool {
        self.resources.get(claim).is_some_and(|granted| {
            granted
                .iter()
                .any(|pattern| pattern_matches(pattern, resource))
        })
    }
}

/// Matches `value` against a pattern in which `*` stands for any run of characters.
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    let mut pieces = pattern.split('*');
    let Some(first) = pieces.next() else {
        return pattern == value;
    };
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(index) => rest = rest.get(index + piece.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
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

/// The claim rules of a policy. Each field is one rule, named by its stable rule id.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Deny tokens found in the revocation list.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub revocation: Option<SeverityOnly>,
    /// Deny tokens whose `exp` has passed.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub expiry: Option<ExpiryRule>,
    /// Deny tokens whose `nbf` is still ahead.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub not_before: Option<SeverityOnly>,
    /// Deny tokens whose `iat` is in the future.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub issued_in_future: Option<SeverityOnly>,
    /// Flag tokens issued longer ago than `max`.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub max_age: Option<MaxAgeRule>,
    /// Flag tokens whose lifetime `exp - iat` is longer than `max`.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub max_lifetime: Option<MaxAgeRule>,
    /// Flag tokens that expire further ahead than `max`.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub max_time_to_expiry: Option<MaxAgeRule>,
    /// Flag impossible time claims: `nbf` after `exp`, or `exp` before `iat`.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub time_consistency: Option<SeverityOnly>,
    /// Expected `typ` header values, compared case-insensitively.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub typ: Option<TypRule>,
    /// Flag headers that carry or point to keys (`jwk`, `jku`, `x5u`, `x5c`).
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub embedded_keys: Option<SeverityOnly>,
    /// Flag `kid` values that look like injection or path traversal.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub suspicious_kid: Option<SeverityOnly>,
    /// Roles a token may carry.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub allowed_roles: Option<AllowedRolesRule>,
    /// Flag role values that differ from their normal form, such as `Admin` or `admin `.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub role_normal_form: Option<SeverityOnly>,
    /// Permissions must match one of these patterns.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub permission_patterns: Option<PermissionPatternsRule>,
    /// Permission combinations no token may hold together.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub forbidden_permissions: Option<ForbiddenPermissionsRule>,
    /// Permissions and resources must be granted by the token's roles in `roles`.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub privileges: Option<SeverityOnly>,
    /// Checks on any claim, by dotted path.
    #[serde(default)]
    pub custom: Vec<CustomClaimRule>,
    /// Claims every token must carry.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub required_claims: Option<RequiredClaimsRule>,
    /// Allowed `iss` values.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub issuer: Option<AllowListRule>,
    /// Allowed `aud` values; a token passes when any of its audiences is listed.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub audience: Option<AllowListRule>,
    /// Role names that deserve a second look, compared in normal form.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub suspicious_roles: Option<SuspiciousRolesRule>,
    /// Upper bound on the number of permissions.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub max_permissions: Option<MaxPermissionsRule>,
    /// Tokens must carry a `jti`.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub jti_required: Option<SeverityOnly>,
    /// Per-token usage thresholds.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub usage: Option<UsageRule>,
    /// Severity when the revocation or usage store is unavailable.
    #[serde(default, deserialize_with = "crate::values::settings")]
    pub store_unavailable: Option<SeverityOnly>,
}

/// A rule whose only setting is its severity. Default `error`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityOnly {
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// Expiry check.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaxAgeRule {
    /// Oldest acceptable token age.
    pub max: Duration,
    /// Severity of the rule's findings. Default `warning`.
    #[serde(default = "RuleSeverity::warning")]
    pub severity: RuleSeverity,
}

/// Claims that must be present.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredClaimsRule {
    /// Claim names, each reported separately when missing.
    pub claims: NonEmptyStrings,
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// A claim's allowed values.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowListRule {
    /// Accepted values, compared exactly.
    pub allowed: NonEmptyStrings,
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// Role names to flag.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspiciousRolesRule {
    /// Role names, compared after normalisation (see [`crate::normalize_role`]).
    pub roles: RoleSet,
    /// Severity of the rule's findings. Default `warning`.
    #[serde(default = "RuleSeverity::warning")]
    pub severity: RuleSeverity,
}

/// Expected `typ` values.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TypRule {
    /// Accepted values, such as `JWT` or `at+jwt`; an `application/` prefix is ignored.
    pub expected: NonEmptyStrings,
    /// Also accept tokens without `typ`. Default false.
    #[serde(default)]
    pub optional: bool,
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// Roles a token may carry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowedRolesRule {
    /// Role names, compared in normal form.
    pub roles: RoleSet,
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// Patterns every permission must match.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionPatternsRule {
    /// Patterns where `*` matches any run of characters.
    pub allowed: Patterns,
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// Permission combinations that must not appear together.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForbiddenPermissionsRule {
    /// Each entry lists permissions that are forbidden together.
    pub combinations: Vec<NonEmptyStrings>,
    /// Severity of the rule's findings. Default `error`.
    #[serde(default = "RuleSeverity::error")]
    pub severity: RuleSeverity,
}

/// Maximum permission count.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaxPermissionsRule {
    /// Most permissions a token may carry.
    pub max: usize,
    /// Severity of the rule's findings. Default `warning`.
    #[serde(default = "RuleSeverity::warning")]
    pub severity: RuleSeverity,
}

/// Key a usage counter counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "UsageRuleFields")]
pub struct UsageRule {
    /// Key that is counted. Default `token`.
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

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "UsageRule")]
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

impl JsonSchema for UsageRule {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "UsageRule".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        UsageRuleFields::json_schema(generator)
    }
}
