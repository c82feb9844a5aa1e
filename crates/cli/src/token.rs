//! `warden token store|load|clear`: keep a client's token in a private file, read it from
//! an environment variable, or keep it in the OS keyring.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use warden_validator::{EnvTokenSource, FileTokenStore, TokenLocations, TokenStorage};

/// Keyring service name under which `--keyring` keeps the token.
#[cfg(feature = "keyring")]
const KEYRING_SERVICE: &str = "warden";

/// `warden token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Store a token (from the argument or stdin) in a private file or the OS keyring.
    Store {
        #[command(flatten)]
        target: Writable,
        /// The token; read from stdin when absent.
        #[arg(value_name = "TOKEN")]
        token: Option<String>,
    },
    /// Print the stored token on stdout; locations are searched in the order `--env`,
    /// `--file`, `--keyring`. Exits 1 when none has a token.
    Load {
        /// Environment variable to read first.
        #[arg(long, value_name = "VAR")]
        env: Option<String>,
        #[command(flatten)]
        target: Writable,
    },
    /// Remove the token from every location given; exits 1 when any could not be cleared.
    Clear {
        /// Environment variable to check; a set variable is reported, since only the
        /// shell that set it can unset it.
        #[arg(long, value_name = "VAR")]
        env: Option<String>,
        #[command(flatten)]
        target: Writable,
    },
}

/// Locations this process can write.
#[derive(Debug, Args)]
#[group(required = false, multiple = true)]
pub struct Writable {
    /// Token file; written with mode 0600 and rejected when group or others can access it.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// The OS keyring, entry `warden/ACCOUNT` (builds with the `keyring` feature only).
    #[arg(long)]
    keyring: bool,
    /// Account name of the keyring entry.
    #[arg(
        long,
        value_name = "ACCOUNT",
        default_value = "default",
        requires = "keyring"
    )]
    keyring_account: String,
}

/// Runs `warden token ...`.
pub fn run(command: TokenCommand) -> Result<ExitCode> {
    match command {
        TokenCommand::Store { target, token } => store(&target, token),
        TokenCommand::Load { env, target } => load(env, &target),
        TokenCommand::Clear { env, target } => clear(env, &target),
    }
}

fn store(target: &Writable, token: Option<String>) -> Result<ExitCode> {
    let token = match token {
        Some(token) => token,
        None => read_stdin()?,
    };
    let token = token.trim();
    let locations = writable(target)?;
    if locations.is_empty() {
        bail!("give `--file FILE` or `--keyring` to say where to store the token");
    }
    if let Some(path) = &target.file {
        create_private_parent(path)?;
    }
    for location in &locations {
        location.store(token)?;
        println!("stored the token in {}", location.location());
    }
    Ok(ExitCode::SUCCESS)
}

fn load(env: Option<String>, target: &Writable) -> Result<ExitCode> {
    let mut locations = TokenLocations::new();
    if let Some(variable) = env {
        locations = locations.with(EnvTokenSource::new(variable));
    }
    let locations = writable(target)?
        .into_iter()
        .fold(locations, |all, location| all.with_boxed(location));
    match locations.load()? {
        Some((token, location)) => {
            tracing::debug!(%location, "loaded token");
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("no token found in {}", locations.names().join(", "));
            Ok(ExitCode::from(1))
        }
    }
}

fn clear(env: Option<String>, target: &Writable) -> Result<ExitCode> {
    let mut locations = TokenLocations::new();
    if let Some(variable) = env {
        locations = locations.with(EnvTokenSource::new(variable));
    }
    let locations = writable(target)?
        .into_iter()
        .fold(locations, |all, location| all.with_boxed(location));
    let report = locations.clear();
    for location in &report.cleared {
        println!("cleared {location}");
    }
    for (location, error) in &report.failed {
        eprintln!("error: cannot clear {location}: {error}");
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn writable(target: &Writable) -> Result<Vec<Box<dyn TokenStorage>>> {
    let mut locations: Vec<Box<dyn TokenStorage>> = Vec::new();
    if let Some(path) = &target.file {
        locations.push(Box::new(FileTokenStore::new(path)));
    }
    if target.keyring {
        locations.push(keyring(&target.keyring_account)?);
    }
    Ok(locations)
}

#[cfg(feature = "keyring")]
fn keyring(account: &str) -> Result<Box<dyn TokenStorage>> {
    Ok(Box::new(warden_validator::KeyringTokenStore::new(
        KEYRING_SERVICE,
        account,
    )))
}

#[cfg(not(feature = "keyring"))]
fn keyring(_account: &str) -> Result<Box<dyn TokenStorage>> {
    bail!("this build of warden has no keyring support; rebuild it with `--features keyring`")
}

/// Creates the token file's folder, private to the user, when it does not exist yet.
fn create_private_parent(path: &Path) -> Result<()> {
    let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    else {
        return Ok(());
    };
    if parent.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(parent)
        .with_context(|| format!("cannot create folder `{}`", parent.display()))
}

fn read_stdin() -> Result<String> {
    if std::io::stdin().is_terminal() {
        bail!("no token given; pass it as an argument or on stdin");
    }
    let mut token = String::new();
    std::io::stdin()
        .read_to_string(&mut token)
        .context("cannot read the token from stdin")?;
    Ok(token)
}
