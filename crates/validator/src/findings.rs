//! Accumulators for one token's findings and, with `--explain`, its checks.

use std::borrow::Cow;

use warden_policy::Severity;

use crate::report::{Check, Code, Finding};

/// Findings gathered so far for one token.
#[derive(Debug, Default)]
pub(crate) struct Findings(pub(crate) Vec<Finding>);

impl Findings {
    pub(crate) fn add(
        &mut self,
        code: Code,
        severity: Severity,
        rule: impl Into<Cow<'static, str>>,
        message: String,
    ) {
        self.0.push(Finding {
            code,
            severity,
            rule: rule.into(),
            message: one_line(message),
        });
    }

    pub(crate) fn error(
        &mut self,
        code: Code,
        rule: impl Into<Cow<'static, str>>,
        message: String,
    ) {
        self.add(code, Severity::Error, rule, message);
    }

    pub(crate) fn has_error(&self) -> bool {
        self.0
            .iter()
            .any(|finding| finding.severity == Severity::Error)
    }
}

/// Escapes control characters, so a message stays on one line and token-supplied text
/// cannot forge output lines or send terminal escape sequences.
pub(crate) fn one_line(text: String) -> String {
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .map(|character| {
            if character.is_control() {
                character.escape_default().to_string()
            } else {
                character.to_string()
            }
        })
        .collect()
}

/// Checks recorded for an explanation; records nothing unless enabled, so the strings are
/// only built when someone asked for them.
#[derive(Debug, Default)]
pub(crate) struct Trace(Option<Vec<Check>>);

impl Trace {
    pub(crate) fn new(enabled: bool) -> Self {
        Trace(enabled.then(Vec::new))
    }

    /// Records one check; `describe` returns the claim, the expected and the actual value.
    pub(crate) fn record<F>(
        &mut self,
        rule: impl Into<Cow<'static, str>>,
        passed: bool,
        describe: F,
    ) where
        F: FnOnce() -> (Option<String>, String, String),
    {
        if let Some(checks) = &mut self.0 {
            let (claim, expected, actual) = describe();
            checks.push(Check {
                rule: rule.into(),
                claim,
                expected,
                actual,
                passed,
            });
        }
    }

    pub(crate) fn into_checks(self) -> Option<Vec<Check>> {
        self.0
    }
}
