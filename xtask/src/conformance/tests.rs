use serde_json::{Value, json};

use super::case::{Case, CaseId, Check, Expected, Outcome, SignatureLayer};
use super::exceptions::{self, Exception};
use super::{Summary, run_cases, wycheproof};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn hs256_jwk() -> Value {
    json!({ "kty": "oct", "alg": "HS256", "k": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY" })
}

fn hs256_token() -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET).unwrap();
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    jsonwebtoken::encode(&header, &json!({ "sub": "alice" }), &key).unwrap()
}

fn case(id: u64, expected: Expected, outcome: Outcome) -> Case {
    Case {
        group: "wycheproof/jws/test".to_owned(),
        source: "wycheproof/test.json".to_owned(),
        id: CaseId::TcId(id),
        comment: "test".to_owned(),
        expected,
        outcome,
    }
}

fn exception(tc_id: u64) -> Exception {
    Exception {
        source: "wycheproof/test.json".to_owned(),
        tc_id,
        reason: "listed".to_owned(),
    }
}

fn rejected() -> Outcome {
    Outcome::Rejected {
        by: Check::Parse,
        reason: "bad".to_owned(),
    }
}

#[test]
fn missing_vectors_folder_fails() {
    let error = run_cases(std::path::Path::new("/nonexistent/vectors")).unwrap_err();
    assert!(error.to_string().contains("not found"), "{error}");
}

#[test]
fn empty_vectors_folder_fails() {
    let dir = tempfile::tempdir().unwrap();
    let error = run_cases(dir.path()).unwrap_err();
    assert!(
        format!("{error:#}").contains("cannot read vector file"),
        "{error:#}"
    );
}

#[test]
fn layer_accepts_signed_token() {
    let layer = SignatureLayer::new().unwrap();
    let outcome = layer.check(&json!(hs256_token()), &hs256_jwk());
    assert_eq!(outcome, Outcome::Accepted);
}

#[test]
fn layer_rejects_json_serialisation() {
    let layer = SignatureLayer::new().unwrap();
    let token = json!({ "payload": "Zm9v", "signatures": [] });
    let outcome = layer.check(&token, &hs256_jwk());
    assert!(matches!(
        outcome,
        Outcome::Rejected {
            by: Check::Parse,
            ..
        }
    ));
}

#[test]
fn layer_rejects_five_segments() {
    let layer = SignatureLayer::new().unwrap();
    let outcome = layer.check(&json!("a.b.c.d.e"), &hs256_jwk());
    assert!(matches!(
        outcome,
        Outcome::Rejected {
            by: Check::Parse,
            ..
        }
    ));
}

#[test]
fn wycheproof_file_runs() {
    let dir = tempfile::tempdir().unwrap();
    let token = hs256_token();
    let tampered = format!("{}x", token.trim_end_matches(|c| c != '.'));
    let file = json!({
        "numberOfTests": 2,
        "testGroups": [{
            "comment": "hs256",
            "private": hs256_jwk(),
            "tests": [
                { "tcId": 1, "comment": "valid", "jws": token, "result": "valid" },
                { "tcId": 2, "comment": "tampered", "jws": tampered, "result": "invalid" },
            ],
        }],
    });
    std::fs::write(dir.path().join("jws.json"), file.to_string()).unwrap();
    let layer = SignatureLayer::new().unwrap();
    let cases = wycheproof::signature_cases(dir.path(), "jws.json", "test", &layer).unwrap();
    assert_eq!(cases.len(), 2);
    assert!(cases.iter().all(Case::agrees));
}

#[test]
fn wycheproof_count_mismatch_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = json!({
        "numberOfTests": 1,
        "testGroups": [{ "comment": "hs256", "private": hs256_jwk(), "tests": [] }],
    });
    std::fs::write(dir.path().join("jws.json"), file.to_string()).unwrap();
    let layer = SignatureLayer::new().unwrap();
    let error = wycheproof::signature_cases(dir.path(), "jws.json", "test", &layer).unwrap_err();
    assert!(
        error.to_string().contains("`numberOfTests` is 1"),
        "{error}"
    );
}

#[test]
fn reject_by_check_must_match() {
    let by_key = Outcome::Rejected {
        by: Check::KeyLoad,
        reason: "bad key".to_owned(),
    };
    assert!(case(1, Expected::Reject, by_key.clone()).agrees());
    assert!(!case(1, Expected::RejectBy(Check::Parse), by_key).agrees());
    assert!(!case(1, Expected::Accept, rejected()).agrees());
}

#[test]
fn summary_fails_on_unlisted() {
    let cases = [
        case(1, Expected::Reject, rejected()),
        case(2, Expected::Reject, Outcome::Accepted),
    ];
    let summary = Summary::new(&cases, &[]);
    assert!(!summary.passed());
    assert!(
        summary
            .render()
            .contains("tcId 2 (test): expected invalid, warden accepted")
    );
}

#[test]
fn summary_passes_with_exception() {
    let cases = [
        case(1, Expected::Reject, rejected()),
        case(2, Expected::Reject, Outcome::Accepted),
    ];
    let listed = [exception(2)];
    let summary = Summary::new(&cases, &listed);
    assert!(summary.passed());
    assert!(summary.render().contains("exception: listed"));
}

#[test]
fn summary_fails_on_stale_exception() {
    let cases = [case(1, Expected::Reject, rejected())];
    let listed = [exception(1)];
    let summary = Summary::new(&cases, &listed);
    assert!(!summary.passed());
    assert!(summary.render().contains("stale exception"));
}

#[test]
fn exceptions_listed_twice() {
    let yaml =
        "- { source: a.json, tc_id: 1, reason: x }\n- { source: a.json, tc_id: 1, reason: y }\n";
    let error = exceptions::parse(yaml).unwrap_err();
    assert!(error.to_string().contains("listed twice"), "{error}");
}

#[test]
fn exceptions_empty_reason() {
    let error = exceptions::parse("- { source: a.json, tc_id: 1, reason: ' ' }\n").unwrap_err();
    assert!(error.to_string().contains("empty reason"), "{error}");
}

#[test]
fn checked_in_exceptions_parse() {
    let path = crate::workspace_root().join("xtask/conformance-exceptions.yaml");
    let listed = exceptions::load(&path).unwrap();
    assert!(!listed.is_empty());
}
