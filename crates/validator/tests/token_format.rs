//! Structural attacks: `none`, algorithm confusion, bad encodings, duplicates, length.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use warden_blacklist::MemoryStore;
use warden_validator::{Decision, KeyFormat, KeySet, SetupError, Validator};

#[test]
fn alg_none_rejected_in_any_case() {
    let (validator, _) = default_validator();
    let payload = b64(good_claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
        for signature in ["", "c2ln"] {
            let report = validator.validate(&format!("{header}.{payload}.{signature}"));
            assert_eq!(codes(&report), ["algorithm.none"], "alg {alg}");
            assert!(report.claims.is_none());
        }
    }
}

#[test]
fn rs256_key_never_verifies_hs256() {
    let public_pem = fixture("rsa.pub");
    let keys = KeySet::from_bytes(&public_pem, KeyFormat::Auto, "rsa.pub").unwrap();
    let both = policy("version: 1\nalgorithms: [HS256, RS256]\n");
    let validator = validator(both, keys, Arc::new(MemoryStore::new()));
    // The classic confusion attack: HMAC over the token with the public key's PEM text.
    let forged = sign(
        Algorithm::HS256,
        &good_claims(),
        &EncodingKey::from_secret(&public_pem).unwrap(),
    );
    assert_eq!(
        codes(&validator.validate(&forged)),
        ["algorithm.key_mismatch"]
    );
    let genuine = sign(
        Algorithm::RS256,
        &good_claims(),
        &EncodingKey::from_rsa_pem(&fixture("rsa.key")).unwrap(),
    );
    assert_eq!(codes(&validator.validate(&genuine)), Vec::<&str>::new());
}

#[test]
fn public_key_refused_as_hmac_secret() {
    let error = KeySet::from_bytes(&fixture("rsa.pub"), KeyFormat::HmacRaw, "rsa.pub").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("can never serve as an HMAC secret"),
        "{error}"
    );
}

#[test]
fn rsa_key_for_hmac_policy_fails() {
    let keys = KeySet::from_bytes(&fixture("rsa.pub"), KeyFormat::Auto, "rsa.pub").unwrap();
    let result = Validator::builder(default_policy(), keys).build();
    assert!(
        matches!(result, Err(SetupError::NoUsableKey { .. })),
        "{result:?}"
    );
}

#[test]
fn wrong_segment_counts_are_malformed() {
    let (validator, _) = default_validator();
    let token = hs256(&good_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let cases = [
        String::new(),
        parts[0].to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}.extra"),
        format!("{token}.a.b"),
        format!(".{}.{}", parts[1], parts[2]),
    ];
    for case in cases {
        let report = validator.validate(&case);
        assert_eq!(codes(&report), ["token.malformed"], "segments of {case:?}");
        assert_eq!(report.decision, Decision::Deny);
    }
}

#[test]
fn non_canonical_base64url_is_malformed() {
    let (validator, _) = default_validator();
    let token = hs256(&good_claims());
    let parts: Vec<&str> = token.split('.').collect();
    // A 32-byte HMAC encodes to 43 characters, and the last one carries 2 unused bits.
    // Setting one of them decodes to the same bytes in a lenient decoder.
    let signature = parts[2];
    let last = signature.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap();
    let twin = alphabet.chars().nth(index ^ 1).unwrap();
    let stray_bits = format!(
        "{}.{}.{}{twin}",
        parts[0],
        parts[1],
        &signature[..signature.len() - 1]
    );
    let cases = [
        stray_bits,
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}==", parts[0], parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            parts[0].replace('-', "+"),
            parts[1],
            parts[2].replace('_', "/") + "+"
        ),
        format!("{} .{}.{}", parts[0], parts[1], parts[2]),
    ];
    for case in cases {
        let report = validator.validate(&case);
        assert_eq!(codes(&report), ["token.malformed"], "{case}");
    }
}

#[test]
fn duplicate_claims_are_rejected() {
    let (validator, _) = default_validator();
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let payloads = [
        format!(
            r#"{{"sub":"alice","sub":"admin","iat":{},"exp":{}}}"#,
            NOW,
            NOW + 60
        ),
        format!(
            r#"{{"sub":"alice","s\u0075b":"admin","iat":{},"exp":{}}}"#,
            NOW,
            NOW + 60
        ),
        format!(
            r#"{{"sub":"alice","iat":{},"exp":{},"exp":{}}}"#,
            NOW,
            NOW - 60,
            NOW + 60
        ),
    ];
    for payload in payloads {
        let report = validator.validate(&hs256_raw(header, &payload));
        assert_eq!(codes(&report), ["token.duplicate_member"], "{payload}");
        assert!(report.claims.is_none());
    }
}

#[test]
fn duplicate_header_parameters_are_rejected() {
    let (validator, _) = default_validator();
    let payload = good_claims().to_string();
    for header in [
        r#"{"alg":"HS256","alg":"none"}"#,
        r#"{"alg":"HS256","\u0061lg":"HS256"}"#,
    ] {
        assert_eq!(
            codes(&validator.validate(&hs256_raw(header, &payload))),
            ["token.duplicate_member"],
            "{header}"
        );
    }
}

#[test]
fn overlong_token_rejected_before_decoding() {
    let (validator, _) = default_validator();
    let limit = validator.policy().max_token_length;
    // Not even valid base64url: the finding proves the length check ran first.
    let report = validator.validate(&"!".repeat(limit + 1));
    assert_eq!(codes(&report), ["token.too_long"]);
    let mut claims = good_claims();
    claims["pad"] = json!("x".repeat(limit));
    assert_eq!(
        codes(&validator.validate(&hs256(&claims))),
        ["token.too_long"]
    );
}

#[test]
fn bad_signature_hides_claim_findings() {
    let (validator, _) = default_validator();
    let mut claims = good_claims();
    claims["exp"] = json!(NOW - DAY);
    claims["role"] = json!("root");
    let token = hs256(&claims);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = b64(json!({"sub": "mallory", "exp": NOW - DAY, "role": "root"})
        .to_string()
        .as_bytes());
    let report = validator.validate(&parts.join("."));
    assert_eq!(codes(&report), ["signature.invalid"]);
    assert!(report.claims.is_none());
    assert!(report.header.is_none());
}

#[test]
fn unsupported_and_disallowed_algorithms() {
    let (validator, _) = default_validator();
    let payload = good_claims().to_string();
    let cases = [
        (r#"{"alg":"HS999"}"#, "algorithm.unsupported"),
        (r#"{"alg":"hs256"}"#, "algorithm.unsupported"),
        (r#"{"alg":"HS512"}"#, "algorithm.not_allowed"),
        (r#"{"alg":"RS256"}"#, "algorithm.not_allowed"),
        (r#"{"typ":"JWT"}"#, "token.malformed"),
        (
            r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
            "header.crit_unsupported",
        ),
    ];
    for (header, expected) in cases {
        assert_eq!(
            codes(&validator.validate(&hs256_raw(header, &payload))),
            [expected],
            "{header}"
        );
    }
}

#[test]
fn messages_never_contain_the_token() {
    let (validator, _) = default_validator();
    let mut claims = good_claims();
    claims["exp"] = json!(NOW - 1);
    let token = hs256(&claims);
    let report = validator.validate(&token);
    let text = format!("{report}\n{}", serde_json::to_string(&report).unwrap());
    for segment in token.split('.') {
        assert!(!text.contains(segment), "output contains a token segment");
    }
    assert!(text.contains(&report.token));
}

#[test]
fn header_text_cannot_forge_output_lines() {
    let (validator, _) = default_validator();
    let payload = b64(good_claims().to_string().as_bytes());
    let cases = [
        r#"{"alg":"none\ntoken 000000000000: allow (sub `admin`)"}"#,
        r#"{"alg":"HS256","kid":"x\u001b[2J\ny"}"#,
        r#"{"alg":"HS256","crit":["a\nb"]}"#,
    ];
    for header in cases {
        let report = validator.validate(&format!("{}.{payload}.", b64(header.as_bytes())));
        let text = report.to_string();
        assert_eq!(text.lines().count(), 2, "{header}: {text}");
        assert!(
            !text.contains('\u{1b}'),
            "{header}: escape sequence in output"
        );
        assert!(
            report
                .findings
                .iter()
                .all(|finding| !finding.message.contains('\n'))
        );
    }
}
