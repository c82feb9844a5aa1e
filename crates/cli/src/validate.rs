use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::{Args, ValueEnum};
use warden_policy::Policy;
use warden_validator::{
    FixedClock, KeyFormat, KeySet, Request, SystemClock, ValidateOptions, Validator,
};

use crate::inputs::TokenSource;
use crate::time::parse_instant;

/// Arguments of `warden validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Policy file (YAML).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Verification key: HMAC secret, PEM public key or JWK set. Not needed when the
    /// policy lists `issuers` with their own keys.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// How to read `--key`; `auto` detects PEM and JWK sets and reads anything else as a raw HMAC secret.
    #[arg(long, value_enum, default_value_t = KeyFormatArg::Auto)]
    key_format: KeyFormatArg,
    /// Read tokens from this file, one per line (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    tokens: Option<PathBuf>,
    /// Revocation store to check tokens against, which also keeps the usage counts:
    /// `file:PATH`, `redis://HOST:PORT/DB` or `memory`.
    #[arg(long, value_name = "STORE")]
    store: Option<crate::store::StoreSpec>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Evaluate at this time instead of now: RFC 3339 (`2026-12-01T00:00:00Z`) or Unix seconds.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Print every check that ran, with the expected and actual values and the clock.
    #[arg(long)]
    explain: bool,
    /// Require the token to carry this role.
    #[arg(long, value_name = "ROLE")]
    require_role: Option<String>,
    /// Require this permission, carried by the token and granted by its role; repeatable.
    #[arg(long, value_name = "PERMISSION")]
    require_permission: Vec<String>,
    /// Require access to this resource, such as `camera1`.
    #[arg(long, value_name = "RESOURCE")]
    resource: Option<String>,
    /// Tokens to validate; when absent, `--tokens` or stdin is read.
    #[arg(value_name = "TOKEN")]
    token: Vec<String>,
}

/// Output format of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// One block per token for people.
    Text,
    /// One JSON object per line per token.
    Json,
}

/// Key file formats, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyFormatArg {
    /// Detect PEM or JWK set; anything else is a raw HMAC secret.
    Auto,
    /// The file's bytes are the HMAC secret (one trailing newline ignored).
    HmacRaw,
    /// The file contains a base64url HMAC secret.
    HmacBase64url,
    /// PEM public key.
    Pem,
    /// JWK set or single JWK.
    Jwks,
}

impl From<KeyFormatArg> for KeyFormat {
    fn from(format: KeyFormatArg) -> Self {
        match format {
            KeyFormatArg::Auto => KeyFormat::Auto,
            KeyFormatArg::HmacRaw => KeyFormat::HmacRaw,
            KeyFormatArg::HmacBase64url => KeyFormat::HmacBase64Url,
            KeyFormatArg::Pem => KeyFormat::Pem,
            KeyFormatArg::Jwks => KeyFormat::Jwks,
        }
    }
}

/// Runs `warden validate`.
pub fn run(args: ValidateArgs) -> Result<ExitCode> {
    let validator = build_validator(&args)?;
    let request = Request {
        role: args.require_role.clone(),
        permissions: args.require_permission.clone(),
        resource: args.resource.clone(),
    };
    let has_request = request != Request::default();
    let options = ValidateOptions {
        request: has_request.then_some(&request),
        explain: args.explain,
    };
    let mut tokens = TokenSource::open(args.token, args.tokens.as_deref())?;
    let stdout = std::io::stdout().lock();
    let mut output = BufWriter::new(stdout);
    let (mut total, mut denied) = (0_u64, 0_u64);
    for token in tokens.by_ref() {
        let report = validator.validate_with(&token?, options);
        total += 1;
        if !report.is_allowed() {
            denied += 1;
        }
        match args.format {
            OutputFormat::Text => writeln!(output, "{report}")?,
            OutputFormat::Json => {
                serde_json::to_writer(&mut output, &report)?;
                writeln!(output)?;
            }
        }
    }
    tokens.finish();
    output.flush()?;
    if total == 0 {
        anyhow::bail!("no tokens were read; an empty input is not a pass");
    }
    tracing::info!(total, denied, "validation finished");
    Ok(if denied == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn build_validator(args: &ValidateArgs) -> Result<Validator> {
    let policy = Policy::load(&args.policy)?;
    let keys = match &args.key {
        Some(path) => KeySet::load(path, args.key_format.into())?,
        None if policy.issuers.is_some() => KeySet::default(),
        None => anyhow::bail!(
            "`--key` is required unless the policy lists `issuers` with their own keys"
        ),
    };
    if args.store.is_some() && policy.rules.revocation.is_none() {
        tracing::warn!(
            "`--store` is given but the policy has no `revocation` rule, so revocations are not checked"
        );
    }
    let mut builder = Validator::builder(policy, keys);
    builder = match &args.now {
        Some(text) => builder.clock(Arc::new(FixedClock(parse_instant(text)?))),
        None => builder.clock(Arc::new(SystemClock)),
    };
    if let Some(spec) = &args.store {
        builder = crate::store::attach(builder, spec)?;
    }
    let validator = builder.build()?;
    for warning in validator.warnings() {
        tracing::warn!("{warning}");
    }
    Ok(validator)
}
