//! Validators sharing one Redis store, with real HMAC-signed tokens, and the `warden`
//! commands on `--store` specs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../blacklist/tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{OwnRedis, shared_redis};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use warden_blacklist::{RedisConfig, RedisStore, Revocation, RevocationStore, Target};
use warden_claims::CompactToken;
use warden_policy::Policy;
use warden_validator::{KeyFormat, KeySet, Report, SystemClock, Validator};

const SECRET: &[u8] = b"replica-test-secret-of-more-than-32-bytes";

const POLICY: &str = "version: 1
algorithms: [HS256]
rules:
  revocation: {}
  expiry: {}
  usage: { per: jti, deny_after: 3, severity: error }
";

fn wall_clock() -> i64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(elapsed.as_secs()).unwrap()
}

fn sign(jti: &str) -> String {
    let now = wall_clock();
    let claims = serde_json::json!({
        "iss": "https://idp.example",
        "sub": "alice",
        "jti": jti,
        "iat": now,
        "exp": now + 600,
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
    .unwrap()
}

/// Builds a replica: a validator and the Redis store it checks and counts with.
fn replica(policy: &str, config: &RedisConfig) -> (Validator, Arc<RedisStore>) {
    let policy = Policy::from_yaml_str(policy, "inline.yaml").unwrap();
    let keys = KeySet::from_bytes(SECRET, KeyFormat::HmacRaw, "inline").unwrap();
    let store = Arc::new(RedisStore::new(config.clone()));
    let validator = Validator::builder(policy, keys)
        .clock(Arc::new(SystemClock))
        .revocations(store.clone())
        .usage(store.clone())
        .build()
        .unwrap();
    (validator, store)
}

fn validator(policy: &str, config: &RedisConfig) -> Validator {
    replica(policy, config).0
}

fn codes(report: &Report) -> Vec<&'static str> {
    report.codes().collect()
}

fn revoke_by_hash(store: &RedisStore, token: &str) {
    let compact = CompactToken::parse(token).unwrap();
    let now = wall_clock();
    let target = Target::Token {
        hash: *compact.id().as_bytes(),
    };
    store
        .revoke(Revocation::new(target, now, Some(now + 601)))
        .unwrap();
}

#[test]
fn revocation_reaches_other_replica() {
    let shared = shared_redis("replicas_revoke");
    let (first, first_store) = replica(POLICY, &shared.config);
    let second = validator(POLICY, &shared.config);
    let token = sign("replica-1");
    assert!(first.validate(&token).is_allowed());
    assert!(second.validate(&token).is_allowed());
    revoke_by_hash(&first_store, &token);
    let report = second.validate(&token);
    assert!(!report.is_allowed());
    assert_eq!(codes(&report), ["token.revoked"]);
    assert!(codes(&first.validate(&token)).contains(&"token.revoked"));
}

#[test]
fn usage_is_counted_across_replicas() {
    let shared = shared_redis("replicas_usage");
    let first = validator(POLICY, &shared.config);
    let second = validator(POLICY, &shared.config);
    let token = sign("replica-2");
    assert!(first.validate(&token).is_allowed());
    assert!(second.validate(&token).is_allowed());
    assert!(first.validate(&token).is_allowed());
    let fourth = second.validate(&token);
    assert_eq!(
        codes(&fourth),
        ["usage.exceeded"],
        "the limit of 3 spans both replicas"
    );
}

#[test]
fn outage_reports_unavailable_then_recovers() {
    let mut server = OwnRedis::start();
    let config = RedisConfig::parse(&server.url())
        .unwrap()
        .timeout(Duration::from_millis(500));
    let (validator, store) = replica(POLICY, &config);
    let token = sign("outage-1");
    assert!(validator.validate(&token).is_allowed());
    server.kill();
    let during = validator.validate(&token);
    assert!(!during.is_allowed(), "an unreachable store fails closed");
    assert!(
        codes(&during).contains(&"store.unavailable"),
        "{:?}",
        codes(&during)
    );
    server.restart();
    let after = validator.validate(&token);
    assert!(after.is_allowed(), "{:?}", codes(&after));
    revoke_by_hash(&store, &token);
    assert_eq!(codes(&validator.validate(&token)), ["token.revoked"]);
}

#[test]
fn outage_degrades_to_warning_by_policy() {
    let mut server = OwnRedis::start();
    let config = RedisConfig::parse(&server.url())
        .unwrap()
        .timeout(Duration::from_millis(500));
    let policy = format!("{POLICY}  store_unavailable: {{ severity: warning }}\n");
    let validator = validator(&policy, &config);
    server.kill();
    let report = validator.validate(&sign("outage-2"));
    assert!(
        report.is_allowed(),
        "the policy degrades an outage to a warning"
    );
    assert!(codes(&report).contains(&"store.unavailable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_revocation_reaches_validator() {
    let shared = shared_redis("replicas_async");
    let validator = Arc::new(validator(POLICY, &shared.config));
    let admin = warden_blacklist::AsyncRedisStore::new(shared.config.clone()).unwrap();
    let token = sign("async-1");
    let compact = CompactToken::parse(&token).unwrap();
    let now = wall_clock();
    let target = Target::Token {
        hash: *compact.id().as_bytes(),
    };
    admin
        .revoke(Revocation::new(target, now, Some(now + 601)))
        .await
        .unwrap();
    let checked = validator.clone();
    let report = tokio::task::spawn_blocking(move || checked.validate(&token))
        .await
        .unwrap();
    assert_eq!(codes(&report), ["token.revoked"]);
}

fn warden(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_revokes_and_lists_in_redis() {
    let shared = shared_redis("cli_redis");
    let url = shared.url();
    let revoked = warden(&["revoke", "--store", &url, "--jti", "cli-1", "--ttl", "1h"]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let listed = warden(&["blacklist", "list", "--store", &url]);
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success());
    assert!(stdout.contains("jti `cli-1`"), "{stdout}");
    let purged = warden(&["blacklist", "purge", "--store", &url]);
    assert!(String::from_utf8_lossy(&purged.stdout).starts_with("dropped 0 lapsed entries"));
}

#[test]
fn cli_validate_denies_token_revoked_in_redis() {
    let shared = shared_redis("cli_validate");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    let key = dir.path().join("secret.key");
    std::fs::write(&policy, POLICY).unwrap();
    std::fs::write(&key, SECRET).unwrap();
    let token = sign("cli-2");
    let url = shared.url();
    let revoked = warden(&["revoke", "--store", &url, &token]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let policy = policy.to_str().unwrap();
    let key = key.to_str().unwrap();
    let args = [
        "validate", "--policy", policy, "--key", key, "--format", "json",
    ];
    let with_store = warden(&[&args[..], &["--store", &url, &token]].concat());
    assert_eq!(with_store.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&with_store.stdout).contains("token.revoked"));
    let without_store = warden(&[&args[..], &["--store", "memory", &token]].concat());
    assert_eq!(without_store.status.code(), Some(0));
}

#[test]
fn cli_accepts_file_spec_and_bare_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("revoked.journal");
    let spec = format!("file:{}", path.display());
    let revoked = warden(&["revoke", "--store", &spec, "--kid", "k1", "--ttl", "1h"]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let listed = warden(&["blacklist", "list", "--store", path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("key id `k1`"));
}

#[test]
fn cli_rejects_unknown_scheme() {
    let output = warden(&["blacklist", "list", "--store", "etcd://127.0.0.1:2379"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown store scheme `etcd`"), "{stderr}");
}
