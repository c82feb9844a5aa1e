//! `warden refresh`: exchange a token for a new one and revoke the old one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use warden_policy::Policy;
use warden_validator::{Issuer, RefreshError, Refresher};

use crate::issue::{clock, load_signing_key, verification_keys};

/// Arguments of `warden refresh`.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Policy file (YAML) with a `refresh` section.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Signing key for the new token: a PEM private key or a raw HMAC secret.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Key id to put in the new token's `kid` header.
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// Key that verifies the old token: PEM public key or JWK set. Not needed for HMAC
    /// keys or when the policy lists `issuers`.
    #[arg(long, value_name = "FILE")]
    verify_key: Option<PathBuf>,
    /// Revocation store that records the rotation: `file:PATH` (created if missing),
    /// `redis://HOST:PORT/DB` or `memory`.
    #[arg(long, value_name = "STORE")]
    store: crate::store::StoreSpec,
    /// Refresh at this time instead of now: RFC 3339 or Unix seconds.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// The token to refresh.
    #[arg(value_name = "TOKEN")]
    token: String,
}

/// Runs `warden refresh`: prints the new token on stdout, or exits 1 when the token may
/// not be refreshed.
pub fn run(args: &RefreshArgs) -> Result<ExitCode> {
    let policy = Policy::load(&args.policy)?;
    let key = load_signing_key(&args.key, args.kid.as_deref())?;
    let kind = key.kind();
    let keys = verification_keys(&policy, &args.key, kind, args.verify_key.as_deref())?.context(
        "`--verify-key` is required with a private signing key unless the policy lists `issuers`",
    )?;
    let store = crate::store::open(&args.store, true)?.revocations;
    let issuer = Issuer::new(policy, key)?.with_clock(clock(args.now.as_deref())?);
    let refresher = Refresher::new(issuer, keys, store)?;
    for warning in refresher.validator().warnings() {
        tracing::warn!("{warning}");
    }
    match refresher.refresh(args.token.trim()) {
        Ok(fresh) => {
            println!("{}", fresh.as_str());
            Ok(ExitCode::SUCCESS)
        }
        Err(
            error @ (RefreshError::Store(_) | RefreshError::Setup(_) | RefreshError::NotEnabled),
        ) => Err(error.into()),
        Err(error) => {
            eprintln!("refresh rejected: {error}");
            Ok(ExitCode::from(1))
        }
    }
}
