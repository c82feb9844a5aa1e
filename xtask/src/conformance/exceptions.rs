//! The checked-in list of cases where Warden's result differs from a vector's label on
//! purpose, each with its reason.

use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

use super::case::{Case, CaseId};

/// One listed disagreement.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Exception {
    /// Vector file, relative to the vectors folder.
    pub(crate) source: String,
    /// Wycheproof `tcId` of the case.
    pub(crate) tc_id: u64,
    /// Reason Warden's result is right and the label is not, or the case is out of scope.
    pub(crate) reason: String,
}

impl Exception {
    /// Returns true when this entry names `case`.
    pub(crate) fn covers(&self, case: &Case) -> bool {
        self.source == case.source && case.id == CaseId::TcId(self.tc_id)
    }
}

/// Reads the exceptions file, a YAML list of `source`, `tc_id` and `reason` entries.
pub(crate) fn load(path: &Path) -> anyhow::Result<Vec<Exception>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read exceptions file `{}`", path.display()))?;
    parse(&text).with_context(|| format!("invalid exceptions file `{}`", path.display()))
}

/// Parses exceptions YAML; an entry listed twice or with an empty reason is an error.
pub(crate) fn parse(text: &str) -> anyhow::Result<Vec<Exception>> {
    let exceptions: Vec<Exception> = serde_yaml::from_str(text)?;
    for (index, exception) in exceptions.iter().enumerate() {
        if exception.reason.trim().is_empty() {
            bail!(
                "`{}` tcId {} has an empty reason",
                exception.source,
                exception.tc_id
            );
        }
        let earlier = exceptions.iter().take(index);
        if earlier
            .into_iter()
            .any(|other| other.source == exception.source && other.tc_id == exception.tc_id)
        {
            bail!(
                "`{}` tcId {} is listed twice",
                exception.source,
                exception.tc_id
            );
        }
    }
    Ok(exceptions)
}
