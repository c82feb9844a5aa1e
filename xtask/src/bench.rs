//! `cargo xtask bench`: runs the criterion benches of `warden-benches` and the Python
//! reference in `benches/peers/`, then prints the ratio table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::Value;

use crate::process::{self, workspace_root};

/// Arguments of `cargo xtask bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Save the results as criterion baseline NAME.
    #[arg(long, value_name = "NAME", conflicts_with = "compare")]
    pub save: Option<String>,
    /// Compare with the saved criterion baseline NAME and print both figures.
    #[arg(long, value_name = "NAME")]
    pub compare: Option<String>,
    /// Bench targets to run (`validate`, `stores`, `policy`); all when absent.
    #[arg(long = "bench", value_name = "NAME")]
    pub benches: Vec<String>,
    /// Criterion's quick mode: fewer samples, for smoke runs.
    #[arg(long)]
    pub quick: bool,
    /// Skip the Python reference.
    #[arg(long)]
    pub no_peer: bool,
    /// Print the table from the last results without running anything.
    #[arg(long)]
    pub report_only: bool,
}

/// File stem of the recorded Python reference time, next to criterion's results.
const PEER_FIGURE: &str = "pyjwt-hs256-ns-per-token";

/// Times per iteration in nanoseconds by criterion's full benchmark id.
type Means = BTreeMap<String, f64>;

/// Runs `cargo xtask bench`.
pub fn run(args: &BenchArgs) -> Result<()> {
    if !args.report_only {
        run_benches(args)?;
    }
    let criterion = workspace_root().join("target/criterion");
    let current = read_means(&criterion, args.save.as_deref().unwrap_or("new"))?;
    let before = match &args.compare {
        Some(name) => Some(read_means(&criterion, name)?),
        None => None,
    };
    let peer = if args.report_only {
        read_figure(&criterion, PEER_FIGURE)
    } else if args.no_peer {
        None
    } else {
        let peer = python_peer().unwrap_or_else(|error| {
            eprintln!("note: Python reference skipped: {error:#}");
            None
        });
        if let Some(nanoseconds) = peer {
            std::fs::write(
                criterion.join(format!("{PEER_FIGURE}.figure")),
                format!("{nanoseconds}\n"),
            )?;
        }
        peer
    };
    print_table(&current, before.as_ref(), peer, &criterion);
    Ok(())
}

fn run_benches(args: &BenchArgs) -> Result<()> {
    let mut command = process::cargo();
    command.args(["bench", "--package", "warden-benches"]);
    for bench in &args.benches {
        command.args(["--bench", bench]);
    }
    if args.benches.is_empty() {
        command.arg("--benches");
    }
    command.arg("--");
    if let Some(name) = &args.save {
        command.args(["--save-baseline", name]);
    }
    if let Some(name) = &args.compare {
        command.args(["--baseline-lenient", name]);
    }
    if args.quick {
        command.arg("--quick");
    }
    process::run(&mut command)
}

/// Reads `<id>/<baseline>/estimates.json` under the criterion directory.
fn read_means(criterion: &Path, baseline: &str) -> Result<Means> {
    let mut means = Means::new();
    let mut pending = vec![criterion.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|name| name == baseline) {
                if let Some((id, mean)) = read_estimate(&path) {
                    means.insert(id, mean);
                }
            } else {
                pending.push(path);
            }
        }
    }
    Ok(means)
}

fn read_estimate(dir: &Path) -> Option<(String, f64)> {
    let read = |name: &str| -> Option<Value> {
        let text = std::fs::read_to_string(dir.join(name)).ok()?;
        serde_json::from_str(&text).ok()
    };
    let id = read("benchmark.json")?.get("full_id")?.as_str()?.to_owned();
    let estimates = read("estimates.json")?;
    // Criterion prints the slope of its linear-regression fit when it has one, else the
    // mean; the table uses the same figure.
    let point = |name: &str| estimates.get(name)?.get("point_estimate")?.as_f64();
    let time = point("slope").or_else(|| point("mean"))?;
    Some((id, time))
}

/// Writes the HS256 token file and runs `benches/peers/pyjwt_validate.py` on it; returns
/// the Python time per token in nanoseconds.
fn python_peer() -> Result<Option<f64>> {
    let root = workspace_root();
    let mut probe = Command::new("python3");
    probe.args(["-c", "import jwt"]);
    if !process::succeeds(&mut probe) {
        eprintln!("note: PyJWT is not installed (`pip install PyJWT`); Python reference skipped");
        return Ok(None);
    }

    let dir = root.join("target/xtask/peer");
    process::run(
        process::cargo()
            .args(["run", "--quiet", "--release", "--package", "warden-benches"])
            .args(["--bin", "warden-bench-tokens", "--"])
            .arg(&dir)
            .arg("10000"),
    )?;

    let script = root.join("benches/peers/pyjwt_validate.py");
    let mut command = Command::new("python3");
    command.arg(&script).arg(&dir);
    eprintln!("$ {}", process::display(&command));
    let output = command.output().context("cannot run python3")?;
    if !output.status.success() {
        anyhow::bail!(
            "`{}` failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }

    let result: Value = serde_json::from_slice(&output.stdout)
        .context("the Python reference printed no JSON result")?;
    Ok(result.get("ns_per_token").and_then(Value::as_f64))
}

fn print_table(current: &Means, before: Option<&Means>, peer: Option<f64>, criterion: &Path) {
    let mean = |id: &str| current.get(id).copied();
    println!("| benchmark | time | comparison | target |");
    println!("|---|---:|---|---|");
    print_validation_rows(&mean);
    print_cache_and_thread_rows(&mean);
    if let Some(peer) = peer {
        let warden = mean("validate/warden/HS256");
        row(
            "PyJWT + default-policy checks in Python, HS256",
            Some(peer),
            ratio_text(Some(peer), warden, "x slower than Warden per core"),
            "Warden >= 8x",
        );
    }
    print_store_and_policy_rows(current, criterion);
    if let Some(before) = before {
        print_comparison(current, before);
    }
}

/// Prints Warden against `jsonwebtoken` for each algorithm.
fn print_validation_rows(mean: &dyn Fn(&str) -> Option<f64>) {
    for alg in ["HS256", "RS256", "ES256", "EdDSA"] {
        let warden = mean(&format!("validate/warden/{alg}"));
        let bare = mean(&format!("validate/jsonwebtoken/{alg}"));
        let target = if alg == "HS256" { "ratio <= 1.0" } else { "" };
        row(
            &format!("Warden {alg}, default-like policy"),
            warden,
            ratio_text(warden, bare, "x the time of `jsonwebtoken::decode`"),
            target,
        );
        row(
            &format!("`jsonwebtoken::decode` {alg}, `Value` claims"),
            bare,
            String::new(),
            "",
        );
    }
    let typed = mean("validate/jsonwebtoken-typed/HS256");
    row(
        "`jsonwebtoken::decode` HS256, typed claims",
        typed,
        ratio_text(mean("validate/warden/HS256"), typed, "x (Warden / typed)"),
        "",
    );
}

/// Prints the signature cache and thread-scaling rows.
fn print_cache_and_thread_rows(mean: &dyn Fn(&str) -> Option<f64>) {
    let (off, on) = (mean("cache/mix/off"), mean("cache/mix/on"));
    row(
        "RS256/ES256/EdDSA repeated mix, cache off",
        off,
        String::new(),
        "",
    );
    row(
        "RS256/ES256/EdDSA repeated mix, cache on",
        on,
        ratio_text(off, on, "x faster than cache off"),
        ">= 10x",
    );
    let (one, two) = (mean("threads/HS256/1"), mean("threads/HS256/2"));
    let scaling = match (one, two) {
        (Some(one), Some(two)) if two > 0.0 => {
            format!("{:.2}x the 1-thread throughput", 2.0 * one / two)
        }
        _ => String::new(),
    };
    row(
        "HS256, 1 thread (time per validation)",
        one,
        String::new(),
        "",
    );
    row(
        "HS256, 2 threads (time per validation per thread)",
        two,
        scaling,
        "",
    );
}

/// Prints the revocation-list, journal and policy rows.
fn print_store_and_policy_rows(current: &Means, criterion: &Path) {
    let mean = |id: &str| current.get(id).copied();
    for label in ["1M", "10M"] {
        let figure = read_figure(criterion, &format!("blacklist-bytes-per-entry-{label}"));
        let memory = figure.map_or_else(String::new, |bytes| {
            format!("{bytes:.0} bytes per entry (RSS)")
        });
        row(
            &format!("blacklist hit, {label} entries"),
            mean(&format!("blacklist/hit/{label}")),
            memory,
            "",
        );
        row(
            &format!("blacklist miss, {label} entries"),
            mean(&format!("blacklist/miss/{label}")),
            String::new(),
            "",
        );
    }
    row(
        "file journal replay, 1M entries",
        mean("journal/replay/1M"),
        String::new(),
        "",
    );
    for (id, time) in current.iter().filter(|(id, _)| id.starts_with("policy/")) {
        row(
            &format!("policy {}", id.trim_start_matches("policy/")),
            Some(*time),
            String::new(),
            "",
        );
    }
}

/// Prints every benchmark that has a figure in both `current` and `before`.
fn print_comparison(current: &Means, before: &Means) {
    println!();
    println!("| benchmark | baseline | now | change |");
    println!("|---|---:|---:|---:|");
    for (id, now) in current {
        if let Some(then) = before.get(id) {
            println!(
                "| {id} | {} | {} | {:+.1}% |",
                human(*then),
                human(*now),
                (now / then - 1.0) * 100.0
            );
        }
    }
}

fn row(name: &str, time: Option<f64>, comparison: String, target: &str) {
    let Some(time) = time else {
        return;
    };
    println!("| {name} | {} | {comparison} | {target} |", human(time));
}

fn ratio_text(numerator: Option<f64>, denominator: Option<f64>, suffix: &str) -> String {
    match (numerator, denominator) {
        (Some(numerator), Some(denominator)) if denominator > 0.0 => {
            format!("{:.2}{suffix}", numerator / denominator)
        }
        _ => String::new(),
    }
}

fn read_figure(criterion: &Path, name: &str) -> Option<f64> {
    let path: PathBuf = criterion.join(format!("{name}.figure"));
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Formats nanoseconds with a unit that keeps three or four significant digits.
fn human(nanoseconds: f64) -> String {
    if nanoseconds >= 1e9 {
        format!("{:.2} s", nanoseconds / 1e9)
    } else if nanoseconds >= 1e6 {
        format!("{:.2} ms", nanoseconds / 1e6)
    } else if nanoseconds >= 1e3 {
        format!("{:.2} µs", nanoseconds / 1e3)
    } else {
        format!("{nanoseconds:.1} ns")
    }
}
