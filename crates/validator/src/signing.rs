//! Signing keys for issuing tokens: HMAC secrets and PEM private keys.
//!
//! As with verification keys, the key fixes the algorithm family, and for EC keys the exact
//! algorithm. The policy's allowlist then picks the algorithm within the family.

use std::fmt;
use std::path::Path;

use jsonwebtoken::EncodingKey;
use warden_claims::{Algorithm, AlgorithmFamily};
use warden_policy::Algorithms;

use crate::der;
use crate::keys::MIN_RSA_BITS;

/// Reason a signing key could not be loaded or used. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The key file could not be read.
    #[error("cannot read signing key `{path}`")]
    Read {
        /// Key file path.
        path: String,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key is malformed, weak or of an unsupported kind.
    #[error("signing key `{origin}`: {reason}")]
    Invalid {
        /// Key file path or another name for the key.
        origin: String,
        /// Description of the problem.
        reason: String,
    },
    /// The policy allows no algorithm this key can sign with.
    #[error("the policy allows no algorithm for a {kind} signing key (allowed: {allowed})")]
    NoAlgorithm {
        /// The key kind, such as `RSA` or `EC P-256`.
        kind: &'static str,
        /// The allowlist, comma-separated.
        allowed: String,
    },
}

/// The kind of a signing key, which fixes the algorithms it can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningKeyKind {
    /// An HMAC secret of this many bytes.
    Hmac(usize),
    /// An RSA private key.
    Rsa,
    /// An EC private key on P-256.
    EcP256,
    /// An EC private key on P-384.
    EcP384,
    /// An Ed25519 private key.
    Ed25519,
}

impl SigningKeyKind {
    fn name(self) -> &'static str {
        match self {
            SigningKeyKind::Hmac(_) => "HMAC",
            SigningKeyKind::Rsa => "RSA",
            SigningKeyKind::EcP256 => "EC P-256",
            SigningKeyKind::EcP384 => "EC P-384",
            SigningKeyKind::Ed25519 => "Ed25519",
        }
    }

    fn family(self) -> AlgorithmFamily {
        match self {
            SigningKeyKind::Hmac(_) => AlgorithmFamily::Hmac,
            SigningKeyKind::Rsa => AlgorithmFamily::Rsa,
            SigningKeyKind::EcP256 | SigningKeyKind::EcP384 => AlgorithmFamily::Ec,
            SigningKeyKind::Ed25519 => AlgorithmFamily::Ed,
        }
    }

    fn accepts(self, algorithm: Algorithm) -> bool {
        match self {
            SigningKeyKind::EcP256 => algorithm == Algorithm::ES256,
            SigningKeyKind::EcP384 => algorithm == Algorithm::ES384,
            SigningKeyKind::Hmac(len) => {
                algorithm.family() == AlgorithmFamily::Hmac
                    && algorithm
                        .hmac_output_len()
                        .is_some_and(|minimum| len >= minimum)
            }
            other => algorithm.family() == other.family(),
        }
    }
}

/// A private key or HMAC secret that signs issued tokens.
pub struct SigningKey {
    kind: SigningKeyKind,
    kid: Option<String>,
    encoding: EncodingKey,
}

impl fmt::Debug for SigningKey {
    /// Prints the key's kind and id only, never its bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kind", &self.kind)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a signing key file: a PEM private key (PKCS#8 `PRIVATE KEY`, or PKCS#1 `RSA
    /// PRIVATE KEY`), otherwise a raw HMAC secret with one trailing line break ignored.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SigningError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| SigningError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Parses key bytes as [`SigningKey::load`] does; `origin` names them in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self, SigningError> {
        let invalid = |reason: String| SigningError::Invalid {
            origin: origin.to_owned(),
            reason,
        };
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            return pem_key(bytes).map_err(invalid);
        }
        if bytes.trim_ascii_start().starts_with(b"{") {
            return Err(invalid(
                "JWK signing keys are not supported; use a PEM private key or a raw HMAC secret"
                    .to_owned(),
            ));
        }
        let secret = bytes
            .strip_suffix(b"\r\n")
            .or_else(|| bytes.strip_suffix(b"\n"))
            .unwrap_or(bytes);
        Self::hmac(secret).map_err(invalid)
    }

    /// Builds an HMAC signing key from secret bytes. An empty secret is an error.
    pub fn hmac(secret: &[u8]) -> Result<Self, String> {
        if secret.is_empty() {
            return Err("HMAC secret is empty".to_owned());
        }
        Ok(SigningKey {
            kind: SigningKeyKind::Hmac(secret.len()),
            kid: None,
            encoding: EncodingKey::from_secret(secret).map_err(|error| error.to_string())?,
        })
    }

    /// Sets the key id written to the `kid` header of signed tokens.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Returns the key kind.
    pub fn kind(&self) -> SigningKeyKind {
        self.kind
    }

    /// Returns the key id, if one was set.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Picks the algorithm to sign with from `allowed`. EC keys get the one their curve
    /// fixes, RSA keys the first RS* or PS* algorithm, and Ed25519 keys EdDSA. HMAC keys get
    /// the first HS* algorithm whose hash output is no longer than the secret, because RFC
    /// 7518 section 3.2 requires a key at least that long.
    pub fn algorithm_for(&self, allowed: &Algorithms) -> Result<Algorithm, SigningError> {
        allowed
            .iter()
            .find(|algorithm| self.kind.accepts(*algorithm))
            .ok_or_else(|| {
                let names: Vec<&str> = allowed.iter().map(Algorithm::as_str).collect();
                SigningError::NoAlgorithm {
                    kind: self.kind.name(),
                    allowed: names.join(", "),
                }
            })
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

fn pem_key(bytes: &[u8]) -> Result<SigningKey, String> {
    let parsed = pem::parse(bytes).map_err(|error| format!("invalid PEM: {error}"))?;
    let kind = match parsed.tag() {
        "PRIVATE KEY" => pkcs8_kind(parsed.contents())?,
        "RSA PRIVATE KEY" => {
            check_rsa_bits(parsed.contents())?;
            SigningKeyKind::Rsa
        }
        "EC PRIVATE KEY" => {
            return Err(
                "SEC1 `EC PRIVATE KEY` is not supported; convert it with `openssl pkcs8 -topk8 -nocrypt`"
                    .to_owned(),
            );
        }
        "ENCRYPTED PRIVATE KEY" => {
            return Err("the private key is encrypted; decrypt it first".to_owned());
        }
        tag if tag.contains("PUBLIC KEY") || tag == "CERTIFICATE" => {
            return Err(format!(
                "`{tag}` holds a public key, which cannot sign; pass the private key"
            ));
        }
        tag => return Err(format!("unsupported PEM block `{tag}`")),
    };
    let encoding = match kind.family() {
        AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(bytes),
        AlgorithmFamily::Ec => EncodingKey::from_ec_pem(bytes),
        _ => EncodingKey::from_ed_pem(bytes),
    }
    .map_err(|error| format!("invalid {} private key: {error}", kind.name()))?;
    Ok(SigningKey {
        kind,
        kid: None,
        encoding,
    })
}

/// Reads the key type from a PKCS#8 PrivateKeyInfo (RFC 5208): version, then the
/// AlgorithmIdentifier, then the private key.
fn pkcs8_kind(der_bytes: &[u8]) -> Result<SigningKeyKind, String> {
    let malformed = || "malformed PKCS#8 private key".to_owned();
    let (info, _) = der::expect(der_bytes, der::SEQUENCE).ok_or_else(malformed)?;
    let (_version, rest) = der::expect(info, der::INTEGER).ok_or_else(malformed)?;
    let (identifier, rest) = der::expect(rest, der::SEQUENCE).ok_or_else(malformed)?;
    let (algorithm, parameters) = der::expect(identifier, der::OID).ok_or_else(malformed)?;
    let parameter = der::expect(parameters, der::OID).map(|(oid, _)| oid);
    match (algorithm, parameter) {
        (der::OID_RSA, _) => {
            let (private_key, _) = der::expect(rest, OCTET_STRING).ok_or_else(malformed)?;
            check_rsa_bits(private_key)?;
            Ok(SigningKeyKind::Rsa)
        }
        (der::OID_EC, Some(der::OID_P256)) => Ok(SigningKeyKind::EcP256),
        (der::OID_EC, Some(der::OID_P384)) => Ok(SigningKeyKind::EcP384),
        (der::OID_EC, _) => Err("EC key on an unsupported curve; use P-256 or P-384".to_owned()),
        (der::OID_ED25519, _) => Ok(SigningKeyKind::Ed25519),
        _ => Err("unsupported private key type; use RSA, EC P-256/P-384 or Ed25519".to_owned()),
    }
}

const OCTET_STRING: u8 = 0x04;

/// Rejects RSA keys whose modulus is shorter than [`MIN_RSA_BITS`], since the validator
/// would reject their public half. `pkcs1` is an RSAPrivateKey (RFC 8017): version, then
/// the modulus.
fn check_rsa_bits(pkcs1: &[u8]) -> Result<(), String> {
    let malformed = || "malformed RSA private key".to_owned();
    let (sequence, _) = der::expect(pkcs1, der::SEQUENCE).ok_or_else(malformed)?;
    let (_version, rest) = der::expect(sequence, der::INTEGER).ok_or_else(malformed)?;
    let (modulus, _) = der::expect(rest, der::INTEGER).ok_or_else(malformed)?;
    let bits = der::integer_bits(modulus);
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "RSA key has {bits} bits; at least {MIN_RSA_BITS} are required"
        ));
    }
    Ok(())
}
