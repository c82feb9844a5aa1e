//! Round trips per algorithm family with real keys, key loading and `kid` selection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use warden_blacklist::{MemoryStore, Revocation, RevocationStore, Target};
use warden_claims::TokenId;
use warden_validator::{KeyFormat, KeySet};

fn round_trip(algorithm: Algorithm, name: &str, encoding: EncodingKey, public: &[u8]) {
    let keys = KeySet::from_bytes(public, KeyFormat::Auto, name).unwrap();
    let validator = validator(
        policy(&format!("version: 1\nalgorithms: [{name}]\n")),
        keys,
        Arc::new(MemoryStore::new()),
    );
    let token = sign(algorithm, &good_claims(), &encoding);
    let report = validator.validate(&token);
    assert_eq!(codes(&report), Vec::<&str>::new(), "{name}");
    assert_eq!(report.header.unwrap().alg, name);
    let mut tampered: Vec<u8> = token.into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let report = validator.validate(&tampered);
    assert!(!report.is_allowed(), "{name}: tampered signature allowed");
}

#[test]
fn hmac_round_trips() {
    for (algorithm, name) in [
        (Algorithm::HS256, "HS256"),
        (Algorithm::HS384, "HS384"),
        (Algorithm::HS512, "HS512"),
    ] {
        let secret = [7_u8; 64];
        round_trip(
            algorithm,
            name,
            EncodingKey::from_secret(&secret).unwrap(),
            &secret,
        );
    }
}

#[test]
fn rsa_round_trips() {
    for (algorithm, name) in [(Algorithm::RS256, "RS256"), (Algorithm::PS256, "PS256")] {
        round_trip(
            algorithm,
            name,
            EncodingKey::from_rsa_pem(&fixture("rsa.key")).unwrap(),
            &fixture("rsa.pub"),
        );
    }
    let pkcs1 = fixture("rsa-pkcs1.pub");
    round_trip(
        Algorithm::RS256,
        "RS256",
        EncodingKey::from_rsa_pem(&fixture("rsa.key")).unwrap(),
        &pkcs1,
    );
}

#[test]
fn ecdsa_round_trips() {
    round_trip(
        Algorithm::ES256,
        "ES256",
        EncodingKey::from_ec_pem(&fixture("ec256.key")).unwrap(),
        &fixture("ec256.pub"),
    );
    round_trip(
        Algorithm::ES384,
        "ES384",
        EncodingKey::from_ec_pem(&fixture("ec384.key")).unwrap(),
        &fixture("ec384.pub"),
    );
}

#[test]
fn eddsa_round_trips() {
    round_trip(
        Algorithm::EdDSA,
        "EdDSA",
        EncodingKey::from_ed_pem(&fixture("ed25519.key")).unwrap(),
        &fixture("ed25519.pub"),
    );
}

#[test]
fn curve_fixes_ecdsa_algorithm() {
    let keys = KeySet::from_bytes(&fixture("ec384.pub"), KeyFormat::Auto, "ec384.pub").unwrap();
    let validator = validator(
        policy("version: 1\nalgorithms: [ES256, ES384]\n"),
        keys,
        Arc::new(MemoryStore::new()),
    );
    let token = sign(
        Algorithm::ES256,
        &good_claims(),
        &EncodingKey::from_ec_pem(&fixture("ec256.key")).unwrap(),
    );
    assert_eq!(
        codes(&validator.validate(&token)),
        ["algorithm.key_mismatch"]
    );
}

/// Order of the P-256 group, big-endian.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// Returns `n - s` for 32-byte big-endian numbers with `s < n`.
fn negate_mod_order(s: &[u8]) -> Vec<u8> {
    let mut result = vec![0_u8; 32];
    let mut borrow = 0_i16;
    for i in (0..32).rev() {
        let mut digit = i16::from(P256_ORDER[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(digit < 0);
        if digit < 0 {
            digit += 256;
        }
        result[i] = digit as u8;
    }
    result
}

#[test]
fn ecdsa_twin_is_still_revoked() {
    let keys = KeySet::from_bytes(&fixture("ec256.pub"), KeyFormat::Auto, "ec256.pub").unwrap();
    let store = Arc::new(MemoryStore::new());
    let rules = "version: 1\nalgorithms: [ES256]\nrules:\n  revocation: {}\n";
    let validator = validator(policy(rules), keys, store.clone());
    let token = sign(
        Algorithm::ES256,
        &good_claims(),
        &EncodingKey::from_ec_pem(&fixture("ec256.key")).unwrap(),
    );
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let raw = unb64(signature);
    let mut twin_signature = raw[..32].to_vec();
    twin_signature.extend(negate_mod_order(&raw[32..]));
    let twin = format!("{signing_input}.{}", b64(&twin_signature));
    assert_ne!(twin, token);
    assert_eq!(
        codes(&validator.validate(&twin)),
        Vec::<&str>::new(),
        "the (r, n-s) twin verifies"
    );
    assert_eq!(TokenId::of_input(&twin), TokenId::of_input(&token));

    let hash = *TokenId::of_input(&token).as_bytes();
    store
        .revoke(Revocation::new(
            Target::Token { hash },
            NOW,
            Some(NOW + DAY),
        ))
        .unwrap();
    assert_eq!(codes(&validator.validate(&token)), ["token.revoked"]);
    assert_eq!(codes(&validator.validate(&twin)), ["token.revoked"]);
}

#[test]
fn jwks_selects_key_by_kid() {
    let jwks = format!(
        r#"{{"keys":[{{"kty":"oct","kid":"k1","k":"{}"}},{{"kty":"oct","kid":"k2","k":"{}"}}]}}"#,
        b64(&[1_u8; 32]),
        b64(&[2_u8; 32])
    );
    let keys = KeySet::from_bytes(jwks.as_bytes(), KeyFormat::Auto, "jwks.json").unwrap();
    let validator = validator(
        policy("version: 1\nalgorithms: [HS256]\n"),
        keys,
        Arc::new(MemoryStore::new()),
    );
    let signed = |kid: &str, secret: [u8; 32]| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(
            &header,
            &good_claims(),
            &EncodingKey::from_secret(&secret).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        codes(&validator.validate(&signed("k2", [2; 32]))),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes(&validator.validate(&signed("k1", [2; 32]))),
        ["signature.invalid"]
    );
    assert_eq!(
        codes(&validator.validate(&signed("k3", [2; 32]))),
        ["key.not_found"]
    );
}

#[test]
fn key_loading_errors() {
    let cases: [(&[u8], KeyFormat, &str); 7] = [
        (b"", KeyFormat::HmacRaw, "HMAC secret is empty"),
        (b"\n", KeyFormat::Auto, "HMAC secret is empty"),
        (
            b"not base64!",
            KeyFormat::HmacBase64Url,
            "not canonical unpadded base64url",
        ),
        (&fixture("rsa1024.pub"), KeyFormat::Auto, "1024 bits"),
        (&fixture("rsa.key"), KeyFormat::Auto, "is a private key"),
        (
            br#"{"keys":[{"kty":"oct","kid":"a","k":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE"},{"kty":"oct","kid":"a","k":"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI"}]}"#,
            KeyFormat::Auto,
            "duplicate key id `a`",
        ),
        (
            br#"{"keys":[{"kty":"oct","use":"enc","k":"AQ"}]}"#,
            KeyFormat::Auto,
            "only `sig` keys",
        ),
    ];
    for (bytes, format, expected) in cases {
        let error = KeySet::from_bytes(bytes, format, "key")
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{expected}: {error}");
    }
}

#[test]
fn hmac_forms_load_the_same_secret() {
    let raw = KeySet::from_bytes(
        b"0123456789abcdef0123456789abcdef\n",
        KeyFormat::Auto,
        "raw",
    )
    .unwrap();
    let encoded =
        KeySet::from_bytes(b64(SECRET).as_bytes(), KeyFormat::HmacBase64Url, "b64").unwrap();
    for keys in [raw, encoded] {
        let validator = validator(default_policy(), keys, Arc::new(MemoryStore::new()));
        assert_eq!(
            codes(&validator.validate(&hs256(&good_claims()))),
            Vec::<&str>::new()
        );
    }
}

#[test]
fn short_hmac_secret_warns_at_setup() {
    let keys = KeySet::from_bytes(b"short", KeyFormat::HmacRaw, "short").unwrap();
    let validator = validator(default_policy(), keys, Arc::new(MemoryStore::new()));
    assert_eq!(validator.warnings().len(), 1);
    assert!(
        validator.warnings()[0].contains("shorter than 32 bytes"),
        "{}",
        validator.warnings()[0]
    );
}

#[test]
fn key_debug_hides_material() {
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap();
    let debug = format!("{keys:?}");
    assert!(!debug.contains("0123456789abcdef"), "{debug}");
    assert!(!debug.contains("48, 49, 50"), "{debug}");
}

#[test]
fn key_revocation_ignores_missing_kid() {
    let jwks = format!(
        r#"{{"keys":[{{"kty":"oct","kid":"k1","k":"{}"}},{{"kty":"oct","kid":"k2","k":"{}"}}]}}"#,
        b64(&[1_u8; 32]),
        b64(&[2_u8; 32])
    );
    let keys = KeySet::from_bytes(jwks.as_bytes(), KeyFormat::Auto, "jwks.json").unwrap();
    let store = Arc::new(MemoryStore::new());
    let rules = "version: 1\nalgorithms: [HS256]\nrules:\n  revocation: {}\n";
    let validator = validator(policy(rules), keys, store.clone());
    store
        .revoke(Revocation::new(
            Target::KeyId { kid: "k1".into() },
            NOW,
            None,
        ))
        .unwrap();
    let without_kid = sign(
        Algorithm::HS256,
        &good_claims(),
        &EncodingKey::from_secret(&[1; 32]).unwrap(),
    );
    assert_eq!(codes(&validator.validate(&without_kid)), ["token.revoked"]);
    let other_key = sign(
        Algorithm::HS256,
        &good_claims(),
        &EncodingKey::from_secret(&[2; 32]).unwrap(),
    );
    assert_eq!(codes(&validator.validate(&other_key)), Vec::<&str>::new());
}

#[test]
fn jwk_with_duplicate_member_is_rejected() {
    let k = b64(&[3_u8; 32]);
    let jwks = format!(r#"{{"keys":[{{"kty":"oct","k":"{k}","kty":"RSA"}}]}}"#);
    let error = KeySet::from_bytes(jwks.as_bytes(), KeyFormat::Auto, "jwks.json")
        .unwrap_err()
        .to_string();
    assert!(error.contains("duplicate member `kty`"), "{error}");
}

#[test]
fn cached_signature_keeps_key_revocation() {
    let der = pem::parse(fixture("ec256.pub")).unwrap();
    let point = &der.contents()[der.contents().len() - 64..];
    let jwks = format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"ec1","x":"{}","y":"{}"}}]}}"#,
        b64(&point[..32]),
        b64(&point[32..])
    );
    let keys = KeySet::from_bytes(jwks.as_bytes(), KeyFormat::Auto, "jwks.json").unwrap();
    let store = Arc::new(MemoryStore::new());
    let rules = "version: 1\nalgorithms: [ES256]\nrules:\n  revocation: {}\n";
    let validator = warden_validator::Validator::builder(policy(rules), keys)
        .revocations(store.clone())
        .clock(Arc::new(warden_validator::FixedClock(NOW)))
        .signature_cache(16)
        .build()
        .unwrap();
    let token = sign(
        Algorithm::ES256,
        &good_claims(),
        &EncodingKey::from_ec_pem(&fixture("ec256.key")).unwrap(),
    );
    assert_eq!(codes(&validator.validate(&token)), Vec::<&str>::new());
    store
        .revoke(Revocation::new(
            Target::KeyId { kid: "ec1".into() },
            NOW,
            None,
        ))
        .unwrap();
    assert_eq!(
        codes(&validator.validate(&token)),
        ["token.revoked"],
        "a cache hit must still know the key"
    );
}
