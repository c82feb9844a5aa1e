//! Policy loading: every policy shipped in `policies/`, and the default-like inline policy.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use warden_benches::{default_policy_yaml, policies_dir};
use warden_policy::Policy;

fn policy_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy");
    let mut shipped: Vec<_> = std::fs::read_dir(policies_dir())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    shipped.sort();
    for path in shipped {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if Policy::load(&path).is_err() {
            eprintln!("skipping `{}`: it does not load", path.display());
            continue;
        }
        group.bench_function(format!("load/{name}"), |b| {
            b.iter(|| black_box(Policy::load(&path).unwrap()));
        });
    }
    let inline = default_policy_yaml(&["HS256"]);
    group.bench_function("parse/default-like", |b| {
        b.iter(|| black_box(Policy::from_yaml_str(&inline, "inline").unwrap()));
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = policy_load
}
criterion_main!(benches);
