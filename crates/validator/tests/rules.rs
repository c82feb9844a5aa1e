//! Rules outside the default policy: not-before, issuer, audience, required expiry, leeway,
//! severity overrides and the deny threshold of usage.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::*;
use serde_json::json;
use warden_blacklist::MemoryStore;
use warden_policy::Severity;
use warden_validator::{Decision, Validator};

fn with_rules(rules: &str) -> Validator {
    let yaml = format!("version: 1\nalgorithms: [HS256]\nrules:\n{rules}");
    validator(policy(&yaml), hmac_keys(), Arc::new(MemoryStore::new()))
}

#[test]
fn not_before_in_future_is_denied() {
    let validator = with_rules("  not_before: {}\n");
    let mut claims = good_claims();
    claims["nbf"] = json!(NOW + 10);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        ["token.not_yet_valid"]
    );
    claims["nbf"] = json!(NOW);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        Vec::<&str>::new()
    );
}

#[test]
fn leeway_covers_clock_skew() {
    let yaml = "version: 1\nalgorithms: [HS256]\nleeway: 1m\nrules:\n  expiry: {}\n  not_before: {}\n  issued_in_future: {}\n";
    let validator = validator(policy(yaml), hmac_keys(), Arc::new(MemoryStore::new()));
    let mut claims = good_claims();
    claims["exp"] = json!(NOW - 59);
    claims["nbf"] = json!(NOW + 59);
    claims["iat"] = json!(NOW + 59);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        Vec::<&str>::new()
    );
    claims["exp"] = json!(NOW - 60);
    claims["nbf"] = json!(NOW + 61);
    claims["iat"] = json!(NOW + 61);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        [
            "token.expired",
            "token.not_yet_valid",
            "token.issued_in_future"
        ]
    );
}

#[test]
fn issuer_allowlist() {
    let validator = with_rules("  issuer: { allowed: [auth.example.com] }\n");
    let mut claims = good_claims();
    claims["iss"] = json!("auth.example.com");
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        Vec::<&str>::new()
    );
    claims["iss"] = json!("evil.example.com");
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        ["issuer.not_allowed"]
    );
    claims.as_object_mut().unwrap().remove("iss");
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        ["issuer.not_allowed"]
    );
}

#[test]
fn audience_allowlist() {
    let validator = with_rules("  audience: { allowed: [api] }\n");
    let mut claims = good_claims();
    for (aud, expected) in [
        (json!("api"), vec![]),
        (json!(["web", "api"]), vec![]),
        (json!(["web"]), vec!["audience.not_allowed"]),
        (json!([]), vec!["audience.not_allowed"]),
        (
            json!(7),
            vec!["claims.invalid_type", "audience.not_allowed"],
        ),
    ] {
        claims["aud"] = aud.clone();
        assert_eq!(
            codes(&validator.validate(&hs256(&claims))),
            expected,
            "aud {aud}"
        );
    }
}

#[test]
fn expiry_required_flags_missing_exp() {
    let validator = with_rules("  expiry: { required: true }\n");
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        ["token.no_expiry"]
    );
    let optional = with_rules("  expiry: {}\n");
    assert_eq!(
        codes(&optional.validate(&hs256(&claims))),
        Vec::<&str>::new()
    );
}

#[test]
fn severity_override_changes_decision() {
    let mut claims = good_claims();
    claims["exp"] = json!(NOW - 1);
    let token = hs256(&claims);

    let as_error = with_rules("  expiry: { severity: error }\n").validate(&token);
    assert_eq!(as_error.decision, Decision::Deny);

    let as_warning = with_rules("  expiry: { severity: warning }\n").validate(&token);
    assert_eq!(codes(&as_warning), ["token.expired"]);
    assert_eq!(as_warning.findings[0].severity, Severity::Warning);
    assert_eq!(as_warning.decision, Decision::Allow);

    let off = with_rules("  expiry: { severity: off }\n").validate(&token);
    assert_eq!(codes(&off), Vec::<&str>::new());
}

#[test]
fn usage_deny_threshold() {
    let validator = with_rules("  usage: { per: subject, warn_after: 1, deny_after: 2 }\n");
    let first = hs256(&good_claims());
    let mut other = good_claims();
    other["jti"] = json!("id-2");
    let second = hs256(&other);
    assert_eq!(codes(&validator.validate(&first)), Vec::<&str>::new());
    let report = validator.validate(&second);
    assert_eq!(codes(&report), ["usage.exceeded"]);
    assert_eq!(report.findings[0].severity, Severity::Warning);
    let report = validator.validate(&first);
    assert_eq!(codes(&report), ["usage.exceeded"]);
    assert_eq!(report.findings[0].severity, Severity::Error);
}

#[test]
fn structural_findings_ignore_overrides() {
    let validator = with_rules("  expiry: { severity: off }\n  revocation: { severity: off }\n");
    let token = hs256(&good_claims());
    let (signing_input, _) = token.rsplit_once('.').unwrap();
    let report = validator.validate(&format!("{signing_input}.AAAA"));
    assert_eq!(codes(&report), ["signature.invalid"]);
    assert_eq!(report.decision, Decision::Deny);
}
