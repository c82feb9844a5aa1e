//! The `warden` command: validate JWTs against a policy and manage revocations.
#![forbid(unsafe_code)]

mod inputs;
mod inspect;
mod issue;
mod policy_cmd;
mod policy_test;
mod refresh;
mod revoke;
mod store;
mod time;
mod token;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for usage and setup errors; 0 and 1 are the validation outcomes.
const EXIT_SETUP_ERROR: u8 = 2;

/// Validate JSON Web Tokens against a declarative YAML security policy.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate tokens and print one report per token.
    ///
    /// Exits 0 when every token is allowed, 1 when any is denied, 2 on a usage or setup error.
    Validate(validate::ValidateArgs),
    /// Revoke a token, a `jti`, a subject's older tokens or a key id.
    Revoke(revoke::RevokeArgs),
    /// Inspect or maintain a revocation list.
    #[command(subcommand)]
    Blacklist(revoke::BlacklistCommand),
    /// Check, test or describe policies.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Show a token's header and claims without verifying it.
    Inspect(inspect::InspectArgs),
    /// Sign a token whose claims, issuer, audience and algorithm come from the policy.
    Issue(issue::IssueArgs),
    /// Exchange a token for a new one and revoke the old one (rotation).
    ///
    /// Exits 0 with the new token on stdout, 1 when the token may not be refreshed, 2 on
    /// a usage or setup error.
    Refresh(refresh::RefreshArgs),
    /// Store, load or clear a client's token.
    #[command(subcommand)]
    Token(token::TokenCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_SETUP_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Revoke(args) => revoke::run_revoke(args),
        Command::Blacklist(command) => revoke::run_blacklist(command),
        Command::Policy(command) => policy_cmd::run(command),
        Command::Inspect(args) => inspect::run(&args),
        Command::Issue(args) => issue::run(&args),
        Command::Refresh(args) => refresh::run(&args),
        Command::Token(command) => token::run(command),
    };
    match result {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => {
            // The reader stopped early, so not every token was reported: never exit 0.
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_SETUP_ERROR)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
