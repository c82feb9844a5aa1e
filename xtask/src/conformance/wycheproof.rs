//! Wycheproof JWS, JWK and JWE test files (C2SP/wycheproof `testvectors_v1` layout).

use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::Value;

use super::case::{Case, CaseId, Check, Expected, SignatureLayer};

/// Signature cases: the token with the group's key.
pub(crate) const JWS_FILE: &str = "wycheproof/json_web_signature_test.json";
/// Key-set cases: the group's key set, then the token.
pub(crate) const JWK_FILE: &str = "wycheproof/json_web_key_test.json";
/// Encryption cases, which a JWS-only validator must reject when parsing.
pub(crate) const JWE_FILE: &str = "wycheproof/json_web_encryption_test.json";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestFile {
    number_of_tests: usize,
    test_groups: Vec<TestGroup>,
}

#[derive(Deserialize)]
struct TestGroup {
    comment: String,
    private: Option<Value>,
    public: Option<Value>,
    tests: Vec<Test>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Test {
    tc_id: u64,
    comment: String,
    jws: Option<Value>,
    jwe: Option<Value>,
    result: String,
}

/// Runs every case of the three Wycheproof files.
pub(crate) fn run(vectors: &Path, layer: &SignatureLayer) -> anyhow::Result<Vec<Case>> {
    let mut cases = signature_cases(vectors, JWS_FILE, "wycheproof/jws", layer)?;
    cases.extend(signature_cases(vectors, JWK_FILE, "wycheproof/jwk", layer)?);
    cases.extend(encryption_cases(vectors, layer)?);
    Ok(cases)
}

/// Runs a JWS or JWK file: each token against its group's public key, or the private
/// key where the group has no public one (HMAC).
pub(super) fn signature_cases(
    vectors: &Path,
    source: &str,
    prefix: &str,
    layer: &SignatureLayer,
) -> anyhow::Result<Vec<Case>> {
    let file = read(vectors, source)?;
    let mut cases = Vec::new();
    for group in &file.test_groups {
        let key = group
            .public
            .as_ref()
            .or(group.private.as_ref())
            .with_context(|| format!("{source}: group `{}` has no key", group.comment))?;
        for test in &group.tests {
            let token = test
                .jws
                .as_ref()
                .with_context(|| format!("{source}: tcId {} has no `jws` member", test.tc_id))?;
            let expected = match test.result.as_str() {
                "valid" => Expected::Accept,
                "invalid" if token.is_object() => Expected::RejectBy(Check::Parse),
                "invalid" => Expected::Reject,
                other => bail!("{source}: tcId {} has unknown result `{other}`", test.tc_id),
            };
            cases.push(Case {
                group: format!("{prefix}/{}", group.comment),
                source: source.to_owned(),
                id: CaseId::TcId(test.tc_id),
                comment: test.comment.clone(),
                expected,
                outcome: layer.check(token, key),
            });
        }
    }
    check_count(source, &file, cases.len())?;
    Ok(cases)
}

/// Runs the JWE file: whatever its label, every case must fail compact JWS parsing.
fn encryption_cases(vectors: &Path, layer: &SignatureLayer) -> anyhow::Result<Vec<Case>> {
    let file = read(vectors, JWE_FILE)?;
    let mut cases = Vec::new();
    for group in &file.test_groups {
        let key = group.private.clone().unwrap_or(Value::Null);
        for test in &group.tests {
            let token = test
                .jwe
                .as_ref()
                .with_context(|| format!("{JWE_FILE}: tcId {} has no `jwe` member", test.tc_id))?;
            cases.push(Case {
                group: format!("wycheproof/jwe/{}", group.comment),
                source: JWE_FILE.to_owned(),
                id: CaseId::TcId(test.tc_id),
                comment: test.comment.clone(),
                expected: Expected::RejectBy(Check::Parse),
                outcome: layer.check(token, &key),
            });
        }
    }
    check_count(JWE_FILE, &file, cases.len())?;
    Ok(cases)
}

fn read(vectors: &Path, source: &str) -> anyhow::Result<TestFile> {
    let path = vectors.join(source);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read vector file `{}`", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a Wycheproof test file", path.display()))
}

/// Fails when the file's own test count differs from the cases read, so a layout change
/// cannot silently drop cases.
fn check_count(source: &str, file: &TestFile, found: usize) -> anyhow::Result<()> {
    if file.number_of_tests != found {
        bail!(
            "{source}: `numberOfTests` is {} but {found} cases were read",
            file.number_of_tests
        );
    }
    Ok(())
}
