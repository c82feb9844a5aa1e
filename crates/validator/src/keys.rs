//! Verification keys: HMAC secrets, PEM public keys and JWK sets.
//!
//! A key fixes its algorithm family when it is loaded, and for EC keys the curve fixes
//! the exact algorithm. The token header can pick a key by `kid`, never its type: an RSA
//! public key can never be used as an HMAC secret, and `none` has no key at all.
//!
//! Loading rejects weak or ambiguous keys:
//! - RSA moduli under [`MIN_RSA_BITS`] or with the ROCA fingerprint, and RSA exponents
//!   that are even or 1;
//! - EC points that are not on their curve;
//! - JWK secrets shorter than [`MIN_JWK_SECRET_LEN`] or than their algorithm's hash output;
//! - JWK sets that mix HMAC secrets with public keys.

use std::fmt;
use std::path::{Path, PathBuf};

use jsonwebtoken::DecodingKey;
use serde_json::{Map, Value};
use warden_claims::{Algorithm, AlgorithmFamily, Part, decode_segment};

use crate::prepared::{Prepared, PreparedHmac, PreparedPublicKey};
use crate::{der, roca};

/// Shortest RSA modulus accepted, in bits (NIST SP 800-57 and RFC 7518 section 3.3).
pub const MIN_RSA_BITS: usize = 2048;

/// Shortest HMAC secret accepted in a JWK, in bytes: the HS256 hash output, which RFC 7518
/// section 3.2 sets as the minimum key size. A JWK whose `alg` is HS384 or HS512 needs 48
/// or 64 bytes.
pub const MIN_JWK_SECRET_LEN: usize = 32;

/// How to read a key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyFormat {
    /// PEM when the file starts with `-----BEGIN`, a JWK or JWK set when it starts with
    /// `{`, otherwise a raw HMAC secret.
    #[default]
    Auto,
    /// The file's bytes are the HMAC secret; one trailing line break is ignored.
    HmacRaw,
    /// The file contains the HMAC secret as base64url text.
    HmacBase64Url,
    /// A PEM public key: SubjectPublicKeyInfo (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`).
    Pem,
    /// A JWK set (`{"keys": [...]}`) or a single JWK.
    Jwks,
}

/// Reason a key could not be loaded. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read.
    #[error("cannot read key file `{}`", path.display())]
    Read {
        /// Key file path.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key is malformed, weak or of an unsupported kind.
    #[error("{origin}: {reason}")]
    Invalid {
        /// Key file path, or `jwk` plus the key's position in its set.
        origin: String,
        /// Description of the problem.
        reason: String,
    },
}

/// One key that can verify signatures.
pub struct VerificationKey {
    kid: Option<String>,
    family: AlgorithmFamily,
    algorithm: Option<Algorithm>,
    secret_len: usize,
    decoding: DecodingKey,
    /// Keys set up once with the backend; empty when the backend has nothing to prepare.
    prepared: Prepared,
}

impl fmt::Debug for VerificationKey {
    /// Prints the key's id and kind only, never its bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("family", &self.family)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// Builds an HMAC key from secret bytes. An empty secret is an error.
    pub fn hmac(secret: &[u8], kid: Option<String>) -> Result<Self, String> {
        if secret.is_empty() {
            return Err("HMAC secret is empty".to_owned());
        }
        let decoding = DecodingKey::from_secret(secret).map_err(|error| error.to_string())?;
        Ok(VerificationKey {
            kid,
            family: AlgorithmFamily::Hmac,
            algorithm: None,
            secret_len: secret.len(),
            decoding,
            prepared: Prepared {
                hmac: PreparedHmac::new(secret),
                public: None,
            },
        })
    }

    /// Returns the key id, if the key has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Returns the algorithm family the key serves.
    pub fn family(&self) -> AlgorithmFamily {
        self.family
    }

    /// Returns the one algorithm the key is bound to, when its type or JWK `alg` fixes it.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.algorithm
    }

    /// Returns true when this key may verify `algorithm`.
    pub fn supports(&self, algorithm: Algorithm) -> bool {
        algorithm.family() == self.family && self.algorithm.is_none_or(|bound| bound == algorithm)
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    pub(crate) fn prepared(&self) -> &Prepared {
        &self.prepared
    }

    /// Returns true for an HMAC secret shorter than `algorithm`'s hash output.
    pub fn is_short_secret_for(&self, algorithm: Algorithm) -> bool {
        algorithm
            .hmac_output_len()
            .is_some_and(|minimum| self.secret_len < minimum)
    }
}

/// The keys a validator may use, loaded once at startup.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
    warnings: Vec<String>,
}

impl KeySet {
    /// Builds a set from keys already constructed. Duplicate key ids are an error.
    pub fn new(keys: Vec<VerificationKey>) -> Result<Self, KeyError> {
        let mut set = KeySet::default();
        for key in keys {
            set.push(key, "key set")?;
        }
        Ok(set)
    }

    /// Loads the key file at `path`.
    pub fn load(path: impl AsRef<Path>, format: KeyFormat) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_bytes(&bytes, format, &path.display().to_string())
    }

    /// Parses key bytes; `origin` names them in errors.
    pub fn from_bytes(bytes: &[u8], format: KeyFormat, origin: &str) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::Invalid {
            origin: origin.to_owned(),
            reason,
        };
        let format = match format {
            KeyFormat::Auto => detect_format(bytes),
            explicit => explicit,
        };
        match format {
            KeyFormat::Pem => {
                let key = pem_key(bytes).map_err(invalid)?;
                Self::new(vec![key])
            }
            KeyFormat::Jwks => {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| invalid("JWK set is not UTF-8".to_owned()))?;
                jwk_set(text, origin)
            }
            KeyFormat::HmacRaw | KeyFormat::Auto => {
                if detect_format(bytes) != KeyFormat::HmacRaw {
                    return Err(invalid(
                        "file looks like a PEM key or a JWK; a public key can never serve as an HMAC secret".to_owned(),
                    ));
                }
                let secret = strip_line_break(bytes);
                Self::new(vec![VerificationKey::hmac(secret, None).map_err(invalid)?])
            }
            KeyFormat::HmacBase64Url => {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| invalid("base64url secret is not UTF-8".to_owned()))?;
                let secret = decode_segment(text.trim(), Part::Signature).map_err(|_| {
                    invalid("HMAC secret is not canonical unpadded base64url".to_owned())
                })?;
                Self::new(vec![VerificationKey::hmac(&secret, None).map_err(invalid)?])
            }
        }
    }

    /// Iterates over the keys.
    pub fn iter(&self) -> impl Iterator<Item = &VerificationKey> {
        self.keys.iter()
    }

    /// Returns true when the set has no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Returns load-time warnings, such as private JWK parameters that were ignored.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Returns the keys a token with header `kid` may be verified with: those with that
    /// id, or else those without any id.
    pub fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a VerificationKey> + 'a {
        let has_exact = kid.is_some_and(|kid| self.keys.iter().any(|key| key.kid() == Some(kid)));
        self.keys.iter().filter(move |key| match (kid, key.kid()) {
            (Some(wanted), Some(own)) => wanted == own,
            (Some(_), None) => !has_exact,
            (None, _) => true,
        })
    }

    fn push(&mut self, key: VerificationKey, origin: &str) -> Result<(), KeyError> {
        if let Some(kid) = key.kid()
            && self.keys.iter().any(|other| other.kid() == Some(kid))
        {
            return Err(KeyError::Invalid {
                origin: origin.to_owned(),
                reason: format!("duplicate key id `{kid}`"),
            });
        }
        self.keys.push(key);
        Ok(())
    }
}

fn detect_format(bytes: &[u8]) -> KeyFormat {
    let start = bytes.trim_ascii_start();
    if start.starts_with(b"-----BEGIN") {
        KeyFormat::Pem
    } else if start.starts_with(b"{") {
        KeyFormat::Jwks
    } else {
        KeyFormat::HmacRaw
    }
}

fn strip_line_break(bytes: &[u8]) -> &[u8] {
    bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes)
}

fn pem_key(bytes: &[u8]) -> Result<VerificationKey, String> {
    let parsed = pem::parse(bytes).map_err(|error| format!("invalid PEM: {error}"))?;
    match parsed.tag() {
        "PUBLIC KEY" => spki_key(parsed.contents()),
        "RSA PUBLIC KEY" => rsa_key(parsed.contents(), None, None),
        tag if tag.contains("PRIVATE KEY") => Err(format!(
            "PEM block `{tag}` is a private key; give the public key (`openssl pkey -pubout`)"
        )),
        tag => Err(format!(
            "unsupported PEM block `{tag}`; expected `PUBLIC KEY` or `RSA PUBLIC KEY`"
        )),
    }
}

fn spki_key(der_bytes: &[u8]) -> Result<VerificationKey, String> {
    let spki = der::subject_public_key_info(der_bytes).ok_or("invalid SubjectPublicKeyInfo")?;
    match spki.algorithm {
        der::OID_RSA => rsa_key(spki.public_key, None, None),
        der::OID_EC => {
            let algorithm = match spki.parameter {
                Some(der::OID_P256) => Algorithm::ES256,
                Some(der::OID_P384) => Algorithm::ES384,
                _ => {
                    return Err(
                        "unsupported EC curve; Warden verifies P-256 (ES256) and P-384 (ES384)"
                            .to_owned(),
                    );
                }
            };
            ec_key(spki.public_key.to_vec(), algorithm, None)
        }
        der::OID_ED25519 => ed_key(spki.public_key, None),
        _ => Err("unsupported public key algorithm; expected RSA, EC or Ed25519".to_owned()),
    }
}

fn rsa_key(
    pkcs1: &[u8],
    kid: Option<String>,
    algorithm: Option<Algorithm>,
) -> Result<VerificationKey, String> {
    let (modulus, exponent) = der::rsa_public_key(pkcs1).ok_or("invalid RSA public key")?;
    check_rsa(modulus, exponent)?;
    let decoding = DecodingKey::from_rsa_der(pkcs1);
    let algorithms: Vec<Algorithm> = Algorithm::ALL
        .into_iter()
        .filter(|candidate| candidate.family() == AlgorithmFamily::Rsa)
        .filter(|candidate| algorithm.is_none_or(|bound| bound == *candidate))
        .collect();
    Ok(VerificationKey {
        kid,
        family: AlgorithmFamily::Rsa,
        algorithm,
        secret_len: 0,
        decoding,
        prepared: public_prepared(pkcs1, &algorithms),
    })
}

/// Rejects a short modulus, an exponent that is even or 1 (RFC 8017 section 3.1 requires
/// an odd exponent of at least 3), and a modulus with the ROCA fingerprint.
fn check_rsa(modulus: &[u8], exponent: &[u8]) -> Result<(), String> {
    let bits = der::integer_bits(modulus);
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "RSA key has {bits} bits; at least {MIN_RSA_BITS} are required"
        ));
    }
    let is_odd = exponent.last().is_some_and(|byte| byte & 1 == 1);
    if der::integer_bits(exponent) < 2 || !is_odd {
        return Err("RSA public exponent must be odd and at least 3".to_owned());
    }
    if roca::has_fingerprint(modulus) {
        return Err(
            "RSA key has the ROCA fingerprint (CVE-2017-15361), so its private key can be computed; replace the key"
                .to_owned(),
        );
    }
    Ok(())
}

/// Rejects a JWK secret shorter than its algorithm's hash output, or shorter than
/// [`MIN_JWK_SECRET_LEN`] when the JWK names no HMAC algorithm.
fn check_jwk_secret_len(len: usize, algorithm: Option<Algorithm>) -> Result<(), String> {
    let hmac_algorithm =
        algorithm.and_then(|alg| alg.hmac_output_len().map(|minimum| (alg, minimum)));
    let (purpose, minimum) = match hmac_algorithm {
        Some((alg, minimum)) => (format!("`{alg}`"), minimum),
        None => ("any HMAC algorithm".to_owned(), MIN_JWK_SECRET_LEN),
    };
    if len < minimum {
        return Err(format!(
            "HMAC secret is {len} bytes; {purpose} needs at least {minimum} (RFC 7518 section 3.2)"
        ));
    }
    Ok(())
}

fn ec_key(
    point: Vec<u8>,
    algorithm: Algorithm,
    kid: Option<String>,
) -> Result<VerificationKey, String> {
    let coordinate_len = if algorithm == Algorithm::ES256 {
        32
    } else {
        48
    };
    if point.len() != 1 + 2 * coordinate_len || point.first() != Some(&0x04) {
        return Err(format!(
            "EC public key is not an uncompressed {algorithm} point"
        ));
    }
    // P-256 and P-384 have prime order, so a point that satisfies the curve equation is a
    // valid public key (NIST SP 800-56A partial public key validation).
    let (curve, on_curve) = match algorithm {
        Algorithm::ES256 => ("P-256", p256::PublicKey::from_sec1_bytes(&point).is_ok()),
        _ => ("P-384", p384::PublicKey::from_sec1_bytes(&point).is_ok()),
    };
    if !on_curve {
        return Err(format!("EC public key is not a point on the {curve} curve"));
    }
    let decoding = DecodingKey::from_ec_der(&point);
    Ok(VerificationKey {
        kid,
        family: AlgorithmFamily::Ec,
        algorithm: Some(algorithm),
        secret_len: 0,
        decoding,
        prepared: public_prepared(&point, &[algorithm]),
    })
}

fn ed_key(public_key: &[u8], kid: Option<String>) -> Result<VerificationKey, String> {
    if public_key.len() != 32 {
        return Err("Ed25519 public key must be 32 bytes".to_owned());
    }
    let decoding = DecodingKey::from_ed_der(public_key);
    Ok(VerificationKey {
        kid,
        family: AlgorithmFamily::Ed,
        algorithm: Some(Algorithm::EdDSA),
        secret_len: 0,
        decoding,
        prepared: public_prepared(public_key, &[Algorithm::EdDSA]),
    })
}

/// Parses a public key once for `algorithms`. Bytes the backend rejects leave the key
/// unprepared, so verification goes through the provider, which rejects them the same way.
fn public_prepared(bytes: &[u8], algorithms: &[Algorithm]) -> Prepared {
    Prepared {
        hmac: None,
        public: PreparedPublicKey::new(bytes, algorithms),
    }
}

fn jwk_set(text: &str, origin: &str) -> Result<KeySet, KeyError> {
    let invalid = |reason: String| KeyError::Invalid {
        origin: origin.to_owned(),
        reason,
    };
    let value: Value = warden_claims::parse_strict(text.as_bytes())
        .map_err(|error| invalid(format!("invalid JSON: {error}")))?;
    let Value::Object(object) = value else {
        return Err(invalid("a JWK set must be a JSON object".to_owned()));
    };
    let jwks: Vec<Map<String, Value>> = match object.get("keys") {
        Some(Value::Array(keys)) => keys
            .iter()
            .map(|key| {
                key.as_object()
                    .cloned()
                    .ok_or_else(|| invalid("every entry of `keys` must be an object".to_owned()))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid("`keys` must be an array".to_owned())),
        None => vec![object],
    };
    if jwks.is_empty() {
        return Err(invalid("JWK set has no keys".to_owned()));
    }
    let mut set = KeySet::default();
    for (index, jwk) in jwks.iter().enumerate() {
        let name = match jwk.get("kid").and_then(Value::as_str) {
            Some(kid) => format!("{origin}: key `{kid}`"),
            None => format!("{origin}: key #{index}"),
        };
        let key = jwk_key(jwk).map_err(|reason| KeyError::Invalid {
            origin: name.clone(),
            reason,
        })?;
        if ["d", "p", "q", "dp", "dq", "qi"]
            .iter()
            .any(|private| jwk.contains_key(*private))
            && key.family != AlgorithmFamily::Hmac
        {
            set.warnings.push(format!(
                "{name} includes private parameters; only its public part is used"
            ));
        }
        set.push(key, origin)?;
    }
    let has_secret = set.iter().any(|key| key.family == AlgorithmFamily::Hmac);
    let has_public = set.iter().any(|key| key.family != AlgorithmFamily::Hmac);
    if has_secret && has_public {
        return Err(invalid(
            "JWK set mixes HMAC secrets with public keys; load secrets and public keys as separate key sets"
                .to_owned(),
        ));
    }
    Ok(set)
}

/// Builds a verification key from one JWK (RFC 7517, RFC 7518 section 6, RFC 8037).
pub fn jwk_key(jwk: &Map<String, Value>) -> Result<VerificationKey, String> {
    let text = |name: &str| -> Result<Option<&str>, String> {
        match jwk.get(name) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value)),
            Some(_) => Err(format!("`{name}` must be a string")),
        }
    };
    let bytes = |name: &str| -> Result<Vec<u8>, String> {
        let value = text(name)?.ok_or_else(|| format!("missing `{name}`"))?;
        decode_segment(value, Part::Signature)
            .map_err(|_| format!("`{name}` is not canonical base64url"))
    };
    let kid = text("kid")?.map(str::to_owned);
    match text("use")? {
        None | Some("sig") => {}
        Some(other) => {
            return Err(format!(
                "key use is `{other}`; only `sig` keys verify signatures"
            ));
        }
    }
    if let Some(operations) = jwk.get("key_ops") {
        let allows_verify = operations
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op == "verify"));
        if !allows_verify {
            return Err("`key_ops` does not include `verify`".to_owned());
        }
    }
    let algorithm = match text("alg")? {
        None => None,
        Some(name) => Some(
            name.parse::<Algorithm>()
                .map_err(|_| format!("unsupported key algorithm `{name}`"))?,
        ),
    };
    let kty = text("kty")?.ok_or("missing `kty`")?;
    let key = match kty {
        "oct" => {
            let mut key = VerificationKey::hmac(&bytes("k")?, kid)?;
            check_jwk_secret_len(key.secret_len, algorithm)?;
            key.algorithm = algorithm;
            key
        }
        "RSA" => {
            let modulus = bytes("n")?;
            let exponent = bytes("e")?;
            check_rsa(&modulus, &exponent)?;
            let decoding = DecodingKey::from_rsa_raw_components(&modulus, &exponent);
            VerificationKey {
                kid,
                family: AlgorithmFamily::Rsa,
                algorithm,
                secret_len: 0,
                decoding,
                prepared: Prepared::default(),
            }
        }
        "EC" => {
            let curve_algorithm = match text("crv")? {
                Some("P-256") => Algorithm::ES256,
                Some("P-384") => Algorithm::ES384,
                Some(other) => return Err(format!("unsupported EC curve `{other}`")),
                None => return Err("missing `crv`".to_owned()),
            };
            let mut point = vec![0x04];
            point.extend(bytes("x")?);
            point.extend(bytes("y")?);
            ec_key(point, curve_algorithm, kid)?
        }
        "OKP" => match text("crv")? {
            Some("Ed25519") => ed_key(&bytes("x")?, kid)?,
            Some(other) => return Err(format!("unsupported OKP curve `{other}`")),
            None => return Err("missing `crv`".to_owned()),
        },
        other => return Err(format!("unsupported key type `{other}`")),
    };
    if let Some(algorithm) = algorithm
        && (!key.supports(algorithm) || algorithm.family() != key.family)
    {
        return Err(format!(
            "key algorithm `{algorithm}` does not fit a {} key",
            key.family
        ));
    }
    Ok(key)
}

#[cfg(all(test, feature = "aws-lc-rs"))]
mod tests {
    use super::*;

    #[test]
    fn pem_public_keys_prepared() {
        for stem in ["rsa", "rsa-pkcs1", "ec256", "ec384", "ed25519"] {
            let path = format!("{}/tests/fixtures/{stem}.pub", env!("CARGO_MANIFEST_DIR"));
            let keys = KeySet::load(&path, KeyFormat::Pem).unwrap();
            let key = keys.iter().next().unwrap();
            assert!(key.prepared().public.is_some(), "{stem} was not prepared");
        }
    }

    #[test]
    fn hmac_secret_prepared() {
        let key = VerificationKey::hmac(b"0123456789abcdef0123456789abcdef", None).unwrap();
        assert!(key.prepared().hmac.is_some());
    }
}
