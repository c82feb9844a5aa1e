#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Key loading rejects weak and ambiguous JWKs and JWK sets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use warden_validator::{KeyError, KeyFormat, KeySet};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn load(jwks: &Value) -> Result<KeySet, KeyError> {
    KeySet::from_bytes(jwks.to_string().as_bytes(), KeyFormat::Jwks, "test")
}

fn reason(result: Result<KeySet, KeyError>) -> String {
    match result {
        Err(KeyError::Invalid { reason, .. }) => reason,
        other => panic!("expected an invalid key, got {other:?}"),
    }
}

fn oct(len: usize, alg: Option<&str>) -> Value {
    let mut jwk = json!({ "kty": "oct", "k": b64(&vec![7_u8; len]) });
    if let Some(alg) = alg {
        jwk["alg"] = json!(alg);
    }
    jwk
}

fn rsa(modulus: &[u8], exponent: &[u8]) -> Value {
    json!({ "kty": "RSA", "n": b64(modulus), "e": b64(exponent) })
}

/// Returns a 2048-bit odd modulus without the ROCA fingerprint. 2^2048 - 1 is 2 modulo
/// 11, and 2 is not a power of 65537 modulo 11.
fn plain_modulus() -> Vec<u8> {
    vec![0xff; 256]
}

/// Multiplies a big-endian number by a small factor in place.
fn multiply(number: &mut Vec<u8>, factor: u32) {
    let mut carry = 0_u64;
    for byte in number.iter_mut().rev() {
        let value = u64::from(*byte) * u64::from(factor) + carry;
        *byte = (value & 0xff) as u8;
        carry = value >> 8;
    }
    while carry > 0 {
        number.insert(0, (carry & 0xff) as u8);
        carry >>= 8;
    }
}

/// Builds `M^10 + 1` for the product `M` of the primes 3 to 167: it is 1 modulo each of
/// them, which is the ROCA fingerprint, and it has 2183 bits.
fn roca_modulus() -> Vec<u8> {
    let primes = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    let mut number = vec![1_u8];
    for _ in 0..10 {
        for prime in primes {
            multiply(&mut number, prime);
        }
    }
    // M^10 is odd, so adding 1 only touches the last byte when it is below 0xff.
    let last = number.last_mut().unwrap();
    assert!(*last < 0xff);
    *last += 1;
    number
}

#[test]
fn hmac_secret_shorter_than_alg() {
    for (alg, minimum) in [("HS256", 32), ("HS384", 48), ("HS512", 64)] {
        let short = reason(load(&oct(minimum - 1, Some(alg))));
        assert!(
            short.contains(&format!("needs at least {minimum}")),
            "{short}"
        );
        assert!(load(&oct(minimum, Some(alg))).is_ok(), "{alg}");
    }
}

#[test]
fn hmac_secret_without_alg() {
    let short = reason(load(&oct(31, None)));
    assert!(short.contains("any HMAC algorithm"), "{short}");
    assert!(load(&oct(32, None)).is_ok());
}

#[test]
fn hmac_secret_empty() {
    assert_eq!(reason(load(&oct(0, Some("HS256")))), "HMAC secret is empty");
}

#[test]
fn mixed_set_rejected() {
    let okp = json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(&[9_u8; 32]), "kid": "ed" });
    let mut secret = oct(32, Some("HS256"));
    secret["kid"] = json!("hmac");
    let mixed = reason(load(&json!({ "keys": [secret, okp] })));
    assert!(
        mixed.contains("mixes HMAC secrets with public keys"),
        "{mixed}"
    );
}

#[test]
fn secrets_only_set_loads() {
    let mut first = oct(32, Some("HS256"));
    first["kid"] = json!("one");
    let mut second = oct(32, Some("HS256"));
    second["kid"] = json!("two");
    let keys = load(&json!({ "keys": [first, second] })).unwrap();
    assert_eq!(keys.iter().count(), 2);
}

#[test]
fn rsa_exponent_one_rejected() {
    let one = reason(load(&rsa(&plain_modulus(), &[0x01])));
    assert!(one.contains("exponent must be odd and at least 3"), "{one}");
}

#[test]
fn rsa_exponent_even_rejected() {
    let even = reason(load(&rsa(&plain_modulus(), &[0x01, 0x00])));
    assert!(
        even.contains("exponent must be odd and at least 3"),
        "{even}"
    );
}

#[test]
fn rsa_plain_modulus_loads() {
    assert!(load(&rsa(&plain_modulus(), &[0x01, 0x00, 0x01])).is_ok());
}

#[test]
fn rsa_roca_modulus_rejected() {
    let modulus = roca_modulus();
    assert!(modulus.len() * 8 >= 2048);
    let roca = reason(load(&rsa(&modulus, &[0x01, 0x00, 0x01])));
    assert!(roca.contains("ROCA"), "{roca}");
}

#[test]
fn rsa_pem_fixture_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rsa.pub");
    assert!(KeySet::load(path, KeyFormat::Pem).is_ok());
}

/// Returns the uncompressed point of a SubjectPublicKeyInfo fixture: its last bytes.
fn fixture_point(name: &str, len: usize) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let parsed = pem::parse(std::fs::read(path).unwrap()).unwrap();
    let der = parsed.contents();
    der[der.len() - len..].to_vec()
}

fn ec_jwk(crv: &str, point: &[u8]) -> Value {
    let coordinate_len = (point.len() - 1) / 2;
    json!({
        "kty": "EC",
        "crv": crv,
        "x": b64(&point[1..=coordinate_len]),
        "y": b64(&point[1 + coordinate_len..]),
    })
}

#[test]
fn ec_point_on_curve_loads() {
    assert!(load(&ec_jwk("P-256", &fixture_point("ec256.pub", 65))).is_ok());
    assert!(load(&ec_jwk("P-384", &fixture_point("ec384.pub", 97))).is_ok());
}

#[test]
fn ec_point_off_curve_rejected() {
    for (crv, name, len) in [("P-256", "ec256.pub", 65), ("P-384", "ec384.pub", 97)] {
        let mut point = fixture_point(name, len);
        *point.last_mut().unwrap() ^= 0x01;
        let off = reason(load(&ec_jwk(crv, &point)));
        assert_eq!(
            off,
            format!("EC public key is not a point on the {crv} curve")
        );
    }
}

#[test]
fn duplicate_kid_rejected() {
    let mut first = oct(32, Some("HS256"));
    first["kid"] = json!("same");
    let mut second = oct(40, Some("HS256"));
    second["kid"] = json!("same");
    let duplicate = reason(load(&json!({ "keys": [first, second] })));
    assert_eq!(duplicate, "duplicate key id `same`");
}
