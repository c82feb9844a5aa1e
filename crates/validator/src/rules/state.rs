//! Rules that consult the revocation list and the usage counters.

use warden_blacklist::{Target, TokenFacts, UsageKey};
use warden_claims::{NumericDate, TokenId};
use warden_policy::{Rules, Severity, UsageScope};

use super::Context;
use crate::findings::{Findings, Trace};
use crate::report::{Code, format_time};

pub(super) fn check_revocation(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let rules = &context.validator.policy().rules;
    let Some(severity) = rules
        .revocation
        .as_ref()
        .and_then(|rule| rule.severity.active())
    else {
        return;
    };
    let claims = context.claims;
    let facts = TokenFacts {
        token_hash: *context.token_id.as_bytes(),
        issuer: claims.iss.as_deref(),
        subject: claims.sub.as_deref(),
        jti: claims.jti.as_deref(),
        issued_at: claims.iat.map(NumericDate::as_secs),
        key_id: context.key_id,
    };
    match context.validator.revocations().check(&facts, context.now) {
        Ok(Some(entry)) => {
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
        Ok(None) => trace.record("revocation", true, || {
            (None, "not revoked".to_owned(), "no entry".to_owned())
        }),
        Err(error) => store_unavailable(rules, &error.to_string(), findings, trace),
    }
}

fn describe_target(target: &Target) -> String {
    match target {
        Target::Token { hash } => format!("by token hash {}", TokenId::from_bytes(*hash).short()),
        other => format!("by {other}"),
    }
}

fn store_unavailable(rules: &Rules, error: &str, findings: &mut Findings, trace: &mut Trace) {
    // Fail closed: without an explicit `store_unavailable` rule the finding is an error.
    let severity = match &rules.store_unavailable {
        Some(rule) => rule.severity.active(),
        None => Some(Severity::Error),
    };
    trace.record("store_unavailable", false, || {
        (None, "store answers".to_owned(), error.to_owned())
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

pub(super) fn check_usage(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let rules = &context.validator.policy().rules;
    let Some(rule) = &rules.usage else {
        return;
    };
    if rule.severity.active().is_none() {
        return;
    }

    let claims = context.claims;
    let issuer = claims.iss.clone();
    let (key, scope) = match rule.per {
        UsageScope::Jti => match &claims.jti {
            Some(jti) => (
                UsageKey::Jti {
                    issuer,
                    jti: jti.clone(),
                },
                "jti",
            ),
            None => return,
        },
        UsageScope::Subject => match &claims.sub {
            Some(subject) => (
                UsageKey::Subject {
                    issuer,
                    subject: subject.clone(),
                },
                "subject",
            ),
            None => return,
        },
        _ => (UsageKey::Token(*context.token_id.as_bytes()), "token"),
    };

    let window = rule.window.map(warden_policy::Duration::as_secs);
    let expires_at = claims.exp.map(|exp| exp.as_secs().saturating_add(1));
    let uses =
        match context
            .validator
            .usage_counter()
            .increment(&key, context.now, window, expires_at)
        {
            Ok(uses) => uses,
            Err(error) => return store_unavailable(rules, &error.to_string(), findings, trace),
        };
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
