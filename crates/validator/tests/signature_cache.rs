//! The verified-signature cache changes no report: revocation, expiry and every other rule
//! still apply to a token whose signature came from the cache.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use warden_blacklist::{MemoryStore, Revocation, RevocationStore, Target};
use warden_policy::Policy;
use warden_validator::{Clock, KeyFormat, KeySet, Report, Validator};

const START: i64 = 1_700_000_000;

struct SteppingClock(AtomicI64);

impl Clock for SteppingClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn token(jti: &str) -> String {
    let key = EncodingKey::from_ec_pem(&fixture("ec256.key")).unwrap();
    let claims = json!({"sub": "alice", "iat": START, "exp": START + 100, "jti": jti});
    jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::ES256), &claims, &key).unwrap()
}

fn validator(cache: usize, store: Arc<MemoryStore>, clock: Arc<SteppingClock>) -> Validator {
    let policy = Policy::from_yaml_str(
        "version: 1\nalgorithms: [ES256]\nrules:\n  revocation: {}\n  expiry: {}\n  usage: { deny_after: 3 }\n",
        "cache.yaml",
    )
    .unwrap();
    let keys = KeySet::from_bytes(&fixture("ec256.pub"), KeyFormat::Pem, "ec256.pub").unwrap();
    Validator::builder(policy, keys)
        .revocations(store)
        .clock(clock)
        .signature_cache(cache)
        .build()
        .unwrap()
}

fn summary(report: &Report) -> (bool, Vec<String>) {
    let findings = report
        .findings
        .iter()
        .map(|finding| format!("{} {}", finding.code, finding.message))
        .collect();
    (report.is_allowed(), findings)
}

#[test]
fn cache_changes_no_report() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(SteppingClock(AtomicI64::new(START + 1)));
    let cached = validator(64, store.clone(), clock.clone());
    let uncached = validator(0, store.clone(), clock.clone());
    let good = token("j-1");
    let other = token("j-2");
    let mut tampered = good.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");

    let mut steps: Vec<(bool, Vec<String>)> = Vec::new();
    let mut check = |token: &str| {
        let with_cache = summary(&cached.validate(token));
        let without = summary(&uncached.validate(token));
        assert_eq!(with_cache, without, "reports differ with the cache on");
        steps.push(with_cache);
    };
    check(&good);
    check(&good);
    check(&tampered);
    check(&other);
    store
        .revoke(Revocation::new(
            Target::Jti {
                issuer: None,
                jti: "j-1".to_owned(),
            },
            START + 2,
            None,
        ))
        .unwrap();
    check(&good);
    check(&other);
    clock.0.store(START + 200, Ordering::SeqCst);
    check(&other);

    assert!(steps[0].0, "the valid token was denied");
    assert!(steps[1].0, "the valid token was denied from the cache");
    assert!(!steps[2].0, "the tampered token was allowed");
    assert!(
        steps[4]
            .1
            .iter()
            .any(|line| line.starts_with("token.revoked"))
    );
    assert!(steps[5].0, "revoking j-1 denied j-2");
    assert!(
        steps[6]
            .1
            .iter()
            .any(|line| line.starts_with("token.expired"))
    );
}

#[test]
fn cache_rejects_changed_signature() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(SteppingClock(AtomicI64::new(START + 1)));
    let cached = validator(64, store, clock);
    let good = token("j-3");
    assert!(cached.validate(&good).is_allowed());
    let (signing_input, _) = good.rsplit_once('.').unwrap();
    let forged = format!("{signing_input}.{}", "A".repeat(86));
    let report = cached.validate(&forged);
    assert!(!report.is_allowed());
    assert_eq!(report.codes().collect::<Vec<_>>(), ["signature.invalid"]);
}
