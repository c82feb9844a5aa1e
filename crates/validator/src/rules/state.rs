//! Rules that consult the revocation list and the usage counters.

use warden_blacklist::{Revocation, StoreError, Target, TokenFacts, UsageCount, UsageKey};
use warden_claims::{NumericDate, TokenId};
use warden_policy::{Rules, Severity, UsageRule, UsageScope};

use super::Context;
use crate::findings::{Findings, Trace};
use crate::report::{Code, format_time};

/// A use to count under the policy's `usage` rule.
struct PendingUse<'a> {
    rule: &'a UsageRule,
    key: UsageKey,
    scope: &'static str,
    window: Option<u64>,
    expires_at: Option<i64>,
}

/// Runs the revocation and usage rules. When one store keeps both, the check and the
/// count are one call, which for Redis is one round trip.
pub(super) fn check_state(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let validator = context.validator;
    let rules = &validator.policy().rules;
    let revocation = rules
        .revocation
        .as_ref()
        .and_then(|rule| rule.severity.active());
    let pending = pending_use(context);
    let facts = token_facts(context);

    if let (Some(state), Some(severity), Some(usage)) =
        (validator.token_state(), revocation, &pending)
    {
        let count = UsageCount {
            key: &usage.key,
            window: usage.window,
            expires_at: usage.expires_at,
        };
        match state.check_and_count(&facts, context.now, Some(count)) {
            Ok((entry, uses)) => {
                report_revocation(entry, severity, findings, trace);
                if let Some(uses) = uses {
                    report_usage(usage, uses, findings, trace);
                }
            }
            Err(error) => store_unavailable(rules, &error, findings, trace),
        }
        return;
    }

    if let Some(severity) = revocation {
        match validator.revocations().check(&facts, context.now) {
            Ok(entry) => report_revocation(entry, severity, findings, trace),
            Err(error) => store_unavailable(rules, &error, findings, trace),
        }
    }
    if let Some(usage) = &pending {
        let counter = validator.usage_counter();
        match counter.increment(&usage.key, context.now, usage.window, usage.expires_at) {
            Ok(uses) => report_usage(usage, uses, findings, trace),
            Err(error) => store_unavailable(rules, &error, findings, trace),
        }
    }
}

fn token_facts<'a>(context: &Context<'a>) -> TokenFacts<'a> {
    let claims = context.claims;
    TokenFacts {
        token_hash: *context.token_id.as_bytes(),
        issuer: claims.iss.as_deref(),
        subject: claims.sub.as_deref(),
        jti: claims.jti.as_deref(),
        issued_at: claims.iat.map(NumericDate::as_secs),
        key_id: context.key_id,
    }
}

/// Returns the use to count, or `None` when the rule is off or the token lacks the claim
/// it counts by.
fn pending_use<'a>(context: &Context<'a>) -> Option<PendingUse<'a>> {
    let rule = context.validator.policy().rules.usage.as_ref()?;
    rule.severity.active()?;
    let claims = context.claims;
    let (key, scope) = match rule.per {
        UsageScope::Jti => {
            let jti = claims.jti.clone()?;
            (
                UsageKey::Jti {
                    issuer: claims.iss.clone(),
                    jti,
                },
                "jti",
            )
        }
        UsageScope::Subject => {
            let subject = claims.sub.clone()?;
            (
                UsageKey::Subject {
                    issuer: claims.iss.clone(),
                    subject,
                },
                "subject",
            )
        }
        _ => (UsageKey::Token(*context.token_id.as_bytes()), "token"),
    };
    Some(PendingUse {
        rule,
        key,
        scope,
        window: rule.window.map(warden_policy::Duration::as_secs),
        expires_at: claims.exp.map(|exp| exp.as_secs().saturating_add(1)),
    })
}

fn report_revocation(
    entry: Option<Revocation>,
    severity: Severity,
    findings: &mut Findings,
    trace: &mut Trace,
) {
    let Some(entry) = entry else {
        trace.record("revocation", true, || {
            (None, "not revoked".to_owned(), "no entry".to_owned())
        });
        return;
    };
    trace.record("revocation", false, || {
        (
            None,
            "not revoked".to_owned(),
            describe_target(&entry.target),
        )
    });
    let message = format!(
        "token is revoked ({}, revoked at {})",
        describe_target(&entry.target),
        format_time(entry.revoked_at)
    );
    findings.add(Code::TokenRevoked, severity, "revocation", message);
}

fn describe_target(target: &Target) -> String {
    match target {
        Target::Token { hash } => format!("by token hash {}", TokenId::from_bytes(*hash).short()),
        other => format!("by {other}"),
    }
}

fn store_unavailable(
    rules: &Rules,
    error: &StoreError,
    findings: &mut Findings,
    trace: &mut Trace,
) {
    let error = error.to_string();
    // Fail closed: without an explicit `store_unavailable` rule the finding is an error.
    let severity = match &rules.store_unavailable {
        Some(rule) => rule.severity.active(),
        None => Some(Severity::Error),
    };
    trace.record("store_unavailable", false, || {
        (None, "store answers".to_owned(), error.clone())
    });
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

fn report_usage(usage: &PendingUse<'_>, uses: u64, findings: &mut Findings, trace: &mut Trace) {
    let rule = usage.rule;
    let scope = usage.scope;
    let within = rule
        .window
        .map(|window| format!(" within {window}"))
        .unwrap_or_default();
    let denied = rule.deny_after.filter(|limit| uses > *limit);
    let warned = rule.warn_after.filter(|limit| uses > *limit);
    trace.record("usage", denied.is_none() && warned.is_none(), || {
        let limits = [
            rule.warn_after.map(|n| format!("warn after {n}")),
            rule.deny_after.map(|n| format!("deny after {n}")),
        ];
        let limits: Vec<String> = limits.into_iter().flatten().collect();
        (None, limits.join(", "), format!("{uses} uses{within}"))
    });

    if let Some(limit) = denied {
        let message = format!(
            "{scope} used {uses} {}{within}, over the limit of {limit}",
            times(uses)
        );
        findings.add(Code::UsageExceeded, Severity::Error, "usage", message);
    } else if let Some(limit) = warned {
        let message = format!(
            "{scope} used {uses} {}{within}, over the warning threshold of {limit}",
            times(uses)
        );
        findings.add(Code::UsageExceeded, Severity::Warning, "usage", message);
    }
}

fn times(count: u64) -> &'static str {
    if count == 1 { "time" } else { "times" }
}
