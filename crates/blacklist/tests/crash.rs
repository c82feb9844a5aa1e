//! Crash tests: a process that revokes in a loop is killed with SIGKILL at random points,
//! and every revocation it acknowledged must be there afterwards.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(feature = "redis")]
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use warden_blacklist::{FileStore, Revocation, RevocationStore, Target, TokenFacts};

/// Environment variables that turn `crash_child` into a revoking worker.
const CHILD_STORE: &str = "WARDEN_TEST_CRASH_STORE";
const CHILD_FIRST: &str = "WARDEN_TEST_CRASH_FIRST";

/// Kill rounds per test; each restarts the worker on the same store.
const ROUNDS: u32 = 5;

fn wall_clock() -> i64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(elapsed.as_secs()).unwrap()
}

/// A small xorshift generator; the seed is printed so a failure can be replayed.
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let seed = u64::from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos(),
        ) | 1;
        eprintln!("crash test seed {seed}");
        Random(seed)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn hash_of(number: u32) -> [u8; 32] {
    let mut hash = [0xA5_u8; 32];
    hash[..4].copy_from_slice(&number.to_be_bytes());
    hash
}

fn revocation(number: u32) -> Revocation {
    let now = wall_clock();
    Revocation::new(
        Target::Token {
            hash: hash_of(number),
        },
        now,
        Some(now + 3_600),
    )
}

fn is_revoked(store: &dyn RevocationStore, number: u32) -> bool {
    let facts = TokenFacts {
        token_hash: hash_of(number),
        ..TokenFacts::default()
    };
    store.check(&facts, wall_clock()).unwrap().is_some()
}

/// Runs `crash_child` on `store` from `first` on, kills it once it has acknowledged `acks`
/// revocations, and returns the acknowledged numbers.
fn run_and_kill(store: &str, first: u32, acks: u64) -> Vec<u32> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--include-ignored", "--nocapture"])
        .env(CHILD_STORE, store)
        .env(CHILD_FIRST, first.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acknowledged = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(number) = line.strip_prefix("acked ") {
            acknowledged.push(number.parse().unwrap());
        }
        if acknowledged.len() as u64 >= acks {
            break;
        }
    }
    // Child::kill sends SIGKILL on Unix, so the worker gets no chance to finish a write.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the worker must have been killed, not have finished"
    );
    acknowledged
}

fn check_survives_kills(store_spec: &str, open: &dyn Fn() -> Box<dyn RevocationStore>) {
    let mut random = Random::seeded();
    let mut all = Vec::new();
    let mut next = 0_u32;
    for round in 0..ROUNDS {
        let acks = 1 + random.below(150);
        let acknowledged = run_and_kill(store_spec, next, acks);
        assert!(
            !acknowledged.is_empty(),
            "round {round}: the worker acknowledged nothing"
        );
        next = acknowledged.iter().max().unwrap() + 2;
        all.extend(acknowledged);
        let store = open();
        for number in &all {
            assert!(
                is_revoked(store.as_ref(), *number),
                "round {round}: acknowledged revocation {number} is missing"
            );
        }
    }
}

#[test]
fn file_revocations_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("revoked.journal");
    let spec = format!("file:{}", path.display());
    check_survives_kills(&spec, &|| Box::new(FileStore::open(&path).unwrap()));
}

#[cfg(feature = "redis")]
#[test]
fn redis_revocations_survive_client_sigkill() {
    let shared = common::shared_redis("crash_client");
    let config = shared.config.clone();
    check_survives_kills(&shared.url(), &|| {
        Box::new(warden_blacklist::RedisStore::new(config.clone()))
    });
}

/// Worker of the crash tests: revokes numbered tokens until killed, printing each number
/// once `revoke` has returned. Does nothing when run on its own.
#[test]
#[ignore = "run as a child process by the crash tests"]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_STORE) else {
        return;
    };
    let first: u32 = std::env::var(CHILD_FIRST).unwrap().parse().unwrap();
    let store: Box<dyn RevocationStore> = match spec.strip_prefix("file:") {
        Some(path) => Box::new(FileStore::open(path).unwrap()),
        #[cfg(feature = "redis")]
        None => Box::new(warden_blacklist::RedisStore::open(&spec).unwrap()),
        #[cfg(not(feature = "redis"))]
        None => panic!("unknown store `{spec}`"),
    };
    let mut output = std::io::stdout();
    for number in first.. {
        store.revoke(revocation(number)).unwrap();
        use std::io::Write;
        writeln!(output, "acked {number}").unwrap();
        output.flush().unwrap();
    }
}

/// The server itself is killed: with `appendfsync always`, a reply means the AOF is synced,
/// so every acknowledged revocation is back after the restart.
#[cfg(feature = "redis")]
#[test]
fn redis_revocations_survive_server_sigkill() {
    let mut random = Random::seeded();
    let mut server = common::OwnRedis::start_with(&[
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let config = warden_blacklist::RedisConfig::parse(&server.url())
        .unwrap()
        .timeout(std::time::Duration::from_millis(500));
    let store = Arc::new(warden_blacklist::RedisStore::new(config));
    let mut all = Vec::new();
    let mut next = 0_u32;
    for round in 0..3 {
        let writer = {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for number in next.. {
                    if store.revoke(revocation(number)).is_err() {
                        break;
                    }
                    acknowledged.push(number);
                }
                acknowledged
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(20 + random.below(200)));
        server.kill();
        let acknowledged = writer.join().unwrap();
        assert!(
            !acknowledged.is_empty(),
            "round {round}: nothing was acknowledged"
        );
        next = acknowledged.iter().max().unwrap() + 2;
        all.extend(acknowledged);
        server.restart();
        for number in &all {
            assert!(
                is_revoked(store.as_ref(), *number),
                "round {round}: acknowledged revocation {number} is missing after the restart"
            );
        }
    }
}

/// Writers and compactors on separate handles of one journal: compaction must never drop
/// a revocation that another handle acknowledged, even one appended to the new file.
#[test]
fn file_compaction_keeps_concurrent_revocations() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("revoked.journal"));
    let writers: Vec<_> = (0..3_u32)
        .map(|writer| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for round in 0..40_u32 {
                    let store = FileStore::open(path.as_ref()).unwrap();
                    let number = writer * 1_000 + round;
                    store.revoke(revocation(number)).unwrap();
                    acknowledged.push(number);
                }
                acknowledged
            })
        })
        .collect();
    let compactors: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let store = FileStore::open(path.as_ref()).unwrap();
                for _ in 0..40 {
                    store.compact(wall_clock()).unwrap();
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for writer in writers {
        all.extend(writer.join().unwrap());
    }
    for compactor in compactors {
        compactor.join().unwrap();
    }
    let store = FileStore::open(path.as_ref()).unwrap();
    let missing: Vec<u32> = all
        .into_iter()
        .filter(|number| !is_revoked(&store, *number))
        .collect();
    assert!(
        missing.is_empty(),
        "revocations lost by compaction: {missing:?}"
    );
}
