use std::sync::Arc;

use jsonwebtoken::crypto::CryptoProvider;
use warden_blacklist::{MemoryStore, MemoryUsageCounter, RevocationStore, UsageCounter};
use warden_claims::{
    Algorithm, AlgorithmFamily, Claims, CompactToken, FormatError, Header, TokenId,
};
use warden_policy::{Algorithms, Policy, Severity};

use crate::cache::SignatureCache;
use crate::clock::{Clock, SystemClock};
use crate::keys::{KeySet, VerificationKey};
use crate::report::{Code, Decision, Finding, Report};
use crate::rules::evaluate_claims;

/// Reason a validator could not be set up. Token problems are never errors: they are
/// findings in a [`Report`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The key set is empty.
    #[error("no verification key was loaded")]
    NoKeys,
    /// No loaded key can verify any algorithm the policy allows.
    #[error(
        "no loaded key can verify any algorithm the policy allows ({allowed}); check `algorithms` and the key type"
    )]
    NoUsableKey {
        /// The policy's allowlist, comma-separated.
        allowed: String,
    },
    /// jsonwebtoken has no crypto backend; build with exactly one of the `aws-lc-rs` and
    /// `rust-crypto` features.
    #[error(
        "no JWT crypto backend is available; enable exactly one of the `aws-lc-rs` and `rust-crypto` features"
    )]
    NoCryptoBackend,
}

/// Checks tokens against one policy with one key set. Cheap to share: wrap it in an `Arc`
/// and call [`Validator::validate`] from any thread.
pub struct Validator {
    policy: Policy,
    keys: KeySet,
    revocations: Arc<dyn RevocationStore>,
    usage: Arc<dyn UsageCounter>,
    clock: Arc<dyn Clock>,
    provider: &'static CryptoProvider,
    signature_cache: Option<SignatureCache>,
    warnings: Vec<String>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("policy", &self.policy.name)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Builder for a [`Validator`]; see [`Validator::builder`].
pub struct ValidatorBuilder {
    policy: Policy,
    keys: KeySet,
    revocations: Option<Arc<dyn RevocationStore>>,
    usage: Option<Arc<dyn UsageCounter>>,
    clock: Option<Arc<dyn Clock>>,
    signature_cache: usize,
}

impl ValidatorBuilder {
    /// Sets the revocation list. Default: an empty in-memory list.
    pub fn revocations(mut self, store: Arc<dyn RevocationStore>) -> Self {
        self.revocations = Some(store);
        self
    }

    /// Sets the usage counters. Default: in-memory counters owned by this validator.
    pub fn usage(mut self, counter: Arc<dyn UsageCounter>) -> Self {
        self.usage = Some(counter);
        self
    }

    /// Sets the clock. Default: the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Keeps up to `entries` verified RS*, PS*, ES* and EdDSA signatures, so a token seen
    /// again skips signature verification; every other check still runs. Default: 0 (off).
    ///
    /// Each entry takes the token's 32-byte identity plus its signature segment (86 bytes
    /// for ES256, 342 for RS256 with a 2048-bit key) and some overhead. HMAC signatures
    /// are not cached, because an HMAC check is cheap next to the asymmetric algorithms.
    pub fn signature_cache(mut self, entries: usize) -> Self {
        self.signature_cache = entries;
        self
    }

    /// Checks the setup and builds the validator.
    pub fn build(self) -> Result<Validator, SetupError> {
        let provider = CryptoProvider::try_get_default().ok_or(SetupError::NoCryptoBackend)?;
        if self.keys.is_empty() {
            return Err(SetupError::NoKeys);
        }
        let usable = |algorithm: Algorithm| self.keys.iter().any(|key| key.supports(algorithm));
        if !self.policy.algorithms.iter().any(usable) {
            let allowed: Vec<&str> = self
                .policy
                .algorithms
                .iter()
                .map(Algorithm::as_str)
                .collect();
            return Err(SetupError::NoUsableKey {
                allowed: allowed.join(", "),
            });
        }
        let mut warnings = self.keys.warnings().to_vec();
        for algorithm in self.policy.algorithms.iter() {
            for key in self.keys.iter().filter(|key| key.supports(algorithm)) {
                if key.is_short_secret_for(algorithm) {
                    let minimum = algorithm.hmac_output_len().unwrap_or_default();
                    let name = key.kid().map_or_else(
                        || "HMAC secret".to_owned(),
                        |kid| format!("HMAC key `{kid}`"),
                    );
                    warnings.push(format!(
                        "{name} is shorter than {minimum} bytes, the {algorithm} hash output (RFC 7518 section 3.2)"
                    ));
                }
            }
        }
        Ok(Validator {
            policy: self.policy,
            keys: self.keys,
            revocations: self
                .revocations
                .unwrap_or_else(|| Arc::new(MemoryStore::new())),
            usage: self
                .usage
                .unwrap_or_else(|| Arc::new(MemoryUsageCounter::new())),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            provider,
            signature_cache: (self.signature_cache > 0)
                .then(|| SignatureCache::new(self.signature_cache)),
            warnings,
        })
    }
}

/// Findings gathered so far for one token.
pub(crate) struct Findings(pub(crate) Vec<Finding>);

impl Findings {
    pub(crate) fn add(
        &mut self,
        code: Code,
        severity: Severity,
        rule: &'static str,
        message: String,
    ) {
        self.0.push(Finding {
            code,
            severity,
            rule,
            message,
        });
    }

    pub(crate) fn error(&mut self, code: Code, rule: &'static str, message: String) {
        self.add(code, Severity::Error, rule, message);
    }
}

impl Validator {
    /// Starts building a validator for `policy` with `keys`.
    pub fn builder(policy: Policy, keys: KeySet) -> ValidatorBuilder {
        ValidatorBuilder {
            policy,
            keys,
            revocations: None,
            usage: None,
            clock: None,
            signature_cache: 0,
        }
    }

    /// Returns the policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Returns setup warnings, such as an HMAC secret shorter than its hash output.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Validates one compact token and reports every finding.
    ///
    /// Evaluation order: length, format, header, algorithm and key, signature. A failure
    /// in any of these ends evaluation, so no claim is ever judged from an unverified
    /// payload. Then revocation, usage and every claim rule run, and all their findings
    /// are reported. The decision is deny when any finding is an error.
    pub fn validate(&self, token: &str) -> Report {
        let now = self.clock.now();
        let mut findings = Findings(Vec::new());
        let (token_id, verified) = self.verify(token, &mut findings);
        let (header, claims) = match verified {
            Some((header, claims)) => {
                evaluate_claims(self, &header, &claims, token_id, now, &mut findings);
                (Some(header), Some(claims))
            }
            None => (None, None),
        };
        let has_error = findings
            .0
            .iter()
            .any(|finding| finding.severity == Severity::Error);
        // An unverified token always carries an error finding; the first condition keeps it
        // denied even if a future check forgets to add one.
        let decision = if header.is_none() || has_error {
            Decision::Deny
        } else {
            Decision::Allow
        };
        tracing::debug!(token = %token_id.short(), %decision, findings = findings.0.len(), "validated token");
        Report {
            token: token_id.short(),
            token_id,
            decision,
            header,
            claims,
            findings: findings.0,
            checked_at: now,
        }
    }

    pub(crate) fn revocations(&self) -> &dyn RevocationStore {
        self.revocations.as_ref()
    }

    pub(crate) fn usage_counter(&self) -> &dyn UsageCounter {
        self.usage.as_ref()
    }

    /// Runs the structural checks and the signature check; returns the token identity and,
    /// when the signature verified, the header and claims.
    fn verify(&self, token: &str, findings: &mut Findings) -> (TokenId, Option<(Header, Claims)>) {
        let max_length = self.policy.max_token_length;
        if token.len() > max_length {
            let id = TokenId::of_input(token.get(..max_length).unwrap_or_default());
            let message = format!(
                "token is {} bytes, over the {max_length}-byte limit",
                token.len()
            );
            findings.error(Code::TokenTooLong, "max_token_length", message);
            return (id, None);
        }
        let compact = match CompactToken::parse(token) {
            Ok(compact) => compact,
            Err(error) => {
                findings.error(Code::TokenMalformed, "format", error.to_string());
                return (TokenId::of_input(token), None);
            }
        };
        let id = compact.id();
        let verified = self.verify_compact(&compact, id, findings);
        (id, verified)
    }

    fn verify_compact(
        &self,
        compact: &CompactToken<'_>,
        id: TokenId,
        findings: &mut Findings,
    ) -> Option<(Header, Claims)> {
        let signature_layer = SignatureLayer {
            keys: &self.keys,
            allowed: &self.policy.algorithms,
            provider: self.provider,
            cache: self.signature_cache.as_ref().map(|cache| (cache, id)),
        };
        let header = signature_layer
            .verify(compact)
            .map_err(|finding| findings.0.push(finding))
            .ok()?;
        let claims = compact
            .decode_payload()
            .and_then(|json| Claims::from_json(&json))
            .map_err(|error| findings.error(format_code(&error), "format", error.to_string()))
            .ok()?;
        Some((header, claims))
    }
}

/// Runs the structural checks of a compact JWS and verifies its signature, without reading
/// the payload: header syntax, `crit`, `alg` (never `none`, and within `allowed`), key
/// selection by `kid` and key type, then the signature itself.
///
/// Returns the verified header, or the first failing check as an error finding. This is
/// the signature layer that [`Validator::validate`] runs before any claim rule.
pub fn verify_signature(
    compact: &CompactToken<'_>,
    keys: &KeySet,
    allowed: &Algorithms,
    provider: &CryptoProvider,
) -> Result<Header, Finding> {
    let layer = SignatureLayer {
        keys,
        allowed,
        provider,
        cache: None,
    };
    layer.verify(compact)
}

/// Inputs of the signature checks, with the validator's signature cache when it has one.
struct SignatureLayer<'a> {
    keys: &'a KeySet,
    allowed: &'a Algorithms,
    provider: &'a CryptoProvider,
    /// The cache and the identity of the token being checked.
    cache: Option<(&'a SignatureCache, TokenId)>,
}

impl SignatureLayer<'_> {
    fn verify(&self, compact: &CompactToken<'_>) -> Result<Header, Finding> {
        let header = compact
            .decode_header()
            .and_then(|json| Header::from_json(&json))
            .map_err(|error| fail(format_code(&error), "format", error.to_string()))?;
        let (algorithm, candidates) = self.select_keys(&header)?;
        let cache = self
            .cache
            .filter(|_| algorithm.family() != AlgorithmFamily::Hmac);
        let segment = compact.signature_segment();
        if cache.is_some_and(|(cache, id)| cache.contains(&id, segment)) {
            return Ok(header);
        }
        let signature = compact
            .decode_signature()
            .map_err(|error| fail(Code::TokenMalformed, "format", error.to_string()))?;
        let message = compact.signing_input().as_bytes();
        if !candidates
            .iter()
            .any(|key| signature_verifies(self.provider, key, algorithm, message, &signature))
        {
            return Err(fail(
                Code::SignatureInvalid,
                "signature",
                format!("{algorithm} signature does not verify"),
            ));
        }
        if let Some((cache, id)) = cache {
            cache.insert(id, segment);
        }
        Ok(header)
    }

    /// Checks `crit` and `alg` and returns the algorithm with the keys that may verify it.
    fn select_keys<'k>(
        &'k self,
        header: &'k Header,
    ) -> Result<(Algorithm, Vec<&'k VerificationKey>), Finding> {
        if let Some(extensions) = &header.crit {
            let message = format!(
                "header marks `{}` as critical; Warden implements no JWS extensions",
                extensions.join("`, `")
            );
            return Err(fail(Code::CritUnsupported, "format", message));
        }
        let algorithm = check_algorithm(header, self.allowed)
            .map_err(|(code, message)| fail(code, "algorithm", message))?;
        let candidates = keys_for(self.keys, header, algorithm)
            .map_err(|(code, message)| fail(code, "algorithm", message))?;
        Ok((algorithm, candidates))
    }
}

fn fail(code: Code, rule: &'static str, message: String) -> Finding {
    Finding {
        code,
        severity: Severity::Error,
        rule,
        message,
    }
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

fn format_code(error: &FormatError) -> Code {
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
