//! `warden policy check|test|schema`: tools for the people who write policies.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use warden_policy::{LintFinding, Policy, PolicyError, Severity};

use crate::policy_test;

/// `warden policy` subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Load policies and report load errors and lint findings with file, line and column.
    Check(CheckArgs),
    /// Run the `*.test.yaml` suites in a folder (default `policies`).
    Test(policy_test::TestArgs),
    /// Print the JSON Schema (draft-07) of policy files.
    Schema,
}

/// Arguments of `warden policy check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files to check.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Print findings as JSON, one object per line.
    #[arg(long)]
    json: bool,
    /// Exit non-zero on warnings too.
    #[arg(long)]
    deny_warnings: bool,
}

/// One finding of `policy check`, in the shape both output formats use.
#[derive(Debug, Serialize)]
struct CheckFinding {
    file: String,
    line: usize,
    column: usize,
    severity: Severity,
    code: &'static str,
    message: String,
}

/// Runs `warden policy ...`.
pub fn run(command: PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Check(args) => check(&args),
        PolicyCommand::Test(args) => policy_test::run(&args),
        PolicyCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&warden_policy::json_schema())?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(args: &CheckArgs) -> Result<ExitCode> {
    let mut findings = Vec::new();
    for file in &args.files {
        findings.extend(check_file(file)?);
    }
    for finding in &findings {
        if args.json {
            println!("{}", serde_json::to_string(finding)?);
        } else {
            let CheckFinding {
                file,
                line,
                column,
                severity,
                code,
                message,
            } = finding;
            println!("{file}:{line}:{column}: {severity}: [{code}] {message}");
        }
    }
    let errors = findings
        .iter()
        .filter(|finding| finding.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    eprintln!(
        "policy files checked: {}, errors: {errors}, warnings: {warnings}",
        args.files.len()
    );
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_file(path: &Path) -> Result<Vec<CheckFinding>> {
    let file = path.display().to_string();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read policy `{file}`"))?;
    let policy = match Policy::from_yaml_str(&text, &file) {
        Ok(mut policy) => {
            policy.source_dir = path.parent().map(Path::to_owned);
            policy
        }
        Err(PolicyError::Invalid {
            line,
            column,
            message,
            ..
        }) => {
            let code = "policy.invalid";
            return Ok(vec![CheckFinding {
                file,
                line,
                column,
                severity: Severity::Error,
                code,
                message,
            }]);
        }
        Err(other) => return Err(other.into()),
    };
    let findings = warden_policy::lint(&policy, &text)
        .into_iter()
        .map(
            |LintFinding {
                 code,
                 severity,
                 line,
                 column,
                 message,
             }| CheckFinding {
                file: file.clone(),
                line,
                column,
                severity,
                code,
                message,
            },
        )
        .collect();
    Ok(findings)
}
