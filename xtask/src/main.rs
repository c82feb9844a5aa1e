//! `cargo xtask`: developer tasks for the Warden workspace.
#![forbid(unsafe_code)]

mod bench;
mod ci;
mod fuzz;
mod process;

use clap::{Parser, Subcommand};

/// Developer tasks for the Warden workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build and run the cargo-fuzz targets.
    Fuzz(fuzz::FuzzArgs),
    /// Run the criterion benchmarks and print the ratio table.
    Bench(bench::BenchArgs),
    /// Run the checks CI runs: fmt, clippy, tests, a short fuzz run and a bench build.
    Ci(ci::CiArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("XTASK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Fuzz(args) => fuzz::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Ci(args) => ci::run(&args),
    }
}
