//! Fixtures shared by Warden's benchmarks and by the token file the Python reference reads:
//! signed tokens for each benchmarked algorithm, a policy like `policies/default.yaml`, the
//! Warden validators under test and the bare `jsonwebtoken` setup they are compared with.
//!
//! Keys come from `crates/validator/tests/fixtures`; tokens are signed at run time.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::json;
use warden_policy::Policy;
use warden_validator::{FixedClock, KeyFormat, KeySet, Validator};

/// HMAC secret of the HS256 benchmarks: 48 bytes, above the 32-byte minimum of RFC 7518.
pub const HMAC_SECRET: &[u8] = b"warden-benchmark-hmac-secret-0123456789abcdefghi";

/// Unix time the validators evaluate at; every fixture token is valid then.
pub const NOW: i64 = 1_790_000_000;

/// Lifetime of fixture tokens: 10 years, so real-clock checks in `jsonwebtoken` pass too.
const LIFETIME: i64 = 10 * 365 * 86_400;

/// A benchmarked signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// HMAC with SHA-256.
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit key.
    Rs256,
    /// ECDSA on P-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl Alg {
    /// Every benchmarked algorithm.
    pub const ALL: [Alg; 4] = [Alg::Hs256, Alg::Rs256, Alg::Es256, Alg::EdDsa];

    /// Returns the JOSE name, as in the `alg` header.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
        }
    }

    fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Alg::Hs256 => jsonwebtoken::Algorithm::HS256,
            Alg::Rs256 => jsonwebtoken::Algorithm::RS256,
            Alg::Es256 => jsonwebtoken::Algorithm::ES256,
            Alg::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }

    /// Returns the fixture file stem of the key pair; HS256 has none.
    fn key_stem(self) -> Option<&'static str> {
        match self {
            Alg::Hs256 => None,
            Alg::Rs256 => Some("rsa"),
            Alg::Es256 => Some("ec256"),
            Alg::EdDsa => Some("ed25519"),
        }
    }
}

/// Returns the directory of the PEM key fixtures.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/validator/tests/fixtures")
}

/// Returns the workspace's `policies/` directory.
pub fn policies_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// Returns the rules of `policies/default.yaml` with `algorithms` set to `names`.
pub fn default_policy_yaml(names: &[&str]) -> String {
    format!(
        "version: 1
name: default
algorithms: [{}]
leeway: 0s
rules:
  revocation: {{ severity: error }}
  expiry: {{ severity: error }}
  issued_in_future: {{ severity: error }}
  required_claims: {{ claims: [sub, iat, exp], severity: error }}
  max_age: {{ max: 30d, severity: warning }}
  suspicious_roles: {{ roles: [superadmin, root, master], severity: warning }}
  max_permissions: {{ max: 10, severity: warning }}
  jti_required: {{ severity: warning }}
  usage: {{ per: token, warn_after: 1000, severity: warning }}
",
        names.join(", ")
    )
}

/// Returns the claims of fixture token number `index`: every claim the default policy
/// reads, all passing.
pub fn claims(index: usize) -> serde_json::Value {
    json!({
        "iss": "https://auth.example.com",
        "sub": format!("user-{index}"),
        "aud": "warden-bench",
        "iat": NOW - 3_600,
        "exp": NOW + LIFETIME,
        "jti": format!("jti-{index:08}"),
        "role": "editor",
        "permissions": ["read:docs", "write:docs", "read:reports"],
        "name": "Benchmark User",
    })
}

/// Claims of the fixture tokens, as a typed struct for the typed `jsonwebtoken` baseline.
#[derive(Debug, Deserialize)]
pub struct TypedClaims {
    /// Issuer.
    pub iss: String,
    /// Subject.
    pub sub: String,
    /// Audience.
    pub aud: String,
    /// Issued-at time.
    pub iat: i64,
    /// Expiration time.
    pub exp: i64,
    /// Token id.
    pub jti: String,
    /// Role.
    pub role: String,
    /// Permissions.
    pub permissions: Vec<String>,
    /// Display name.
    pub name: String,
}

fn read_fixture(name: &str) -> Result<Vec<u8>> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).with_context(|| format!("cannot read key fixture `{}`", path.display()))
}

fn encoding_key(alg: Alg) -> Result<EncodingKey> {
    let Some(stem) = alg.key_stem() else {
        return Ok(EncodingKey::from_secret(HMAC_SECRET)?);
    };
    let pem = read_fixture(&format!("{stem}.key"))?;
    let key = match alg {
        Alg::Rs256 => EncodingKey::from_rsa_pem(&pem),
        Alg::Es256 => EncodingKey::from_ec_pem(&pem),
        _ => EncodingKey::from_ed_pem(&pem),
    };
    key.with_context(|| format!("invalid private key `{stem}.key`"))
}

/// Signs `count` distinct fixture tokens with `alg`; `kid` is set in each header if given.
pub fn tokens(alg: Alg, count: usize, kid: Option<&str>) -> Result<Vec<String>> {
    let key = encoding_key(alg)?;
    let mut header = Header::new(alg.jwt());
    header.kid = kid.map(str::to_owned);
    (0..count)
        .map(|index| {
            jsonwebtoken::encode(&header, &claims(index), &key)
                .with_context(|| format!("cannot sign a {} token", alg.name()))
        })
        .collect()
}

/// Options for the Warden validator under test.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Entries of the verified-signature cache; `None` leaves it off.
    pub signature_cache: Option<usize>,
}

/// Builds the Warden validator for `alg` tokens: the default-like policy, the fixture key,
/// an in-memory revocation list and usage counters, and a clock fixed at [`NOW`].
pub fn warden_validator(alg: Alg, options: Options) -> Result<Validator> {
    let keys = match alg.key_stem() {
        None => KeySet::from_bytes(HMAC_SECRET, KeyFormat::HmacRaw, "benchmark secret")?,
        Some(stem) => {
            let pem = read_fixture(&format!("{stem}.pub"))?;
            KeySet::from_bytes(&pem, KeyFormat::Pem, stem)?
        }
    };
    build_validator(&[alg.name()], keys, options)
}

/// Builds one validator that accepts RS256, ES256 and EdDSA tokens, each key picked by a
/// `kid` equal to the algorithm name.
pub fn mixed_validator(options: Options) -> Result<Validator> {
    let mut set = JwkSet { keys: Vec::new() };
    for alg in [Alg::Rs256, Alg::Es256, Alg::EdDsa] {
        let mut jwk = Jwk::from_encoding_key(&encoding_key(alg)?, alg.jwt())?;
        jwk.common.key_id = Some(alg.name().to_owned());
        set.keys.push(jwk);
    }
    let text = serde_json::to_vec(&set)?;
    let keys = KeySet::from_bytes(&text, KeyFormat::Jwks, "benchmark JWK set")?;
    build_validator(&["RS256", "ES256", "EdDSA"], keys, options)
}

fn build_validator(algorithms: &[&str], keys: KeySet, options: Options) -> Result<Validator> {
    let policy = Policy::from_yaml_str(&default_policy_yaml(algorithms), "default-like")?;
    let mut builder = Validator::builder(policy, keys).clock(Arc::new(FixedClock(NOW)));
    if let Some(entries) = options.signature_cache {
        builder = builder.signature_cache(entries);
    }
    Ok(builder.build()?)
}

/// Returns the `jsonwebtoken` key and validation settings equal to Warden's for `alg`:
/// the same key, `exp` checked, and `sub`, `iat` and `exp` required.
pub fn jsonwebtoken_setup(alg: Alg) -> Result<(DecodingKey, Validation)> {
    let key = match alg.key_stem() {
        None => DecodingKey::from_secret(HMAC_SECRET)?,
        Some(stem) => {
            let pem = read_fixture(&format!("{stem}.pub"))?;
            match alg {
                Alg::Rs256 => DecodingKey::from_rsa_pem(&pem)?,
                Alg::Es256 => DecodingKey::from_ec_pem(&pem)?,
                _ => DecodingKey::from_ed_pem(&pem)?,
            }
        }
    };
    let mut validation = Validation::new(alg.jwt());
    validation.set_required_spec_claims(&["sub", "iat", "exp"]);
    validation.validate_aud = false;
    Ok((key, validation))
}
