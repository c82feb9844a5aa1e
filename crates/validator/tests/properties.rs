//! Property tests of the validator with real keys and signatures. 64 cases per property by
//! default; set `PROPTEST_CASES` for longer runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;

use jsonwebtoken::{EncodingKey, Header};
use proptest::prelude::*;
use serde_json::{Value, json};
use warden_policy::{Policy, Severity};
use warden_validator::{FixedClock, KeyFormat, KeySet, Report, Validator};

const SECRET: &[u8] = b"property-test-hmac-secret-of-at-least-32-bytes";
const NOW: i64 = 1_700_000_000;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(64);
    ProptestConfig::with_cases(cases)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap()
}

fn hs256(claims: &Value) -> String {
    let key = EncodingKey::from_secret(SECRET).unwrap();
    jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::HS256), claims, &key).unwrap()
}

fn es256(claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(&fixture("ec256.key")).unwrap();
    jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::ES256), claims, &key).unwrap()
}

fn validator(policy_yaml: &str) -> Validator {
    let policy = Policy::from_yaml_str(policy_yaml, "property.yaml").unwrap();
    let family = policy.algorithms.iter().next().unwrap().family();
    let keys = if family == warden_claims::AlgorithmFamily::Ec {
        KeySet::from_bytes(&fixture("ec256.pub"), KeyFormat::Pem, "ec256.pub").unwrap()
    } else {
        KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap()
    };
    Validator::builder(policy, keys)
        .clock(Arc::new(FixedClock(NOW)))
        .build()
        .unwrap()
}

fn good_claims() -> Value {
    json!({"sub": "alice", "iat": NOW - 60, "exp": NOW + 3_600, "jti": "j-1", "role": "user"})
}

const HS256_POLICY: &str = "version: 1\nalgorithms: [HS256]\nrules:\n  expiry: {}\n";
const ES256_POLICY: &str = "version: 1\nalgorithms: [ES256]\nrules:\n  expiry: {}\n";

/// Replaces the byte at `index` of `token` with `byte`, which differs from the original.
fn with_byte(token: &str, index: usize, byte: u8) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[index] = byte;
    String::from_utf8(bytes).unwrap()
}

/// Picks a printable ASCII byte other than `original`.
fn other_byte(original: u8, pick: u8) -> u8 {
    let candidate = 0x20 + pick % 0x5f;
    if candidate == original {
        if candidate == 0x7e {
            0x20
        } else {
            candidate + 1
        }
    } else {
        candidate
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn signing_input_change_rejected(position in any::<prop::sample::Index>(), pick in any::<u8>(), ec in any::<bool>()) {
        let (token, policy) = if ec {
            (es256(&good_claims()), ES256_POLICY)
        } else {
            (hs256(&good_claims()), HS256_POLICY)
        };
        let validator = validator(policy);
        prop_assert!(validator.validate(&token).is_allowed());
        let signing_input_len = token.rfind('.').unwrap();
        let index = position.index(signing_input_len);
        let changed = with_byte(&token, index, other_byte(token.as_bytes()[index], pick));
        let report = validator.validate(&changed);
        prop_assert!(!report.is_allowed(), "byte {index} changed and the token was allowed");
        prop_assert!(report.claims.is_none());
    }

    #[test]
    fn signature_change_keeps_identity(position in any::<prop::sample::Index>(), pick in any::<u8>(), ec in any::<bool>()) {
        let (token, policy) = if ec {
            (es256(&good_claims()), ES256_POLICY)
        } else {
            (hs256(&good_claims()), HS256_POLICY)
        };
        let validator = validator(policy);
        let original = validator.validate(&token);
        let start = token.rfind('.').unwrap() + 1;
        let index = start + position.index(token.len() - start);
        let changed = with_byte(&token, index, other_byte(token.as_bytes()[index], pick));
        let report = validator.validate(&changed);
        if report.is_allowed() {
            prop_assert_eq!(report.token_id, original.token_id);
        }
        if !ec {
            prop_assert!(!report.is_allowed(), "an HS256 signature changed at byte {index} still verified");
        }
    }
}

/// A rule's severity in a generated policy.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Level {
    Off,
    Warning,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

fn level() -> impl Strategy<Value = Option<Level>> {
    prop_oneof![
        Just(None),
        Just(Some(Level::Off)),
        Just(Some(Level::Warning)),
        Just(Some(Level::Error)),
    ]
}

/// Rule ids of the generated policies and the settings each one takes besides `severity`.
const RULES: [(&str, &str); 11] = [
    ("revocation", ""),
    ("expiry", "required: true, "),
    ("not_before", ""),
    ("issued_in_future", ""),
    ("max_age", "max: 1h, "),
    ("required_claims", "claims: [sub, iat, exp, aud], "),
    ("issuer", "allowed: [\"https://issuer.example\"], "),
    ("audience", "allowed: [api], "),
    ("suspicious_roles", "roles: [root, superadmin], "),
    ("max_permissions", "max: 2, "),
    ("jti_required", ""),
];

fn policy_yaml(levels: &[Option<Level>], leeway: u32) -> String {
    let mut yaml = format!("version: 1\nalgorithms: [HS256]\nleeway: {leeway}s\nrules:\n");
    for ((rule, settings), level) in RULES.iter().zip(levels) {
        if let Some(level) = level {
            yaml.push_str(&format!(
                "  {rule}: {{ {settings}severity: {} }}\n",
                level.name()
            ));
        }
    }
    yaml
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12_f64..1e12).prop_map(Value::from),
        (NOW - 100_000..NOW + 100_000).prop_map(Value::from),
        "[a-zA-Z ]{0,8}".prop_map(Value::from),
        prop_oneof![
            Just("root"),
            Just("ROOT"),
            Just("api"),
            Just("https://issuer.example")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn claim_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "iss",
            "sub",
            "aud",
            "exp",
            "nbf",
            "iat",
            "jti",
            "role",
            "roles",
            "permissions",
            "scope",
            "name",
            "session_id",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,6}",
    ]
}

fn claims_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(claim_name(), json_value(), 0..8)
        .prop_map(|map| Value::Object(map.into_iter().collect()))
}

fn is_consistent(report: &Report) -> bool {
    let has_error = report
        .findings
        .iter()
        .any(|finding| finding.severity == Severity::Error);
    report.is_allowed() != has_error
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_claims_and_policy_never_panic(
        claims in claims_object(),
        levels in prop::collection::vec(level(), RULES.len()),
        leeway in 0_u32..120,
    ) {
        let validator = validator(&policy_yaml(&levels, leeway));
        let report = validator.validate(&hs256(&claims));
        prop_assert!(is_consistent(&report));
        prop_assert!(report.header.is_some(), "a validly signed token failed the signature layer");
        let _ = report.to_string();
        let _ = serde_json::to_string(&report).unwrap();
    }

    #[test]
    fn warning_to_error_never_allows(
        claims in claims_object(),
        levels in prop::collection::vec(level(), RULES.len()),
        flip in any::<prop::sample::Index>(),
    ) {
        let token = hs256(&claims);
        let mut stricter = levels.clone();
        let warnings: Vec<usize> = (0..levels.len())
            .filter(|index| levels[*index] == Some(Level::Warning))
            .collect();
        prop_assume!(!warnings.is_empty());
        stricter[warnings[flip.index(warnings.len())]] = Some(Level::Error);
        let lenient = validator(&policy_yaml(&levels, 0)).validate(&token);
        let strict = validator(&policy_yaml(&stricter, 0)).validate(&token);
        if !lenient.is_allowed() {
            prop_assert!(!strict.is_allowed(), "raising a warning to an error turned deny into allow");
        }
        prop_assert!(lenient.findings.len() == strict.findings.len());
    }
}
