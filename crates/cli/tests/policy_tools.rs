//! `warden policy check|test|schema`, `inspect` and `validate --explain` on real files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn warden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn shipped_policies_pass_their_suites() {
    let output = warden(&["policy", "test", "policies"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    for suite in [
        "default.test.yaml",
        "camera-service.test.yaml",
        "strict.test.yaml",
    ] {
        assert!(text.contains(suite), "suite {suite} did not run");
    }
    assert!(text.trim_end().ends_with(" passed, 0 failed"), "{text}");
    assert!(
        !text.contains("never fired"),
        "every configured rule should fire in some case:\n{text}"
    );
}

#[test]
fn shipped_policies_lint_clean() {
    let output = warden(&[
        "policy",
        "check",
        "--deny-warnings",
        "policies/default.yaml",
        "policies/camera-service.yaml",
        "policies/strict.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(stdout(&output), "");
}

#[test]
fn failing_case_fails_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yaml"),
        "version: 1\nalgorithms: [HS256]\nrules:\n  expiry: {}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("k.key"), "0123456789abcdef0123456789abcdef").unwrap();
    let suite = "now: 2026-12-01T00:00:00Z\nsigning: { algorithm: HS256, key: k.key }\ncases:\n  - name: wrong expectation\n    claims: { exp: $now-1m }\n    expect: { decision: allow, codes: [] }\n";
    std::fs::write(dir.path().join("p.test.yaml"), suite).unwrap();
    let output = warden(&["policy", "test", dir.path().to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL  wrong expectation: expected allow [], got deny [token.expired]"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("0 passed, 1 failed"), "{text}");
}

#[test]
fn check_locates_each_malformed_policy() {
    let base = "version: 1\nalgorithms: [HS256]\n";
    let cases = [
        (
            format!("{base}rules:\n  requried_claims: {{ claims: [sub] }}\n"),
            4,
            3,
            "unknown field `requried_claims`",
        ),
        (format!("{base}leeway: 60\n"), 3, 9, "has no unit"),
        (
            format!("{base}rules:\n  max_age:\n    max: 30days\n"),
            5,
            10,
            "invalid duration `30days`",
        ),
        (
            "version: 1\nalgorithms: [HS256, XS1]\n".to_owned(),
            2,
            13,
            "unknown algorithm `XS1`",
        ),
        (
            "version: 1\nalgorithms: [none]\n".to_owned(),
            2,
            13,
            "`none` can never be allowed",
        ),
        (
            "version: 3\nalgorithms: [HS256]\n".to_owned(),
            1,
            10,
            "unsupported policy version `3`",
        ),
        (
            format!("{base}rules:\n  expiry: {{ severity: fatal }}\n"),
            4,
            23,
            "unknown variant `fatal`",
        ),
        (
            format!("{base}rules:\n  custom:\n    - {{ id: a, claim: x, matches: \"(\" }}\n"),
            5,
            5,
            "invalid regex `(`: unclosed group",
        ),
        (
            format!("{base}rules:\n  required_claims: {{ claims: [] }}\n"),
            4,
            30,
            "must not be empty",
        ),
        (
            format!("{base}issuers:\n  - {{ iss: a, keys: k.pem, algorithms: [ES256] }}\n"),
            3,
            1,
            "does not allow",
        ),
        (
            format!("{base}rules:\n  expiry: {{}}\n  max_age: {{ max: 5m }}\nleeway: 10m\n"),
            5,
            3,
            "shorter than the leeway",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (index, (yaml, line, column, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{index}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let output = warden(&["policy", "check", "--json", path.to_str().unwrap()]);
        let first = stdout(&output)
            .lines()
            .next()
            .map(str::to_owned)
            .unwrap_or_default();
        let finding: serde_json::Value =
            serde_json::from_str(&first).unwrap_or_else(|_| panic!("{yaml:?}: no finding"));
        assert!(
            finding["message"].as_str().unwrap().contains(expected),
            "{yaml:?}: {finding}"
        );
        assert_eq!(
            (
                finding["line"].as_u64().unwrap(),
                finding["column"].as_u64().unwrap()
            ),
            (*line, *column),
            "{yaml:?}: {finding}"
        );
        let is_warning = finding["severity"] == "warning";
        assert_eq!(
            output.status.code(),
            Some(if is_warning { 0 } else { 1 }),
            "{yaml:?}"
        );
    }
}

#[test]
fn schema_command_prints_committed_schema() {
    let output = warden(&["policy", "schema"]);
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("policies/schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(printed, committed);
}

#[test]
fn inspect_needs_insecure_flag() {
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";
    let rejected = warden(&["inspect", token]);
    assert_eq!(rejected.status.code(), Some(2));
    let output = warden(&["inspect", "--insecure", token]);
    assert_eq!(output.status.code(), Some(0));
    let inspected: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(inspected["claims"]["sub"], "alice");
    assert!(
        inspected["warning"]
            .as_str()
            .unwrap()
            .starts_with("UNVERIFIED")
    );
}

#[test]
fn explain_prints_checks_and_clock() {
    let tokens = std::fs::read_to_string(root().join("examples/tokens.txt")).unwrap();
    let valid = tokens.lines().find(|line| !line.starts_with('#')).unwrap();
    let output = warden(&[
        "validate",
        "--policy",
        "policies/default.yaml",
        "--key",
        "examples/keys/hs256.key",
        "--now",
        "2026-12-01T00:00:00Z",
        "--explain",
        valid,
    ]);
    let text = stdout(&output);
    assert!(text.contains("checked at 2026-12-01T00:00:00Z"), "{text}");
    assert!(
        text.contains("pass [max_age] `iat`: expected at most 30d ago, found 1d ago"),
        "{text}"
    );
}

/// Extracts the code block that follows `<!-- walkthrough: NAME -->` in README.md.
fn readme_block(name: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let marker = format!("<!-- walkthrough: {name} -->");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README has no {marker}"))
        .1;
    let block = after.split_once("```").unwrap().1;
    let block = block.split_once('\n').unwrap().1;
    block.split_once("```").unwrap().0.to_owned()
}

#[test]
fn readme_walkthrough_works() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["team.yaml", "team.test.yaml"] {
        std::fs::write(dir.path().join(name), readme_block(name)).unwrap();
    }
    std::fs::copy(
        root().join("examples/keys/hs256.key"),
        dir.path().join("hs256.key"),
    )
    .unwrap();
    let output = warden(&["policy", "test", dir.path().to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("ok    contractor token is flagged"), "{text}");
}
