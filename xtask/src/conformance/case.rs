//! One test vector, what the vectors expect of it, and what Warden did with it.

use std::fmt;

use anyhow::Context;
use serde_json::Value;
use warden_claims::{Algorithm, CompactToken};
use warden_policy::{Algorithms, Policy};
use warden_validator::{Code, CryptoProvider, KeyFormat, KeySet, verify_signature};

/// Name of a case within its source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CaseId {
    /// Wycheproof `tcId`.
    TcId(u64),
    /// Cookbook output name, such as `compact` or `json_flat`.
    Name(&'static str),
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaseId::TcId(id) => write!(f, "tcId {id}"),
            CaseId::Name(name) => f.write_str(name),
        }
    }
}

/// The check that rejected a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// `CompactToken::parse`: JSON serialisation, JWE or a wrong segment count.
    Parse,
    /// The key loader rejected the case's key or key set.
    KeyLoad,
    /// `verify_signature` returned a finding with this code.
    Finding(Code),
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Parse => f.write_str("compact parsing"),
            Check::KeyLoad => f.write_str("key loading"),
            Check::Finding(code) => write!(f, "`{code}`"),
        }
    }
}

/// Expected result of a case, from the vector's label or the cookbook list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expected {
    /// The signature verifies.
    Accept,
    /// Some check rejects the case.
    Reject,
    /// This particular check rejects the case.
    RejectBy(Check),
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Accept => f.write_str("valid"),
            Expected::Reject => f.write_str("invalid"),
            Expected::RejectBy(check) => write!(f, "rejected by {check}"),
        }
    }
}

/// Warden's result for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The signature verified.
    Accepted,
    /// A check rejected the case; `reason` is Warden's message.
    Rejected {
        /// The check that failed.
        by: Check,
        /// Warden's one-line message.
        reason: String,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Accepted => f.write_str("accepted"),
            Outcome::Rejected { by, reason } => write!(f, "rejected by {by}: {reason}"),
        }
    }
}

/// One test vector together with Warden's result.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// Report group, such as `wycheproof/jws/hs256`.
    pub(crate) group: String,
    /// Vector file, relative to the vectors folder.
    pub(crate) source: String,
    /// Name of the case within `source`.
    pub(crate) id: CaseId,
    /// The vector's own description of the case.
    pub(crate) comment: String,
    /// Expected result.
    pub(crate) expected: Expected,
    /// Warden's result.
    pub(crate) outcome: Outcome,
}

impl Case {
    /// Returns true when Warden's result is the expected one.
    pub(crate) fn agrees(&self) -> bool {
        match (self.expected, &self.outcome) {
            (Expected::Accept, Outcome::Accepted) => true,
            (Expected::Reject, Outcome::Rejected { .. }) => true,
            (Expected::RejectBy(wanted), Outcome::Rejected { by, .. }) => wanted == *by,
            _ => false,
        }
    }
}

/// Warden's signature layer with every algorithm allowed, so that each case is judged
/// by its key and signature rather than by an allowlist.
pub(crate) struct SignatureLayer {
    algorithms: Algorithms,
    provider: &'static CryptoProvider,
}

impl SignatureLayer {
    /// Builds the layer from a policy that lists every supported algorithm.
    pub(crate) fn new() -> anyhow::Result<Self> {
        let names: Vec<&str> = Algorithm::ALL.iter().map(|alg| alg.as_str()).collect();
        let yaml = format!("version: 1\nalgorithms: [{}]\n", names.join(", "));
        let policy = Policy::from_yaml_str(&yaml, "conformance policy")
            .context("the policy that allows every algorithm is invalid")?;
        let provider = CryptoProvider::try_get_default()
            .context("no JWT crypto backend is available; build xtask with `aws-lc-rs`")?;
        Ok(SignatureLayer {
            algorithms: policy.algorithms,
            provider,
        })
    }

    /// Parses `token` (a compact string, or a JSON serialisation given as a JSON value),
    /// loads `key` (a JWK or a JWK set) and verifies the signature.
    pub(crate) fn check(&self, token: &Value, key: &Value) -> Outcome {
        let text = match token {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let compact = match CompactToken::parse(&text) {
            Ok(compact) => compact,
            Err(error) => return rejected(Check::Parse, error),
        };
        let keys = match load_keys(key) {
            Ok(keys) => keys,
            Err(error) => return rejected(Check::KeyLoad, error),
        };
        match verify_signature(&compact, &keys, &self.algorithms, self.provider) {
            Ok(_) => Outcome::Accepted,
            Err(finding) => Outcome::Rejected {
                by: Check::Finding(finding.code),
                reason: finding.message,
            },
        }
    }
}

fn load_keys(key: &Value) -> Result<KeySet, warden_validator::KeyError> {
    KeySet::from_bytes(key.to_string().as_bytes(), KeyFormat::Jwks, "vector key")
}

fn rejected(by: Check, error: impl fmt::Display) -> Outcome {
    Outcome::Rejected {
        by,
        reason: error.to_string(),
    }
}
