//! Writes the HS256 fixture tokens, their secret and the default-like policy into a
//! directory, for the Python reference in `benches/peers/` and for `warden validate`.
//!
//! Usage: `warden-bench-tokens DIR [COUNT]` (COUNT defaults to 10000).
#![forbid(unsafe_code)]

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use warden_benches::{Alg, HMAC_SECRET, NOW, default_policy_yaml, tokens};

fn main() -> Result<()> {
    let mut arguments = std::env::args().skip(1);
    let Some(dir) = arguments.next().map(PathBuf::from) else {
        bail!("usage: warden-bench-tokens DIR [COUNT]");
    };
    let count: usize = match arguments.next() {
        Some(text) => text
            .parse()
            .with_context(|| format!("invalid token count `{text}`"))?,
        None => 10_000,
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut text = tokens(Alg::Hs256, count, None)?.join("\n");
    text.push('\n');
    std::fs::write(dir.join("tokens.txt"), text)?;
    std::fs::write(dir.join("secret.bin"), HMAC_SECRET)?;
    std::fs::write(dir.join("policy.yaml"), default_policy_yaml(&["HS256"]))?;
    std::fs::write(dir.join("now.txt"), format!("{NOW}\n"))?;
    println!("{}", dir.display());
    Ok(())
}
