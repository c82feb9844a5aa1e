//! The background token manager on a paused tokio clock: refresh timing, backoff and stop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::{Instant, sleep};
use warden_blacklist::{MemoryStore, RevocationStore};
use warden_policy::Policy;
use warden_validator::{
    AsyncTokenManager, BoxError, Clock, FixedClock, IssueRequest, Issuer, KeyFormat, KeySet,
    ManagerError, RefreshSchedule, Refresher, SigningKey, Validator,
};

use common::{NOW, SECRET};

/// Unix time that starts at `NOW` and advances with tokio's (paused) clock.
#[derive(Debug, Clone, Copy)]
struct TokioClock(Instant);

impl Clock for TokioClock {
    fn now(&self) -> i64 {
        NOW + i64::try_from(self.0.elapsed().as_secs()).unwrap()
    }
}

fn policy() -> Policy {
    Policy::from_yaml_str(
        "version: 1\nalgorithms: [HS256]\nrefresh: { window: 1h, grace: 5m }\nrules:\n  expiry: {}\n  revocation: {}\n",
        "inline.yaml",
    )
    .unwrap()
}

fn issuer(clock: TokioClock) -> Issuer {
    Issuer::new(policy(), SigningKey::hmac(SECRET).unwrap())
        .unwrap()
        .with_clock(Arc::new(clock))
}

fn token(clock: TokioClock, ttl: u64) -> String {
    issuer(clock)
        .issue(&IssueRequest::new("alice", "user", ttl))
        .unwrap()
        .into_string()
}

fn schedule(threshold: u64) -> RefreshSchedule {
    RefreshSchedule {
        threshold: Duration::from_secs(threshold),
        initial_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(4),
    }
}

/// Seconds since `start` at which the refresh function was called.
type Calls = Arc<Mutex<Vec<u64>>>;

/// A refresh function that fails `failures` times, then issues a new token.
fn flaky(
    clock: TokioClock,
    failures: usize,
    calls: Calls,
) -> impl Fn(String) -> std::pin::Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>
+ Send
+ Sync
+ 'static {
    move |_old| {
        let calls = calls.clone();
        Box::pin(async move {
            let attempt = {
                let mut calls = calls.lock().unwrap();
                calls.push(clock.0.elapsed().as_secs());
                calls.len()
            };
            if attempt <= failures {
                return Err("issuer unavailable".into());
            }
            Ok(token(clock, 100))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn refreshes_before_expiry() {
    let clock = TokioClock(Instant::now());
    let old = token(clock, 7_200);
    let store: Arc<dyn RevocationStore> = Arc::new(MemoryStore::new());
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap();
    let refresher = Arc::new(Refresher::new(issuer(clock), keys, store.clone()).unwrap());
    let calls: Calls = Arc::default();
    let recorded = calls.clone();
    let refresh = move |current: String| {
        let refresher = refresher.clone();
        let recorded = recorded.clone();
        async move {
            recorded.lock().unwrap().push(clock.0.elapsed().as_secs());
            let fresh = refresher.refresh(&current)?;
            Ok::<_, BoxError>(fresh.into_string())
        }
    };
    let manager =
        AsyncTokenManager::spawn_with_clock(old.clone(), schedule(600), refresh, &FixedClock(NOW))
            .unwrap();
    sleep(Duration::from_secs(6_599)).await;
    assert!(calls.lock().unwrap().is_empty());
    assert_eq!(manager.valid_token().unwrap(), old);
    sleep(Duration::from_secs(2)).await;
    assert_eq!(*calls.lock().unwrap(), [6_600]);
    let fresh = manager.valid_token().unwrap();
    assert_ne!(fresh, old);
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "secret").unwrap();
    let validator = Validator::builder(policy(), keys)
        .revocations(store)
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    assert!(validator.validate(&fresh).is_allowed());
    assert_eq!(
        validator.validate(&old).codes().collect::<Vec<_>>(),
        ["token.revoked"]
    );
    manager.stop().await;
}

#[tokio::test(start_paused = true)]
async fn retries_with_exponential_backoff() {
    let clock = TokioClock(Instant::now());
    let old = token(clock, 100);
    let calls: Calls = Arc::default();
    let manager = AsyncTokenManager::spawn_with_clock(
        old.clone(),
        schedule(30),
        flaky(clock, 5, calls.clone()),
        &FixedClock(NOW),
    )
    .unwrap();
    sleep(Duration::from_secs(84)).await;
    assert_eq!(*calls.lock().unwrap(), [70, 71, 73, 77, 81]);
    assert_eq!(
        manager.valid_token().unwrap(),
        old,
        "still valid while retrying"
    );
    sleep(Duration::from_secs(2)).await;
    assert_eq!(*calls.lock().unwrap(), [70, 71, 73, 77, 81, 85]);
    let fresh = manager.valid_token().unwrap();
    assert_ne!(fresh, old);
    manager.stop().await;
}

#[tokio::test(start_paused = true)]
async fn short_token_refreshes_at_half_life() {
    let clock = TokioClock(Instant::now());
    let calls: Calls = Arc::default();
    let manager = AsyncTokenManager::spawn_with_clock(
        token(clock, 100),
        schedule(300),
        flaky(clock, 0, calls.clone()),
        &FixedClock(NOW),
    )
    .unwrap();
    sleep(Duration::from_secs(120)).await;
    assert_eq!(*calls.lock().unwrap(), [50, 100]);
    manager.stop().await;
}

#[tokio::test(start_paused = true)]
async fn expired_token_is_an_error() {
    let clock = TokioClock(Instant::now());
    let calls: Calls = Arc::default();
    let manager = AsyncTokenManager::spawn_with_clock(
        token(clock, 100),
        schedule(30),
        flaky(clock, usize::MAX, calls),
        &FixedClock(NOW),
    )
    .unwrap();
    sleep(Duration::from_secs(99)).await;
    assert!(
        manager.valid_token().is_ok(),
        "valid until exp while retrying"
    );
    sleep(Duration::from_secs(1)).await;
    match manager.valid_token() {
        Err(ManagerError::Expired { last_error, .. }) => {
            assert_eq!(last_error.as_deref(), Some("issuer unavailable"));
        }
        other => panic!("expected an expiry error, got {other:?}"),
    }
    manager.stop().await;
}

#[tokio::test(start_paused = true)]
async fn stop_before_due_prevents_refresh() {
    let clock = TokioClock(Instant::now());
    let calls: Calls = Arc::default();
    let manager = AsyncTokenManager::spawn_with_clock(
        token(clock, 100),
        schedule(30),
        flaky(clock, 0, calls.clone()),
        &FixedClock(NOW),
    )
    .unwrap();
    sleep(Duration::from_secs(10)).await;
    manager.stop().await;
    sleep(Duration::from_secs(200)).await;
    assert!(calls.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn stop_during_backoff_ends_retries() {
    let clock = TokioClock(Instant::now());
    let calls: Calls = Arc::default();
    let manager = AsyncTokenManager::spawn_with_clock(
        token(clock, 100),
        schedule(30),
        flaky(clock, usize::MAX, calls.clone()),
        &FixedClock(NOW),
    )
    .unwrap();
    sleep(Duration::from_secs(72)).await;
    assert_eq!(*calls.lock().unwrap(), [70, 71]);
    let stopped_at = Instant::now();
    manager.stop().await;
    assert_eq!(
        stopped_at.elapsed(),
        Duration::ZERO,
        "stop does not wait for the backoff"
    );
    sleep(Duration::from_secs(60)).await;
    assert_eq!(*calls.lock().unwrap(), [70, 71]);
}

#[test]
fn spawn_outside_runtime_fails() {
    let clock = FixedClock(NOW);
    let issued = Issuer::new(policy(), SigningKey::hmac(SECRET).unwrap())
        .unwrap()
        .with_clock(Arc::new(clock))
        .issue(&IssueRequest::new("alice", "user", 100))
        .unwrap()
        .into_string();
    let result = AsyncTokenManager::spawn(issued, schedule(30), |_old: String| async {
        Err::<String, BoxError>("unused".into())
    });
    assert!(matches!(result, Err(ManagerError::NoRuntime)));
}
