use std::path::{Path, PathBuf};

use crate::Policy;

/// Reason a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy `{}`", path.display())]
    Read {
        /// Policy file path.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The document is not a valid policy.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        /// File path or other name of the document.
        origin: String,
        /// 1-based line of the offending value, 0 when unknown.
        line: usize,
        /// 1-based column of the offending value, 0 when unknown.
        column: usize,
        /// Description of the problem.
        message: String,
    },
}

impl Policy {
    /// Loads and checks the policy file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut policy = Policy::from_yaml_str(&text, &path.display().to_string())?;
        policy.source_dir = path.parent().map(Path::to_owned);
        Ok(policy)
    }

    /// Parses and checks policy YAML; `origin` names the document in errors.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        // Editors on some platforms save UTF-8 with a byte order mark, which YAML parsers
        // would read as part of the first key.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        check_size(text).map_err(|message| PolicyError::Invalid {
            origin: origin.to_owned(),
            line: 0,
            column: 0,
            message,
        })?;
        let policy: Policy = serde_yaml::from_str(text).map_err(|error| invalid(origin, &error))?;
        check_references(&policy).map_err(|(path, message)| {
            let (line, column) = crate::lint::locate(text, &path);
            PolicyError::Invalid {
                origin: origin.to_owned(),
                line,
                column,
                message,
            }
        })?;
        Ok(policy)
    }
}

/// Largest policy accepted, in bytes; real policies are a few kilobytes.
const MAX_POLICY_BYTES: usize = 1 << 20;

/// Deepest bracket nesting accepted; the policy schema needs fewer than ten levels, and the
/// YAML parser slows down sharply on documents nested thousands deep.
const MAX_FLOW_DEPTH: usize = 64;

/// Rejects documents too large or too deeply nested to be policies before parsing them.
fn check_size(text: &str) -> Result<(), String> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(format!(
            "policy is {} bytes, more than the {MAX_POLICY_BYTES}-byte limit",
            text.len()
        ));
    }
    let mut depth = 0_usize;
    for character in text.chars() {
        match character {
            '[' | '{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(format!(
                        "policy nests brackets more than {MAX_FLOW_DEPTH} levels deep"
                    ));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let deepest_indent = text
        .lines()
        .map(|line| line.len() - line.trim_start_matches(' ').len())
        .max()
        .unwrap_or(0);
    if deepest_indent > 2 * MAX_FLOW_DEPTH {
        return Err(format!(
            "policy indents more than {} spaces deep",
            2 * MAX_FLOW_DEPTH
        ));
    }
    Ok(())
}

/// Checks that need more than one part of the policy; returns the key path of the
/// offending part with the message.
fn check_references(policy: &Policy) -> Result<(), (Vec<&'static str>, String)> {
    if let Some(issuers) = &policy.issuers {
        if issuers.is_empty() {
            return Err((
                vec!["issuers"],
                "`issuers` must list at least one issuer".to_owned(),
            ));
        }
        for (index, issuer) in issuers.iter().enumerate() {
            if issuers
                .iter()
                .take(index)
                .any(|other| other.iss == issuer.iss)
            {
                return Err((
                    vec!["issuers"],
                    format!("issuer `{}` is listed twice", issuer.iss),
                ));
            }
            let outside = issuer
                .algorithms
                .iter()
                .flat_map(|algorithms| algorithms.iter())
                .find(|algorithm| !policy.algorithms.contains(*algorithm));
            if let Some(algorithm) = outside {
                let message = format!(
                    "issuer `{}` uses `{algorithm}`, which the policy's `algorithms` does not allow",
                    issuer.iss
                );
                return Err((vec!["issuers"], message));
            }
        }
    }
    let custom = &policy.rules.custom;
    for (index, rule) in custom.iter().enumerate() {
        if custom.iter().take(index).any(|other| other.id == rule.id) {
            let message = format!("custom rule id `{}` is used twice", rule.id.as_str());
            return Err((vec!["rules", "custom"], message));
        }
    }
    Ok(())
}

fn invalid(origin: &str, error: &serde_yaml::Error) -> PolicyError {
    let (line, column) = error
        .location()
        .map_or((0, 0), |at| (at.line(), at.column()));
    let text = error.to_string();
    // serde_yaml appends " at line L column C" to its message; the position is kept in
    // separate fields instead.
    let message = match text.rsplit_once(" at line ") {
        Some((head, _)) => head.to_owned(),
        None => text,
    };
    PolicyError::Invalid {
        origin: origin.to_owned(),
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(yaml: &str) -> (usize, usize, String) {
        match Policy::from_yaml_str(yaml, "test.yaml") {
            Err(PolicyError::Invalid {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("expected an invalid policy, got {other:?}"),
        }
    }

    #[test]
    fn loads_minimal_policy() {
        let policy = Policy::from_yaml_str("version: 1\nalgorithms: [HS256]\n", "t").unwrap();
        assert_eq!(policy.max_token_length, crate::DEFAULT_MAX_TOKEN_LENGTH);
        assert!(policy.rules.expiry.is_none());
    }

    #[test]
    fn typo_is_an_error_with_position() {
        let (line, column, message) = error_of(
            "version: 1\nalgorithms: [HS256]\nrules:\n  requried_claims: { claims: [sub] }\n",
        );
        assert_eq!((line, column), (4, 3));
        assert!(
            message.contains("unknown field `requried_claims`"),
            "{message}"
        );
    }

    #[test]
    fn rejects_bad_values() {
        let cases = [
            (
                "version: 2\nalgorithms: [HS256]\n",
                "unsupported policy version",
            ),
            ("version: 1\nalgorithms: []\n", "list must not be empty"),
            ("version: 1\nalgorithms: [none]\n", "`none` can never"),
            ("version: 1\nalgorithms: [NONE]\n", "`none` can never"),
            (
                "version: 1\nalgorithms: [HS999]\n",
                "unknown algorithm `HS999`",
            ),
            ("version: 1\nalgorithms: [HS256, HS256]\n", "listed twice"),
            (
                "version: 1\nalgorithms: [HS256]\nleeway: 60\n",
                "has no unit",
            ),
            (
                "version: 1\nalgorithms: [HS256]\nmax_token_length: 0\n",
                "greater than 0",
            ),
            (
                "version: 1\nalgorithms: [HS256]\nrules:\n  max_age: { max: 5x }\n",
                "unknown unit",
            ),
            (
                "version: 1\nalgorithms: [HS256]\nrules:\n  required_claims: { claims: [] }\n",
                "must not be empty",
            ),
            (
                "version: 1\nalgorithms: [HS256]\nrules:\n  expiry: { severity: fatal }\n",
                "unknown variant `fatal`",
            ),
            (
                "version: 1\nalgorithms: [HS256]\nrules:\n  usage: { per: token }\n",
                "needs `warn_after`",
            ),
            (
                "version: 1\nalgorithms: [HS256]\nrules:\n  suspicious_roles: { roles: [Root, root] }\n",
                "listed twice",
            ),
            ("version: 1\n", "missing field `algorithms`"),
            (
                "version: 1\nalgorithms: [HS256]\nrules:\n  expiry:\n",
                "has no value",
            ),
            (
                "version: 1\nalgorithms: [HS256]\nrules:\n  expiry: ~\n",
                "has no value",
            ),
            ("- just\n- a list\n", "invalid type"),
        ];
        for (yaml, expected) in cases {
            let (line, _, message) = error_of(yaml);
            assert!(message.contains(expected), "{yaml:?}: {message}");
            assert!(
                line > 0 || expected.contains("missing"),
                "{yaml:?}: no line"
            );
        }
    }

    #[test]
    fn invalid_value_points_at_value() {
        let (line, column, _) =
            error_of("version: 1\nalgorithms: [HS256]\nrules:\n  max_age:\n    max: 30days\n");
        assert_eq!(line, 5);
        assert!(column >= 5, "column {column}");
    }

    #[test]
    fn cross_checks_point_at_their_section() {
        let yaml = "version: 1\nalgorithms: [HS256]\nissuers:\n  - { iss: a, keys: k.pem, algorithms: [RS256] }\n";
        let (line, column, message) = error_of(yaml);
        assert_eq!((line, column), (3, 1));
        assert!(message.contains("uses `RS256`"), "{message}");
        let yaml = "version: 1\nalgorithms: [HS256]\nrules:\n  custom:\n    - { id: a, claim: x, exists: true }\n    - { id: a, claim: y, exists: true }\n";
        let (line, _, message) = error_of(yaml);
        assert_eq!(line, 4);
        assert!(message.contains("used twice"), "{message}");
    }

    #[test]
    fn deep_nesting_is_rejected_quickly() {
        let deep = format!(
            "version: 1\nalgorithms: [HS256]\nname: {}x{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let error = Policy::from_yaml_str(&deep, "deep.yaml").unwrap_err();
        assert!(error.to_string().contains("more than 64 levels"), "{error}");
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let error = Policy::load("/nonexistent/policy.yaml").unwrap_err();
        assert!(matches!(error, PolicyError::Read { .. }));
        assert!(error.to_string().contains("/nonexistent/policy.yaml"));
    }
}
