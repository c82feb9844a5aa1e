//! `cargo xtask schema [--check]`: the committed policy JSON Schema.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

/// Arguments of `cargo xtask schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Compare instead of writing; exit 1 when `policies/schema.json` is stale.
    #[arg(long)]
    check: bool,
}

/// Writes or checks `policies/schema.json`.
pub fn run(args: &SchemaArgs) -> Result<ExitCode> {
    let path = crate::workspace_root().join("policies/schema.json");
    let generated = format!(
        "{}\n",
        serde_json::to_string_pretty(&warden_policy::json_schema())?
    );
    if !args.check {
        std::fs::write(&path, generated)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        println!("wrote {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let committed = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if committed == generated {
        println!("{} is current", path.display());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "{} is stale; run `cargo xtask schema` and commit the result",
            path.display()
        );
        Ok(ExitCode::from(1))
    }
}
