//! File-store journal replay from arbitrary bytes: opening either fails with an error or
//! yields a store that serves lookups and can be reopened with the same entries.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use warden_blacklist::{FileStore, RevocationStore, TokenFacts};

fn journal_path() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap_or_else(|error| panic!("no temp dir: {error}")))
        .path()
}

fuzz_target!(|data: &[u8]| {
    let path = journal_path().join("revoked.journal");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(store) = FileStore::open(&path) else {
        return;
    };
    let now = warden_benches::NOW;
    let Ok(entries) = store.list(now) else {
        return;
    };
    let _ = store.check(&TokenFacts::default(), now);
    drop(store);
    let reopened = FileStore::open(&path).unwrap_or_else(|error| panic!("reopen failed: {error}"));
    let again = reopened.list(now).unwrap_or_else(|error| panic!("list failed: {error}"));
    assert_eq!(entries, again, "a reopened journal lists other entries");
});
