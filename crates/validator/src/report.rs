use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use warden_claims::{Claims, Header, TokenId};
use warden_policy::Severity;

/// Outcome for one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Decision {
    /// No finding of severity error.
    Allow,
    /// At least one finding of severity error.
    Deny,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        })
    }
}

/// Stable finding codes. Tests, dashboards and alert rules match on [`Code::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Code {
    /// `token.too_long`: longer than the policy's `max_token_length`; nothing was decoded.
    TokenTooLong,
    /// `token.malformed`: not a compact JWS with canonical base64url and JSON segments.
    TokenMalformed,
    /// `token.duplicate_member`: a header parameter or claim name appears twice.
    DuplicateMember,
    /// `header.crit_unsupported`: the header lists critical extensions Warden does not implement.
    CritUnsupported,
    /// `algorithm.none`: `alg` is `none` in some letter case.
    AlgorithmNone,
    /// `algorithm.unsupported`: `alg` is not an algorithm Warden can verify.
    AlgorithmUnsupported,
    /// `algorithm.not_allowed`: `alg` is not in the policy's allowlist.
    AlgorithmNotAllowed,
    /// `algorithm.key_mismatch`: no loaded key is of the type `alg` needs, or every key of
    /// that type is bound to another algorithm by its JWK `alg`.
    AlgorithmKeyMismatch,
    /// `key.not_found`: no key has the header's `kid`.
    KeyNotFound,
    /// `signature.invalid`: the signature does not verify.
    SignatureInvalid,
    /// `claims.invalid_type`: a registered claim has the wrong JSON type or range.
    ClaimInvalidType,
    /// `token.revoked`: the revocation list has an entry for the token.
    TokenRevoked,
    /// `store.unavailable`: the revocation or usage store was unavailable.
    StoreUnavailable,
    /// `token.expired`: `exp` has passed.
    TokenExpired,
    /// `token.no_expiry`: the policy requires `exp` and the token has none.
    TokenNoExpiry,
    /// `token.not_yet_valid`: `nbf` is still ahead.
    TokenNotYetValid,
    /// `token.issued_in_future`: `iat` is ahead of the clock.
    IssuedInFuture,
    /// `token.too_old`: `iat` is longer ago than the policy's maximum age.
    TokenTooOld,
    /// `claims.missing`: a required claim is absent.
    ClaimMissing,
    /// `issuer.not_allowed`: `iss` is absent or not in the allowlist.
    IssuerNotAllowed,
    /// `audience.not_allowed`: `aud` is absent or lists no allowed audience.
    AudienceNotAllowed,
    /// `role.suspicious`: a role matches the suspicious list.
    RoleSuspicious,
    /// `permissions.too_many`: more permissions than the policy allows.
    PermissionsTooMany,
    /// `jti.missing`: the token has no `jti`.
    JtiMissing,
    /// `usage.exceeded`: the token was used more often than a usage threshold.
    UsageExceeded,
    /// `issuer.unknown`: the policy lists trusted issuers and the token's `iss` is not one.
    IssuerUnknown,
    /// `token.lifetime_too_long`: `exp - iat` is longer than the policy allows.
    LifetimeTooLong,
    /// `token.expiry_too_far`: `exp` is further ahead than the policy allows.
    ExpiryTooFar,
    /// `token.nbf_after_exp`: the token becomes valid only after it expires.
    NbfAfterExp,
    /// `token.exp_before_iat`: the token expires before it was issued.
    ExpBeforeIat,
    /// `header.typ_mismatch`: `typ` is absent or not an expected value.
    TypMismatch,
    /// `header.embedded_key`: the header carries or points to a key.
    EmbeddedKey,
    /// `header.suspicious_kid`: `kid` looks like injection or path traversal.
    SuspiciousKid,
    /// `role.not_allowed`: a role is not in the allowed list.
    RoleNotAllowed,
    /// `role.not_normalized`: a role differs from its normal form.
    RoleNotNormalized,
    /// `role.undefined`: a role has no definition in the policy's `roles`.
    RoleUndefined,
    /// `permission.not_allowed`: a permission matches no allowed pattern.
    PermissionNotAllowed,
    /// `permissions.forbidden_combination`: the token has permissions that are forbidden together.
    ForbiddenCombination,
    /// `privilege.permission_not_granted`: no role of the token grants this permission.
    PermissionNotGranted,
    /// `privilege.resource_not_granted`: no role of the token grants this resource.
    ResourceNotGranted,
    /// `claim.check_failed`: a custom claim rule failed; the rule id names which.
    CustomCheckFailed,
    /// `request.role_missing`: the caller required a role the token lacks.
    RequestRoleMissing,
    /// `request.permission_missing`: the caller required a permission the token lacks or its
    /// role does not grant.
    RequestPermissionMissing,
    /// `request.resource_denied`: the caller required a resource the token may not access.
    RequestResourceDenied,
}

impl Code {
    /// Returns the stable dotted code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::TokenTooLong => "token.too_long",
            Code::TokenMalformed => "token.malformed",
            Code::DuplicateMember => "token.duplicate_member",
            Code::CritUnsupported => "header.crit_unsupported",
            Code::AlgorithmNone => "algorithm.none",
            Code::AlgorithmUnsupported => "algorithm.unsupported",
            Code::AlgorithmNotAllowed => "algorithm.not_allowed",
            Code::AlgorithmKeyMismatch => "algorithm.key_mismatch",
            Code::KeyNotFound => "key.not_found",
            Code::SignatureInvalid => "signature.invalid",
            Code::ClaimInvalidType => "claims.invalid_type",
            Code::TokenRevoked => "token.revoked",
            Code::StoreUnavailable => "store.unavailable",
            Code::TokenExpired => "token.expired",
            Code::TokenNoExpiry => "token.no_expiry",
            Code::TokenNotYetValid => "token.not_yet_valid",
            Code::IssuedInFuture => "token.issued_in_future",
            Code::TokenTooOld => "token.too_old",
            Code::ClaimMissing => "claims.missing",
            Code::IssuerNotAllowed => "issuer.not_allowed",
            Code::AudienceNotAllowed => "audience.not_allowed",
            Code::RoleSuspicious => "role.suspicious",
            Code::PermissionsTooMany => "permissions.too_many",
            Code::JtiMissing => "jti.missing",
            Code::UsageExceeded => "usage.exceeded",
            Code::IssuerUnknown => "issuer.unknown",
            Code::LifetimeTooLong => "token.lifetime_too_long",
            Code::ExpiryTooFar => "token.expiry_too_far",
            Code::NbfAfterExp => "token.nbf_after_exp",
            Code::ExpBeforeIat => "token.exp_before_iat",
            Code::TypMismatch => "header.typ_mismatch",
            Code::EmbeddedKey => "header.embedded_key",
            Code::SuspiciousKid => "header.suspicious_kid",
            Code::RoleNotAllowed => "role.not_allowed",
            Code::RoleNotNormalized => "role.not_normalized",
            Code::RoleUndefined => "role.undefined",
            Code::PermissionNotAllowed => "permission.not_allowed",
            Code::ForbiddenCombination => "permissions.forbidden_combination",
            Code::PermissionNotGranted => "privilege.permission_not_granted",
            Code::ResourceNotGranted => "privilege.resource_not_granted",
            Code::CustomCheckFailed => "claim.check_failed",
            Code::RequestRoleMissing => "request.role_missing",
            Code::RequestPermissionMissing => "request.permission_missing",
            Code::RequestResourceDenied => "request.resource_denied",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code.
    #[serde(serialize_with = "serialize_code")]
    pub code: Code,
    /// Error denies; warning only reports.
    pub severity: Severity,
    /// Policy rule id that produced the finding, such as `max_age` or a custom rule's id,
    /// or the fixed check (`format`, `algorithm`, `signature`, `claims`, `issuers`,
    /// `request`) for findings no rule can turn off.
    pub rule: Cow<'static, str>,
    /// One lowercase line that names the value involved. Never contains the token.
    pub message: String,
}

fn serialize_code<S: serde::Serializer>(code: &Code, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(code.as_str())
}

/// The result of validating one token.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Short identity-hash prefix that names the token in output.
    pub token: String,
    /// Full identity hash.
    #[serde(skip)]
    pub token_id: TokenId,
    /// Allow or deny.
    pub decision: Decision,
    /// Verified header; `None` unless the signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<Header>,
    /// Verified claims; `None` unless the signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Claims>,
    /// Every finding, in the order the checks ran.
    pub findings: Vec<Finding>,
    /// Unix time the checks used.
    pub checked_at: i64,
    /// Every check that ran, in order; only when explanations were requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<Check>>,
}

/// One check that ran, for `--explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Rule id or fixed check name.
    pub rule: Cow<'static, str>,
    /// Claim or header parameter examined, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// Expected value, in words.
    pub expected: String,
    /// Actual value in the token.
    pub actual: String,
    /// True when the check passed.
    pub passed: bool,
}

impl Report {
    /// Returns true when the decision is allow.
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// Iterates over the finding codes, in order.
    pub fn codes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.findings.iter().map(|finding| finding.code.as_str())
    }

    /// Returns true when some finding has `code`.
    pub fn has(&self, code: Code) -> bool {
        self.findings.iter().any(|finding| finding.code == code)
    }
}

impl fmt::Display for Report {
    /// Writes the decision line and one indented line per finding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token {}: {}", self.token, self.decision)?;
        if let Some(subject) = self
            .claims
            .as_ref()
            .and_then(|claims| claims.sub.as_deref())
        {
            write!(
                f,
                " (sub `{}`)",
                crate::findings::one_line(subject.to_owned())
            )?;
        }
        if let Some(checks) = &self.checks {
            write!(f, "\n  checked at {}", format_time(self.checked_at))?;
            for check in checks {
                let outcome = if check.passed { "pass" } else { "FAIL" };
                let claim = check
                    .claim
                    .as_deref()
                    .map(|claim| format!(" `{claim}`"))
                    .unwrap_or_default();
                write!(
                    f,
                    "\n  {outcome} [{}]{claim}: expected {}, found {}",
                    check.rule,
                    crate::findings::one_line(check.expected.clone()),
                    crate::findings::one_line(check.actual.clone())
                )?;
            }
        }
        for finding in &self.findings {
            write!(
                f,
                "\n  {:<7} {:<24} [{}] {}",
                finding.severity.to_string(),
                finding.code.as_str(),
                finding.rule,
                finding.message
            )?;
        }
        Ok(())
    }
}

/// Formats Unix seconds as RFC 3339 UTC.
pub(crate) fn format_time(seconds: i64) -> String {
    let seconds = u64::try_from(seconds).unwrap_or_default();
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds),
    )
    .to_string()
}
