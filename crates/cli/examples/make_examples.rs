//! Writes the sample key and tokens under `examples/`.
//!
//! The tokens are HS256, so the output is deterministic: running this again reproduces the
//! committed files byte for byte. Their times are fixed around [`EXAMPLE_NOW`], and the
//! README runs `warden validate --now 2026-12-01T00:00:00Z` so results never drift.
//!
//! Run: `cargo run -p warden-cli --example make_examples -- examples`
#![allow(
    clippy::indexing_slicing,
    reason = "indexes JSON objects built in this file; serde_json inserts missing keys"
)]

use std::path::Path;

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};

/// The instant the examples are evaluated at: 2026-12-01T00:00:00Z.
pub const EXAMPLE_NOW: i64 = 1_796_083_200;

/// Example HMAC secret: 32 ASCII bytes, the HS256 minimum. For demonstration only.
pub const EXAMPLE_SECRET: &str = "warden-example-secret-0123456789";

const DAY: i64 = 86_400;

/// Returns the example tokens as (label, token) pairs.
pub fn example_tokens() -> Vec<(&'static str, String)> {
    let Ok(key) = EncodingKey::from_secret(EXAMPLE_SECRET.as_bytes()) else {
        return Vec::new();
    };
    let sign = |claims: Value| encode(&Header::default(), &claims, &key).unwrap_or_default();
    let base = |sub: &str| {
        json!({
            "sub": sub,
            "name": "Example User",
            "role": "user",
            "permissions": ["camera:read"],
            "iat": EXAMPLE_NOW - DAY,
            "exp": EXAMPLE_NOW + DAY,
            "jti": format!("example-{sub}"),
        })
    };
    let valid = sign(base("alice"));
    let mut expired = base("bob");
    expired["iat"] = json!(EXAMPLE_NOW - 3 * DAY);
    expired["exp"] = json!(EXAMPLE_NOW - DAY);
    let mut suspicious = base("carol");
    suspicious["role"] = json!("Root");
    suspicious["permissions"] = json!((1..=12).map(|n| format!("perm:{n}")).collect::<Vec<_>>());
    suspicious["iat"] = json!(EXAMPLE_NOW - 45 * DAY);
    suspicious
        .as_object_mut()
        .map(|claims| claims.remove("jti"));
    let tampered = tamper(&sign(base("dave")));
    vec![
        ("valid", valid),
        ("expired", sign(expired)),
        ("suspicious", sign(suspicious)),
        ("tampered", tampered),
    ]
}

/// Swaps the payload for one that claims `role: admin`, keeping the original signature.
fn tamper(token: &str) -> String {
    use base64::Engine;
    let mut parts = token.split('.');
    let (header, signature) = (
        parts.next().unwrap_or_default(),
        parts.nth(1).unwrap_or_default(),
    );
    let forged = json!({
        "sub": "dave", "role": "admin", "iat": EXAMPLE_NOW - DAY, "exp": EXAMPLE_NOW + DAY,
    });
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    format!("{header}.{payload}.{signature}")
}

/// Writes `keys/hs256.key` and `tokens.txt` into `dir`.
pub fn write_examples(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("keys"))?;
    std::fs::write(dir.join("keys/hs256.key"), EXAMPLE_SECRET)?;
    let mut text = String::from(
        "# Sample tokens for `warden validate`, made by crates/cli/examples/make_examples.rs.\n",
    );
    for (label, token) in example_tokens() {
        text.push_str(&format!("# {label}\n{token}\n"));
    }
    std::fs::write(dir.join("tokens.txt"), text)
}

#[allow(
    dead_code,
    reason = "used when built as an example, not when included by tests"
)]
fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples".to_owned());
    write_examples(Path::new(&dir))
}
