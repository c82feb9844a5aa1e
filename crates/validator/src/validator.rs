use std::sync::Arc;

use jsonwebtoken::crypto::CryptoProvider;
use warden_blacklist::{
    MemoryStore, MemoryUsageCounter, RevocationStore, TokenState, UsageCounter,
};
use warden_claims::{Algorithm, Claims, CompactToken, Header, TokenId};
use warden_policy::{Algorithms, IssuerConfig, Policy};

use crate::cache::SignatureCache;
use crate::clock::{Clock, SystemClock};
use crate::findings::{Findings, Trace};
use crate::keys::{KeyError, KeyFormat, KeySet};
use crate::report::{Code, Decision, Report};
use crate::rules::{Context, evaluate_claims};
use crate::signature::{format_code, verify_signature_cached};

/// Reason a validator could not be set up. Token problems are never errors: they are
/// findings in a [`Report`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// No verification key was given and the policy lists no issuers.
    #[error("no verification key was loaded; pass a key or list `issuers` in the policy")]
    NoKeys,
    /// No loaded key can verify any algorithm the policy allows.
    #[error(
        "no loaded key can verify any algorithm the policy allows ({allowed}); check `algorithms` and the key type"
    )]
    NoUsableKey {
        /// The policy's allowlist, comma-separated.
        allowed: String,
    },
    /// An issuer's key file could not be loaded.
    #[error("cannot load the keys of issuer `{issuer}`")]
    IssuerKey {
        /// The issuer's `iss`.
        issuer: String,
        /// Cause of the failure.
        #[source]
        source: KeyError,
    },
    /// jsonwebtoken has no crypto backend; build with exactly one of the `aws-lc-rs` and
    /// `rust-crypto` features.
    #[error(
        "no JWT crypto backend is available; enable exactly one of the `aws-lc-rs` and `rust-crypto` features"
    )]
    NoCryptoBackend,
}

/// Requirements a caller adds to the policy for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// A role the token must carry.
    pub role: Option<String>,
    /// Permissions the token must carry and its roles must grant.
    pub permissions: Vec<String>,
    /// A resource the token must be allowed to access, such as `camera1`.
    pub resource: Option<String>,
}

/// Options for one validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidateOptions<'a> {
    /// Requirements of the current request, if any.
    pub request: Option<&'a Request>,
    /// Record every check in [`Report::checks`].
    pub explain: bool,
}

/// A trusted issuer with its loaded keys.
struct Issuer {
    config: IssuerConfig,
    keys: KeySet,
    algorithms: Algorithms,
}

/// Checks tokens against one policy with one key set. Cheap to share: wrap it in an `Arc`
/// and call [`Validator::validate`] from any thread.
pub struct Validator {
    policy: Policy,
    keys: KeySet,
    issuers: Vec<Issuer>,
    revocations: Arc<dyn RevocationStore>,
    usage: Arc<dyn UsageCounter>,
    /// Set when revocations and usage live in one store that checks and counts in one call.
    state: Option<Arc<dyn TokenState>>,
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
    state: Option<Arc<dyn TokenState>>,
    clock: Option<Arc<dyn Clock>>,
    signature_cache: usize,
}

impl ValidatorBuilder {
    /// Sets the revocation list. Default: an empty in-memory list.
    pub fn revocations(mut self, store: Arc<dyn RevocationStore>) -> Self {
        self.revocations = Some(store);
        self.state = None;
        self
    }

    /// Sets the usage counters. Default: in-memory counters owned by this validator.
    pub fn usage(mut self, counter: Arc<dyn UsageCounter>) -> Self {
        self.usage = Some(counter);
        self.state = None;
        self
    }

    /// Sets one store for both revocations and usage counts, which then checks a token and
    /// counts its use in one step (one round trip for Redis).
    pub fn state(mut self, store: Arc<dyn TokenState>) -> Self {
        self.revocations = Some(store.clone());
        self.usage = Some(store.clone());
        self.state = Some(store);
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

    /// Sets the clock. Default: the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Loads issuer keys, checks the setup and builds the validator.
    pub fn build(self) -> Result<Validator, SetupError> {
        let provider = crypto_provider().ok_or(SetupError::NoCryptoBackend)?;
        let issuers = load_issuers(&self.policy)?;
        let mut warnings = self.keys.warnings().to_vec();
        if self.policy.rules.expiry.is_none() {
            warnings
                .push("the policy has no `expiry` rule, so expired tokens are allowed".to_owned());
        }
        if issuers.is_empty() {
            if self.keys.is_empty() {
                return Err(SetupError::NoKeys);
            }
            check_usable(&self.keys, &self.policy.algorithms)?;
            warnings.extend(short_secret_warnings(
                &self.keys,
                &self.policy.algorithms,
                None,
            ));
        } else {
            if !self.keys.is_empty() {
                warnings.push(
                    "the policy lists `issuers`, so the key given on its own is not used"
                        .to_owned(),
                );
            }
            for issuer in &issuers {
                check_usable(&issuer.keys, &issuer.algorithms)?;
                warnings.extend(issuer.keys.warnings().iter().cloned());
                warnings.extend(short_secret_warnings(
                    &issuer.keys,
                    &issuer.algorithms,
                    Some(&issuer.config.iss),
                ));
            }
        }
        Ok(Validator {
            policy: self.policy,
            keys: self.keys,
            issuers,
            state: self.state,
            signature_cache: (self.signature_cache > 0)
                .then(|| SignatureCache::new(self.signature_cache)),
            revocations: self
                .revocations
                .unwrap_or_else(|| Arc::new(MemoryStore::new())),
            usage: self
                .usage
                .unwrap_or_else(|| Arc::new(MemoryUsageCounter::new())),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            provider,
            warnings,
        })
    }
}

/// Returns jsonwebtoken's process-wide crypto provider. When both backend features are on,
/// jsonwebtoken picks neither, so aws-lc-rs is installed as the default.
fn crypto_provider() -> Option<&'static CryptoProvider> {
    if let Some(provider) = CryptoProvider::try_get_default() {
        return Some(provider);
    }
    #[cfg(feature = "aws-lc-rs")]
    {
        // Another thread may install one first; either way a provider is then in place.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    }
    CryptoProvider::try_get_default()
}

fn load_issuers(policy: &Policy) -> Result<Vec<Issuer>, SetupError> {
    let Some(configs) = &policy.issuers else {
        return Ok(Vec::new());
    };
    configs
        .iter()
        .map(|config| {
            let path = match &policy.source_dir {
                Some(dir) => dir.join(&config.keys),
                None => config.keys.clone(),
            };
            let keys =
                KeySet::load(&path, KeyFormat::Auto).map_err(|source| SetupError::IssuerKey {
                    issuer: config.iss.clone(),
                    source,
                })?;
            let algorithms = config
                .algorithms
                .clone()
                .unwrap_or_else(|| policy.algorithms.clone());
            Ok(Issuer {
                config: config.clone(),
                keys,
                algorithms,
            })
        })
        .collect()
}

fn check_usable(keys: &KeySet, algorithms: &Algorithms) -> Result<(), SetupError> {
    let usable = |algorithm: Algorithm| keys.iter().any(|key| key.supports(algorithm));
    if algorithms.iter().any(usable) {
        return Ok(());
    }
    let allowed: Vec<&str> = algorithms.iter().map(Algorithm::as_str).collect();
    Err(SetupError::NoUsableKey {
        allowed: allowed.join(", "),
    })
}

fn short_secret_warnings(
    keys: &KeySet,
    algorithms: &Algorithms,
    issuer: Option<&str>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    for algorithm in algorithms.iter() {
        for key in keys
            .iter()
            .filter(|key| key.supports(algorithm) && key.is_short_secret_for(algorithm))
        {
            let minimum = algorithm.hmac_output_len().unwrap_or_default();
            let mut name = key.kid().map_or_else(
                || "HMAC secret".to_owned(),
                |kid| format!("HMAC key `{kid}`"),
            );
            if let Some(issuer) = issuer {
                name.push_str(&format!(" of issuer `{issuer}`"));
            }
            warnings.push(format!(
                "{name} is shorter than {minimum} bytes, the {algorithm} hash output (RFC 7518 section 3.2)"
            ));
        }
    }
    warnings
}

impl Validator {
    /// Starts building a validator for `policy` with `keys`. With `issuers` in the policy,
    /// pass an empty [`KeySet`]: each issuer's keys come from its own key file.
    pub fn builder(policy: Policy, keys: KeySet) -> ValidatorBuilder {
        ValidatorBuilder {
            policy,
            keys,
            revocations: None,
            usage: None,
            state: None,
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
        self.validate_with(token, ValidateOptions::default())
    }

    /// Validates one token with request requirements or an explanation; see
    /// [`Validator::validate`].
    pub fn validate_with(&self, token: &str, options: ValidateOptions<'_>) -> Report {
        let now = self.clock.now();
        let mut findings = Findings::default();
        let mut trace = Trace::new(options.explain);
        let (token_id, verified) = self.verify(token, &mut findings, &mut trace);
        let (header, claims) = match verified {
            Some((header, claims, key_id)) => {
                let context = Context {
                    validator: self,
                    header: &header,
                    claims: &claims,
                    key_id: key_id.as_deref(),
                    token_id,
                    now,
                };
                evaluate_claims(&context, options.request, &mut findings, &mut trace);
                (Some(header), Some(claims))
            }
            None => (None, None),
        };
        // An unverified token always carries an error finding; checking `header` as well
        // keeps it denied even if a future check omits one.
        let decision = if header.is_none() || findings.has_error() {
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
            checks: trace.into_checks(),
        }
    }

    pub(crate) fn revocations(&self) -> &dyn RevocationStore {
        self.revocations.as_ref()
    }

    pub(crate) fn token_state(&self) -> Option<&dyn TokenState> {
        self.state.as_deref()
    }

    pub(crate) fn usage_counter(&self) -> &dyn UsageCounter {
        self.usage.as_ref()
    }

    /// Returns the audiences the token's issuer accepts, when the policy lists issuers.
    pub(crate) fn issuer_audiences(
        &self,
        iss: Option<&str>,
    ) -> Option<&warden_policy::NonEmptyStrings> {
        let issuer = self
            .issuers
            .iter()
            .find(|issuer| Some(issuer.config.iss.as_str()) == iss)?;
        issuer.config.audiences.as_ref()
    }

    /// Runs the structural checks and the signature check; returns the token identity and,
    /// when the signature verified, the header and claims.
    fn verify(
        &self,
        token: &str,
        findings: &mut Findings,
        trace: &mut Trace,
    ) -> (TokenId, Option<(Header, Claims, Option<String>)>) {
        // Surrounding white space is not part of a compact token, so it neither counts
        // against the limit nor changes the token's identity.
        let token = token.trim_ascii();
        let max_length = self.policy.max_token_length;
        let within_limit = token.len() <= max_length;
        trace.record("max_token_length", within_limit, || {
            (
                None,
                format!("at most {max_length} bytes"),
                format!("{} bytes", token.len()),
            )
        });
        if !within_limit {
            let id = TokenId::of_bytes(token.as_bytes().get(..max_length).unwrap_or_default());
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
        let verified = if self.issuers.is_empty() {
            self.verify_with(
                &compact,
                &self.keys,
                &self.policy.algorithms,
                None,
                findings,
                trace,
            )
        } else {
            self.verify_issuer(&compact, findings, trace)
        };
        (compact.id(), verified)
    }

    /// Picks the issuer's keys by the unverified `iss`, then verifies with them. The `iss`
    /// only selects keys: no finding about the claims is made before the signature verifies.
    fn verify_issuer(
        &self,
        compact: &CompactToken<'_>,
        findings: &mut Findings,
        trace: &mut Trace,
    ) -> Option<(Header, Claims, Option<String>)> {
        let claims = self.decode_claims(compact, findings)?;
        let issuer = self
            .issuers
            .iter()
            .find(|issuer| claims.iss.as_deref() == Some(issuer.config.iss.as_str()));
        trace.record("issuers", issuer.is_some(), || {
            let trusted: Vec<&str> = self
                .issuers
                .iter()
                .map(|issuer| issuer.config.iss.as_str())
                .collect();
            (
                Some("iss".to_owned()),
                format!("one of {}", trusted.join(", ")),
                format!("{:?}", claims.iss),
            )
        });
        let Some(issuer) = issuer else {
            let message = match &claims.iss {
                Some(iss) => format!("issuer `{iss}` is not trusted by this policy"),
                None => "token has no `iss`, and this policy trusts only listed issuers".to_owned(),
            };
            findings.error(Code::IssuerUnknown, "issuers", message);
            return None;
        };
        self.verify_with(
            compact,
            &issuer.keys,
            &issuer.algorithms,
            Some(claims),
            findings,
            trace,
        )
    }

    fn verify_with(
        &self,
        compact: &CompactToken<'_>,
        keys: &KeySet,
        algorithms: &Algorithms,
        claims: Option<Claims>,
        findings: &mut Findings,
        trace: &mut Trace,
    ) -> Option<(Header, Claims, Option<String>)> {
        let cache = self
            .signature_cache
            .as_ref()
            .map(|cache| (cache, compact.id()));
        let verified =
            match verify_signature_cached(compact, keys, algorithms, self.provider, cache) {
                Ok(verified) => verified,
                Err(finding) => {
                    trace.record(finding.rule.clone(), false, || {
                        (
                            None,
                            "a valid signature".to_owned(),
                            finding.message.clone(),
                        )
                    });
                    findings.0.push(finding);
                    return None;
                }
            };
        trace.record("signature", true, || {
            let allowed: Vec<&str> = algorithms.iter().map(Algorithm::as_str).collect();
            (
                Some("alg".to_owned()),
                format!("one of {} with a valid signature", allowed.join(", ")),
                verified.header.alg.clone(),
            )
        });
        let claims = match claims {
            Some(claims) => claims,
            None => Claims::from_json(&verified.payload)
                .map_err(|error| findings.error(format_code(&error), "format", error.to_string()))
                .ok()?,
        };
        Some((verified.header, claims, verified.key_id))
    }

    fn decode_claims(&self, compact: &CompactToken<'_>, findings: &mut Findings) -> Option<Claims> {
        compact
            .decode_payload()
            .and_then(|json| Claims::from_json(&json))
            .map_err(|error| findings.error(format_code(&error), "format", error.to_string()))
            .ok()
    }
}
