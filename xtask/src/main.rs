//! `cargo xtask`: project tasks for Warden, run from anywhere in the workspace.
//!
//! Each task lives in its own module with an `Args` type and a `run` function; this file
//! only parses the command line and dispatches.
#![forbid(unsafe_code)]

mod bench;
mod ci;
mod conformance;
mod fuzz;
mod process;
mod schema;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project tasks for Warden.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the public JOSE test vectors (Wycheproof, RFC 7520 cookbook) through Warden.
    ///
    /// Exits 0 when every result agrees with the vectors or is a listed exception, 1 on
    /// any other disagreement or a stale exception, and 2 when the vectors or the
    /// exceptions file cannot be read.
    Conformance(conformance::Args),
    /// Build and run the cargo-fuzz targets.
    Fuzz(fuzz::FuzzArgs),
    /// Run the criterion benchmarks and print the ratio table.
    Bench(bench::BenchArgs),
    /// Run the checks CI runs: fmt, clippy, tests, policy suites, conformance, the schema, a short
    /// fuzz run and a bench build.
    Ci(ci::CiArgs),
    /// Write the policy JSON Schema to `policies/schema.json`, or with `--check` fail when
    /// the committed file differs from the policy types.
    Schema(schema::SchemaArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("XTASK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let result = match Cli::parse().command {
        Command::Conformance(args) => conformance::run(&args),
        Command::Fuzz(args) => fuzz::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Bench(args) => bench::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Ci(args) => ci::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Schema(args) => schema::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Returns the workspace root: the parent of this crate's manifest folder.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}
