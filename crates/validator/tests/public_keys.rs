//! RSA, EC and Ed25519 signatures through the public keys the validator parses once, from
//! PEM files and from JWKs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use warden_policy::Policy;
use warden_validator::{FixedClock, KeyFormat, KeySet, Validator};

/// Algorithm, JOSE name and fixture stem of each case.
const CASES: [(Algorithm, &str, &str); 6] = [
    (Algorithm::RS256, "RS256", "rsa"),
    (Algorithm::RS512, "RS512", "rsa"),
    (Algorithm::PS256, "PS256", "rsa"),
    (Algorithm::ES256, "ES256", "ec256"),
    (Algorithm::ES384, "ES384", "ec384"),
    (Algorithm::EdDSA, "EdDSA", "ed25519"),
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn private_key(algorithm: Algorithm, stem: &str) -> EncodingKey {
    let pem = fixture(&format!("{stem}.key"));
    match algorithm {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem).unwrap(),
        _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
    }
}

fn sign(algorithm: Algorithm, stem: &str) -> String {
    let claims = json!({"sub": "alice", "exp": 1_700_003_600});
    jsonwebtoken::encode(
        &Header::new(algorithm),
        &claims,
        &private_key(algorithm, stem),
    )
    .unwrap()
}

fn validator(name: &str, keys: KeySet) -> Validator {
    let yaml = format!("version: 1\nalgorithms: [{name}]\nrules:\n  expiry: {{}}\n");
    let policy = Policy::from_yaml_str(&yaml, "public-keys.yaml").unwrap();
    Validator::builder(policy, keys)
        .clock(Arc::new(FixedClock(1_700_000_000)))
        .build()
        .unwrap()
}

fn pem_keys(stem: &str) -> KeySet {
    KeySet::from_bytes(&fixture(&format!("{stem}.pub")), KeyFormat::Pem, stem).unwrap()
}

fn jwk_keys(algorithm: Algorithm, stem: &str) -> KeySet {
    let jwk = Jwk::from_encoding_key(&private_key(algorithm, stem), algorithm).unwrap();
    let text = serde_json::to_vec(&JwkSet { keys: vec![jwk] }).unwrap();
    KeySet::from_bytes(&text, KeyFormat::Jwks, stem).unwrap()
}

/// Flips one bit in the middle of the signature segment's decoded bytes.
fn tamper(token: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[test]
fn pem_keys_verify_and_reject() {
    for (algorithm, name, stem) in CASES {
        let validator = validator(name, pem_keys(stem));
        let token = sign(algorithm, stem);
        assert!(
            validator.validate(&token).is_allowed(),
            "{name}: valid token denied"
        );
        let report = validator.validate(&tamper(&token));
        assert_eq!(
            report.codes().collect::<Vec<_>>(),
            ["signature.invalid"],
            "{name}"
        );
    }
}

#[test]
fn jwk_keys_verify_and_reject() {
    for (algorithm, name, stem) in CASES {
        let validator = validator(name, jwk_keys(algorithm, stem));
        let token = sign(algorithm, stem);
        assert!(
            validator.validate(&token).is_allowed(),
            "{name}: valid token denied"
        );
        let report = validator.validate(&tamper(&token));
        assert_eq!(
            report.codes().collect::<Vec<_>>(),
            ["signature.invalid"],
            "{name}"
        );
    }
}

#[test]
fn rsa_pss_signature_not_pkcs1() {
    let validator = validator("RS256", pem_keys("rsa"));
    let pss = sign(Algorithm::PS256, "rsa");
    let (pss_input, pss_signature) = pss.rsplit_once('.').unwrap();
    let rs = sign(Algorithm::RS256, "rsa");
    let (rs_input, _) = rs.rsplit_once('.').unwrap();
    assert_ne!(pss_input, rs_input);
    let relabelled = format!("{rs_input}.{pss_signature}");
    let report = validator.validate(&relabelled);
    assert_eq!(report.codes().collect::<Vec<_>>(), ["signature.invalid"]);
}
