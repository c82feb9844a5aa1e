//! Claim rules, run only on verified tokens.

use warden_blacklist::{TokenFacts, UsageKey};
use warden_claims::{Claims, Header, NumericDate, TokenId};
use warden_policy::{Rules, Severity, UsageRule, UsageScope};

use crate::report::Code;
use crate::validator::{Findings, Validator};

/// Runs every configured rule on a verified token.
pub(crate) fn evaluate_claims(
    validator: &Validator,
    header: &Header,
    claims: &Claims,
    token_id: TokenId,
    now: i64,
    findings: &mut Findings,
) {
    let policy = validator.policy();
    let rules = &policy.rules;
    for error in &claims.type_errors {
        findings.error(Code::ClaimInvalidType, "claims", error.to_string());
    }
    check_revocation(validator, header, claims, token_id, now, findings);
    if let Some(rule) = &rules.usage {
        check_usage(validator, rule, claims, token_id, now, findings);
    }
    let clock = Times {
        now: now as f64,
        leeway: policy.leeway.as_f64(),
    };
    check_times(rules, claims, clock, findings);
    check_claims(rules, claims, findings);
}

#[derive(Clone, Copy)]
struct Times {
    now: f64,
    leeway: f64,
}

fn check_revocation(
    validator: &Validator,
    header: &Header,
    claims: &Claims,
    token_id: TokenId,
    now: i64,
    findings: &mut Findings,
) {
    let rules = &validator.policy().rules;
    let Some(severity) = rules
        .revocation
        .as_ref()
        .and_then(|rule| rule.severity.active())
    else {
        return;
    };
    let facts = TokenFacts {
        token_hash: *token_id.as_bytes(),
        issuer: claims.iss.as_deref(),
        subject: claims.sub.as_deref(),
        jti: claims.jti.as_deref(),
        issued_at: claims.iat.map(NumericDate::as_secs),
        key_id: header.kid.as_deref(),
    };
    match validator.revocations().check(&facts, now) {
        Ok(Some(entry)) => {
            let message = format!(
                "token is revoked ({}, revoked at {})",
                describe_target(&entry.target),
                entry.revoked_at
            );
            findings.add(Code::TokenRevoked, severity, "revocation", message);
        }
        Ok(None) => {}
        Err(error) => store_unavailable(rules, &error.to_string(), findings),
    }
}

fn describe_target(target: &warden_blacklist::Target) -> String {
    match target {
        warden_blacklist::Target::Token { hash } => {
            format!("by token hash {}", TokenId::from_bytes(*hash).short())
        }
        other => format!("by {other}"),
    }
}

fn store_unavailable(rules: &Rules, error: &str, findings: &mut Findings) {
    // Fail closed: without an explicit `store_unavailable` rule the finding is an error.
    let severity = match &rules.store_unavailable {
        Some(rule) => rule.severity.active(),
        None => Some(Severity::Error),
    };
    if let Some(severity) = severity {
        let degraded = if severity == Severity::Warning {
            "; the policy degrades this to a warning"
        } else {
            ""
        };
        findings.add(
            Code::StoreUnavailable,
            severity,
            "store_unavailable",
            format!("{error}{degraded}"),
        );
    }
}

fn check_usage(
    validator: &Validator,
    rule: &UsageRule,
    claims: &Claims,
    token_id: TokenId,
    now: i64,
    findings: &mut Findings,
) {
    if rule.severity.active().is_none() {
        return;
    }
    let key = match rule.per {
        UsageScope::Token => UsageKey::Token(*token_id.as_bytes()),
        UsageScope::Jti => match &claims.jti {
            Some(jti) => UsageKey::Jti {
                issuer: claims.iss.clone(),
                jti: jti.clone(),
            },
            None => return,
        },
        UsageScope::Subject => match &claims.sub {
            Some(subject) => UsageKey::Subject {
                issuer: claims.iss.clone(),
                subject: subject.clone(),
            },
            None => return,
        },
        _ => return,
    };
    let window = rule.window.map(warden_policy::Duration::as_secs);
    let expires_at = claims.exp.map(|exp| exp.as_secs().saturating_add(1));
    let uses = match validator
        .usage_counter()
        .increment(&key, now, window, expires_at)
    {
        Ok(uses) => uses,
        Err(error) => {
            return store_unavailable(&validator.policy().rules, &error.to_string(), findings);
        }
    };
    let scope = match rule.per {
        UsageScope::Jti => "jti",
        UsageScope::Subject => "subject",
        _ => "token",
    };
    let within = rule
        .window
        .map(|window| format!(" within {window}"))
        .unwrap_or_default();
    if let Some(limit) = rule.deny_after.filter(|limit| uses > *limit) {
        let message = format!("{scope} used {uses} times{within}, over the limit of {limit}");
        findings.add(Code::UsageExceeded, Severity::Error, "usage", message);
    } else if let Some(limit) = rule.warn_after.filter(|limit| uses > *limit) {
        let message =
            format!("{scope} used {uses} times{within}, over the warning threshold of {limit}");
        findings.add(Code::UsageExceeded, Severity::Warning, "usage", message);
    }
}

fn check_times(rules: &Rules, claims: &Claims, times: Times, findings: &mut Findings) {
    let Times { now, leeway } = times;
    if let Some(rule) = &rules.expiry
        && let Some(severity) = rule.severity.active()
    {
        match claims.exp {
            Some(exp) if now - leeway >= exp.as_f64() => {
                let message = format!(
                    "token expired at {} (`exp` {exp}), {} ago",
                    timestamp(exp),
                    ago(now - exp.as_f64())
                );
                findings.add(Code::TokenExpired, severity, "expiry", message);
            }
            None if rule.required && !claims.contains("exp") => {
                findings.add(
                    Code::TokenNoExpiry,
                    severity,
                    "expiry",
                    "token has no `exp`".to_owned(),
                );
            }
            _ => {}
        }
    }
    if let (Some(severity), Some(nbf)) = (active(&rules.not_before), claims.nbf)
        && now + leeway < nbf.as_f64()
    {
        let message = format!("token is not valid before {} (`nbf` {nbf})", timestamp(nbf));
        findings.add(Code::TokenNotYetValid, severity, "not_before", message);
    }
    if let (Some(severity), Some(iat)) = (active(&rules.issued_in_future), claims.iat)
        && iat.as_f64() > now + leeway
    {
        let message = format!(
            "token is issued in the future, at {} (`iat` {iat})",
            timestamp(iat)
        );
        findings.add(Code::IssuedInFuture, severity, "issued_in_future", message);
    }
    if let Some(rule) = &rules.max_age
        && let (Some(severity), Some(iat)) = (rule.severity.active(), claims.iat)
    {
        let age = now - iat.as_f64();
        if age > rule.max.as_f64() {
            let message = format!(
                "token was issued {} ago (`iat` {iat}), more than the maximum age of {}",
                ago(age),
                rule.max
            );
            findings.add(Code::TokenTooOld, severity, "max_age", message);
        }
    }
}

fn check_claims(rules: &Rules, claims: &Claims, findings: &mut Findings) {
    if let Some(rule) = &rules.required_claims
        && let Some(severity) = rule.severity.active()
    {
        for name in rule.claims.iter().filter(|name| !claims.contains(name)) {
            findings.add(
                Code::ClaimMissing,
                severity,
                "required_claims",
                format!("required claim `{name}` is missing"),
            );
        }
    }
    if let Some(rule) = &rules.issuer
        && let Some(severity) = rule.severity.active()
    {
        match claims.iss.as_deref() {
            Some(issuer) if rule.allowed.contains(issuer) => {}
            Some(issuer) => {
                findings.add(
                    Code::IssuerNotAllowed,
                    severity,
                    "issuer",
                    format!("issuer `{issuer}` is not allowed"),
                );
            }
            None => findings.add(
                Code::IssuerNotAllowed,
                severity,
                "issuer",
                "token has no `iss`".to_owned(),
            ),
        }
    }
    if let Some(rule) = &rules.audience
        && let Some(severity) = rule.severity.active()
    {
        match &claims.aud {
            Some(audience) if audience.iter().any(|aud| rule.allowed.contains(aud)) => {}
            Some(audience) => {
                let listed: Vec<&str> = audience.iter().collect();
                let message = format!("audience `{}` is not allowed", listed.join("`, `"));
                findings.add(Code::AudienceNotAllowed, severity, "audience", message);
            }
            None => findings.add(
                Code::AudienceNotAllowed,
                severity,
                "audience",
                "token has no `aud`".to_owned(),
            ),
        }
    }
    if let Some(rule) = &rules.suspicious_roles
        && let Some(severity) = rule.severity.active()
    {
        for role in claims.all_roles() {
            if let Some(listed) = rule.roles.matching(role) {
                let message = if role == listed {
                    format!("role `{role}` is on the suspicious list")
                } else {
                    format!(
                        "role `{}` is on the suspicious list as `{listed}`",
                        role.escape_debug()
                    )
                };
                findings.add(Code::RoleSuspicious, severity, "suspicious_roles", message);
            }
        }
    }
    if let Some(rule) = &rules.max_permissions {
        let count = claims.permissions.as_ref().map_or(0, Vec::len);
        if let (Some(severity), true) = (rule.severity.active(), count > rule.max) {
            let message = format!(
                "token carries {count} permissions, more than the maximum of {}",
                rule.max
            );
            findings.add(
                Code::PermissionsTooMany,
                severity,
                "max_permissions",
                message,
            );
        }
    }
    if let Some(severity) = active(&rules.jti_required)
        && !claims.contains("jti")
    {
        findings.add(
            Code::JtiMissing,
            severity,
            "jti_required",
            "token has no `jti`, so it cannot be revoked by id".to_owned(),
        );
    }
}

fn active(rule: &Option<warden_policy::SeverityOnly>) -> Option<Severity> {
    rule.as_ref().and_then(|rule| rule.severity.active())
}

/// Formats a NumericDate as RFC 3339 UTC, to the second.
fn timestamp(date: NumericDate) -> String {
    let seconds = u64::try_from(date.as_secs()).unwrap_or_default();
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds),
    )
    .to_string()
}

/// Formats a positive number of seconds as a short duration such as `3d2h`.
fn ago(seconds: f64) -> String {
    // Saturating float-to-int conversion; negative spans print as `0s`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = seconds.max(0.0) as u64;
    let span = warden_policy::Duration::from_secs(whole).to_string();
    // Two largest units are enough for a message.
    let mut units = 0;
    let mut shortened = String::new();
    for character in span.chars() {
        shortened.push(character);
        if character.is_ascii_alphabetic() {
            units += 1;
            if units == 2 {
                break;
            }
        }
    }
    shortened
}
