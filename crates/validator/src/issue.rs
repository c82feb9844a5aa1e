//! Token issuance driven by the policy that later checks the tokens.
//!
//! The [`Issuer`] takes `iss`, `aud`, the algorithm and the role's permissions and
//! resources from the policy, so an issued token meets the policy's issuer, audience,
//! algorithm and privilege rules by construction. Rules it cannot meet (an unknown role, a
//! lifetime over `max_lifetime`, a required claim it does not set) are issue errors.

use std::fmt;
use std::sync::Arc;

use jsonwebtoken::crypto::CryptoProvider;
use serde_json::{Map, Value};
use warden_claims::{Algorithm, CompactToken, TokenId};
use warden_policy::{Algorithms, Policy, RoleDefinition, Severity, normalize_role};

use crate::clock::{Clock, SystemClock};
use crate::signing::{SigningError, SigningKey};

/// Claims the issuer sets itself; `extra` claims may not name them.
pub const ISSUER_CLAIMS: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "name",
    "role",
    "roles",
    "permissions",
    "scope",
    "session_id",
];

/// Random bytes in each `jti` and `session_id`: 128 bits from the OS generator.
const RANDOM_ID_BYTES: usize = 16;

/// Reason a token could not be issued. Messages never contain key material or tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The signing key cannot be used under this policy.
    #[error(transparent)]
    Key(#[from] SigningError),
    /// The request conflicts with the policy, so the token would be denied.
    #[error("{0}")]
    Policy(String),
    /// An extra claim names a claim the issuer sets.
    #[error(
        "claim `{0}` is set by the issuer from the policy and cannot be given as an extra claim"
    )]
    ReservedClaim(String),
    /// The operating system's random generator failed.
    #[error("the operating system's random generator failed: {0}")]
    Random(String),
    /// jsonwebtoken has no crypto backend or could not sign.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The subject, role and claims of one token to issue.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueRequest {
    /// The `sub` claim.
    pub subject: String,
    /// The `role` claim; must be defined in the policy's `roles` when it has any.
    pub role: String,
    /// The `name` claim, if any.
    pub name: Option<String>,
    /// Lifetime in seconds: `exp - iat`.
    pub ttl: u64,
    /// The `session_id` claim; `None` draws a new random one.
    pub session_id: Option<String>,
    /// Further claims; they may not name [`ISSUER_CLAIMS`] or a resource claim.
    pub extra: Map<String, Value>,
}

impl IssueRequest {
    /// Starts a request for `subject` with `role` and a lifetime of `ttl` seconds.
    pub fn new(subject: impl Into<String>, role: impl Into<String>, ttl: u64) -> Self {
        IssueRequest {
            subject: subject.into(),
            role: role.into(),
            name: None,
            ttl,
            session_id: None,
            extra: Map::new(),
        }
    }
}

/// A signed token with the facts a caller needs about it.
#[derive(Clone)]
pub struct IssuedToken {
    token: String,
    id: TokenId,
    /// The signed claims.
    pub claims: Map<String, Value>,
    /// The `exp` claim, in Unix seconds.
    pub expires_at: i64,
    /// The algorithm it was signed with.
    pub algorithm: Algorithm,
}

impl fmt::Debug for IssuedToken {
    /// Prints the token's identity prefix, never its text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("id", &self.id.short())
            .field("expires_at", &self.expires_at)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl IssuedToken {
    /// Returns the compact token.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// Returns the compact token, consuming this value.
    pub fn into_string(self) -> String {
        self.token
    }

    /// Returns the token identity (SHA-256 of the signing input).
    pub fn id(&self) -> TokenId {
        self.id
    }
}

/// Signs tokens that the policy it was built from accepts.
pub struct Issuer {
    policy: Policy,
    key: SigningKey,
    algorithm: Algorithm,
    iss: Option<String>,
    aud: Option<String>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Issuer {
    /// Prints the policy name, algorithm, `iss`, `aud` and key kind; never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("policy", &self.policy.name)
            .field("algorithm", &self.algorithm)
            .field("iss", &self.iss)
            .field("aud", &self.aud)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// Builds an issuer for `policy` that signs with `key`.
    ///
    /// `iss` comes from the policy's single entry in `issuers`, or else from an `issuer`
    /// rule that allows exactly one value. `aud` comes from that issuer's `audiences`, or
    /// else from an `audience` rule, when exactly one value is listed. Several candidates
    /// are an error when a rule requires the claim, because any pick would be a guess.
    pub fn new(policy: Policy, key: SigningKey) -> Result<Self, IssueError> {
        if CryptoProvider::try_get_default().is_none() {
            return Err(IssueError::Signing(
                "no JWT crypto backend; enable one of the `aws-lc-rs` and `rust-crypto` features"
                    .to_owned(),
            ));
        }
        let (iss, issuer_config) = pick_issuer(&policy)?;
        let aud = pick_audience(&policy, issuer_config)?;
        let algorithms: Algorithms = issuer_config
            .and_then(|config| config.algorithms.clone())
            .unwrap_or_else(|| policy.algorithms.clone());
        let algorithm = key.algorithm_for(&algorithms)?;
        Ok(Issuer {
            policy,
            key,
            algorithm,
            iss,
            aud,
            clock: Arc::new(SystemClock),
        })
    }

    /// Sets the clock that stamps `iat` and `exp`. Default: the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Returns the policy tokens are issued for.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Returns the signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Returns the current time of the issuer's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Builds, checks and signs one token.
    pub fn issue(&self, request: &IssueRequest) -> Result<IssuedToken, IssueError> {
        let (role, definition) = self.resolve_role(&request.role)?;
        self.check_lifetime(request.ttl)?;
        let now = self.clock.now();
        let ttl = i64::try_from(request.ttl).unwrap_or(i64::MAX);
        let expires_at = now.saturating_add(ttl);

        let mut claims = self.registered_claims(request, now, expires_at)?;
        claims.insert("role".into(), role.into());
        if let Some(definition) = definition {
            insert_grants(&mut claims, definition);
        }
        self.insert_extra(&mut claims, &request.extra)?;
        self.check_required(&claims)?;

        let token = self.sign(&claims)?;
        let id = CompactToken::parse(&token)
            .map_err(|error| IssueError::Signing(error.to_string()))?
            .id();
        Ok(IssuedToken {
            token,
            id,
            claims,
            expires_at,
            algorithm: self.algorithm,
        })
    }

    /// Builds `iss`, `sub`, `aud`, `iat`, `exp`, `jti`, `name` and `session_id`.
    fn registered_claims(
        &self,
        request: &IssueRequest,
        now: i64,
        expires_at: i64,
    ) -> Result<Map<String, Value>, IssueError> {
        let mut claims = Map::new();
        if let Some(iss) = &self.iss {
            claims.insert("iss".into(), iss.clone().into());
        }
        claims.insert("sub".into(), request.subject.clone().into());
        if let Some(aud) = &self.aud {
            claims.insert("aud".into(), aud.clone().into());
        }
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), expires_at.into());
        claims.insert("jti".into(), random_id()?.into());
        if let Some(name) = &request.name {
            claims.insert("name".into(), name.clone().into());
        }
        let session_id = match &request.session_id {
            Some(id) => id.clone(),
            None => random_id()?,
        };
        claims.insert("session_id".into(), session_id.into());
        Ok(claims)
    }

    /// Returns the role name as the policy spells it and its definition, if the policy has
    /// definitions.
    fn resolve_role(&self, role: &str) -> Result<(String, Option<&RoleDefinition>), IssueError> {
        let normal = normalize_role(role);
        if let Some(rule) = &self.policy.rules.allowed_roles
            && rule.severity.active() == Some(Severity::Error)
            && rule.roles.matching(role).is_none()
        {
            return Err(IssueError::Policy(format!(
                "role `{}` is not in the policy's `allowed_roles`",
                role.escape_debug()
            )));
        }
        let Some(definitions) = &self.policy.roles else {
            return Ok((role.to_owned(), None));
        };
        definitions
            .iter()
            .find(|(name, _)| normalize_role(name) == normal)
            .map(|(name, definition)| (name.clone(), Some(definition)))
            .ok_or_else(|| {
                let known: Vec<&str> = definitions.keys().map(String::as_str).collect();
                IssueError::Policy(format!(
                    "role `{}` is not defined in the policy's `roles` (defined: {})",
                    role.escape_debug(),
                    known.join(", ")
                ))
            })
    }

    fn check_lifetime(&self, ttl: u64) -> Result<(), IssueError> {
        if ttl == 0 {
            return Err(IssueError::Policy(
                "the token lifetime must be longer than 0s".to_owned(),
            ));
        }
        let rules = &self.policy.rules;
        for (name, rule) in [
            ("max_lifetime", &rules.max_lifetime),
            ("max_time_to_expiry", &rules.max_time_to_expiry),
        ] {
            if let Some(rule) = rule
                && rule.severity.active() == Some(Severity::Error)
                && ttl > rule.max.as_secs()
            {
                return Err(IssueError::Policy(format!(
                    "lifetime of {ttl}s is over the policy's `{name}` of {}",
                    rule.max
                )));
            }
        }
        Ok(())
    }

    fn insert_extra(
        &self,
        claims: &mut Map<String, Value>,
        extra: &Map<String, Value>,
    ) -> Result<(), IssueError> {
        for (name, value) in extra {
            if self.is_reserved(name) {
                return Err(IssueError::ReservedClaim(name.escape_debug().to_string()));
            }
            claims.insert(name.clone(), value.clone());
        }
        Ok(())
    }

    /// Registered claims, the claims Warden reads typed, and resource claims, which the
    /// validator checks against the role definitions.
    pub(crate) fn is_reserved(&self, name: &str) -> bool {
        ISSUER_CLAIMS.contains(&name)
            || name.ends_with("_access")
            || self
                .policy
                .roles
                .iter()
                .flatten()
                .any(|(_, definition)| definition.resources.contains_key(name))
    }

    fn check_required(&self, claims: &Map<String, Value>) -> Result<(), IssueError> {
        let Some(rule) = &self.policy.rules.required_claims else {
            return Ok(());
        };
        if rule.severity.active() != Some(Severity::Error) {
            return Ok(());
        }
        let missing: Vec<&str> = rule
            .claims
            .iter()
            .filter(|name| !claims.contains_key(*name))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(IssueError::Policy(format!(
            "the policy requires claims the request does not set: `{}`",
            missing.join("`, `")
        )))
    }

    fn sign(&self, claims: &Map<String, Value>) -> Result<String, IssueError> {
        let algorithm: jsonwebtoken::Algorithm = self
            .algorithm
            .as_str()
            .parse()
            .map_err(|error: jsonwebtoken::errors::Error| IssueError::Signing(error.to_string()))?;
        let mut header = jsonwebtoken::Header::new(algorithm);
        header.kid = self.key.kid().map(str::to_owned);
        // The `typ` rule's first expected value, so the header passes that rule too.
        if let Some(rule) = &self.policy.rules.typ
            && let Some(typ) = rule.expected.iter().next()
        {
            header.typ = Some(typ.to_owned());
        }
        jsonwebtoken::encode(&header, claims, self.key.encoding_key())
            .map_err(|error| IssueError::Signing(error.to_string()))
    }
}

fn pick_issuer(
    policy: &Policy,
) -> Result<(Option<String>, Option<&warden_policy::IssuerConfig>), IssueError> {
    if let Some(issuers) = &policy.issuers {
        return match issuers.as_slice() {
            [only] => Ok((Some(only.iss.clone()), Some(only))),
            _ => Err(IssueError::Policy(
                "the policy lists several `issuers`; issuing needs a policy with exactly one"
                    .to_owned(),
            )),
        };
    }
    let Some(rule) = &policy.rules.issuer else {
        return Ok((None, None));
    };
    single_value(rule.allowed.iter(), "issuer", rule.severity.active()).map(|iss| (iss, None))
}

fn pick_audience(
    policy: &Policy,
    issuer: Option<&warden_policy::IssuerConfig>,
) -> Result<Option<String>, IssueError> {
    if let Some(audiences) = issuer.and_then(|config| config.audiences.as_ref()) {
        return single_value(audiences.iter(), "audience", Some(Severity::Error));
    }
    let Some(rule) = &policy.rules.audience else {
        return Ok(None);
    };
    single_value(rule.allowed.iter(), "audience", rule.severity.active())
}

/// Returns the one listed value; with several, an error when the rule denies, else none.
fn single_value<'a>(
    mut values: impl Iterator<Item = &'a str>,
    what: &str,
    severity: Option<Severity>,
) -> Result<Option<String>, IssueError> {
    let first = values.next();
    if values.next().is_none() {
        return Ok(first.map(str::to_owned));
    }
    if severity == Some(Severity::Error) {
        return Err(IssueError::Policy(format!(
            "the policy allows several values for the {what}; issuing needs exactly one"
        )));
    }
    Ok(None)
}

/// Adds the role's permissions and resource claims; a `*` grant becomes `["*"]`.
fn insert_grants(claims: &mut Map<String, Value>, definition: &RoleDefinition) {
    let permissions: Vec<Value> = definition
        .permissions
        .iter()
        .map(|permission| Value::String(permission.clone()))
        .collect();
    claims.insert("permissions".into(), Value::Array(permissions));
    for (claim, resources) in &definition.resources {
        let values: Vec<Value> = if resources.iter().any(|resource| resource == "*") {
            vec![Value::String("*".to_owned())]
        } else {
            resources.iter().cloned().map(Value::String).collect()
        };
        claims.insert(claim.clone(), Value::Array(values));
    }
}

/// Returns 128 random bits from the OS generator, base64url-encoded.
pub(crate) fn random_id() -> Result<String, IssueError> {
    use base64::Engine;
    let mut bytes = [0_u8; RANDOM_ID_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| IssueError::Random(error.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
