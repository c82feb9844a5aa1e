use std::fmt;

use serde::{Deserialize, Serialize};

/// Effect of a finding on the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Reported; the token is still allowed.
    Warning,
    /// Reported; the token is denied.
    Error,
}

/// Severity setting of a rule in a policy: a [`Severity`], or `off` to disable the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RuleSeverity {
    /// Findings deny the token.
    Error,
    /// Findings are reported but do not deny.
    Warning,
    /// The rule does not run.
    Off,
}

impl RuleSeverity {
    /// Returns the severity findings get, or `None` when the rule is off.
    pub fn active(self) -> Option<Severity> {
        match self {
            RuleSeverity::Error => Some(Severity::Error),
            RuleSeverity::Warning => Some(Severity::Warning),
            RuleSeverity::Off => None,
        }
    }

    pub(crate) fn error() -> Self {
        RuleSeverity::Error
    }

    pub(crate) fn warning() -> Self {
        RuleSeverity::Warning
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}
