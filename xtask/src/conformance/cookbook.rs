//! JWS examples of RFC 7520 and RFC 7797 (ietf-jose/cookbook layout).
//!
//! The cookbook has no valid/invalid labels, so the expectation for each file's compact
//! output is listed here. Every JSON serialisation (`output.json`, `output.json_flat`)
//! must fail compact parsing.

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::Value;
use warden_validator::Code;

use super::case::{Case, CaseId, Check, Expected, SignatureLayer};

/// A cookbook file and what Warden must do with its compact output.
struct Example {
    source: &'static str,
    /// `None` for examples that have only JSON serialisations.
    compact: Option<Expected>,
    /// Reason Warden must accept or reject the compact output.
    reason: &'static str,
}

const EXAMPLES: &[Example] = &[
    Example {
        source: "jose-cookbook/jws/4_1.rsa_v15_signature.json",
        compact: Some(Expected::Accept),
        reason: "RS256",
    },
    Example {
        source: "jose-cookbook/jws/4_2.rsa-pss_signature.json",
        compact: Some(Expected::Accept),
        reason: "PS384",
    },
    Example {
        source: "jose-cookbook/jws/4_3.ecdsa_signature.json",
        compact: Some(Expected::RejectBy(Check::KeyLoad)),
        reason: "ES512 on P-521 is not supported, so the P-521 key is rejected",
    },
    Example {
        source: "jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json",
        compact: Some(Expected::Accept),
        reason: "HS256",
    },
    Example {
        source: "jose-cookbook/jws/4_5.signature_with_detached_content.json",
        compact: Some(Expected::RejectBy(Check::Finding(Code::SignatureInvalid))),
        reason: "detached content: the compact form has an empty payload segment",
    },
    Example {
        source: "jose-cookbook/jws/4_6.protecting_specific_header_fields.json",
        compact: None,
        reason: "unprotected header fields exist only in the JSON serialisation",
    },
    Example {
        source: "jose-cookbook/jws/4_7.protecting_content_only.json",
        compact: None,
        reason: "an unprotected header exists only in the JSON serialisation",
    },
    Example {
        source: "jose-cookbook/jws/4_8.multiple_signatures.json",
        compact: None,
        reason: "multiple signatures exist only in the JSON serialisation",
    },
    Example {
        source: "jose-cookbook/rfc7797/hmac-sha2_b64_false.json",
        compact: Some(Expected::RejectBy(Check::Finding(Code::CritUnsupported))),
        reason: "`b64: false` is a critical extension Warden does not implement",
    },
    Example {
        source: "jose-cookbook/rfc7797/4.2.hmac-sha2_b64_false.json",
        compact: None,
        reason: "`b64: false` with a payload that only the JSON serialisation can carry",
    },
    Example {
        source: "jose-cookbook/curve25519/jws.json",
        compact: Some(Expected::Accept),
        reason: "EdDSA with Ed25519 (RFC 8037)",
    },
];

/// Runs every listed cookbook example, and fails on a JWS example file that the list
/// does not cover.
pub(crate) fn run(vectors: &Path, layer: &SignatureLayer) -> anyhow::Result<Vec<Case>> {
    check_listed(vectors)?;
    let mut cases = Vec::new();
    for example in EXAMPLES {
        cases.extend(example_cases(vectors, example, layer)?);
    }
    Ok(cases)
}

fn example_cases(
    vectors: &Path,
    example: &Example,
    layer: &SignatureLayer,
) -> anyhow::Result<Vec<Case>> {
    let path = vectors.join(example.source);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read vector file `{}`", path.display()))?;
    let document: Value =
        serde_json::from_str(&text).with_context(|| format!("`{}` is not JSON", path.display()))?;
    let key =
        key_of(&document).with_context(|| format!("`{}` has no `input.key`", path.display()))?;
    let output = document
        .get("output")
        .with_context(|| format!("`{}` has no `output`", path.display()))?;
    let group = example
        .source
        .trim_start_matches("jose-cookbook/")
        .trim_end_matches(".json");
    let mut cases = Vec::new();
    for (name, expected) in expected_outputs(example, output, &path)? {
        let Some(token) = output.get(name) else {
            continue;
        };
        cases.push(Case {
            group: format!("cookbook/{group}"),
            source: example.source.to_owned(),
            id: CaseId::Name(name),
            comment: example.reason.to_owned(),
            expected,
            outcome: layer.check(token, &key),
        });
    }
    Ok(cases)
}

/// Lists the outputs of an example with their expected results, and fails when the
/// file's compact output and the list above disagree on whether there is one.
fn expected_outputs(
    example: &Example,
    output: &Value,
    path: &Path,
) -> anyhow::Result<Vec<(&'static str, Expected)>> {
    let mut outputs = Vec::new();
    match (example.compact, output.get("compact")) {
        (Some(expected), Some(_)) => outputs.push(("compact", expected)),
        (None, None) => {}
        (Some(_), None) => bail!("`{}` has no `output.compact`", path.display()),
        (None, Some(_)) => bail!(
            "`{}` now has `output.compact`; list what Warden must do with it",
            path.display()
        ),
    }
    for name in ["json", "json_flat"] {
        if output.get(name).is_some() {
            outputs.push((name, Expected::RejectBy(Check::Parse)));
        }
    }
    Ok(outputs)
}

/// Returns `input.key` as a JWK, or as a JWK set when the example has several keys.
fn key_of(document: &Value) -> Option<Value> {
    match document.get("input")?.get("key")? {
        Value::Array(keys) => Some(serde_json::json!({ "keys": keys })),
        key => Some(key.clone()),
    }
}

/// Fails on a `.json` file in a cookbook folder that has no entry in [`EXAMPLES`].
fn check_listed(vectors: &Path) -> anyhow::Result<()> {
    for folder in [
        "jose-cookbook/jws",
        "jose-cookbook/rfc7797",
        "jose-cookbook/curve25519",
    ] {
        let dir = vectors.join(folder);
        let entries = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read vector folder `{}`", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            if !name.ends_with(".json") {
                continue;
            }
            let source = format!("{folder}/{name}");
            if !EXAMPLES.iter().any(|example| example.source == source) {
                bail!("cookbook file `{source}` has no expectation; add it to the cookbook list");
            }
        }
    }
    Ok(())
}
