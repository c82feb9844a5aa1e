//! Shared helpers for the validator's integration tests: real keys, real signatures.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;
use warden_blacklist::MemoryStore;
use warden_policy::Policy;
use warden_validator::{FixedClock, KeyFormat, KeySet, Report, Validator};

/// 2026-12-01T00:00:00Z.
pub const NOW: i64 = 1_796_083_200;
pub const DAY: i64 = 86_400;
/// A 32-byte HMAC secret.
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

pub fn default_policy() -> Policy {
    Policy::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/default.yaml"
    ))
    .unwrap()
}

pub fn policy(yaml: &str) -> Policy {
    Policy::from_yaml_str(yaml, "test.yaml").unwrap()
}

pub fn hmac_keys() -> KeySet {
    KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap()
}

pub fn validator(policy: Policy, keys: KeySet, store: Arc<MemoryStore>) -> Validator {
    Validator::builder(policy, keys)
        .revocations(store)
        .clock(Arc::new(FixedClock(NOW)))
        .build()
        .unwrap()
}

pub fn default_validator() -> (Validator, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    (
        validator(default_policy(), hmac_keys(), store.clone()),
        store,
    )
}

/// Claims that pass the default policy with no finding.
pub fn good_claims() -> Value {
    serde_json::json!({
        "sub": "alice",
        "iat": NOW - DAY,
        "exp": NOW + DAY,
        "jti": "id-1",
        "role": "user",
        "permissions": ["camera:read"],
    })
}

pub fn sign(algorithm: Algorithm, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).unwrap()
}

pub fn hs256(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        claims,
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
}

/// Builds a token from literal header and payload JSON, signed with the HS256 secret, so
/// tests can produce JSON that serde would never emit (duplicates, odd types).
pub fn hs256_raw(header_json: &str, payload_json: &str) -> String {
    let signing_input = format!(
        "{}.{}",
        b64(header_json.as_bytes()),
        b64(payload_json.as_bytes())
    );
    let key = EncodingKey::from_secret(SECRET).unwrap();
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{signing_input}.{signature}")
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

pub fn codes(report: &Report) -> Vec<&'static str> {
    report.codes().collect()
}
