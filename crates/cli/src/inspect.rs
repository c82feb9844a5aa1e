//! `warden inspect --insecure`: show a token's header and claims without verifying it.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use warden_claims::{Claims, CompactToken, Header};

/// Arguments of `warden inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Acknowledge that nothing is verified: the output may be forged.
    #[arg(long)]
    insecure: bool,
    /// The token to decode.
    #[arg(value_name = "TOKEN")]
    token: String,
}

/// Runs `warden inspect`.
pub fn run(args: &InspectArgs) -> Result<ExitCode> {
    if !args.insecure {
        bail!(
            "`inspect` shows unverified contents; pass `--insecure` to confirm that is what you want"
        );
    }
    let compact = CompactToken::parse(&args.token).context("token is malformed")?;
    let header = compact
        .decode_header()
        .and_then(|json| Header::from_json(&json))
        .context("header is malformed")?;
    let claims = compact
        .decode_payload()
        .and_then(|json| Claims::from_json(&json))
        .context("payload is malformed")?;
    let output = serde_json::json!({
        "warning": "UNVERIFIED: the signature was not checked; anyone could have written these values",
        "token": compact.id().short(),
        "header": header,
        "claims": claims,
    });
    eprintln!("UNVERIFIED: the signature was not checked");
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(ExitCode::SUCCESS)
}
