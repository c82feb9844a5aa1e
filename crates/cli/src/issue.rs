//! `warden issue`: sign a token that the policy accepts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Map, Value};
use warden_policy::{Duration, Policy, Severity};
use warden_validator::{
    FixedClock, IssueRequest, Issuer, KeyFormat, KeySet, SigningKey, SigningKeyKind, SystemClock,
    Validator,
};

use crate::time::parse_instant;

/// Arguments of `warden issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Policy file (YAML); it sets `iss`, `aud`, the algorithm and the role's grants.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Signing key: a PEM private key (RSA, EC P-256/P-384, Ed25519) or a raw HMAC secret.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Key id to put in the token header's `kid`.
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// Subject: the `sub` claim.
    #[arg(long, value_name = "ID")]
    sub: String,
    /// Role: the `role` claim; must be defined in the policy's `roles` when it has any.
    #[arg(long, value_name = "ROLE")]
    role: String,
    /// Display name: the `name` claim.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Lifetime, such as `15m` or `24h`.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    ttl: Duration,
    /// Extra claim; VALUE is read as JSON when it parses (`3`, `true`, `{"a":1}`), else as
    /// a string. Repeatable; registered and role-derived claims cannot be set.
    #[arg(long = "claim", value_name = "KEY=VALUE")]
    claims: Vec<String>,
    /// Issue at this time instead of now: RFC 3339 or Unix seconds.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Public key that verifies the new token against the policy before it is printed.
    /// Not needed for HMAC keys or when the policy lists `issuers`.
    #[arg(long, value_name = "FILE")]
    verify_key: Option<PathBuf>,
}

/// Runs `warden issue`: prints the token on stdout.
pub fn run(args: &IssueArgs) -> Result<ExitCode> {
    let policy = Policy::load(&args.policy)?;
    let key = load_signing_key(&args.key, args.kid.as_deref())?;
    let kind = key.kind();
    let clock = clock(args.now.as_deref())?;
    let issuer = Issuer::new(policy.clone(), key)?.with_clock(clock.clone());
    let mut request = IssueRequest::new(&args.sub, &args.role, args.ttl.as_secs());
    request.name = args.name.clone();
    request.extra = parse_claims(&args.claims)?;
    let issued = issuer.issue(&request)?;
    match verification_keys(&policy, &args.key, kind, args.verify_key.as_deref())? {
        Some(keys) => {
            let validator = Validator::builder(policy, keys).clock(clock).build()?;
            check_accepted(&validator, issued.as_str())?;
        }
        None => tracing::warn!(
            "issued token was not checked against the policy; pass `--verify-key` to check it"
        ),
    }
    tracing::info!(token = %issued.id().short(), expires_at = issued.expires_at, "issued token");
    println!("{}", issued.as_str());
    Ok(ExitCode::SUCCESS)
}

/// Loads the signing key, with `kid` in the header when given.
pub fn load_signing_key(path: &Path, kid: Option<&str>) -> Result<SigningKey> {
    let key = SigningKey::load(path)?;
    Ok(match kid {
        Some(kid) => key.with_kid(kid),
        None => key,
    })
}

/// Returns the clock for `--now`, or the system clock.
pub fn clock(now: Option<&str>) -> Result<Arc<dyn warden_validator::Clock>> {
    Ok(match now {
        Some(text) => Arc::new(FixedClock(parse_instant(text)?)),
        None => Arc::new(SystemClock),
    })
}

/// Picks the keys that verify tokens signed with `key`: `--verify-key`, else the policy's
/// issuer keys, else the HMAC secret itself. `None` when a private key has no public half
/// at hand.
pub fn verification_keys(
    policy: &Policy,
    key: &Path,
    kind: SigningKeyKind,
    verify_key: Option<&Path>,
) -> Result<Option<KeySet>> {
    if let Some(path) = verify_key {
        return Ok(Some(KeySet::load(path, KeyFormat::Auto)?));
    }
    if policy.issuers.is_some() {
        return Ok(Some(KeySet::default()));
    }
    if matches!(kind, SigningKeyKind::Hmac(_)) {
        return Ok(Some(KeySet::load(key, KeyFormat::HmacRaw)?));
    }
    Ok(None)
}

/// Fails when the policy reports any error finding on a token just issued.
fn check_accepted(validator: &Validator, token: &str) -> Result<()> {
    let report = validator.validate(token);
    let errors: Vec<String> = report
        .findings
        .iter()
        .filter(|finding| finding.severity == Severity::Error)
        .map(|finding| format!("{}: {}", finding.code.as_str(), finding.message))
        .collect();
    if !errors.is_empty() {
        bail!(
            "the policy would deny the issued token, so it is not printed: {}",
            errors.join("; ")
        );
    }
    Ok(())
}

fn parse_claims(claims: &[String]) -> Result<Map<String, Value>> {
    let mut parsed = Map::new();
    for claim in claims {
        let (name, value) = claim
            .split_once('=')
            .with_context(|| format!("invalid `--claim {claim}`; expected KEY=VALUE"))?;
        if name.is_empty() {
            bail!("invalid `--claim {claim}`; the claim name is empty");
        }
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        if parsed.insert(name.to_owned(), value).is_some() {
            bail!("claim `{name}` is given twice");
        }
    }
    Ok(parsed)
}
