#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `verify_signature` on tokens whose signature is real but whose structure is not.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use warden_claims::CompactToken;
use warden_policy::Policy;
use warden_validator::{Code, CryptoProvider, Finding, KeyFormat, KeySet, verify_signature};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn policy(algorithms: &str) -> Policy {
    let yaml = format!("version: 1\nalgorithms: [{algorithms}]\n");
    Policy::from_yaml_str(&yaml, "test.yaml").unwrap()
}

/// Signs `header.payload` (both given as segment text) with HS256 over [`SECRET`].
fn hs256_token(header_json: &str, payload_segment: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(header_json);
    let signing_input = format!("{header}.{payload_segment}");
    let key = EncodingKey::from_secret(SECRET).unwrap();
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &key,
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    format!("{signing_input}.{signature}")
}

fn verify(token: &str, keys: &KeySet, algorithms: &str) -> Result<(), Finding> {
    let compact = CompactToken::parse(token).unwrap();
    let provider = CryptoProvider::try_get_default().unwrap();
    verify_signature(&compact, keys, &policy(algorithms).algorithms, provider).map(|_| ())
}

fn hmac_keys() -> KeySet {
    KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "test").unwrap()
}

#[test]
fn canonical_payload_verifies() {
    // `AA` is the canonical encoding of the single byte 0x00.
    let token = hs256_token(r#"{"alg":"HS256"}"#, "AA");
    assert_eq!(verify(&token, &hmac_keys(), "HS256"), Ok(()));
}

#[test]
fn payload_with_stray_bits_rejected() {
    // `AB` decodes to 0x00 only in a lenient decoder: its last character carries set
    // bits past the end of the byte.
    let token = hs256_token(r#"{"alg":"HS256"}"#, "AB");
    let finding = verify(&token, &hmac_keys(), "HS256").unwrap_err();
    assert_eq!(finding.code, Code::TokenMalformed);
    assert!(
        finding.message.starts_with("payload"),
        "{}",
        finding.message
    );
}

#[test]
fn payload_with_invalid_character_rejected() {
    let token = hs256_token(r#"{"alg":"HS256"}"#, "VGVzdA#");
    let finding = verify(&token, &hmac_keys(), "HS256").unwrap_err();
    assert_eq!(finding.code, Code::TokenMalformed);
}

#[test]
fn alg_binding_named_in_mismatch() {
    let jwk = serde_json::json!({
        "kty": "RSA",
        "alg": "PS256",
        "n": URL_SAFE_NO_PAD.encode([0xff_u8; 256]),
        "e": "AQAB",
    });
    let keys = KeySet::from_bytes(jwk.to_string().as_bytes(), KeyFormat::Jwks, "test").unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"PS384"}"#);
    let token = format!("{header}.AA.AA");
    let finding = verify(&token, &keys, "PS256, PS384").unwrap_err();
    assert_eq!(finding.code, Code::AlgorithmKeyMismatch);
    assert!(
        finding.message.contains("verifies only `PS256`"),
        "{}",
        finding.message
    );
}
