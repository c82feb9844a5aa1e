use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use warden_blacklist::{Revocation, RevocationStore, Target};
use warden_claims::{Claims, CompactToken};
use warden_policy::Duration;

use crate::store::StoreSpec;
use crate::time::{format_instant, now, parse_instant};

/// Arguments of `warden revoke`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["token", "jti", "sub", "kid"]))]
pub struct RevokeArgs {
    /// Revocation store: `file:PATH` (created if missing), `redis://HOST:PORT/DB` or `memory`.
    #[arg(long, value_name = "STORE")]
    store: StoreSpec,
    /// Token to revoke by identity. Its `exp`, read without verification, sets how long the
    /// entry lasts.
    #[arg(value_name = "TOKEN")]
    token: Option<String>,
    /// Revoke every token with this `jti`.
    #[arg(long, value_name = "ID")]
    jti: Option<String>,
    /// Revoke every token of this subject issued before `--before`.
    #[arg(long, value_name = "SUBJECT", requires = "before")]
    sub: Option<String>,
    /// Revoke every token whose header names this key id.
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// Issuer that `--jti` or `--sub` belongs to; without it any issuer matches.
    #[arg(long, value_name = "ISSUER", conflicts_with_all = ["token", "kid"])]
    iss: Option<String>,
    /// With `--sub`: tokens issued before this time are revoked (RFC 3339 or Unix seconds).
    #[arg(long, value_name = "TIME")]
    before: Option<String>,
    /// Drop the entry at this time (RFC 3339 or Unix seconds).
    #[arg(long, value_name = "TIME", conflicts_with = "ttl")]
    until: Option<String>,
    /// Drop the entry after this long, such as `24h` or `30d`.
    #[arg(long, value_name = "DURATION")]
    ttl: Option<Duration>,
}

/// `warden blacklist` subcommands.
#[derive(Debug, Subcommand)]
pub enum BlacklistCommand {
    /// List live entries.
    List {
        /// Revocation store: `file:PATH`, `redis://HOST:PORT/DB` or `memory`.
        #[arg(long, value_name = "STORE")]
        store: StoreSpec,
        /// List entries live at this time instead of now (RFC 3339 or Unix seconds).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
    /// Drop lapsed entries and compact the journal.
    Purge {
        /// Revocation store: `file:PATH`, `redis://HOST:PORT/DB` or `memory`.
        #[arg(long, value_name = "STORE")]
        store: StoreSpec,
        /// Drop entries lapsed at this time instead of now (RFC 3339 or Unix seconds).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
}

/// Runs `warden revoke`.
pub fn run_revoke(args: RevokeArgs) -> Result<ExitCode> {
    let revoked_at = now();
    let explicit_expiry = match (&args.until, args.ttl) {
        (Some(until), _) => Some(parse_instant(until)?),
        (None, Some(ttl)) => {
            Some(revoked_at.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)))
        }
        (None, None) => None,
    };
    if let Some(expiry) = explicit_expiry.filter(|expiry| *expiry <= revoked_at) {
        bail!(
            "the entry would lapse at {}, which is not in the future",
            format_instant(expiry)
        );
    }
    let (target, expires_at) = if let Some(token) = &args.token {
        let compact =
            CompactToken::parse(token).context("cannot revoke: the token is malformed")?;
        let token_exp = token_expiry(&compact)?;
        // The entry must last at least as long as the token, whatever `--ttl` requests.
        let expiry = match (explicit_expiry, token_exp) {
            (Some(explicit), Some(exp)) => Some(explicit.max(exp)),
            (explicit, exp) => explicit.or(exp),
        };
        (
            Target::Token {
                hash: *compact.id().as_bytes(),
            },
            expiry,
        )
    } else if let Some(jti) = &args.jti {
        (
            Target::Jti {
                issuer: args.iss.clone(),
                jti: jti.clone(),
            },
            explicit_expiry,
        )
    } else if let Some(subject) = &args.sub {
        let before = args
            .before
            .as_deref()
            .map(parse_instant)
            .transpose()?
            .unwrap_or(revoked_at);
        let Some(expiry) = explicit_expiry else {
            bail!(
                "a subject revocation needs `--until` or `--ttl`, normally the longest token lifetime"
            );
        };
        (
            Target::Subject {
                issuer: args.iss.clone(),
                subject: subject.clone(),
                issued_before: before,
            },
            Some(expiry),
        )
    } else if let Some(kid) = &args.kid {
        let Some(expiry) = explicit_expiry else {
            bail!(
                "a key id revocation needs `--until` or `--ttl`, normally the longest token lifetime"
            );
        };
        (Target::KeyId { kid: kid.clone() }, Some(expiry))
    } else {
        bail!("nothing to revoke; give a TOKEN, `--jti`, `--sub` or `--kid`");
    };
    let store = open_store(&args.store, true)?;
    store.revoke(Revocation::new(target.clone(), revoked_at, expires_at))?;
    let lasting = expires_at.map_or_else(
        || "with no expiry".to_owned(),
        |at| format!("until {}", format_instant(at)),
    );
    println!(
        "revoked {} {lasting}; stored in `{}`",
        describe(&target),
        args.store
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `warden blacklist ...`.
pub fn run_blacklist(command: BlacklistCommand) -> Result<ExitCode> {
    match command {
        BlacklistCommand::List { store, now: at } => {
            let entries = open_store(&store, false)?.list(instant_or_now(at.as_deref())?)?;
            let mut output = std::io::stdout().lock();
            for entry in &entries {
                let until = entry
                    .expires_at
                    .map_or_else(|| "never".to_owned(), format_instant);
                writeln!(
                    output,
                    "{}\trevoked {}\tuntil {until}",
                    describe(&entry.target),
                    format_instant(entry.revoked_at)
                )?;
            }
            eprintln!("{} live entries", entries.len());
        }
        BlacklistCommand::Purge { store, now: at } => {
            let at = instant_or_now(at.as_deref())?;
            if at > now() {
                bail!(
                    "`--now` is in the future; purging then would drop entries that are still live"
                );
            }
            let dropped = open_store(&store, false)?.purge(at)?;
            println!("dropped {dropped} lapsed entries from `{store}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn instant_or_now(text: Option<&str>) -> Result<i64> {
    text.map_or_else(|| Ok(now()), parse_instant)
}

fn open_store(spec: &StoreSpec, create: bool) -> Result<Arc<dyn RevocationStore>> {
    if matches!(spec, StoreSpec::Memory) {
        tracing::warn!("the `memory` store keeps nothing after this command exits");
    }
    Ok(crate::store::open(spec, create)?.revocations)
}

/// Reads `exp` from an unverified token, only to size the entry's lifetime. A payload that
/// does not parse is an error: such a token was probably damaged in copying, and its
/// identity would never match the real token.
fn token_expiry(compact: &CompactToken<'_>) -> Result<Option<i64>> {
    let claims = compact
        .decode_payload()
        .and_then(|payload| Claims::from_json(&payload))
        .context("cannot revoke: the token's payload is not valid claims JSON; check the token or revoke by `--jti`")?;
    Ok(claims.exp.map(|exp| exp.as_secs().saturating_add(1)))
}

fn describe(target: &Target) -> String {
    match target {
        Target::Token { hash } => format!(
            "token {}",
            warden_claims::TokenId::from_bytes(*hash).short()
        ),
        other => other.to_string(),
    }
}
