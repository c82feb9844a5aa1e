//! Client token storage on real files: private permissions, atomic replacement, refusal
//! of files that others can read, and clearing every location.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use warden_validator::{
    EnvTokenSource, FileTokenStore, StorageError, TokenLocations, TokenStorage,
};

const OLD: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvbGQifQ.c2ln";
const NEW: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJuZXcifQ.c2ln";
/// A variable no test environment sets.
const UNSET: &str = "WARDEN_TEST_TOKEN_THAT_IS_NEVER_SET";

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn file_store_writes_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("token"));
    store.store(OLD).unwrap();
    assert_eq!(mode(store.path()), 0o600);
    assert_eq!(store.load().unwrap().as_deref(), Some(OLD));
}

#[test]
fn file_store_replaces_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("token"));
    store.store(OLD).unwrap();
    store.store(NEW).unwrap();
    assert_eq!(store.load().unwrap().as_deref(), Some(NEW));
    assert_eq!(mode(store.path()), 0o600);
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 1, "no temporary file is left behind");
}

#[test]
fn file_store_rejects_world_readable_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("token"));
    store.store(OLD).unwrap();
    std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = store.load().unwrap_err();
    assert!(
        matches!(error, StorageError::InsecurePermissions { mode: 0o644, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("chmod 600"), "{error}");
    assert!(
        store.store(NEW).is_err(),
        "storing over an exposed file is rejected"
    );
    assert!(
        std::fs::read_to_string(store.path())
            .unwrap()
            .starts_with(OLD)
    );
}

#[test]
fn file_store_rejects_group_readable_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, OLD).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let error = FileTokenStore::new(&path).load().unwrap_err();
    assert!(
        matches!(error, StorageError::InsecurePermissions { .. }),
        "{error}"
    );
}

#[test]
fn leftover_temporary_file_keeps_old_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("token"));
    store.store(OLD).unwrap();
    // What a writer killed between its write and its rename leaves behind.
    let leftover = dir.path().join(".token.00112233deadbeef.tmp");
    std::fs::write(&leftover, "half-written").unwrap();
    assert_eq!(store.load().unwrap().as_deref(), Some(OLD));
    store.store(NEW).unwrap();
    assert_eq!(store.load().unwrap().as_deref(), Some(NEW));
    assert_eq!(std::fs::read_to_string(&leftover).unwrap(), "half-written");
}

#[test]
fn file_store_rejects_multi_line_value() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("token"));
    let error = store.store("a.b.c\nsecond").unwrap_err();
    assert!(matches!(error, StorageError::Invalid { .. }), "{error}");
    assert!(!store.path().exists());
}

#[test]
fn file_store_clear_removes_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("token"));
    store.store(OLD).unwrap();
    store.clear().unwrap();
    assert!(!store.path().exists());
    store.clear().unwrap();
    assert_eq!(store.load().unwrap(), None);
}

#[test]
fn env_source_is_read_only() {
    let source = EnvTokenSource::new(UNSET);
    assert_eq!(source.load().unwrap(), None);
    let error = source.store(OLD).unwrap_err();
    assert!(matches!(error, StorageError::ReadOnly { .. }), "{error}");
    source.clear().unwrap();
}

#[test]
fn locations_load_first_found() {
    let dir = tempfile::tempdir().unwrap();
    let first = FileTokenStore::new(dir.path().join("first"));
    let second = FileTokenStore::new(dir.path().join("second"));
    second.store(NEW).unwrap();
    let locations = TokenLocations::new()
        .with(EnvTokenSource::new(UNSET))
        .with(first)
        .with(second);
    let (token, location) = locations.load().unwrap().unwrap();
    assert_eq!(token, NEW);
    assert!(location.contains("second"), "{location}");
}

#[test]
fn locations_clear_reports_each_failure() {
    let dir = tempfile::tempdir().unwrap();
    let good = FileTokenStore::new(dir.path().join("token"));
    good.store(OLD).unwrap();
    // A folder where the token file should be cannot be removed as a file, even by root.
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let report = TokenLocations::new()
        .with(good.clone())
        .with(EnvTokenSource::new("PATH"))
        .with(FileTokenStore::new(&folder))
        .clear();
    assert!(!good.path().exists());
    assert_eq!(report.cleared, [good_location(&good)]);
    let failed: Vec<&str> = report
        .failed
        .iter()
        .map(|(location, _)| location.as_str())
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed[0].contains("`PATH`"), "{}", failed[0]);
    assert!(failed[1].contains("folder"), "{}", failed[1]);
}

fn good_location(store: &FileTokenStore) -> String {
    store.location()
}
