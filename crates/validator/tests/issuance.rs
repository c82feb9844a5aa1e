//! Issued tokens pass the policy that issued them; refresh rotates tokens exactly once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use serde_json::json;
use warden_blacklist::{FileStore, MemoryStore, RevocationStore};
use warden_policy::{Policy, Severity};
use warden_validator::{
    FixedClock, IssueError, IssueRequest, Issuer, KeyFormat, KeySet, RefreshError, Refresher,
    Report, SigningKey, Validator,
};

use common::{NOW, SECRET, fixture};

const HOUR: i64 = 3_600;

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn default_policy_with_refresh() -> Policy {
    let text = std::fs::read_to_string(repo("policies/default.yaml")).unwrap();
    Policy::from_yaml_str(
        &format!("{text}\nrefresh: {{ window: 1h, grace: 5m }}\n"),
        "default.yaml",
    )
    .unwrap()
}

fn camera_policy() -> Policy {
    Policy::load(repo("policies/camera-service.yaml")).unwrap()
}

fn camera_key() -> SigningKey {
    SigningKey::load(repo("policies/tests/keys/camera-service.key")).unwrap()
}

fn hmac_issuer(at: i64) -> Issuer {
    Issuer::new(
        default_policy_with_refresh(),
        SigningKey::hmac(SECRET).unwrap(),
    )
    .unwrap()
    .with_clock(Arc::new(FixedClock(at)))
}

fn hmac_validator(at: i64, store: Arc<dyn RevocationStore>) -> Validator {
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap();
    Validator::builder(default_policy_with_refresh(), keys)
        .revocations(store)
        .clock(Arc::new(FixedClock(at)))
        .build()
        .unwrap()
}

fn hmac_refresher(at: i64, store: Arc<dyn RevocationStore>) -> Refresher {
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap();
    Refresher::new(hmac_issuer(at), keys, store).unwrap()
}

fn error_codes(report: &Report) -> Vec<&'static str> {
    report
        .findings
        .iter()
        .filter(|finding| finding.severity == Severity::Error)
        .map(|finding| finding.code.as_str())
        .collect()
}

fn request(role: &str) -> IssueRequest {
    let mut request = IssueRequest::new("alice", role, 24 * HOUR as u64);
    request.name = Some("Alice".to_owned());
    request
}

#[test]
fn issued_default_token_validates() {
    let token = hmac_issuer(NOW).issue(&request("user")).unwrap();
    let report = hmac_validator(NOW, Arc::new(MemoryStore::new())).validate(token.as_str());
    assert_eq!(error_codes(&report), Vec::<&str>::new());
    assert!(report.is_allowed());
    assert_eq!(token.algorithm.as_str(), "HS256");
}

#[test]
fn issued_camera_tokens_validate_for_every_role() {
    let policy = camera_policy();
    let validator = Validator::builder(policy.clone(), KeySet::default())
        .clock(Arc::new(FixedClock(NOW)))
        .build()
        .unwrap();
    let issuer = Issuer::new(policy, camera_key())
        .unwrap()
        .with_clock(Arc::new(FixedClock(NOW)));
    for role in ["admin", "user", "viewer"] {
        let token = issuer.issue(&request(role)).unwrap();
        let report = validator.validate(token.as_str());
        assert_eq!(error_codes(&report), Vec::<&str>::new(), "role {role}");
        assert!(report.is_allowed(), "role {role}");
    }
}

#[test]
fn issued_strict_token_validates() {
    let policy = Policy::load(repo("policies/strict.yaml")).unwrap();
    let key = SigningKey::load(repo("policies/tests/keys/strict-es256.key")).unwrap();
    let issuer = Issuer::new(policy.clone(), key)
        .unwrap()
        .with_clock(Arc::new(FixedClock(NOW)));
    let token = issuer
        .issue(&IssueRequest::new("alice", "user", HOUR as u64))
        .unwrap();
    assert_eq!(token.claims["iss"], "https://auth.example.com");
    assert_eq!(token.claims["aud"], "https://api.example.com");
    let keys = KeySet::load(
        repo("policies/tests/keys/strict-es256.pem"),
        KeyFormat::Auto,
    )
    .unwrap();
    let report = Validator::builder(policy, keys)
        .clock(Arc::new(FixedClock(NOW)))
        .build()
        .unwrap()
        .validate(token.as_str());
    assert_eq!(error_codes(&report), Vec::<&str>::new());
}

#[test]
fn issued_camera_claims_come_from_policy() {
    let issuer = Issuer::new(camera_policy(), camera_key())
        .unwrap()
        .with_clock(Arc::new(FixedClock(NOW)));
    let admin = issuer.issue(&request("admin")).unwrap();
    assert_eq!(admin.claims["iss"], "camera-service");
    assert_eq!(admin.claims["aud"], "camera-clients");
    assert_eq!(admin.claims["camera_access"], json!(["*"]));
    assert_eq!(admin.claims["iat"], NOW);
    assert_eq!(admin.claims["exp"], NOW + 24 * HOUR);
    assert_eq!(admin.algorithm.as_str(), "RS256");
    let viewer = issuer.issue(&request("viewer")).unwrap();
    assert_eq!(viewer.claims["permissions"], json!(["camera:read"]));
    assert_eq!(viewer.claims["camera_access"], json!(["camera1"]));
    assert_eq!(viewer.claims["role"], "viewer");
}

#[test]
fn issued_ids_are_random_128_bits() {
    let issuer = hmac_issuer(NOW);
    let first = issuer.issue(&request("user")).unwrap();
    let second = issuer.issue(&request("user")).unwrap();
    let jti = first.claims["jti"].as_str().unwrap();
    assert_eq!(common::unb64(jti).len(), 16);
    assert_ne!(first.claims["jti"], second.claims["jti"]);
    assert_ne!(first.claims["session_id"], second.claims["session_id"]);
}

#[test]
fn issue_rejects_unknown_role() {
    let issuer = Issuer::new(camera_policy(), camera_key()).unwrap();
    let error = issuer.issue(&request("superadmin")).unwrap_err();
    assert!(matches!(error, IssueError::Policy(_)), "{error}");
    assert!(error.to_string().contains("`superadmin`"), "{error}");
}

#[test]
fn issue_rejects_reserved_extra_claims() {
    let issuer = Issuer::new(camera_policy(), camera_key()).unwrap();
    for name in ["role", "exp", "permissions", "camera_access", "iss"] {
        let mut wanted = request("viewer");
        wanted.extra.insert(name.to_owned(), json!("x"));
        let error = issuer.issue(&wanted).unwrap_err();
        assert!(
            matches!(error, IssueError::ReservedClaim(_)),
            "{name}: {error}"
        );
    }
    let mut wanted = request("viewer");
    wanted.extra.insert("org".to_owned(), json!("acme"));
    assert_eq!(issuer.issue(&wanted).unwrap().claims["org"], "acme");
}

#[test]
fn issue_rejects_lifetime_over_policy_max() {
    let issuer = Issuer::new(camera_policy(), camera_key()).unwrap();
    let mut wanted = request("viewer");
    wanted.ttl = 25 * HOUR as u64;
    let error = issuer.issue(&wanted).unwrap_err();
    assert!(error.to_string().contains("max_lifetime"), "{error}");
}

#[test]
fn algorithm_follows_key_and_policy() {
    let cases = [
        ("ec256.key", "ec256.pub", "[ES384, RS256, ES256]", "ES256"),
        ("ec384.key", "ec384.pub", "[ES256, ES384]", "ES384"),
        ("ed25519.key", "ed25519.pub", "[HS256, EdDSA]", "EdDSA"),
        ("rsa.key", "rsa.pub", "[ES256, PS384, RS256]", "PS384"),
    ];
    for (private, public, algorithms, expected) in cases {
        let yaml = format!("version: 1\nalgorithms: {algorithms}\nrules:\n  expiry: {{}}\n");
        let policy = Policy::from_yaml_str(&yaml, "inline.yaml").unwrap();
        let key = SigningKey::from_bytes(&fixture(private), private).unwrap();
        let issuer = Issuer::new(policy.clone(), key).unwrap();
        let token = issuer.issue(&request("user")).unwrap();
        assert_eq!(token.algorithm.as_str(), expected, "{private}");
        let keys = KeySet::from_bytes(&fixture(public), KeyFormat::Auto, public).unwrap();
        let report = Validator::builder(policy, keys)
            .build()
            .unwrap()
            .validate(token.as_str());
        assert_eq!(error_codes(&report), Vec::<&str>::new(), "{private}");
    }
}

#[test]
fn ec_key_without_its_curve_algorithm_fails() {
    let policy = Policy::from_yaml_str("version: 1\nalgorithms: [ES384]\n", "inline.yaml").unwrap();
    let key = SigningKey::from_bytes(&fixture("ec256.key"), "ec256.key").unwrap();
    let error = Issuer::new(policy, key).unwrap_err();
    assert!(error.to_string().contains("EC P-256"), "{error}");
}

#[test]
fn public_key_cannot_sign() {
    let error = SigningKey::from_bytes(&fixture("rsa.pub"), "rsa.pub").unwrap_err();
    assert!(error.to_string().contains("cannot sign"), "{error}");
}

#[test]
fn debug_hides_key_material() {
    let issuer = hmac_issuer(NOW);
    let printed = format!("{issuer:?}");
    assert!(!printed.contains("0123456789abcdef"), "{printed}");
    assert!(printed.contains("HS256"), "{printed}");
    let token = issuer.issue(&request("user")).unwrap();
    let printed = format!("{token:?}");
    assert!(!printed.contains(token.as_str()), "{printed}");
}

#[test]
fn refresh_rotates_and_revokes_old_token() {
    let store: Arc<dyn RevocationStore> = Arc::new(MemoryStore::new());
    let old = hmac_issuer(NOW).issue(&request("user")).unwrap();
    assert!(
        hmac_validator(NOW, store.clone())
            .validate(old.as_str())
            .is_allowed()
    );
    let later = NOW + 23 * HOUR + 30 * 60;
    let new = hmac_refresher(later, store.clone())
        .refresh(old.as_str())
        .unwrap();
    let validator = hmac_validator(later, store);
    assert!(validator.validate(new.as_str()).is_allowed());
    assert_eq!(
        error_codes(&validator.validate(old.as_str())),
        ["token.revoked"]
    );
    assert_eq!(new.claims["sub"], old.claims["sub"]);
    assert_eq!(new.claims["name"], old.claims["name"]);
    assert_eq!(new.claims["session_id"], old.claims["session_id"]);
    assert_ne!(new.claims["jti"], old.claims["jti"]);
    assert_eq!(new.claims["iat"], later);
    assert_eq!(new.claims["exp"], later + 24 * HOUR);
}

#[test]
fn refresh_rejects_second_use() {
    let store: Arc<dyn RevocationStore> = Arc::new(MemoryStore::new());
    let old = hmac_issuer(NOW).issue(&request("user")).unwrap();
    let refresher = hmac_refresher(NOW + 23 * HOUR + 1, store);
    refresher.refresh(old.as_str()).unwrap();
    let error = refresher.refresh(old.as_str()).unwrap_err();
    assert!(matches!(error, RefreshError::Revoked { .. }), "{error}");
}

#[test]
fn refresh_timing_follows_window_and_grace() {
    let exp = NOW + 24 * HOUR;
    let cases = [
        (exp - HOUR - 1, "not yet due"),
        (exp - HOUR, "ok"),
        (exp + 300, "ok"),
        (exp + 301, "expired"),
    ];
    for (at, expected) in cases {
        let old = hmac_issuer(NOW).issue(&request("user")).unwrap();
        let result = hmac_refresher(at, Arc::new(MemoryStore::new())).refresh(old.as_str());
        let outcome = match result {
            Ok(_) => "ok",
            Err(RefreshError::NotYetDue { .. }) => "not yet due",
            Err(RefreshError::Expired { .. }) => "expired",
            Err(other) => panic!("at {at}: unexpected {other}"),
        };
        assert_eq!(outcome, expected, "at exp{:+}", at - exp);
    }
}

#[test]
fn refresh_rejects_tampered_token() {
    let old = hmac_issuer(NOW).issue(&request("user")).unwrap();
    let mut tampered = old.as_str().to_owned();
    tampered.push('A');
    let error = hmac_refresher(NOW + 23 * HOUR + 1, Arc::new(MemoryStore::new()))
        .refresh(&tampered)
        .unwrap_err();
    assert!(matches!(error, RefreshError::Invalid { .. }), "{error}");
}

#[test]
fn refresh_needs_policy_section() {
    let policy = Policy::load(repo("policies/default.yaml")).unwrap();
    let issuer = Issuer::new(policy, SigningKey::hmac(SECRET).unwrap()).unwrap();
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap();
    let error = Refresher::new(issuer, keys, Arc::new(MemoryStore::new())).unwrap_err();
    assert!(matches!(error, RefreshError::NotEnabled), "{error}");
}

#[test]
fn refresh_with_wrong_signing_key_keeps_old_token() {
    let store: Arc<dyn RevocationStore> = Arc::new(MemoryStore::new());
    let old = hmac_issuer(NOW).issue(&request("user")).unwrap();
    let later = NOW + 23 * HOUR + 1;
    let other_key = SigningKey::hmac(b"another-secret-of-at-least-32-bytes!").unwrap();
    let issuer = Issuer::new(default_policy_with_refresh(), other_key)
        .unwrap()
        .with_clock(Arc::new(FixedClock(later)));
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap();
    let error = Refresher::new(issuer, keys, store.clone())
        .unwrap()
        .refresh(old.as_str())
        .unwrap_err();
    assert!(error.to_string().contains("signature.invalid"), "{error}");
    assert!(
        hmac_validator(later, store)
            .validate(old.as_str())
            .is_allowed()
    );
}

#[test]
fn refresh_keeps_extra_claims() {
    let mut wanted = request("user");
    wanted
        .extra
        .insert("org".to_owned(), json!({"id": "acme-1"}));
    let old = hmac_issuer(NOW).issue(&wanted).unwrap();
    let new = hmac_refresher(NOW + 23 * HOUR + 1, Arc::new(MemoryStore::new()))
        .refresh(old.as_str())
        .unwrap();
    assert_eq!(new.claims["org"], json!({"id": "acme-1"}));
}

#[test]
fn camera_refresh_round_trip() {
    let store: Arc<dyn RevocationStore> = Arc::new(MemoryStore::new());
    let issuer = |at: i64| {
        Issuer::new(camera_policy(), camera_key())
            .unwrap()
            .with_clock(Arc::new(FixedClock(at)))
    };
    let old = issuer(NOW).issue(&request("user")).unwrap();
    let later = NOW + 23 * HOUR + 1;
    let refresher = Refresher::new(issuer(later), KeySet::default(), store).unwrap();
    let new = refresher.refresh(old.as_str()).unwrap();
    let validator = refresher.validator();
    assert_eq!(
        error_codes(&validator.validate(new.as_str())),
        Vec::<&str>::new()
    );
    assert_eq!(
        error_codes(&validator.validate(old.as_str())),
        ["token.revoked"]
    );
    assert_eq!(new.claims["camera_access"], json!(["camera1", "camera2"]));
}

fn race(refreshers: Vec<Refresher>, token: &str) -> usize {
    let barrier = Arc::new(std::sync::Barrier::new(refreshers.len()));
    let handles: Vec<_> = refreshers
        .into_iter()
        .map(|refresher| {
            let token = token.to_owned();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                refresher.refresh(&token)
            })
        })
        .collect();
    let results: Vec<Result<_, RefreshError>> = handles
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    for error in results.iter().filter_map(|result| result.as_ref().err()) {
        assert!(matches!(error, RefreshError::Revoked { .. }), "{error}");
    }
    results.iter().filter(|result| result.is_ok()).count()
}

#[test]
fn refresh_race_on_memory_store_has_one_winner() {
    let store: Arc<dyn RevocationStore> = Arc::new(MemoryStore::new());
    let old = hmac_issuer(NOW).issue(&request("user")).unwrap();
    let refreshers = (0..12)
        .map(|_| hmac_refresher(NOW + 23 * HOUR + 1, store.clone()))
        .collect();
    assert_eq!(race(refreshers, old.as_str()), 1);
}

#[test]
fn refresh_race_on_file_store_has_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("revoked.journal");
    let old = hmac_issuer(NOW).issue(&request("user")).unwrap();
    // One journal handle per refresher, as separate processes would have.
    let refreshers = (0..12)
        .map(|_| {
            let store: Arc<dyn RevocationStore> = Arc::new(FileStore::open(&path).unwrap());
            hmac_refresher(NOW + 23 * HOUR + 1, store)
        })
        .collect();
    assert_eq!(race(refreshers, old.as_str()), 1);
    let reopened: Arc<dyn RevocationStore> = Arc::new(FileStore::open(&path).unwrap());
    let report = hmac_validator(NOW + 23 * HOUR + 1, reopened).validate(old.as_str());
    assert_eq!(error_codes(&report), ["token.revoked"]);
}
