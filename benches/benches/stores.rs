//! Revocation-list lookups at 1 M and 10 M token entries with the memory each entry takes,
//! and the replay of a 1 M-entry file journal.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use warden_blacklist::{FileStore, MemoryStore, Revocation, RevocationStore, Target, TokenFacts};

/// Fills 32 bytes from `index` with splitmix64, so hashes spread like SHA-256 output.
fn hash_of(index: u64) -> [u8; 32] {
    let mut state = index;
    let mut hash = [0_u8; 32];
    for chunk in hash.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    hash
}

fn revocation(index: u64) -> Revocation {
    let target = Target::Token {
        hash: hash_of(index),
    };
    Revocation::new(target, 1_700_000_000, Some(2_000_000_000))
}

/// Resident set size of this process in bytes, from `/proc/self/statm` (Linux only).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4_096)
}

/// Records a figure that criterion does not measure, for `cargo xtask bench` to print.
fn record(name: &str, value: f64) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.figure"));
    std::fs::write(&path, format!("{value}\n")).unwrap();
    eprintln!("{name}: {value:.1}");
}

fn blacklist_lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("blacklist");
    for (label, entries) in [("1M", 1_000_000_u64), ("10M", 10_000_000)] {
        let before = resident_bytes();
        let store = MemoryStore::new();
        for index in 0..entries {
            store.revoke(revocation(index)).unwrap();
        }
        if let (Some(before), Some(after)) = (before, resident_bytes()) {
            record(
                &format!("blacklist-bytes-per-entry-{label}"),
                after.saturating_sub(before) as f64 / entries as f64,
            );
        }
        let mut next = 0_u64;
        group.bench_function(format!("hit/{label}"), |b| {
            b.iter(|| {
                next = (next + 7_919) % entries;
                let facts = TokenFacts {
                    token_hash: hash_of(next),
                    ..TokenFacts::default()
                };
                black_box(store.check(&facts, 1_800_000_000).unwrap().is_some())
            });
        });
        group.bench_function(format!("miss/{label}"), |b| {
            b.iter(|| {
                next += 1;
                let facts = TokenFacts {
                    token_hash: hash_of(entries + next),
                    ..TokenFacts::default()
                };
                black_box(store.check(&facts, 1_800_000_000).unwrap().is_none())
            });
        });
        drop(store);
    }
    group.finish();
}

/// Writes a journal of `entries` token revocations in the file store's record format.
fn write_journal(path: &std::path::Path, entries: u64) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = std::io::BufWriter::new(file);
    for index in 0..entries {
        let json = format!(
            r#"{{"op":"revoke","target":{{"kind":"token","hash":"{}"}},"revoked_at":1700000000,"expires_at":2000000000}}"#,
            hex::encode(hash_of(index))
        );
        writeln!(writer, "{:08x} {json}", crc32fast::hash(json.as_bytes())).unwrap();
    }
    writer.flush().unwrap();
}

fn journal_replay(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("revoked.journal");
    write_journal(&path, 1_000_000);
    let probe = TokenFacts {
        token_hash: hash_of(123_456),
        ..TokenFacts::default()
    };
    let store = FileStore::open(&path).unwrap();
    assert!(store.check(&probe, 1_800_000_000).unwrap().is_some());
    drop(store);
    let mut group = c.benchmark_group("journal");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("replay/1M", |b| {
        b.iter(|| black_box(FileStore::open(&path).unwrap()));
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = blacklist_lookup, journal_replay
}
criterion_main!(benches);
