//! Every rule of policies/default.yaml, firing and not firing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::json;
use warden_blacklist::{Revocation, RevocationStore, Target};
use warden_policy::Severity;
use warden_validator::Decision;

#[test]
fn good_token_has_no_finding() {
    let (validator, _) = default_validator();
    let report = validator.validate(&hs256(&good_claims()));
    assert_eq!(codes(&report), Vec::<&str>::new());
    assert_eq!(report.decision, Decision::Allow);
    assert_eq!(report.claims.unwrap().sub.as_deref(), Some("alice"));
}

#[test]
fn revoked_token_is_denied() {
    let (validator, store) = default_validator();
    let token = hs256(&good_claims());
    let hash = *warden_claims::TokenId::of_input(&token).as_bytes();
    store
        .revoke(Revocation::new(
            Target::Token { hash },
            NOW - 10,
            Some(NOW + DAY),
        ))
        .unwrap();
    let report = validator.validate(&token);
    assert_eq!(codes(&report), ["token.revoked"]);
    assert_eq!(report.decision, Decision::Deny);
}

#[test]
fn revoked_jti_is_denied() {
    let (validator, store) = default_validator();
    store
        .revoke(Revocation::new(
            Target::Jti {
                issuer: None,
                jti: "id-1".into(),
            },
            NOW,
            None,
        ))
        .unwrap();
    assert_eq!(
        codes(&validator.validate(&hs256(&good_claims()))),
        ["token.revoked"]
    );
}

#[test]
fn expired_token_is_denied() {
    let (validator, _) = default_validator();
    for (exp, expected) in [
        (NOW - 1, vec!["token.expired"]),
        (NOW, vec!["token.expired"]),
        (NOW + 1, vec![]),
    ] {
        let mut claims = good_claims();
        claims["exp"] = json!(exp);
        assert_eq!(
            codes(&validator.validate(&hs256(&claims))),
            expected,
            "exp {exp}"
        );
    }
}

#[test]
fn fractional_exp_is_accepted() {
    let (validator, _) = default_validator();
    let mut claims = good_claims();
    claims["exp"] = json!(NOW as f64 + 0.5);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        Vec::<&str>::new()
    );
    claims["exp"] = json!(NOW as f64 - 0.5);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        ["token.expired"]
    );
}

#[test]
fn bad_exp_values_are_type_errors() {
    let (validator, _) = default_validator();
    for bad in [
        json!("2026-12-02"),
        json!(-5),
        json!(1e300),
        json!(253_402_300_800_i64),
        json!(null),
    ] {
        let mut claims = good_claims();
        claims["exp"] = bad.clone();
        let report = validator.validate(&hs256(&claims));
        assert_eq!(codes(&report), ["claims.invalid_type"], "exp {bad}");
        assert!(
            !report.has(warden_validator::Code::ClaimMissing),
            "exp {bad} counted as missing"
        );
    }
}

#[test]
fn future_iat_is_denied() {
    let (validator, _) = default_validator();
    let mut claims = good_claims();
    claims["iat"] = json!(NOW + 60);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        ["token.issued_in_future"]
    );
    claims["iat"] = json!(NOW);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        Vec::<&str>::new()
    );
}

#[test]
fn missing_required_claims_are_denied() {
    let (validator, _) = default_validator();
    for name in ["sub", "iat", "exp"] {
        let mut claims = good_claims();
        claims.as_object_mut().unwrap().remove(name);
        let report = validator.validate(&hs256(&claims));
        assert_eq!(codes(&report), ["claims.missing"], "without {name}");
        assert!(report.findings[0].message.contains(&format!("`{name}`")));
        assert_eq!(report.decision, Decision::Deny);
    }
}

#[test]
fn old_token_warns() {
    let (validator, _) = default_validator();
    let mut claims = good_claims();
    claims["iat"] = json!(NOW - 31 * DAY);
    let report = validator.validate(&hs256(&claims));
    assert_eq!(codes(&report), ["token.too_old"]);
    assert_eq!(report.findings[0].severity, Severity::Warning);
    assert_eq!(report.decision, Decision::Allow);
    claims["iat"] = json!(NOW - 30 * DAY);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        Vec::<&str>::new()
    );
}

#[test]
fn suspicious_roles_warn_in_any_spelling() {
    let (validator, _) = default_validator();
    for role in [
        "superadmin",
        "root",
        "master",
        "Root",
        "root ",
        "MASTER",
        "SuperAdmin",
        "ＲＯＯＴ",
    ] {
        let mut claims = good_claims();
        claims["role"] = json!(role);
        let report = validator.validate(&hs256(&claims));
        assert_eq!(codes(&report), ["role.suspicious"], "role {role:?}");
        assert_eq!(report.decision, Decision::Allow);
    }
    let mut claims = good_claims();
    claims["role"] = json!("admin");
    claims["roles"] = json!(["viewer", "rooted"]);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        Vec::<&str>::new()
    );
    claims["roles"] = json!(["viewer", "Master"]);
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        ["role.suspicious"]
    );
}

#[test]
fn too_many_permissions_warn() {
    let (validator, _) = default_validator();
    let mut claims = good_claims();
    claims["permissions"] = json!((0..11).map(|n| format!("p{n}")).collect::<Vec<_>>());
    let report = validator.validate(&hs256(&claims));
    assert_eq!(codes(&report), ["permissions.too_many"]);
    assert_eq!(report.findings[0].severity, Severity::Warning);
    claims["permissions"] = json!((0..10).map(|n| format!("p{n}")).collect::<Vec<_>>());
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        Vec::<&str>::new()
    );
}

#[test]
fn missing_jti_warns() {
    let (validator, _) = default_validator();
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove("jti");
    let report = validator.validate(&hs256(&claims));
    assert_eq!(codes(&report), ["jti.missing"]);
    assert_eq!(report.decision, Decision::Allow);
}

#[test]
fn heavy_use_warns_after_1000() {
    let (validator, _) = default_validator();
    let token = hs256(&good_claims());
    for use_number in 1..=1000 {
        let report = validator.validate(&token);
        assert!(
            report.findings.is_empty(),
            "use {use_number}: {:?}",
            codes(&report)
        );
    }
    let report = validator.validate(&token);
    assert_eq!(codes(&report), ["usage.exceeded"]);
    assert_eq!(report.findings[0].severity, Severity::Warning);
    assert!(
        report.findings[0].message.contains("1001"),
        "{}",
        report.findings[0].message
    );
    let other = hs256(&json!({"sub": "bob", "iat": NOW, "exp": NOW + 60, "jti": "id-2"}));
    assert_eq!(codes(&validator.validate(&other)), Vec::<&str>::new());
}

#[test]
fn warnings_and_errors_combine() {
    let (validator, _) = default_validator();
    let mut claims = good_claims();
    claims["exp"] = json!(NOW - 1);
    claims["role"] = json!("root");
    claims.as_object_mut().unwrap().remove("jti");
    let report = validator.validate(&hs256(&claims));
    assert_eq!(
        codes(&report),
        ["token.expired", "role.suspicious", "jti.missing"]
    );
    assert_eq!(report.decision, Decision::Deny);
}
