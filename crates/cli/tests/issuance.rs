//! End-to-end runs of `warden issue`, `warden refresh` and `warden token` on real keys and
//! files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const CAMERA: &str = "policies/camera-service.yaml";
const CAMERA_KEY: &str = "policies/tests/keys/camera-service.key";
/// 2026-12-01T00:00:00Z.
const NOW: i64 = 1_796_083_200;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn warden(args: &[&str]) -> Output {
    warden_env(args, &[])
}

fn warden_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Issues a camera-service token; 30 minutes is inside the policy's 1h refresh window.
fn issue_camera(now: i64, ttl: &str) -> String {
    let now = now.to_string();
    let output = warden(&[
        "issue", "--policy", CAMERA, "--key", CAMERA_KEY, "--sub", "alice", "--role", "user",
        "--name", "Alice", "--ttl", ttl, "--now", &now,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output).trim().to_owned()
}

fn refresh_camera(token: &str, store: &Path, now: i64) -> Output {
    let now = now.to_string();
    warden(&[
        "refresh",
        "--policy",
        CAMERA,
        "--key",
        CAMERA_KEY,
        "--store",
        store.to_str().unwrap(),
        "--now",
        &now,
        token,
    ])
}

fn validate_camera(token: &str, store: &Path, now: i64) -> Output {
    let now = now.to_string();
    warden(&[
        "validate",
        "--policy",
        CAMERA,
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
        "--now",
        &now,
        token,
    ])
}

fn codes(output: &Output) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(stdout(output).trim()).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn issue_refresh_validate_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("revoked.journal");
    std::fs::write(&store, "").unwrap();
    let old = issue_camera(NOW, "30m");
    let first = validate_camera(&old, &store, NOW);
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    let refreshed = refresh_camera(&old, &store, NOW + 60);
    assert_eq!(refreshed.status.code(), Some(0), "{}", stderr(&refreshed));
    let new = stdout(&refreshed).trim().to_owned();
    assert_ne!(new, old);
    let again = validate_camera(&new, &store, NOW + 60);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    let denied = validate_camera(&old, &store, NOW + 60);
    assert_eq!(denied.status.code(), Some(1));
    assert_eq!(codes(&denied), ["token.revoked"]);
}

#[test]
fn refresh_twice_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("revoked.journal");
    let old = issue_camera(NOW, "30m");
    assert_eq!(refresh_camera(&old, &store, NOW).status.code(), Some(0));
    let second = refresh_camera(&old, &store, NOW);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains("revoked or was already refreshed"),
        "{}",
        stderr(&second)
    );
    assert!(stdout(&second).is_empty());
}

#[test]
fn refresh_before_window_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let old = issue_camera(NOW, "24h");
    let output = refresh_camera(&old, &dir.path().join("revoked.journal"), NOW);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot be refreshed before"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn refresh_after_grace_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let old = issue_camera(NOW, "30m");
    let output = refresh_camera(&old, &dir.path().join("revoked.journal"), NOW + 1_800 + 301);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("longer ago than the refresh grace"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn issue_with_hmac_key_validates() {
    let output = warden(&[
        "issue",
        "--policy",
        "policies/default.yaml",
        "--key",
        "examples/keys/hs256.key",
        "--sub",
        "bob",
        "--role",
        "user",
        "--claim",
        "org={\"id\":\"acme-1\"}",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let token = stdout(&output).trim().to_owned();
    let check = warden(&[
        "validate",
        "--policy",
        "policies/default.yaml",
        "--key",
        "examples/keys/hs256.key",
        &token,
    ]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

#[test]
fn issue_rejects_unknown_role() {
    let output = warden(&[
        "issue", "--policy", CAMERA, "--key", CAMERA_KEY, "--sub", "alice", "--role", "root",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("role `root` is not"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn issue_rejects_reserved_claim() {
    let output = warden(&[
        "issue",
        "--policy",
        CAMERA,
        "--key",
        CAMERA_KEY,
        "--sub",
        "alice",
        "--role",
        "viewer",
        "--claim",
        "camera_access=[\"camera2\"]",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("claim `camera_access` is set by the issuer"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn token_store_load_clear_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config/warden/token");
    let file = file.to_str().unwrap();
    let token = issue_camera(NOW, "30m");
    let stored = warden(&["token", "store", "--file", file, &token]);
    assert_eq!(stored.status.code(), Some(0), "{}", stderr(&stored));
    assert!(
        !stdout(&stored).contains(&token),
        "store never echoes the token"
    );
    let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let loaded = warden_env(
        &["token", "load", "--file", file],
        &[("WARDEN_LOG", "debug")],
    );
    assert_eq!(loaded.status.code(), Some(0), "{}", stderr(&loaded));
    assert_eq!(stdout(&loaded), format!("{token}\n"));
    assert!(
        !stderr(&loaded).contains(&token),
        "the token never reaches the log"
    );
    let cleared = warden(&["token", "clear", "--file", file]);
    assert_eq!(cleared.status.code(), Some(0), "{}", stderr(&cleared));
    assert!(!Path::new(file).exists());
    assert_eq!(
        warden(&["token", "load", "--file", file]).status.code(),
        Some(1)
    );
}

#[test]
fn token_load_prefers_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let file = file.to_str().unwrap();
    assert_eq!(
        warden(&["token", "store", "--file", file, "a.b.c"])
            .status
            .code(),
        Some(0)
    );
    let loaded = warden_env(
        &["token", "load", "--env", "WARDEN_TOKEN", "--file", file],
        &[("WARDEN_TOKEN", "x.y.z")],
    );
    assert_eq!(stdout(&loaded), "x.y.z\n");
}

#[test]
fn token_load_rejects_readable_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "a.b.c\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let loaded = warden(&["token", "load", "--file", file.to_str().unwrap()]);
    assert_eq!(loaded.status.code(), Some(2));
    assert!(stderr(&loaded).contains("chmod 600"), "{}", stderr(&loaded));
    assert!(stdout(&loaded).is_empty());
}

#[test]
fn token_clear_reports_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let file = file.to_str().unwrap();
    assert_eq!(
        warden(&["token", "store", "--file", file, "a.b.c"])
            .status
            .code(),
        Some(0)
    );
    let cleared = warden_env(
        &["token", "clear", "--env", "WARDEN_TOKEN", "--file", file],
        &[("WARDEN_TOKEN", "x.y.z")],
    );
    assert_eq!(cleared.status.code(), Some(1));
    assert!(
        stderr(&cleared).contains("environment variable `WARDEN_TOKEN` is read-only"),
        "{}",
        stderr(&cleared)
    );
    assert!(
        !Path::new(file).exists(),
        "the file is cleared even though the variable is not"
    );
}

#[cfg(not(feature = "keyring"))]
#[test]
fn token_keyring_needs_feature() {
    let output = warden(&["token", "store", "--keyring", "a.b.c"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--features keyring"),
        "{}",
        stderr(&output)
    );
}
