//! End-to-end runs of the `warden` binary on real files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../examples/make_examples.rs"]
mod make_examples;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const NOW: &str = "2026-12-01T00:00:00Z";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn warden(args: &[&str]) -> Output {
    warden_with_stdin(args, None)
}

fn warden_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn token(label: &str) -> String {
    make_examples::example_tokens()
        .into_iter()
        .find(|(name, _)| *name == label)
        .unwrap()
        .1
}

const VALIDATE: [&str; 6] = [
    "validate",
    "--policy",
    "policies/default.yaml",
    "--key",
    "examples/keys/hs256.key",
    "--now",
];

fn validate(extra: &[&str]) -> Output {
    let mut args: Vec<&str> = VALIDATE.to_vec();
    args.push(NOW);
    args.extend_from_slice(extra);
    warden(&args)
}

#[test]
fn examples_are_current() {
    let dir = tempfile::tempdir().unwrap();
    make_examples::write_examples(dir.path()).unwrap();
    for file in ["keys/hs256.key", "tokens.txt"] {
        let committed = std::fs::read(root().join("examples").join(file)).unwrap();
        let fresh = std::fs::read(dir.path().join(file)).unwrap();
        assert!(
            committed == fresh,
            "examples/{file} is stale; run the make_examples example"
        );
    }
}

#[test]
fn examples_give_expected_decisions() {
    let output = validate(&["--tokens", "examples/tokens.txt", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let reports: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let decisions: Vec<&str> = reports
        .iter()
        .map(|report| report["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["allow", "deny", "allow", "deny"]);
    let codes = |index: usize| -> Vec<String> {
        reports[index]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(codes(1), ["token.expired"]);
    assert_eq!(
        codes(2),
        [
            "token.too_old",
            "role.suspicious",
            "permissions.too_many",
            "jti.missing"
        ]
    );
    assert_eq!(codes(3), ["signature.invalid"]);
}

#[test]
fn all_allowed_exits_zero() {
    let output = validate(&[&token("valid")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains(": allow"));
}

#[test]
fn reads_tokens_from_stdin() {
    let input = format!("{}\n\n# comment\n{}\n", token("valid"), token("expired"));
    let mut args: Vec<&str> = VALIDATE.to_vec();
    args.push(NOW);
    let output = warden_with_stdin(&args, Some(&input));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output)
            .lines()
            .filter(|line| line.starts_with("token "))
            .count(),
        2
    );
}

#[test]
fn setup_errors_exit_two() {
    let missing_policy = warden(&[
        "validate",
        "--policy",
        "nope.yaml",
        "--key",
        "examples/keys/hs256.key",
        "x.y.z",
    ]);
    assert_eq!(missing_policy.status.code(), Some(2));
    assert!(
        stderr(&missing_policy).contains("cannot read policy `nope.yaml`"),
        "{}",
        stderr(&missing_policy)
    );

    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("bad.yaml");
    std::fs::write(
        &policy,
        "version: 1\nalgorithms: [HS256]\nrules:\n  requried_claims: {}\n",
    )
    .unwrap();
    let typo = warden(&[
        "validate",
        "--policy",
        policy.to_str().unwrap(),
        "--key",
        "examples/keys/hs256.key",
        "x.y.z",
    ]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("bad.yaml:4:3: rules: unknown field `requried_claims`"),
        "{}",
        stderr(&typo)
    );

    let usage = warden(&["validate", "--bogus"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn batch_shares_usage_counter() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("usage.yaml");
    std::fs::write(
        &policy,
        "version: 1\nalgorithms: [HS256]\nrules:\n  usage: { warn_after: 2 }\n",
    )
    .unwrap();
    let valid = token("valid");
    let output = warden(&[
        "validate",
        "--policy",
        policy.to_str().unwrap(),
        "--key",
        "examples/keys/hs256.key",
        "--now",
        NOW,
        "--format",
        "json",
        &valid,
        &valid,
        &valid,
    ]);
    let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3);
    assert!(!lines[1].contains("usage.exceeded"));
    assert!(lines[2].contains("usage.exceeded"), "{}", lines[2]);
    assert_eq!(output.status.code(), Some(0), "warnings do not deny");
}

#[test]
fn revocation_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("revoked.journal");
    let store = store.to_str().unwrap();
    let valid = token("valid");
    let missing = validate(&["--store", store, &valid]);
    assert_eq!(
        missing.status.code(),
        Some(2),
        "a missing journal must not read as empty"
    );
    assert!(
        stderr(&missing).contains("does not exist"),
        "{}",
        stderr(&missing)
    );

    let revoke = warden(&["revoke", "--store", store, &valid]);
    assert_eq!(revoke.status.code(), Some(0), "{}", stderr(&revoke));
    assert!(stdout(&revoke).contains("stored in"), "{}", stdout(&revoke));

    let output = validate(&["--store", store, &valid]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("token.revoked"),
        "{}",
        stdout(&output)
    );

    let listed = warden(&["blacklist", "list", "--store", store, "--now", NOW]);
    assert_eq!(stdout(&listed).lines().count(), 1, "{}", stdout(&listed));
}

#[test]
fn revoke_by_jti_denies_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("revoked.journal");
    let store = store.to_str().unwrap();
    let revoke = warden(&[
        "revoke",
        "--store",
        store,
        "--jti",
        "example-alice",
        "--ttl",
        "30d",
    ]);
    assert_eq!(revoke.status.code(), Some(0), "{}", stderr(&revoke));
    let output = validate(&["--store", store, &token("valid")]);
    assert!(
        stdout(&output).contains("token.revoked"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn output_never_shows_token_or_secret() {
    let valid = token("valid");
    let tampered = token("tampered");
    let output = validate(&["--format", "json", &valid, &tampered]);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    for segment in valid.split('.').chain(tampered.split('.')) {
        assert!(!text.contains(segment), "output contains a token segment");
    }
    assert!(!text.contains(make_examples::EXAMPLE_SECRET));
}

#[test]
fn empty_input_is_not_a_pass() {
    let mut args: Vec<&str> = VALIDATE.to_vec();
    args.push(NOW);
    let output = warden_with_stdin(&args, Some("# only a comment\n\n"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no tokens were read"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_line_does_not_end_batch() {
    let input = format!("\u{FFFD}not-utf8\n{}\n", token("valid"));
    let mut bytes = input.into_bytes();
    bytes.splice(0..3, [0xff, 0xfe]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.txt");
    std::fs::write(&file, bytes).unwrap();
    let output = validate(&["--tokens", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(
        text.lines()
            .filter(|line| line.starts_with("token "))
            .count(),
        2,
        "{text}"
    );
    assert!(text.contains("token.malformed"));
    assert!(text.contains(": allow"));
}

#[test]
fn revoke_rejects_lapsed_lifetimes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("revoked.journal");
    let store = store.to_str().unwrap();
    for args in [
        vec![
            "revoke",
            "--store",
            store,
            "--jti",
            "j1",
            "--until",
            "2020-01-01T00:00:00Z",
        ],
        vec!["revoke", "--store", store, "--jti", "j1", "--ttl", "0s"],
    ] {
        let output = warden(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains("not in the future"),
            "{}",
            stderr(&output)
        );
    }
    let purge = warden(&[
        "blacklist",
        "purge",
        "--store",
        store,
        "--now",
        "2099-01-01T00:00:00Z",
    ]);
    assert_eq!(purge.status.code(), Some(2));
}

#[test]
fn token_entry_outlives_short_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("revoked.journal");
    let store = store.to_str().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = serde_json::json!({"sub": "alice", "iat": now, "exp": now + 86_400});
    let key =
        jsonwebtoken::EncodingKey::from_secret(make_examples::EXAMPLE_SECRET.as_bytes()).unwrap();
    let fresh = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    let output = warden(&["revoke", "--store", store, "--ttl", "1s", &fresh]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let later = (now + 3_600).to_string();
    let listed = warden(&["blacklist", "list", "--store", store, "--now", &later]);
    assert_eq!(
        stdout(&listed).lines().count(),
        1,
        "a 1s TTL shortened the entry: {}",
        stdout(&listed)
    );
}

#[test]
fn damaged_token_is_not_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("revoked.journal");
    let valid = token("valid");
    let (header, rest) = valid.split_once('.').unwrap();
    let damaged = format!("{header}.{}", &rest[1..]);
    let output = warden(&["revoke", "--store", store.to_str().unwrap(), &damaged]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("payload is not valid claims JSON"),
        "{}",
        stderr(&output)
    );
}
