//! `cargo xtask fuzz`: seeds the corpora, builds the cargo-fuzz targets in `fuzz/` and runs
//! each for a fixed time, then reports executions and any crash with its replay command.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Args;

use crate::process::{self, workspace_root};

/// Arguments of `cargo xtask fuzz`.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Fuzz target to run; all targets when absent.
    pub target: Option<String>,
    /// Run time per target, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub time: u64,
    /// Sanitizer passed to cargo-fuzz (`none`, `address`, ...). `none` runs fastest; the
    /// code under test forbids `unsafe`, so panics are what the runs look for.
    #[arg(long, default_value = "none")]
    pub sanitizer: String,
}

/// Outcome of one target's run.
struct RunSummary {
    target: String,
    executions: Option<u64>,
    crash: Option<PathBuf>,
}

/// Runs `cargo xtask fuzz`.
pub fn run(args: &FuzzArgs) -> Result<()> {
    ensure_cargo_fuzz()?;
    let targets = match &args.target {
        Some(target) => vec![target.clone()],
        None => list_targets()?,
    };
    write_seeds().context("cannot write the seed corpora")?;

    let mut summaries = Vec::new();
    for target in &targets {
        summaries.push(run_target(target, args)?);
    }

    println!("| fuzz target | executions | result |");
    println!("|---|---:|---|");
    for summary in &summaries {
        let executions = summary
            .executions
            .map_or_else(|| "?".to_owned(), |count| count.to_string());
        let result = match &summary.crash {
            Some(path) => format!("crash: `{}`", path.display()),
            None => "no crash".to_owned(),
        };
        println!("| {} | {executions} | {result} |", summary.target);
    }

    let crashed: Vec<&RunSummary> = summaries.iter().filter(|s| s.crash.is_some()).collect();
    for summary in &crashed {
        if let Some(path) = &summary.crash {
            let mut replay = fuzz_command();
            replay.args(["run", "--sanitizer", &args.sanitizer, &summary.target]);
            replay.arg(path);
            println!("reproduce with: (cd fuzz && {})", process::display(&replay));
        }
    }
    if !crashed.is_empty() {
        bail!("{} fuzz target(s) crashed", crashed.len());
    }
    Ok(())
}

fn fuzz_dir() -> PathBuf {
    workspace_root().join("fuzz")
}

/// Returns true when rustup has a nightly toolchain installed.
fn has_nightly() -> bool {
    Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains("nightly"))
}

/// Returns `cargo fuzz` on nightly when installed, else on the current toolchain with
/// `RUSTC_BOOTSTRAP=1`, which unlocks the `-Z` flags cargo-fuzz needs.
fn fuzz_command() -> Command {
    let mut command = Command::new("cargo");
    if has_nightly() {
        command.arg("+nightly");
    } else {
        command.env("RUSTC_BOOTSTRAP", "1");
    }
    command.arg("fuzz");
    command.current_dir(fuzz_dir());
    command
}

fn ensure_cargo_fuzz() -> Result<()> {
    let mut probe = Command::new("cargo");
    probe.args(["fuzz", "--version"]);
    if process::succeeds(&mut probe) {
        return Ok(());
    }
    process::run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}

fn list_targets() -> Result<Vec<String>> {
    let mut command = fuzz_command();
    command.arg("list");
    let output = command
        .output()
        .with_context(|| format!("cannot run `{}`", process::display(&command)))?;
    if !output.status.success() {
        bail!(
            "`{}` failed: {}",
            process::display(&command),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

fn run_target(target: &str, args: &FuzzArgs) -> Result<RunSummary> {
    let corpus = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    let log_dir = workspace_root().join("target/xtask");
    std::fs::create_dir_all(&log_dir)?;
    let log_path = log_dir.join(format!("fuzz-{target}.log"));
    let mut log = File::create(&log_path)?;

    let mut command = fuzz_command();
    command
        .args(["run", "--sanitizer", &args.sanitizer, target])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={}", args.time))
        .args(["-print_final_stats=1", "-max_len=8192"]);
    eprintln!("$ (cd fuzz && {})", process::display(&command));
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start the fuzzer for `{target}`"))?;
    let mut summary = RunSummary {
        target: target.to_owned(),
        executions: None,
        crash: None,
    };

    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let line = line?;
            writeln!(log, "{line}")?;
            scan_line(&line, &mut summary);
        }
    }
    let status = child.wait()?;
    if !status.success() && summary.crash.is_none() {
        bail!(
            "fuzzer for `{target}` failed with {status}; see `{}`",
            log_path.display()
        );
    }
    Ok(summary)
}

/// Picks the execution count and any crash artifact out of one line of libFuzzer output,
/// and echoes the lines a reader needs.
fn scan_line(line: &str, summary: &mut RunSummary) {
    if let Some(count) = line.strip_prefix("stat::number_of_executed_units:") {
        summary.executions = count.trim().parse().ok();
    }
    if let Some((_, path)) = line.split_once("Test unit written to ") {
        summary.crash = Some(fuzz_dir().join(path.trim()));
    }
    let markers = [
        "DONE",
        "panicked",
        "ERROR",
        "SUMMARY",
        "Test unit written",
        "error:",
    ];
    if markers.iter().any(|marker| line.contains(marker)) {
        eprintln!("  {}: {line}", summary.target);
    }
}

/// Writes seed inputs into `fuzz/corpus/<target>/seed-*`, from the benchmark fixtures, the
/// shipped policies and the public JOSE vectors when `../shared/vectors` exists.
fn write_seeds() -> Result<()> {
    let root = workspace_root();
    let fixtures = root.join("target/xtask/fuzz-fixtures");
    process::run(
        process::cargo()
            .args(["run", "--quiet", "--package", "warden-benches"])
            .args(["--bin", "warden-bench-tokens", "--"])
            .arg(&fixtures)
            .arg("8"),
    )?;
    let tokens = std::fs::read_to_string(fixtures.join("tokens.txt"))?;
    let tokens: Vec<&str> = tokens.lines().filter(|line| !line.is_empty()).collect();
    let mut validate: Vec<Vec<u8>> = tokens
        .iter()
        .map(|token| token.as_bytes().to_vec())
        .collect();
    validate.extend(vector_tokens(&root));
    seed("validate_token", &validate)?;

    let mut json = Vec::new();
    for token in &tokens {
        for segment in token.split('.').take(2) {
            json.push(URL_SAFE_NO_PAD.decode(segment).unwrap_or_default());
        }
    }
    json.extend(
        [
            &br#"{"exp":1,"exp":2}"#[..],
            br#"{"ex\u0070":1,"exp":2}"#,
            br#"{"exp":"soon","roles":[1],"aud":{"a":1},"iat":-1,"nbf":1e300}"#,
            br#"{"alg":"none","crit":[],"kid":5}"#,
            br#"{"alg":"HS256","a":{"b":{"b":1,"b":2}}}"#,
        ]
        .map(<[u8]>::to_vec),
    );
    seed("claims_json", &json)?;

    let mut policies = vec![std::fs::read(fixtures.join("policy.yaml"))?];
    if let Ok(entries) = std::fs::read_dir(root.join("policies")) {
        for entry in entries.filter_map(Result::ok) {
            if entry.path().extension().is_some_and(|ext| ext == "yaml") {
                policies.push(std::fs::read(entry.path())?);
            }
        }
    }
    seed("policy_yaml", &policies)?;
    seed("journal_replay", &journal_seeds())
}

fn seed(target: &str, inputs: &[Vec<u8>]) -> Result<()> {
    let dir = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir)?;
    for (index, input) in inputs.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{index:04}")), input)?;
    }
    Ok(())
}

/// Returns the compact JWS strings of the Wycheproof JWS vectors, if they are present.
fn vector_tokens(root: &Path) -> Vec<Vec<u8>> {
    let path = root.join("../shared/vectors/wycheproof/json_web_signature_test.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("note: `{}` not found; seeding without it", path.display());
        return Vec::new();
    };
    let Ok(document) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let list = |value: &serde_json::Value, name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    list(&document, "testGroups")
        .iter()
        .flat_map(|group| list(group, "tests"))
        .map(|case| match case.get("jws") {
            Some(serde_json::Value::String(compact)) => compact.clone().into_bytes(),
            other => other
                .map(ToString::to_string)
                .unwrap_or_default()
                .into_bytes(),
        })
        .collect()
}

/// Returns journals in the file store's format: valid records, a torn tail, a NUL tail.
fn journal_seeds() -> Vec<Vec<u8>> {
    let records = [
        r#"{"op":"revoke","target":{"kind":"token","hash":"0101010101010101010101010101010101010101010101010101010101010101"},"revoked_at":1700000000,"expires_at":2000000000}"#,
        r#"{"op":"revoke","target":{"kind":"jti","issuer":"https://auth.example.com","jti":"j-1"},"revoked_at":1700000000,"expires_at":null}"#,
        r#"{"op":"revoke","target":{"kind":"subject","issuer":null,"subject":"alice","issued_before":1700000000},"revoked_at":1700000000,"expires_at":null}"#,
        r#"{"op":"revoke","target":{"kind":"key_id","kid":"k1"},"revoked_at":1700000000,"expires_at":1}"#,
    ];
    let mut journal = Vec::new();
    for record in records {
        journal
            .extend(format!("{:08x} {record}\n", crc32fast::hash(record.as_bytes())).into_bytes());
    }
    let mut torn = journal.clone();
    torn.extend(b"1234abcd {\"op\":\"rev");
    let mut nul = journal.clone();
    nul.extend([0_u8; 32]);
    nul.push(b'\n');
    vec![journal, torn, nul, Vec::new()]
}
