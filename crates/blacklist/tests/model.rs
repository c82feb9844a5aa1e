//! Every store against a plain model: any sequence of revoke, check, list, purge, clock
//! advance and reopen gives the model's results, and so does any sequence of uses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(feature = "redis")]
mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use proptest::prelude::*;
use warden_blacklist::{
    FileStore, MemoryStore, MemoryUsageCounter, Revocation, RevocationStore, Target, TokenFacts,
    UsageCounter, UsageKey,
};

/// Start of the model's clock, far enough ahead of the wall clock that Redis TTLs never
/// fire during a run, so only the model's clock decides what has lapsed.
fn start_time() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(elapsed.as_secs()).unwrap() + 10_000_000
}

const ISSUERS: [Option<&str>; 3] = [None, Some("x"), Some("y")];
const JTIS: [&str; 2] = ["a", "b:c"];
const SUBJECTS: [&str; 2] = ["s", "t"];
const KIDS: [&str; 2] = ["k1", "k2"];

/// A token described by indexes into the tables above; `None` leaves a claim out.
#[derive(Debug, Clone)]
struct Facts {
    hash: u8,
    issuer: usize,
    jti: Option<usize>,
    subject: Option<usize>,
    issued_at: Option<i64>,
    kid: Option<usize>,
}

#[derive(Debug, Clone)]
enum TargetChoice {
    Token(u8),
    Jti(usize, usize),
    Subject(usize, usize, i64),
    KeyId(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Revoke(TargetChoice, Option<i64>),
    Check(Facts),
    List,
    Purge,
    Advance(i64),
    Reopen,
}

fn target_choice() -> impl Strategy<Value = TargetChoice> {
    prop_oneof![
        (0_u8..3).prop_map(TargetChoice::Token),
        (0..ISSUERS.len(), 0..JTIS.len()).prop_map(|(i, j)| TargetChoice::Jti(i, j)),
        (0..ISSUERS.len(), 0..SUBJECTS.len(), -20_i64..20)
            .prop_map(|(i, s, before)| TargetChoice::Subject(i, s, before)),
        (0..KIDS.len()).prop_map(TargetChoice::KeyId),
    ]
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        0_u8..3,
        0..ISSUERS.len(),
        proptest::option::of(0..JTIS.len()),
        proptest::option::of(0..SUBJECTS.len()),
        proptest::option::of(-30_i64..30),
        proptest::option::of(0..KIDS.len()),
    )
        .prop_map(|(hash, issuer, jti, subject, issued_at, kid)| Facts {
            hash,
            issuer,
            jti,
            subject,
            issued_at,
            kid,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (target_choice(), proptest::option::of(-5_i64..60))
            .prop_map(|(target, ttl)| Op::Revoke(target, ttl)),
        4 => facts().prop_map(Op::Check),
        1 => Just(Op::List),
        1 => Just(Op::Purge),
        2 => (0_i64..30).prop_map(Op::Advance),
        1 => Just(Op::Reopen),
    ]
}

/// Times in the ops are offsets from the run's start so that shrunk cases read easily.
fn target(choice: &TargetChoice, start: i64) -> Target {
    match *choice {
        TargetChoice::Token(hash) => Target::Token { hash: [hash; 32] },
        TargetChoice::Jti(issuer, jti) => Target::Jti {
            issuer: ISSUERS[issuer].map(str::to_owned),
            jti: JTIS[jti].to_owned(),
        },
        TargetChoice::Subject(issuer, subject, before) => Target::Subject {
            issuer: ISSUERS[issuer].map(str::to_owned),
            subject: SUBJECTS[subject].to_owned(),
            issued_before: start + before,
        },
        TargetChoice::KeyId(kid) => Target::KeyId {
            kid: KIDS[kid].to_owned(),
        },
    }
}

fn token_facts(facts: &Facts, start: i64) -> TokenFacts<'static> {
    TokenFacts {
        token_hash: [facts.hash; 32],
        issuer: ISSUERS[facts.issuer],
        jti: facts.jti.map(|jti| JTIS[jti]),
        subject: facts.subject.map(|subject| SUBJECTS[subject]),
        issued_at: facts.issued_at.map(|offset| start + offset),
        key_id: facts.kid.map(|kid| KIDS[kid]),
    }
}

/// The model: one entry per target, merged as the stores document.
#[derive(Default)]
struct Model {
    entries: HashMap<Target, (i64, Option<i64>)>,
}

impl Model {
    fn revoke(&mut self, revocation: Revocation) {
        let new = (revocation.revoked_at, revocation.expires_at);
        let merged = match self.entries.get(&revocation.target) {
            Some(&(_, Some(old_expiry))) if old_expiry <= new.0 => new,
            Some(&(old_revoked, old_expiry)) => {
                let expiry = match (old_expiry, new.1) {
                    (Some(old), Some(new)) => Some(old.max(new)),
                    _ => None,
                };
                (old_revoked, expiry)
            }
            None => new,
        };
        self.entries.insert(revocation.target, merged);
    }

    fn live(&self, now: i64) -> Vec<Revocation> {
        let mut live: Vec<Revocation> = self
            .entries
            .iter()
            .map(|(target, &(revoked_at, expires_at))| {
                Revocation::new(target.clone(), revoked_at, expires_at)
            })
            .filter(|entry| entry.is_live(now))
            .collect();
        live.sort_by_key(|entry| format!("{entry:?}"));
        live
    }

    fn is_revoked(&self, facts: &TokenFacts<'_>, now: i64) -> bool {
        self.live(now).iter().any(|entry| entry.matches(facts))
    }

    fn purge(&mut self, now: i64) -> usize {
        let before = self.entries.len();
        self.entries
            .retain(|_, (_, expires_at)| expires_at.is_none_or(|at| now < at));
        before - self.entries.len()
    }
}

/// Runs `ops` on `store` and the model side by side; `reopen` rebuilds the store.
fn run_against_model(
    ops: &[Op],
    mut store: Box<dyn RevocationStore>,
    reopen: &dyn Fn() -> Option<Box<dyn RevocationStore>>,
) -> Result<(), TestCaseError> {
    let start = start_time();
    let mut now = start;
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Revoke(choice, ttl) => {
                let revocation = Revocation::new(target(choice, start), now, ttl.map(|t| now + t));
                store.revoke(revocation.clone()).unwrap();
                model.revoke(revocation);
            }
            Op::Check(facts) => {
                let facts = token_facts(facts, start);
                let found = store.check(&facts, now).unwrap();
                prop_assert_eq!(
                    found.is_some(),
                    model.is_revoked(&facts, now),
                    "step {}: check of {:?} at {}",
                    step,
                    facts,
                    now - start
                );
                if let Some(entry) = found {
                    prop_assert!(entry.is_live(now) && entry.matches(&facts));
                    prop_assert!(model.live(now).contains(&entry), "step {step}: {entry:?}");
                }
            }
            Op::List => {
                let mut listed = store.list(now).unwrap();
                listed.sort_by_key(|entry| format!("{entry:?}"));
                prop_assert_eq!(listed, model.live(now), "step {}: list", step);
            }
            Op::Purge => {
                let dropped = store.purge(now).unwrap();
                prop_assert_eq!(dropped, model.purge(now), "step {}: purge", step);
            }
            Op::Advance(seconds) => now += seconds,
            Op::Reopen => {
                if let Some(reopened) = reopen() {
                    drop(store);
                    store = reopened;
                }
            }
        }
    }
    Ok(())
}

/// One use: a key out of three, a clock advance before it, a window and a token lifetime.
#[derive(Debug, Clone)]
struct Use {
    key: u8,
    advance: i64,
    window: Option<u64>,
    lifetime: Option<i64>,
    reopen: bool,
}

fn usage_op() -> impl Strategy<Value = Use> {
    (
        0_u8..3,
        0_i64..8,
        proptest::option::of(1_u64..20),
        proptest::option::of(1_i64..30),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(key, advance, window, lifetime, reopen)| Use {
            key,
            advance,
            window,
            lifetime,
            reopen,
        })
}

fn usage_key(index: u8) -> UsageKey {
    match index {
        0 => UsageKey::Token([0; 32]),
        1 => UsageKey::Jti {
            issuer: Some("x".into()),
            jti: "a".into(),
        },
        _ => UsageKey::Subject {
            issuer: None,
            subject: "s".into(),
        },
    }
}

/// Runs `uses` on `counter` and on the model: a count restarts once its window, which
/// begins with its first use, or its token's lifetime has passed.
fn run_uses_against_model(
    uses: &[Use],
    mut counter: Box<dyn UsageCounter>,
    reopen: &dyn Fn(i64) -> Option<Box<dyn UsageCounter>>,
) -> Result<(), TestCaseError> {
    let mut now = start_time();
    let mut model: HashMap<u8, (u64, Option<i64>)> = HashMap::new();
    for (step, one) in uses.iter().enumerate() {
        now += one.advance;
        let expires_at = one.lifetime.map(|lifetime| now + lifetime);
        let window_end = one
            .window
            .map(|window| now + i64::try_from(window).unwrap());
        let fresh_lapse = match (window_end, expires_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let slot = model.entry(one.key).or_insert((0, fresh_lapse));
        if slot.1.is_some_and(|lapse| now >= lapse) {
            *slot = (0, fresh_lapse);
        }
        slot.0 += 1;
        let counted = counter
            .increment(&usage_key(one.key), now, one.window, expires_at)
            .unwrap();
        prop_assert_eq!(counted, slot.0, "step {}: use of key {}", step, one.key);
        if one.reopen
            && let Some(reopened) = reopen(now)
        {
            drop(counter);
            counter = reopened;
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn memory_store_matches_model(ops in proptest::collection::vec(op(), 1..40)) {
        run_against_model(&ops, Box::new(MemoryStore::new()), &|| None)?;
    }

    #[test]
    fn file_store_matches_model(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("revoked.journal");
        let store = Box::new(FileStore::open(&path).unwrap());
        let reopen = || -> Option<Box<dyn RevocationStore>> {
            Some(Box::new(FileStore::open(&path).unwrap()))
        };
        run_against_model(&ops, store, &reopen)?;
    }

    #[test]
    fn memory_counter_matches_model(uses in proptest::collection::vec(usage_op(), 1..40)) {
        run_uses_against_model(&uses, Box::new(MemoryUsageCounter::new()), &|_| None)?;
    }

    #[test]
    fn file_counter_matches_model(uses in proptest::collection::vec(usage_op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("revoked.journal");
        let store = Box::new(FileStore::open(&path).unwrap());
        let reopen = |now: i64| -> Option<Box<dyn UsageCounter>> {
            let store = FileStore::open(&path).unwrap();
            // Compaction on reopen checks that count snapshots replay exactly.
            store.compact(now).unwrap();
            Some(Box::new(store))
        };
        run_uses_against_model(&uses, store, &reopen)?;
    }
}

#[cfg(feature = "redis")]
proptest! {
    #![proptest_config(config())]

    #[test]
    fn redis_store_matches_model(ops in proptest::collection::vec(op(), 1..40)) {
        let shared = common::shared_redis("model");
        let store = Box::new(warden_blacklist::RedisStore::new(shared.config.clone()));
        let config = shared.config.clone();
        let reopen = move || -> Option<Box<dyn RevocationStore>> {
            Some(Box::new(warden_blacklist::RedisStore::new(config.clone())))
        };
        run_against_model(&ops, store, &reopen)?;
    }

    #[test]
    fn redis_counter_matches_model(uses in proptest::collection::vec(usage_op(), 1..40)) {
        let shared = common::shared_redis("usage_model");
        let store = Box::new(warden_blacklist::RedisStore::new(shared.config.clone()));
        let config = shared.config.clone();
        let reopen = move |_now: i64| -> Option<Box<dyn UsageCounter>> {
            Some(Box::new(warden_blacklist::RedisStore::new(config.clone())))
        };
        run_uses_against_model(&uses, store, &reopen)?;
    }
}
