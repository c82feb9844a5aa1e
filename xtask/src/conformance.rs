//! `cargo xtask conformance`: runs the public JOSE test vectors through Warden's key
//! loader and signature layer and compares each result with the vector's label.
//!
//! The vectors are read at run time and never copied into the repository. Payloads in
//! the vectors are not JSON claims, so cases stop at `verify_signature`. A run fails on
//! any disagreement that `xtask/conformance-exceptions.yaml` does not list, on a listed
//! exception that no longer disagrees, and when the vectors are missing or hold no case.

mod case;
mod cookbook;
mod exceptions;
mod wycheproof;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;

use case::{Case, SignatureLayer};
use exceptions::Exception;

/// Options of `cargo xtask conformance`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Vectors folder, containing `wycheproof/` and `jose-cookbook/`
    /// [default: `../shared/vectors` from the workspace root]
    #[arg(long, value_name = "DIR")]
    vectors: Option<PathBuf>,
    /// YAML list of expected disagreements
    /// [default: `xtask/conformance-exceptions.yaml` in the workspace]
    #[arg(long, value_name = "FILE")]
    exceptions: Option<PathBuf>,
    /// Also list every case with Warden's result, agreeing or not
    #[arg(long)]
    verbose: bool,
}

/// Runs every vector, prints the group table and the disagreements to stdout, and
/// returns exit code 1 when the run does not pass.
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let root = crate::workspace_root();
    let vectors = args
        .vectors
        .clone()
        .unwrap_or_else(|| root.join("../shared/vectors"));
    let exceptions_path = args
        .exceptions
        .clone()
        .unwrap_or_else(|| root.join("xtask/conformance-exceptions.yaml"));
    let vectors = vectors.canonicalize().unwrap_or(vectors);
    let exceptions = exceptions::load(&exceptions_path)?;
    let cases = run_cases(&vectors)?;
    tracing::info!(cases = cases.len(), vectors = %vectors.display(), "ran conformance vectors");
    let summary = Summary::new(&cases, &exceptions);
    println!("vectors: {}", vectors.display());
    print!("{}", summary.render());
    if args.verbose {
        println!("\nevery case:");
        for case in &cases {
            println!("  {}", describe(case));
        }
    }
    Ok(if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs every case under `vectors`. A missing folder or file, or no case at all, is an
/// error, because a run that checked nothing must not pass.
pub(crate) fn run_cases(vectors: &Path) -> anyhow::Result<Vec<Case>> {
    if !vectors.is_dir() {
        bail!(
            "vectors folder `{}` not found; pass `--vectors DIR` with the folder that contains `wycheproof/` and `jose-cookbook/`",
            vectors.display()
        );
    }
    let layer = SignatureLayer::new()?;
    let mut cases = wycheproof::run(vectors, &layer)?;
    cases.extend(cookbook::run(vectors, &layer)?);
    if cases.is_empty() {
        bail!("vectors folder `{}` contains no cases", vectors.display());
    }
    Ok(cases)
}

/// Counts for one report group.
#[derive(Debug, Default, PartialEq, Eq)]
struct GroupCounts {
    cases: usize,
    agreed: usize,
    excepted: usize,
}

/// The outcome of a run: per-group counts, every disagreement and stale exceptions.
struct Summary<'a> {
    groups: Vec<(&'a str, GroupCounts)>,
    disagreements: Vec<(&'a Case, Option<&'a Exception>)>,
    stale: Vec<&'a Exception>,
}

impl<'a> Summary<'a> {
    fn new(cases: &'a [Case], exceptions: &'a [Exception]) -> Self {
        let mut groups: Vec<(&str, GroupCounts)> = Vec::new();
        let mut disagreements = Vec::new();
        for case in cases {
            if !groups.iter().any(|(name, _)| *name == case.group) {
                groups.push((&case.group, GroupCounts::default()));
            }
            let Some((_, counts)) = groups.iter_mut().find(|(name, _)| *name == case.group) else {
                continue;
            };
            counts.cases += 1;
            if case.agrees() {
                counts.agreed += 1;
            } else {
                let exception = exceptions.iter().find(|exception| exception.covers(case));
                counts.excepted += usize::from(exception.is_some());
                disagreements.push((case, exception));
            }
        }
        // An exception whose case now agrees, or that names no case, must be removed.
        let stale = exceptions
            .iter()
            .filter(|exception| {
                !cases
                    .iter()
                    .any(|case| !case.agrees() && exception.covers(case))
            })
            .collect();
        Summary {
            groups,
            disagreements,
            stale,
        }
    }

    fn unexpected(&self) -> usize {
        self.disagreements
            .iter()
            .filter(|(_, exception)| exception.is_none())
            .count()
    }

    fn passed(&self) -> bool {
        self.unexpected() == 0 && self.stale.is_empty()
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let width = self
            .groups
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0)
            .max("group".len());
        let row = |name: &str, cases: &str, agreed: &str, disagreed: &str, excepted: &str| {
            format!("{name:<width$}  {cases:>5}  {agreed:>6}  {disagreed:>9}  {excepted:>8}\n")
        };
        out.push_str(&row("group", "cases", "agreed", "disagreed", "excepted"));
        let mut total = GroupCounts::default();
        for (name, counts) in &self.groups {
            let disagreed = counts.cases - counts.agreed;
            out.push_str(&row(
                name,
                &counts.cases.to_string(),
                &counts.agreed.to_string(),
                &disagreed.to_string(),
                &counts.excepted.to_string(),
            ));
            total.cases += counts.cases;
            total.agreed += counts.agreed;
            total.excepted += counts.excepted;
        }
        out.push_str(&row(
            "total",
            &total.cases.to_string(),
            &total.agreed.to_string(),
            &(total.cases - total.agreed).to_string(),
            &total.excepted.to_string(),
        ));
        out.push_str(&self.render_findings());
        out
    }

    fn render_findings(&self) -> String {
        let mut out = String::new();
        if !self.disagreements.is_empty() {
            out.push_str("\ndisagreements:\n");
        }
        for (case, exception) in &self.disagreements {
            out.push_str(&format!("  {}\n", describe(case)));
            match exception {
                Some(exception) => out.push_str(&format!("    exception: {}\n", exception.reason)),
                None => out.push_str("    not listed in the exceptions file\n"),
            }
        }
        for exception in &self.stale {
            out.push_str(&format!(
                "\nstale exception: {} tcId {} no longer disagrees or names no case; remove it\n",
                exception.source, exception.tc_id
            ));
        }
        out.push_str(&format!(
            "\nresult: {} ({} unexpected disagreements, {} stale exceptions)\n",
            if self.passed() { "pass" } else { "FAIL" },
            self.unexpected(),
            self.stale.len()
        ));
        out
    }
}

/// Formats one case as `source id (comment): expected X, warden Y`.
fn describe(case: &Case) -> String {
    format!(
        "{} {} ({}): expected {}, warden {}",
        case.source, case.id, case.comment, case.expected, case.outcome
    )
}

#[cfg(test)]
mod tests;
