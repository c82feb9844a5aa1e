//! Full Warden validation against bare `jsonwebtoken::decode` of the same tokens with the
//! same keys, the verified-signature cache on a repeated mix, and two-thread scaling.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use warden_benches::{Alg, Options, TypedClaims, jsonwebtoken_setup, tokens, warden_validator};

/// Distinct tokens per algorithm. The usage rule warns after 1000 uses of one token, so a
/// pool keeps the common case (no finding) in the measurement for HS256's many iterations.
fn pool_size(alg: Alg) -> usize {
    match alg {
        Alg::Hs256 => 8_192,
        _ => 256,
    }
}

fn full_validation(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate");
    for alg in Alg::ALL {
        let pool = tokens(alg, pool_size(alg), None).unwrap();
        let validator = warden_validator(alg, Options::default()).unwrap();
        assert!(validator.validate(&pool[0]).is_allowed());
        let mut next = 0;
        group.bench_function(format!("warden/{}", alg.name()), |b| {
            b.iter(|| {
                next = (next + 1) % pool.len();
                let report = validator.validate(black_box(&pool[next]));
                black_box(report.is_allowed())
            });
        });
        let (key, validation) = jsonwebtoken_setup(alg).unwrap();
        group.bench_function(format!("jsonwebtoken/{}", alg.name()), |b| {
            b.iter(|| {
                next = (next + 1) % pool.len();
                let decoded = jsonwebtoken::decode::<serde_json::Value>(
                    black_box(&pool[next]),
                    &key,
                    &validation,
                );
                black_box(decoded.is_ok())
            });
        });
        if alg == Alg::Hs256 {
            group.bench_function("jsonwebtoken-typed/HS256", |b| {
                b.iter(|| {
                    next = (next + 1) % pool.len();
                    let decoded = jsonwebtoken::decode::<TypedClaims>(
                        black_box(&pool[next]),
                        &key,
                        &validation,
                    );
                    black_box(decoded.is_ok())
                });
            });
        }
    }
    group.finish();
}

/// Measures a repeated mix of RS256, ES256 and EdDSA tokens through one validator, with
/// the verified-signature cache off and on.
fn signature_cache(c: &mut Criterion) {
    let mut pool = Vec::new();
    for alg in [Alg::Rs256, Alg::Es256, Alg::EdDsa] {
        pool.extend(tokens(alg, 32, Some(alg.name())).unwrap());
    }
    let mut group = c.benchmark_group("cache");
    for (name, entries) in [("off", None), ("on", Some(4_096))] {
        let options = Options {
            signature_cache: entries,
        };
        let validator = warden_benches::mixed_validator(options).unwrap();
        assert!(
            pool.iter()
                .all(|token| validator.validate(token).is_allowed())
        );
        let mut next = 0;
        group.bench_function(format!("mix/{name}"), |b| {
            b.iter(|| {
                next = (next + 1) % pool.len();
                black_box(validator.validate(black_box(&pool[next])).is_allowed())
            });
        });
    }
    group.finish();
}

/// HS256 validation on one and on two threads sharing one validator. Each iteration is one
/// validation per thread, so equal times mean linear scaling.
fn thread_scaling(c: &mut Criterion) {
    let pool = tokens(Alg::Hs256, pool_size(Alg::Hs256), None).unwrap();
    let validator = warden_validator(Alg::Hs256, Options::default()).unwrap();
    let mut group = c.benchmark_group("threads");
    for threads in [1_usize, 2] {
        group.bench_function(format!("HS256/{threads}"), |b| {
            b.iter_custom(|iterations| {
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for thread in 0..threads {
                        let (pool, validator) = (&pool, &validator);
                        scope.spawn(move || {
                            for index in 0..iterations as usize {
                                let token = &pool[(index * threads + thread) % pool.len()];
                                black_box(validator.validate(token).is_allowed());
                            }
                        });
                    }
                });
                start.elapsed()
            });
        });
    }
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
    targets = full_validation, signature_cache, thread_scaling
}
criterion_main!(benches);
