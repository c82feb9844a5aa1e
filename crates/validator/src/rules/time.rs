//! Rules on `exp`, `nbf` and `iat`.

use warden_claims::NumericDate;

use super::{Context, active};
use crate::findings::{Findings, Trace};
use crate::report::{Code, format_time};

pub(super) fn check_times(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let policy = context.validator.policy();
    let rules = &policy.rules;
    let claims = context.claims;
    // Seconds fit f64 exactly: the clock is a Unix time, far below 2^53.
    #[allow(clippy::cast_precision_loss)]
    let now = context.now as f64;
    let leeway = policy.leeway.as_f64();

    if let Some(rule) = &rules.expiry
        && let Some(severity) = rule.severity.active()
    {
        match claims.exp {
            Some(exp) => {
                let expired = now - leeway >= exp.as_f64();
                trace.record("expiry", !expired, || {
                    (
                        Some("exp".to_owned()),
                        format!("after {}", format_time(context.now)),
                        describe(exp),
                    )
                });
                if expired {
                    let message = format!(
                        "token expired at {}, {} ago",
                        describe(exp),
                        ago(now - exp.as_f64())
                    );
                    findings.add(Code::TokenExpired, severity, "expiry", message);
                }
            }
            None if rule.required && !claims.contains("exp") => {
                trace.record("expiry", false, || {
                    (
                        Some("exp".to_owned()),
                        "present".to_owned(),
                        "absent".to_owned(),
                    )
                });
                findings.add(
                    Code::TokenNoExpiry,
                    severity,
                    "expiry",
                    "token has no `exp`".to_owned(),
                );
            }
            None => {}
        }
    }
    if let (Some(severity), Some(nbf)) = (
        active(rules.not_before.as_ref().map(|rule| rule.severity)),
        claims.nbf,
    ) {
        let early = now + leeway < nbf.as_f64();
        trace.record("not_before", !early, || {
            (
                Some("nbf".to_owned()),
                format!("at or before {}", format_time(context.now)),
                describe(nbf),
            )
        });
        if early {
            findings.add(
                Code::TokenNotYetValid,
                severity,
                "not_before",
                format!("token is not valid before {}", describe(nbf)),
            );
        }
    }
    if let (Some(severity), Some(iat)) = (
        active(rules.issued_in_future.as_ref().map(|rule| rule.severity)),
        claims.iat,
    ) {
        let future = iat.as_f64() > now + leeway;
        trace.record("issued_in_future", !future, || {
            (
                Some("iat".to_owned()),
                format!("at or before {}", format_time(context.now)),
                describe(iat),
            )
        });
        if future {
            findings.add(
                Code::IssuedInFuture,
                severity,
                "issued_in_future",
                format!("token is issued in the future, at {}", describe(iat)),
            );
        }
    }
    check_spans(context, now, findings, trace);
}

/// Maximum age, maximum lifetime, maximum time to expiry and time consistency.
fn check_spans(context: &Context<'_>, now: f64, findings: &mut Findings, trace: &mut Trace) {
    let rules = &context.validator.policy().rules;
    let claims = context.claims;
    if let (Some(rule), Some(iat)) = (&rules.max_age, claims.iat)
        && let Some(severity) = rule.severity.active()
    {
        let age = now - iat.as_f64();
        let too_old = age > rule.max.as_f64();
        trace.record("max_age", !too_old, || {
            (
                Some("iat".to_owned()),
                format!("at most {} ago", rule.max),
                format!("{} ago", ago(age)),
            )
        });
        if too_old {
            let message = format!(
                "token was issued {} ago, at {}, more than the maximum age of {}",
                ago(age),
                describe(iat),
                rule.max
            );
            findings.add(Code::TokenTooOld, severity, "max_age", message);
        }
    }
    if let (Some(rule), Some(iat), Some(exp)) = (&rules.max_lifetime, claims.iat, claims.exp)
        && let Some(severity) = rule.severity.active()
    {
        let lifetime = exp.as_f64() - iat.as_f64();
        let too_long = lifetime > rule.max.as_f64();
        trace.record("max_lifetime", !too_long, || {
            (
                Some("exp - iat".to_owned()),
                format!("at most {}", rule.max),
                ago(lifetime),
            )
        });
        if too_long {
            let message = format!(
                "token lives {} (`exp` - `iat`), more than the maximum lifetime of {}",
                ago(lifetime),
                rule.max
            );
            findings.add(Code::LifetimeTooLong, severity, "max_lifetime", message);
        }
    }
    if let (Some(rule), Some(exp)) = (&rules.max_time_to_expiry, claims.exp)
        && let Some(severity) = rule.severity.active()
    {
        let remaining = exp.as_f64() - now;
        let too_far = remaining > rule.max.as_f64();
        trace.record("max_time_to_expiry", !too_far, || {
            (
                Some("exp".to_owned()),
                format!("within {}", rule.max),
                format!("in {}", ago(remaining)),
            )
        });
        if too_far {
            let message = format!(
                "token expires in {}, later than the maximum of {}",
                ago(remaining),
                rule.max
            );
            findings.add(Code::ExpiryTooFar, severity, "max_time_to_expiry", message);
        }
    }
    if let Some(severity) = active(rules.time_consistency.as_ref().map(|rule| rule.severity)) {
        if let (Some(nbf), Some(exp)) = (claims.nbf, claims.exp) {
            let consistent = nbf <= exp;
            trace.record("time_consistency", consistent, || {
                (
                    Some("nbf".to_owned()),
                    "not after `exp`".to_owned(),
                    describe(nbf),
                )
            });
            if !consistent {
                let message = format!(
                    "`nbf` ({}) is after `exp` ({}), so the token is never valid",
                    describe(nbf),
                    describe(exp)
                );
                findings.add(Code::NbfAfterExp, severity, "time_consistency", message);
            }
        }
        if let (Some(iat), Some(exp)) = (claims.iat, claims.exp) {
            let consistent = exp >= iat;
            trace.record("time_consistency", consistent, || {
                (
                    Some("exp".to_owned()),
                    "not before `iat`".to_owned(),
                    describe(exp),
                )
            });
            if !consistent {
                let message = format!(
                    "`exp` ({}) is before `iat` ({})",
                    describe(exp),
                    describe(iat)
                );
                findings.add(Code::ExpBeforeIat, severity, "time_consistency", message);
            }
        }
    }
}

/// Formats a NumericDate as RFC 3339 with the raw value, such as
/// `2026-12-01T00:00:00Z (1796083200)`.
fn describe(date: NumericDate) -> String {
    format!("{} ({date})", format_time(date.as_secs()))
}

/// Formats a number of seconds as its two largest units, such as `3d2h`.
fn ago(seconds: f64) -> String {
    // Saturating float-to-int conversion; negative spans print as `0s`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = seconds.max(0.0) as u64;
    let span = warden_policy::Duration::from_secs(whole).to_string();
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
