//! The signature layer: structural checks of a compact JWS and signature verification.

use jsonwebtoken::crypto::CryptoProvider;
use warden_claims::{Algorithm, AlgorithmFamily, CompactToken, FormatError, Header, TokenId};
use warden_policy::{Algorithms, Severity};

use crate::cache::SignatureCache;
use crate::keys::{KeySet, VerificationKey};
use crate::report::{Code, Finding};

/// Runs the structural checks of a compact JWS and verifies its signature: header syntax,
/// `crit`, `alg` (never `none`, and within `allowed`), key selection by `kid` and key
/// type, canonical base64url in the signature and payload segments, then the signature
/// itself. The payload is decoded but never parsed.
///
/// Returns the verified header and payload, or the first failing check as an error finding. This is
/// the signature layer that [`Validator::validate`] runs before any claim rule.
pub fn verify_signature(
    compact: &CompactToken<'_>,
    keys: &KeySet,
    allowed: &Algorithms,
    provider: &CryptoProvider,
) -> Result<Verified, Finding> {
    verify_signature_cached(compact, keys, allowed, provider, None)
}

/// [`verify_signature`] with the validator's signature cache, for the token `id`.
pub(crate) fn verify_signature_cached(
    compact: &CompactToken<'_>,
    keys: &KeySet,
    allowed: &Algorithms,
    provider: &CryptoProvider,
    cache: Option<(&SignatureCache, TokenId)>,
) -> Result<Verified, Finding> {
    let fail = |code: Code, rule: &'static str, message: String| Finding {
        code,
        severity: Severity::Error,
        rule: rule.into(),
        message: crate::findings::one_line(message),
    };
    let header = compact
        .decode_header()
        .and_then(|json| Header::from_json(&json))
        .map_err(|error| fail(format_code(&error), "format", error.to_string()))?;
    if let Some(extensions) = &header.crit {
        let message = format!(
            "header marks `{}` as critical; Warden implements no JWS extensions",
            extensions.join("`, `")
        );
        return Err(fail(Code::CritUnsupported, "format", message));
    }
    let algorithm = check_algorithm(&header, allowed)
        .map_err(|(code, message)| fail(code, "algorithm", message))?;
    let candidates = keys_for(keys, &header, algorithm)
        .map_err(|(code, message)| fail(code, "algorithm", message))?;
    // The signature covers the segment text, not the payload bytes, so the text must be
    // canonical too: otherwise several signed texts could decode to one payload.
    let payload = compact
        .decode_payload()
        .map_err(|error| fail(Code::TokenMalformed, "format", error.to_string()))?;
    // HMAC checks are cheap, so only asymmetric signatures are cached.
    let cache = cache.filter(|_| algorithm.family() != AlgorithmFamily::Hmac);
    let segment = compact.signature_segment();
    if let Some(key_id) = cache.and_then(|(cache, id)| cache.lookup(&id, segment)) {
        let key_id = key_id.or_else(|| header.kid.clone());
        return Ok(Verified {
            header,
            payload,
            key_id,
        });
    }
    let signature = compact
        .decode_signature()
        .map_err(|error| fail(Code::TokenMalformed, "format", error.to_string()))?;
    let message = compact.signing_input().as_bytes();
    let Some(key) = candidates
        .into_iter()
        .find(|key| signature_verifies(provider, key, algorithm, message, &signature))
    else {
        return Err(fail(
            Code::SignatureInvalid,
            "signature",
            format!("{algorithm} signature does not verify"),
        ));
    };
    // Revocation by key id must match the key that verified, not only what the header
    // claims: a token that omits `kid` is still signed by a known key.
    let key_id = key.kid().map(str::to_owned).or_else(|| header.kid.clone());
    if let Some((cache, id)) = cache {
        cache.insert(id, segment, key.kid());
    }
    Ok(Verified {
        header,
        payload,
        key_id,
    })
}

/// A token whose signature verified.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verified {
    /// The verified header.
    pub header: Header,
    /// The decoded payload bytes, not yet parsed.
    pub payload: Vec<u8>,
    /// Id of the key that verified the signature, or the header's `kid` when that key has
    /// none.
    pub key_id: Option<String>,
}

fn check_algorithm(header: &Header, allowed: &Algorithms) -> Result<Algorithm, (Code, String)> {
    let name = header.alg.as_str();
    if name.eq_ignore_ascii_case("none") {
        return Err((
            Code::AlgorithmNone,
            format!("unsigned token (`alg` is `{name}`)"),
        ));
    }
    let Ok(algorithm) = name.parse::<Algorithm>() else {
        return Err((
            Code::AlgorithmUnsupported,
            format!("unsupported algorithm `{name}`"),
        ));
    };
    if !allowed.contains(algorithm) {
        let names: Vec<&str> = allowed.iter().map(Algorithm::as_str).collect();
        let message = format!(
            "algorithm `{algorithm}` is not allowed; the policy allows {}",
            names.join(", ")
        );
        return Err((Code::AlgorithmNotAllowed, message));
    }
    Ok(algorithm)
}

fn keys_for<'a>(
    keys: &'a KeySet,
    header: &'a Header,
    algorithm: Algorithm,
) -> Result<Vec<&'a VerificationKey>, (Code, String)> {
    let kid = header.kid.as_deref();
    let candidates: Vec<&VerificationKey> = keys.candidates(kid).collect();
    if candidates.is_empty() {
        return Err((
            Code::KeyNotFound,
            format!("no key has id `{}`", kid.unwrap_or_default()),
        ));
    }
    let usable: Vec<&VerificationKey> = candidates
        .iter()
        .copied()
        .filter(|key| key.supports(algorithm))
        .collect();
    if usable.is_empty() {
        if let Some(bound) = candidates
            .iter()
            .filter(|key| key.family() == algorithm.family())
            .find_map(|key| key.algorithm())
        {
            let message = format!(
                "token uses `{algorithm}` but the key verifies only `{bound}`, fixed by its curve or JWK `alg`; the header cannot choose the algorithm"
            );
            return Err((Code::AlgorithmKeyMismatch, message));
        }
        let families: Vec<String> = candidates
            .iter()
            .map(|key| key.family().to_string())
            .collect();
        let message = format!(
            "token uses `{algorithm}` but the key is {}; the header cannot choose the key type",
            families.join(" or ")
        );
        return Err((Code::AlgorithmKeyMismatch, message));
    }
    Ok(usable)
}

fn signature_verifies(
    provider: &CryptoProvider,
    key: &VerificationKey,
    algorithm: Algorithm,
    message: &[u8],
    signature: &Vec<u8>,
) -> bool {
    if let Some(verified) = key.prepared().verify(algorithm, message, signature) {
        return verified;
    }
    let Some(algorithm) = to_jsonwebtoken(algorithm) else {
        return false;
    };
    let Ok(verifier) = (provider.verifier_factory)(&algorithm, key.decoding_key()) else {
        return false;
    };
    verifier.verify(message, signature).is_ok()
}

pub(crate) fn format_code(error: &FormatError) -> Code {
    match error {
        FormatError::DuplicateMember { .. } => Code::DuplicateMember,
        _ => Code::TokenMalformed,
    }
}

/// Maps Warden's algorithm names onto jsonwebtoken's.
pub(crate) fn to_jsonwebtoken(algorithm: Algorithm) -> Option<jsonwebtoken::Algorithm> {
    use jsonwebtoken::Algorithm as Jwt;
    let mapped = match algorithm {
        Algorithm::HS256 => Jwt::HS256,
        Algorithm::HS384 => Jwt::HS384,
        Algorithm::HS512 => Jwt::HS512,
        Algorithm::RS256 => Jwt::RS256,
        Algorithm::RS384 => Jwt::RS384,
        Algorithm::RS512 => Jwt::RS512,
        Algorithm::PS256 => Jwt::PS256,
        Algorithm::PS384 => Jwt::PS384,
        Algorithm::PS512 => Jwt::PS512,
        Algorithm::ES256 => Jwt::ES256,
        Algorithm::ES384 => Jwt::ES384,
        Algorithm::EdDSA => Jwt::EdDSA,
        _ => return None,
    };
    Some(mapped)
}
