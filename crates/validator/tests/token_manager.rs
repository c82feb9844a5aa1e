//! The blocking token manager refreshes near expiry and never hands out a token it could
//! not renew.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use warden_blacklist::{MemoryStore, RevocationStore};
use warden_policy::Policy;
use warden_validator::{
    Clock, IssueRequest, Issuer, KeyFormat, KeySet, ManagerError, Refresher, SigningKey,
    TokenManager,
};

use common::{NOW, SECRET};

/// A clock the test moves by hand.
#[derive(Debug)]
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn policy() -> Policy {
    Policy::from_yaml_str(
        "version: 1\nalgorithms: [HS256]\nrefresh: { window: 1h, grace: 5m }\nrules:\n  expiry: {}\n  revocation: {}\n",
        "inline.yaml",
    )
    .unwrap()
}

fn issuer(clock: Arc<ManualClock>) -> Issuer {
    Issuer::new(policy(), SigningKey::hmac(SECRET).unwrap())
        .unwrap()
        .with_clock(clock)
}

fn two_hour_token(clock: &Arc<ManualClock>) -> String {
    issuer(clock.clone())
        .issue(&IssueRequest::new("alice", "user", 7_200))
        .unwrap()
        .into_string()
}

#[test]
fn manager_keeps_token_far_from_expiry() {
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let token = two_hour_token(&clock);
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let manager = TokenManager::new(token.clone(), 600, move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        Err("not expected".into())
    })
    .unwrap()
    .with_clock(clock.clone());
    clock.0.store(NOW + 6_599, Ordering::SeqCst);
    assert_eq!(manager.valid_token().unwrap(), token);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn manager_refreshes_within_threshold() {
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let token = two_hour_token(&clock);
    let store: Arc<dyn RevocationStore> = Arc::new(MemoryStore::new());
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap();
    let refresher = Refresher::new(issuer(clock.clone()), keys, store).unwrap();
    let manager = TokenManager::new(token.clone(), 600, move |old| {
        Ok(refresher.refresh(old)?.into_string())
    })
    .unwrap()
    .with_clock(clock.clone());
    clock.0.store(NOW + 6_600, Ordering::SeqCst);
    let fresh = manager.valid_token().unwrap();
    assert_ne!(fresh, token);
    assert_eq!(manager.valid_token().unwrap(), fresh, "refreshed only once");
}

#[test]
fn manager_fails_instead_of_stale_token() {
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let token = two_hour_token(&clock);
    let manager = TokenManager::new(token, 600, |_| Err("issuer unavailable".into()))
        .unwrap()
        .with_clock(clock.clone());
    clock.0.store(NOW + 7_000, Ordering::SeqCst);
    match manager.valid_token() {
        Err(ManagerError::RefreshFailed(reason)) => assert_eq!(reason, "issuer unavailable"),
        other => panic!("expected a refresh failure, got {other:?}"),
    }
}

#[test]
fn manager_refreshes_short_token_at_half_life() {
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let token = issuer(clock.clone())
        .issue(&IssueRequest::new("alice", "user", 100))
        .unwrap()
        .into_string();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let source = clock.clone();
    let manager = TokenManager::new(token.clone(), 600, move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        Ok(two_hour_token(&source))
    })
    .unwrap()
    .with_clock(clock.clone());
    clock.0.store(NOW + 49, Ordering::SeqCst);
    assert_eq!(manager.valid_token().unwrap(), token);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    clock.0.store(NOW + 50, Ordering::SeqCst);
    assert_ne!(manager.valid_token().unwrap(), token);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn manager_rejects_token_without_expiry() {
    let error = TokenManager::new(common::hs256(&serde_json::json!({"sub": "a"})), 60, |_| {
        Err("unused".into())
    })
    .unwrap_err();
    assert!(matches!(error, ManagerError::Unmanageable(_)), "{error}");
}
