//! HS256, HS384 and HS512 through the HMAC keys the validator prepares once per secret.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use warden_policy::Policy;
use warden_validator::{FixedClock, KeyFormat, KeySet, Validator};

const SECRET: &[u8] = b"hmac-test-secret-of-sixty-four-bytes-for-hs512-0123456789abcdefg";

fn validator() -> Validator {
    let policy = Policy::from_yaml_str(
        "version: 1\nalgorithms: [HS256, HS384, HS512]\nrules:\n  expiry: {}\n",
        "hmac.yaml",
    )
    .unwrap();
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap();
    Validator::builder(policy, keys)
        .clock(Arc::new(FixedClock(1_700_000_000)))
        .build()
        .unwrap()
}

fn sign(algorithm: Algorithm, secret: &[u8]) -> String {
    let claims = json!({"sub": "alice", "exp": 1_700_003_600});
    let key = EncodingKey::from_secret(secret).unwrap();
    jsonwebtoken::encode(&Header::new(algorithm), &claims, &key).unwrap()
}

#[test]
fn every_hmac_algorithm_verifies() {
    let validator = validator();
    for algorithm in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let report = validator.validate(&sign(algorithm, SECRET));
        assert!(report.is_allowed(), "{algorithm:?}: {report}");
    }
}

#[test]
fn hmac_wrong_secret_rejected() {
    let validator = validator();
    for algorithm in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let report = validator.validate(&sign(
            algorithm,
            b"another-secret-of-sixty-four-bytes-for-the-hs512-test-0123456789",
        ));
        assert_eq!(
            report.codes().collect::<Vec<_>>(),
            ["signature.invalid"],
            "{algorithm:?}"
        );
    }
}

#[test]
fn hmac_algorithm_swap_rejected() {
    let validator = validator();
    let hs256 = sign(Algorithm::HS256, SECRET);
    let hs384 = sign(Algorithm::HS384, SECRET);
    let (hs384_input, _) = hs384.rsplit_once('.').unwrap();
    let (_, hs256_signature) = hs256.rsplit_once('.').unwrap();
    let swapped = format!("{hs384_input}.{hs256_signature}");
    let report = validator.validate(&swapped);
    assert_eq!(report.codes().collect::<Vec<_>>(), ["signature.invalid"]);
}
