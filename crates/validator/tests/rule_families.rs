//! Each rule family of the policy language: fires, does not fire, and respects a severity
//! override.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::*;
use serde_json::{Value, json};
use warden_blacklist::MemoryStore;
use warden_policy::Severity;
use warden_validator::{Decision, Report, Request, ValidateOptions, Validator};

fn with(rules: &str, extra: &str) -> Validator {
    let yaml = format!("version: 1\nalgorithms: [HS256]\n{extra}rules:\n{rules}");
    validator(policy(&yaml), hmac_keys(), Arc::new(MemoryStore::new()))
}

fn claims_with(changes: Value) -> Value {
    let mut claims = good_claims();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

fn check(validator: &Validator, changes: Value) -> Report {
    validator.validate(&hs256(&claims_with(changes)))
}

fn header_token(header: Value) -> String {
    let mut full = json!({"alg": "HS256"});
    for (name, value) in header.as_object().unwrap() {
        full[name] = value.clone();
    }
    hs256_raw(&full.to_string(), &good_claims().to_string())
}

/// Asserts the rule fires with `bad`, stays quiet with `good`, and that `warning` and
/// `off` overrides change the severity and silence it.
fn family(rule: &str, body: &str, extra: &str, code: &str, good: Value, bad: Value) {
    let as_error = with(&format!("  {rule}: {{ {body} severity: error }}\n"), extra);
    assert_eq!(
        codes(&check(&as_error, good.clone())),
        Vec::<&str>::new(),
        "{rule} fired on the good token"
    );
    let report = check(&as_error, bad.clone());
    assert!(
        report.codes().any(|found| found == code),
        "{rule}: expected {code}, got {:?}",
        codes(&report)
    );
    assert_eq!(report.decision, Decision::Deny, "{rule}");

    let as_warning = with(
        &format!("  {rule}: {{ {body} severity: warning }}\n"),
        extra,
    );
    let report = check(&as_warning, bad.clone());
    let finding = report
        .findings
        .iter()
        .find(|finding| finding.code.as_str() == code)
        .unwrap();
    assert_eq!(finding.severity, Severity::Warning, "{rule}");

    let off = with(&format!("  {rule}: {{ {body} severity: off }}\n"), extra);
    assert!(
        !check(&off, bad).codes().any(|found| found == code),
        "{rule} fired while off"
    );
}

#[test]
fn max_lifetime_family() {
    family(
        "max_lifetime",
        "max: 3d,",
        "",
        "token.lifetime_too_long",
        json!({}),
        json!({"exp": NOW + 5 * DAY}),
    );
}

#[test]
fn max_time_to_expiry_family() {
    family(
        "max_time_to_expiry",
        "max: 1h,",
        "",
        "token.expiry_too_far",
        json!({"exp": NOW + 3600}),
        json!({}),
    );
}

#[test]
fn time_consistency_family() {
    family(
        "time_consistency",
        "",
        "",
        "token.nbf_after_exp",
        json!({"nbf": NOW - 10}),
        json!({"nbf": NOW + 2 * DAY}),
    );
    family(
        "time_consistency",
        "",
        "",
        "token.exp_before_iat",
        json!({}),
        json!({"iat": NOW, "exp": NOW - 10}),
    );
}

#[test]
fn allowed_roles_family() {
    family(
        "allowed_roles",
        "roles: [user, viewer],",
        "",
        "role.not_allowed",
        json!({"role": "User"}),
        json!({"role": "admin"}),
    );
}

#[test]
fn role_normal_form_family() {
    family(
        "role_normal_form",
        "",
        "",
        "role.not_normalized",
        json!({"role": "user"}),
        json!({"role": "User\u{200B}"}),
    );
}

#[test]
fn permission_patterns_family() {
    family(
        "permission_patterns",
        "allowed: [\"camera:*\"],",
        "",
        "permission.not_allowed",
        json!({"permissions": ["camera:read", "camera:"]}),
        json!({"permissions": ["camera:read", "billing:read"]}),
    );
}

#[test]
fn forbidden_permissions_family() {
    family(
        "forbidden_permissions",
        "combinations: [[camera:delete, system:admin]],",
        "",
        "permissions.forbidden_combination",
        json!({"permissions": ["camera:delete"]}),
        json!({"permissions": ["system:admin", "camera:delete"]}),
    );
}

const ROLES: &str = "roles:\n  user:\n    permissions: [\"camera:*\"]\n    resources: { camera_access: [camera1] }\n";

#[test]
fn privileges_family() {
    family(
        "privileges",
        "",
        ROLES,
        "privilege.permission_not_granted",
        json!({}),
        json!({"permissions": ["system:admin"]}),
    );
    family(
        "privileges",
        "",
        ROLES,
        "privilege.resource_not_granted",
        json!({"camera_access": ["camera1"]}),
        json!({"camera_access": ["camera1", "camera9"]}),
    );
    family(
        "privileges",
        "",
        ROLES,
        "role.undefined",
        json!({}),
        json!({"role": "ghost"}),
    );
}

#[test]
fn typ_family() {
    let validator = with("  typ: { expected: [JWT] }\n", "");
    assert_eq!(
        codes(&validator.validate(&header_token(json!({"typ": "jwt"})))),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes(&validator.validate(&header_token(json!({"typ": "application/JWT"})))),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes(&validator.validate(&header_token(json!({"typ": "at+jwt"})))),
        ["header.typ_mismatch"]
    );
    assert_eq!(
        codes(&validator.validate(&header_token(json!({})))),
        ["header.typ_mismatch"]
    );
    let optional = with(
        "  typ: { expected: [JWT], optional: true, severity: warning }\n",
        "",
    );
    assert_eq!(
        codes(&optional.validate(&header_token(json!({})))),
        Vec::<&str>::new()
    );
    let report = optional.validate(&header_token(json!({"typ": "x"})));
    assert_eq!(report.findings[0].severity, Severity::Warning);
}

#[test]
fn embedded_keys_family() {
    let validator = with("  embedded_keys: {}\n", "");
    assert_eq!(
        codes(&validator.validate(&header_token(json!({"kid": "k1"})))),
        Vec::<&str>::new()
    );
    for name in ["jwk", "jku", "x5u", "x5c"] {
        let report = validator.validate(&header_token(json!({name: "x"})));
        assert_eq!(codes(&report), ["header.embedded_key"], "{name}");
    }
    let off = with("  embedded_keys: { severity: off }\n", "");
    assert_eq!(
        codes(&off.validate(&header_token(json!({"jwk": {}})))),
        Vec::<&str>::new()
    );
}

#[test]
fn suspicious_kid_family() {
    let validator = with("  suspicious_kid: {}\n", "");
    for kid in ["key-2026", "a1b2c3", "rsa.2026-01"] {
        assert_eq!(
            codes(&validator.validate(&header_token(json!({"kid": kid})))),
            Vec::<&str>::new(),
            "{kid}"
        );
    }
    let long = "k".repeat(200);
    for kid in [
        "../../dev/null",
        "/etc/passwd",
        "x' OR '1'='1",
        "k\u{0}",
        "https://evil/k",
        "$(id)",
        long.as_str(),
    ] {
        assert_eq!(
            codes(&validator.validate(&header_token(json!({"kid": kid})))),
            ["header.suspicious_kid"],
            "{kid}"
        );
    }
}

#[test]
fn custom_claim_family() {
    let rules = "  custom:\n    - { id: org-id, claim: org.id, matches: \"[a-z]+-[0-9]+\" }\n    - { id: tier, claim: tier, one_of: [gold, silver], severity: warning }\n    - { id: no-debug, claim: debug, exists: false }\n    - { id: age-number, claim: age, type: integer }\n    - { id: env, claim: env, equals: prod, message: \"tokens must come from prod\" }\n";
    let validator = with(rules, "");
    let good = json!({"org": {"id": "acme-42"}, "tier": "gold", "age": 30, "env": "prod"});
    assert_eq!(codes(&check(&validator, good)), Vec::<&str>::new());
    let bad =
        json!({"org": {"id": "ACME"}, "tier": "bronze", "debug": true, "age": "30", "env": "dev"});
    let report = check(&validator, bad);
    let rules: Vec<&str> = report
        .findings
        .iter()
        .map(|finding| finding.rule.as_ref())
        .collect();
    assert_eq!(rules, ["org-id", "tier", "no-debug", "age-number", "env"]);
    assert!(report.codes().all(|code| code == "claim.check_failed"));
    assert_eq!(report.findings[1].severity, Severity::Warning);
    assert_eq!(report.findings[4].message, "tokens must come from prod");
    let missing = check(&validator, json!({}));
    let rules: Vec<&str> = missing
        .findings
        .iter()
        .map(|finding| finding.rule.as_ref())
        .collect();
    assert_eq!(
        rules,
        ["org-id", "tier", "age-number", "env"],
        "absent claims fail every check but `exists: false`"
    );
}

#[test]
fn request_requirements() {
    let validator = with("  privileges: {}\n", ROLES);
    let claims = claims_with(json!({"permissions": ["camera:read"], "camera_access": ["camera1"]}));
    let token = hs256(&claims);
    let run = |request: Request| {
        validator.validate_with(
            &token,
            ValidateOptions {
                request: Some(&request),
                explain: false,
            },
        )
    };
    let allowed = run(Request {
        role: Some("USER".into()),
        permissions: vec!["camera:read".into()],
        resource: Some("camera1".into()),
    });
    assert_eq!(codes(&allowed), Vec::<&str>::new());
    let role = run(Request {
        role: Some("admin".into()),
        ..Request::default()
    });
    assert_eq!(codes(&role), ["request.role_missing"]);
    let permission = run(Request {
        permissions: vec!["camera:write".into()],
        ..Request::default()
    });
    assert_eq!(codes(&permission), ["request.permission_missing"]);
    let resource = run(Request {
        resource: Some("camera2".into()),
        ..Request::default()
    });
    assert_eq!(codes(&resource), ["request.resource_denied"]);
}

#[test]
fn permission_count_checked_before_items() {
    let validator = with(
        "  max_permissions: { max: 10 }\n  permission_patterns: { allowed: [\"camera:*\"] }\n",
        "",
    );
    let many: Vec<String> = (0..300).map(|n| format!("billing:{n}")).collect();
    let report = check(&validator, json!({"permissions": many}));
    assert_eq!(
        codes(&report),
        ["permissions.too_many", "permissions.too_many"]
    );
    assert_eq!(
        report.findings[1].severity,
        Severity::Error,
        "the hard cap always denies"
    );
    assert_eq!(report.decision, Decision::Deny);
}

#[test]
fn explain_lists_every_check() {
    let (validator, _) = default_validator();
    let mut claims = good_claims();
    claims["iat"] = json!(NOW - 40 * DAY);
    let report = validator.validate_with(
        &hs256(&claims),
        ValidateOptions {
            request: None,
            explain: true,
        },
    );
    let checks = report.checks.as_ref().unwrap();
    let rules: Vec<&str> = checks.iter().map(|check| check.rule.as_ref()).collect();
    for rule in [
        "max_token_length",
        "signature",
        "revocation",
        "usage",
        "expiry",
        "issued_in_future",
        "max_age",
        "required_claims",
        "suspicious_roles",
        "max_permissions",
        "jti_required",
    ] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
    let max_age = checks.iter().find(|check| check.rule == "max_age").unwrap();
    assert!(!max_age.passed);
    assert_eq!(max_age.claim.as_deref(), Some("iat"));
    assert_eq!(max_age.expected, "at most 30d ago");
    assert_eq!(max_age.actual, "40d ago");
    assert!(
        report
            .to_string()
            .contains("checked at 2026-12-01T00:00:00Z")
    );
    assert!(
        validator.validate(&hs256(&claims)).checks.is_none(),
        "no trace unless asked"
    );
}
