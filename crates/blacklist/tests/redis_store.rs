//! The Redis store against a real server: behaviour, expiry, concurrency and outages.
#![cfg(feature = "redis")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{OwnRedis, SHARED_REDIS, query, shared_redis};
use warden_blacklist::{
    AsyncRedisStore, RedisConfig, RedisStore, Revocation, RevocationStore, StoreError, Target,
    TokenFacts, UsageCounter, UsageKey,
};

fn wall_clock() -> i64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(elapsed.as_secs()).unwrap()
}

fn token_facts(hash: u8) -> TokenFacts<'static> {
    TokenFacts {
        token_hash: [hash; 32],
        ..TokenFacts::default()
    }
}

fn revoke_token(store: &dyn RevocationStore, hash: u8, now: i64) {
    let target = Target::Token { hash: [hash; 32] };
    store
        .revoke(Revocation::new(target, now, Some(now + 3_600)))
        .unwrap();
}

#[test]
fn token_revocation_is_found() {
    let shared = shared_redis("token_found");
    let store = RedisStore::new(shared.config.clone());
    let now = wall_clock();
    revoke_token(&store, 1, now);
    let entry = store.check(&token_facts(1), now).unwrap().unwrap();
    assert_eq!(entry.target, Target::Token { hash: [1; 32] });
    assert_eq!(entry.revoked_at, now);
    assert!(store.check(&token_facts(2), now).unwrap().is_none());
}

#[test]
fn entry_expires_at_token_expiry() {
    let shared = shared_redis("entry_ttl");
    let store = RedisStore::new(shared.config.clone());
    let now = wall_clock();
    let expires_at = now + 600;
    let target = Target::Token { hash: [3; 32] };
    store
        .revoke(Revocation::new(target.clone(), now, Some(expires_at)))
        .unwrap();
    let key = format!(
        "{}rv:token:{}",
        shared.config.key_prefix(),
        hex::encode([3_u8; 32])
    );
    let expire_time: i64 = query(SHARED_REDIS, redis::cmd("EXPIRETIME").arg(&key));
    assert_eq!(expire_time, expires_at);
    assert!(store.check(&token_facts(3), expires_at).unwrap().is_none());
}

#[test]
fn lapsed_entry_is_gone_from_redis() {
    let shared = shared_redis("entry_gone");
    let store = RedisStore::new(shared.config.clone());
    let now = wall_clock();
    let target = Target::Token { hash: [4; 32] };
    store
        .revoke(Revocation::new(target, now - 10, Some(now - 1)))
        .unwrap();
    let pattern = format!("{}*", shared.config.key_prefix());
    let keys: Vec<String> = query(SHARED_REDIS, redis::cmd("KEYS").arg(&pattern));
    assert!(
        keys.is_empty(),
        "an entry past its expiry is dropped by Redis: {keys:?}"
    );
}

#[test]
fn jti_entry_respects_issuer() {
    let shared = shared_redis("jti_issuer");
    let store = RedisStore::new(shared.config.clone());
    let target = Target::Jti {
        issuer: Some("https://idp.example".into()),
        jti: "j-1".into(),
    };
    let now = wall_clock();
    store.revoke(Revocation::new(target, now, None)).unwrap();
    let mut facts = TokenFacts {
        issuer: Some("https://idp.example"),
        jti: Some("j-1"),
        ..token_facts(0)
    };
    assert!(store.check(&facts, now).unwrap().is_some());
    facts.issuer = Some("https://other.example");
    assert!(store.check(&facts, now).unwrap().is_none());
    facts.issuer = None;
    assert!(store.check(&facts, now).unwrap().is_none());
}

#[test]
fn subject_entry_covers_older_tokens() {
    let shared = shared_redis("subject_older");
    let store = RedisStore::new(shared.config.clone());
    let now = wall_clock();
    let target = Target::Subject {
        issuer: None,
        subject: "alice".into(),
        issued_before: now - 100,
    };
    store
        .revoke(Revocation::new(target, now, Some(now + 600)))
        .unwrap();
    let old = TokenFacts {
        subject: Some("alice"),
        issuer: Some("idp"),
        issued_at: Some(now - 101),
        ..token_facts(0)
    };
    let new = TokenFacts {
        issued_at: Some(now - 100),
        ..old
    };
    let undated = TokenFacts {
        issued_at: None,
        ..old
    };
    assert!(store.check(&old, now).unwrap().is_some());
    assert!(store.check(&new, now).unwrap().is_none());
    assert!(store.check(&undated, now).unwrap().is_some());
}

#[test]
fn key_id_entry_matches_kid() {
    let shared = shared_redis("kid_match");
    let store = RedisStore::new(shared.config.clone());
    let now = wall_clock();
    let target = Target::KeyId { kid: "k:2".into() };
    store
        .revoke(Revocation::new(target, now, Some(now + 60)))
        .unwrap();
    let signed = TokenFacts {
        key_id: Some("k:2"),
        ..token_facts(0)
    };
    let other = TokenFacts {
        key_id: Some("k:3"),
        ..token_facts(0)
    };
    assert!(store.check(&signed, now).unwrap().is_some());
    assert!(store.check(&other, now).unwrap().is_none());
}

#[test]
fn list_and_purge_see_every_kind() {
    let shared = shared_redis("list_purge");
    let store = RedisStore::new(shared.config.clone());
    let now = wall_clock();
    revoke_token(&store, 5, now);
    let kid = Target::KeyId { kid: "old".into() };
    store
        .revoke(Revocation::new(kid, now, Some(now + 10)))
        .unwrap();
    let jti = Target::Jti {
        issuer: None,
        jti: "j".into(),
    };
    store.revoke(Revocation::new(jti, now, None)).unwrap();
    assert_eq!(store.list(now).unwrap().len(), 3);
    assert_eq!(store.purge(now + 10).unwrap(), 1);
    assert_eq!(store.list(now).unwrap().len(), 2);
}

#[test]
fn usage_counter_expires_with_window() {
    let shared = shared_redis("usage_ttl");
    let store = RedisStore::new(shared.config.clone());
    let now = wall_clock();
    let key = UsageKey::Token([6; 32]);
    assert_eq!(
        store
            .increment(&key, now, Some(30), Some(now + 60))
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .increment(&key, now + 1, Some(30), Some(now + 60))
            .unwrap(),
        2
    );
    let redis_key = format!(
        "{}use:token:{}",
        shared.config.key_prefix(),
        hex::encode([6_u8; 32])
    );
    let expire_time: i64 = query(SHARED_REDIS, redis::cmd("EXPIRETIME").arg(&redis_key));
    assert_eq!(
        expire_time,
        now + 30,
        "the window ends before the token expires"
    );
    assert_eq!(
        store
            .increment(&key, now + 30, Some(30), Some(now + 60))
            .unwrap(),
        1
    );
}

#[test]
fn usage_counter_never_outlives_token() {
    let shared = shared_redis("usage_token_exp");
    let store = RedisStore::new(shared.config.clone());
    let now = wall_clock();
    let key = UsageKey::Subject {
        issuer: Some("idp".into()),
        subject: "bob".into(),
    };
    store
        .increment(&key, now, Some(3_600), Some(now + 20))
        .unwrap();
    let redis_key = format!("{}use:sub:[\"idp\",\"bob\"]", shared.config.key_prefix());
    let expire_time: i64 = query(SHARED_REDIS, redis::cmd("EXPIRETIME").arg(&redis_key));
    assert_eq!(expire_time, now + 20);
}

#[test]
fn usage_counts_are_exact_across_threads() {
    let shared = shared_redis("usage_threads");
    let store = Arc::new(RedisStore::new(shared.config.clone()));
    let key = UsageKey::Token([7; 32]);
    let now = wall_clock();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let key = key.clone();
            std::thread::spawn(move || {
                for _ in 0..250 {
                    store.increment(&key, now, None, Some(now + 600)).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(
        store.increment(&key, now, None, Some(now + 600)).unwrap(),
        2_001
    );
}

/// Environment variable that turns `usage_child` into a worker of `usage_counts_are_exact_across_processes`.
const CHILD_PREFIX: &str = "WARDEN_TEST_USAGE_PREFIX";
const CHILD_USES: u64 = 1_000;

#[test]
fn usage_counts_are_exact_across_processes() {
    let shared = shared_redis("usage_processes");
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args(["usage_child", "--exact", "--include-ignored"])
                .env(CHILD_PREFIX, shared.config.key_prefix())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a counting process failed");
    }
    let store = RedisStore::new(shared.config.clone());
    let uses = store
        .increment(&UsageKey::Token([8; 32]), wall_clock(), None, None)
        .unwrap();
    assert_eq!(uses, 2 * CHILD_USES + 1);
}

/// Worker process of `usage_counts_are_exact_across_processes`; does nothing on its own.
#[test]
#[ignore = "run as a child process by usage_counts_are_exact_across_processes"]
fn usage_child() {
    let Ok(prefix) = std::env::var(CHILD_PREFIX) else {
        return;
    };
    let config = RedisConfig::parse(SHARED_REDIS).unwrap().prefix(prefix);
    let store = Arc::new(RedisStore::new(config));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..CHILD_USES / 4 {
                    store
                        .increment(&UsageKey::Token([8; 32]), wall_clock(), None, None)
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

fn quick(url: &str) -> RedisConfig {
    RedisConfig::parse(url)
        .unwrap()
        .timeout(Duration::from_millis(500))
}

#[test]
fn outage_fails_then_recovers() {
    let mut server = OwnRedis::start();
    let store = RedisStore::new(quick(&server.url()));
    let now = wall_clock();
    revoke_token(&store, 9, now);
    server.kill();
    let during = store.check(&token_facts(9), now);
    assert!(
        matches!(during, Err(StoreError::Unavailable(_))),
        "got {during:?}"
    );
    let counted = store.increment(&UsageKey::Token([9; 32]), now, None, None);
    assert!(matches!(counted, Err(StoreError::Unavailable(_))));
    server.restart();
    // The server has no persistence, so the restarted one is empty.
    assert!(store.check(&token_facts(9), now).unwrap().is_none());
    revoke_token(&store, 9, now);
    assert!(store.check(&token_facts(9), now).unwrap().is_some());
}

#[test]
fn stale_connection_is_replaced() {
    let mut server = OwnRedis::start();
    let store = RedisStore::new(quick(&server.url()));
    let now = wall_clock();
    store.ping().unwrap();
    // No call happens while the server is down, so the pooled connection goes stale.
    server.kill();
    server.restart();
    assert!(store.check(&token_facts(1), now).unwrap().is_none());
}

#[test]
fn unavailable_error_names_server() {
    let mut server = OwnRedis::start();
    let url = server.url();
    server.kill();
    let store = RedisStore::new(quick(&url));
    let error = store.check(&token_facts(1), wall_clock()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&format!("127.0.0.1:{}", server.port)),
        "{message}"
    );
}

#[test]
fn replica_wait_rejects_missing_replicas() {
    let shared = shared_redis("replica_wait");
    let config = shared
        .config
        .clone()
        .durability(warden_blacklist::Durability::Replicas {
            count: 1,
            timeout: Duration::from_millis(50),
        });
    let store = RedisStore::new(config);
    let now = wall_clock();
    let target = Target::Token { hash: [10; 32] };
    let result = store.revoke(Revocation::new(target, now, Some(now + 60)));
    let Err(StoreError::Unavailable(message)) = result else {
        panic!("expected an unacknowledged revocation, got {result:?}");
    };
    assert!(message.contains("0 of 1 replicas"), "{message}");
}

#[test]
fn async_store_needs_runtime() {
    let result = AsyncRedisStore::open(SHARED_REDIS);
    let Err(StoreError::Unavailable(message)) = result else {
        panic!("expected an error outside a Tokio runtime");
    };
    assert!(message.contains("needs a Tokio runtime"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_store_shares_entries() {
    let shared = shared_redis("async_shares");
    let asynchronous = AsyncRedisStore::new(shared.config.clone()).unwrap();
    let blocking = RedisStore::new(shared.config.clone());
    let now = wall_clock();
    let target = Target::Token { hash: [11; 32] };
    asynchronous
        .revoke(Revocation::new(target, now, Some(now + 60)))
        .await
        .unwrap();
    // The blocking store runs inside block_in_place on this multi-thread runtime.
    assert!(blocking.check(&token_facts(11), now).unwrap().is_some());
    revoke_token(&blocking, 12, now);
    assert!(
        asynchronous
            .check(&token_facts(12), now)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(asynchronous.list(now).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_counts_are_exact_across_tasks() {
    let shared = shared_redis("async_counts");
    let store = AsyncRedisStore::new(shared.config.clone()).unwrap();
    let key = UsageKey::Jti {
        issuer: None,
        jti: "j".into(),
    };
    let now = wall_clock();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let key = key.clone();
            tokio::spawn(async move {
                for _ in 0..50 {
                    store
                        .increment(&key, now, None, Some(now + 60))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        store
            .increment(&key, now, None, Some(now + 60))
            .await
            .unwrap(),
        801
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_store_recovers_after_outage() {
    let mut server = OwnRedis::start();
    let store = AsyncRedisStore::new(quick(&server.url())).unwrap();
    let now = wall_clock();
    assert!(store.check(&token_facts(1), now).await.unwrap().is_none());
    server.kill();
    let during = store.check(&token_facts(1), now).await;
    assert!(
        matches!(during, Err(StoreError::Unavailable(_))),
        "got {during:?}"
    );
    server.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    // The manager reconnects in the background after the first failed call.
    let after = loop {
        let result = store.check(&token_facts(1), now).await;
        if result.is_ok() || std::time::Instant::now() > deadline {
            break result;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(after.unwrap().is_none());
}

#[test]
fn try_revoke_has_one_winner_across_clients() {
    let shared = shared_redis("try_revoke_race");
    let now = wall_clock();
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let config = shared.config.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let store = RedisStore::new(config);
                let target = Target::Jti {
                    issuer: None,
                    jti: "refresh-1".into(),
                };
                barrier.wait();
                store
                    .try_revoke(Revocation::new(target, now, Some(now + 60)))
                    .unwrap()
            })
        })
        .collect();
    let winners = handles
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .filter(|won| *won)
        .count();
    assert_eq!(winners, 1);
    let store = RedisStore::new(shared.config.clone());
    let lapsed = Target::Jti {
        issuer: None,
        jti: "refresh-1".into(),
    };
    assert!(
        store
            .try_revoke(Revocation::new(lapsed, now + 61, Some(now + 120)))
            .unwrap(),
        "a lapsed entry is replaced"
    );
}

/// A loopback TCP relay to the shared Redis that counts request/reply exchanges: each time
/// the client sends after the server has replied, a new round trip begins.
struct CountingRelay {
    port: u16,
    round_trips: Arc<std::sync::atomic::AtomicUsize>,
}

impl CountingRelay {
    fn start() -> Self {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let round_trips = Arc::new(AtomicUsize::new(0));
        let counter = round_trips.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = std::net::TcpStream::connect("127.0.0.1:6379").unwrap();
                let replied = Arc::new(AtomicBool::new(true));
                let (mut client_in, mut server_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut server_in, mut client_out) = (server, client);
                let (replied_up, counter_up) = (replied.clone(), counter.clone());
                std::thread::spawn(move || {
                    let mut buffer = [0_u8; 65_536];
                    while let Ok(read) = client_in.read(&mut buffer) {
                        // Counted before forwarding, so the count is final by the time the
                        // client has its reply.
                        if read > 0 && replied_up.swap(false, Ordering::SeqCst) {
                            counter_up.fetch_add(1, Ordering::SeqCst);
                        }
                        if read == 0 || server_out.write_all(&buffer[..read]).is_err() {
                            return;
                        }
                    }
                });
                std::thread::spawn(move || {
                    let mut buffer = [0_u8; 65_536];
                    while let Ok(read) = server_in.read(&mut buffer) {
                        if read > 0 {
                            replied.store(true, Ordering::SeqCst);
                        }
                        if read == 0 || client_out.write_all(&buffer[..read]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        CountingRelay { port, round_trips }
    }
}

#[test]
fn check_and_count_is_one_round_trip() {
    use warden_blacklist::{TokenState, UsageCount};
    let shared = shared_redis("one_round_trip");
    let relay = CountingRelay::start();
    let url = format!(
        "redis://127.0.0.1:{}/0?prefix={}",
        relay.port,
        shared.config.key_prefix()
    );
    let store = RedisStore::new(RedisConfig::parse(&url).unwrap());
    let now = wall_clock();
    let facts = TokenFacts {
        jti: Some("j1"),
        subject: Some("alice"),
        key_id: Some("k1"),
        ..token_facts(5)
    };
    let key = UsageKey::Token([5; 32]);
    let count = || UsageCount {
        key: &key,
        window: None,
        expires_at: Some(now + 60),
    };
    store.ping().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    relay
        .round_trips
        .store(0, std::sync::atomic::Ordering::SeqCst);

    let (entry, uses) = store.check_and_count(&facts, now, Some(count())).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        relay.round_trips.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert!(entry.is_none());
    assert_eq!(uses, Some(1));

    // Separate calls cost one round trip each, which shows the relay counts exchanges.
    relay
        .round_trips
        .store(0, std::sync::atomic::Ordering::SeqCst);
    store.check(&facts, now).unwrap();
    store.increment(&key, now, None, Some(now + 60)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        relay.round_trips.load(std::sync::atomic::Ordering::SeqCst),
        2
    );

    revoke_token(&store, 5, now);
    let (entry, uses) = store.check_and_count(&facts, now, Some(count())).unwrap();
    assert!(entry.is_some(), "the combined call sees revocations");
    assert_eq!(uses, Some(3));
}
