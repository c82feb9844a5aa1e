//! `cargo xtask ci`: the checks CI runs, in order, stopping at the first failure.

use anyhow::Result;
use clap::Args;

use crate::process::{self, cargo};
use crate::{bench, fuzz};

/// Arguments of `cargo xtask ci`.
#[derive(Debug, Args)]
pub struct CiArgs {
    /// Fuzzing time per target, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    pub fuzz_time: u64,
    /// Skip the fuzz runs.
    #[arg(long)]
    pub skip_fuzz: bool,
    /// Skip the bench build and quick run.
    #[arg(long)]
    pub skip_bench: bool,
}

/// Runs `cargo xtask ci`.
pub fn run(args: &CiArgs) -> Result<()> {
    process::run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    process::run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    process::run(cargo().args(["test", "--workspace"]))?;
    // The validator's prepared HMAC keys have one implementation per crypto backend.
    process::run(cargo().args([
        "test",
        "--package",
        "warden-validator",
        "--no-default-features",
        "--features",
        "rust-crypto",
    ]))?;
    process::run(cargo().args([
        "test",
        "--package",
        "warden-validator",
        "--features",
        "tokio",
        "--test",
        "async_manager",
    ]))?;
    policy_suites()?;
    process::run(cargo().args(["run", "--quiet", "--package", "xtask", "--", "conformance"]))?;
    process::run(cargo().args([
        "run",
        "--quiet",
        "--package",
        "xtask",
        "--",
        "schema",
        "--check",
    ]))?;
    if !args.skip_fuzz {
        fuzz::run(&fuzz::FuzzArgs {
            target: None,
            time: args.fuzz_time,
            sanitizer: "none".to_owned(),
        })?;
    }
    if !args.skip_bench {
        process::run(cargo().args(["bench", "--package", "warden-benches", "--no-run"]))?;
        bench::run(&bench::BenchArgs {
            save: None,
            compare: None,
            benches: vec!["validate".to_owned(), "policy".to_owned()],
            quick: true,
            no_peer: true,
            report_only: false,
        })?;
    }
    eprintln!("ci: all checks passed");
    Ok(())
}

/// Lints the shipped policies and runs their test suites.
fn policy_suites() -> Result<()> {
    let warden = ["run", "--quiet", "--package", "warden-cli", "--"];
    let policies = [
        "policies/default.yaml",
        "policies/camera-service.yaml",
        "policies/strict.yaml",
    ];
    process::run(
        cargo()
            .args(warden)
            .args(["policy", "check", "--deny-warnings"])
            .args(policies),
    )?;
    process::run(cargo().args(warden).args(["policy", "test", "policies"]))
}
