//! Claim and header rules, run only on verified tokens.

mod header;
mod privileges;
mod request;
mod state;
mod time;

use warden_claims::{Claims, Header, TokenId};
use warden_policy::{RuleSeverity, Severity};

use crate::findings::{Findings, Trace};
use crate::report::Code;
use crate::validator::{Request, Validator};

/// Everything a rule may look at for one verified token.
pub(crate) struct Context<'a> {
    pub(crate) validator: &'a Validator,
    pub(crate) header: &'a Header,
    pub(crate) claims: &'a Claims,
    /// Id of the key that verified the signature, else the header's `kid`.
    pub(crate) key_id: Option<&'a str>,
    pub(crate) token_id: TokenId,
    pub(crate) now: i64,
}

/// Runs every configured rule, in a fixed order: claim types, revocation, usage, header,
/// times, claims, roles, permissions, `jti`, custom rules, then the request's requirements.
pub(crate) fn evaluate_claims(
    context: &Context<'_>,
    request: Option<&Request>,
    findings: &mut Findings,
    trace: &mut Trace,
) {
    for error in &context.claims.type_errors {
        trace.record("claims", false, || {
            (
                Some(error.claim.to_owned()),
                "a valid type".to_owned(),
                error.reason.clone(),
            )
        });
        findings.error(Code::ClaimInvalidType, "claims", error.to_string());
    }
    state::check_state(context, findings, trace);
    header::check_header(context, findings, trace);
    time::check_times(context, findings, trace);
    check_claims(context, findings, trace);
    privileges::check_roles(context, findings, trace);
    privileges::check_permissions(context, findings, trace);
    check_jti(context, findings, trace);
    check_custom(context, findings, trace);
    if let Some(request) = request {
        request::check_request(context, request, findings, trace);
    }
}

/// Returns the severity of a rule that is configured and not off.
pub(crate) fn active(severity: Option<RuleSeverity>) -> Option<Severity> {
    severity.and_then(RuleSeverity::active)
}

fn check_claims(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let rules = &context.validator.policy().rules;
    let claims = context.claims;
    if let Some(rule) = &rules.required_claims
        && let Some(severity) = rule.severity.active()
    {
        for name in rule.claims.iter() {
            let present = claims.contains(name);
            trace.record("required_claims", present, || {
                (
                    Some(name.to_owned()),
                    "present".to_owned(),
                    present_word(present),
                )
            });
            if !present {
                findings.add(
                    Code::ClaimMissing,
                    severity,
                    "required_claims",
                    format!("required claim `{name}` is missing"),
                );
            }
        }
    }
    if let Some(rule) = &rules.issuer
        && let Some(severity) = rule.severity.active()
    {
        let allowed = claims
            .iss
            .as_deref()
            .is_some_and(|issuer| rule.allowed.contains(issuer));
        trace.record("issuer", allowed, || {
            (
                Some("iss".to_owned()),
                one_of(rule.allowed.iter()),
                format!("{:?}", claims.iss),
            )
        });
        if !allowed {
            let message = match claims.iss.as_deref() {
                Some(issuer) => format!("issuer `{issuer}` is not allowed"),
                None => "token has no `iss`".to_owned(),
            };
            findings.add(Code::IssuerNotAllowed, severity, "issuer", message);
        }
    }
    if let Some(rule) = &rules.audience
        && let Some(severity) = rule.severity.active()
    {
        check_audience(claims, &rule.allowed, severity, "audience", findings, trace);
    }
    if let Some(allowed) = context.validator.issuer_audiences(claims.iss.as_deref()) {
        check_audience(claims, allowed, Severity::Error, "issuers", findings, trace);
    }
}

fn check_jti(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let rules = &context.validator.policy().rules;
    if let Some(severity) = active(rules.jti_required.as_ref().map(|rule| rule.severity)) {
        let present = context.claims.contains("jti");
        trace.record("jti_required", present, || {
            (
                Some("jti".to_owned()),
                "present".to_owned(),
                present_word(present),
            )
        });
        if !present {
            findings.add(
                Code::JtiMissing,
                severity,
                "jti_required",
                "token has no `jti`, so it cannot be revoked by id".to_owned(),
            );
        }
    }
}

fn check_audience(
    claims: &Claims,
    allowed: &warden_policy::NonEmptyStrings,
    severity: Severity,
    rule: &'static str,
    findings: &mut Findings,
    trace: &mut Trace,
) {
    let accepted = claims
        .aud
        .as_ref()
        .is_some_and(|audience| audience.iter().any(|aud| allowed.contains(aud)));
    trace.record(rule, accepted, || {
        (
            Some("aud".to_owned()),
            one_of(allowed.iter()),
            format!("{:?}", claims.aud),
        )
    });
    if accepted {
        return;
    }
    let message = match &claims.aud {
        Some(audience) => {
            let listed: Vec<&str> = audience.iter().collect();
            format!("audience `{}` is not allowed", listed.join("`, `"))
        }
        None => "token has no `aud`".to_owned(),
    };
    findings.add(Code::AudienceNotAllowed, severity, rule, message);
}

fn check_custom(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let custom = &context.validator.policy().rules.custom;
    if custom.is_empty() {
        return;
    }
    let claims = context.claims.to_value();
    for rule in custom {
        let Some(severity) = rule.severity.active() else {
            continue;
        };
        let failure = rule.evaluate(&claims);
        let id = rule.id.as_str().to_owned();
        trace.record(id.clone(), failure.is_none(), || {
            let actual = rule
                .claim
                .lookup(&claims)
                .map_or_else(|| "absent".to_owned(), ToString::to_string);
            (Some(rule.claim.to_string()), rule.expectation(), actual)
        });
        if let Some(message) = failure {
            findings.add(Code::CustomCheckFailed, severity, id, message);
        }
    }
}

pub(crate) fn present_word(present: bool) -> String {
    if present { "present" } else { "absent" }.to_owned()
}

pub(crate) fn one_of<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let listed: Vec<&str> = values.collect();
    format!("one of {}", listed.join(", "))
}
