//! Token refresh with rotation: a token is exchanged for a new one and revoked in one
//! atomic store step, so each token can be refreshed at most once.

use std::sync::Arc;

use serde_json::Map;
use warden_blacklist::{Revocation, RevocationStore, StoreError, Target};
use warden_claims::Claims;
use warden_policy::{RefreshPolicy, Severity};

use crate::issue::{IssueError, IssueRequest, IssuedToken, Issuer};
use crate::keys::KeySet;
use crate::report::{Code, Report};
use crate::validator::{SetupError, Validator};

/// Reason a refresh was rejected or failed. Messages name tokens by identity prefix only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// The policy has no `refresh` section, so no token may be refreshed.
    #[error("the policy has no `refresh` section, so tokens cannot be refreshed")]
    NotEnabled,
    /// The validator could not be set up.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The token is revoked, or was already refreshed.
    #[error("token {token} is revoked or was already refreshed")]
    Revoked {
        /// Identity prefix of the token.
        token: String,
    },
    /// The token expired longer ago than the refresh grace period.
    #[error("token {token} expired at {expired_at}, longer ago than the refresh grace of {grace}")]
    Expired {
        /// Identity prefix of the token.
        token: String,
        /// Its `exp`, in Unix seconds.
        expired_at: i64,
        /// The policy's grace period.
        grace: warden_policy::Duration,
    },
    /// The token is not yet within its refresh window.
    #[error(
        "token {token} cannot be refreshed before {due_at} (Unix seconds), the start of its refresh window"
    )]
    NotYetDue {
        /// Identity prefix of the token.
        token: String,
        /// When its refresh window opens, in Unix seconds.
        due_at: i64,
    },
    /// The token fails the policy for another reason.
    #[error("token {token} is invalid: {codes}")]
    Invalid {
        /// Identity prefix of the token.
        token: String,
        /// The error codes, comma-separated.
        codes: String,
    },
    /// The token lacks a claim needed to issue its successor.
    #[error("token {token} has no `{claim}` claim, so it cannot be refreshed")]
    MissingClaim {
        /// Identity prefix of the token.
        token: String,
        /// The missing claim.
        claim: &'static str,
    },
    /// The new token could not be issued.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// The revocation store could not record the rotation; no new token was returned.
    #[error("cannot record the rotation in the revocation store")]
    Store(#[from] StoreError),
}

/// Exchanges valid tokens that are due for new ones, revoking each old token.
pub struct Refresher {
    validator: Validator,
    issuer: Issuer,
    store: Arc<dyn RevocationStore>,
    policy: RefreshPolicy,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("issuer", &self.issuer)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Refresher {
    /// Builds a refresher from an issuer, the keys that verify its tokens and the store
    /// that records rotations. With `issuers` in the policy, `keys` may be empty.
    pub fn new(
        issuer: Issuer,
        keys: KeySet,
        store: Arc<dyn RevocationStore>,
    ) -> Result<Self, RefreshError> {
        let policy = issuer.policy().refresh.ok_or(RefreshError::NotEnabled)?;
        let validator = Validator::builder(issuer.policy().clone(), keys)
            .revocations(store.clone())
            .clock(issuer.clock())
            .build()?;
        Ok(Refresher {
            validator,
            issuer,
            store,
            policy,
        })
    }

    /// Returns the validator that checks tokens before refresh.
    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// Refreshes `token`: checks it, issues its successor with the same identity claims,
    /// lifetime and `session_id`, and revokes it.
    ///
    /// The successor is signed first and returned only if this call is the one that
    /// revoked the old token, so of concurrent refreshes of one token at most one returns
    /// a token. Permissions and resources are taken from the current role definitions.
    pub fn refresh(&self, token: &str) -> Result<IssuedToken, RefreshError> {
        let now = self.issuer.now();
        let report = self.validator.validate(token);
        let claims = self.check_report(&report)?;
        let short = report.token.clone();
        let exp = claims
            .exp
            .map(|exp| exp.as_secs())
            .ok_or_else(|| missing(&short, "exp"))?;
        self.check_due(&short, exp, now)?;

        let request = successor_request(&self.issuer, &claims, &short)?;
        let successor = self.issuer.issue(&request)?;
        self.check_successor(&successor)?;

        let leeway = i64::try_from(self.validator.policy().leeway.as_secs()).unwrap_or(0);
        let grace = i64::try_from(self.policy.grace.as_secs()).unwrap_or(0);
        // The entry outlives every moment at which the old token could still be accepted.
        let keep_until = exp
            .saturating_add(grace)
            .saturating_add(leeway)
            .saturating_add(1);
        let revocation = Revocation::new(
            Target::Token {
                hash: *report.token_id.as_bytes(),
            },
            now,
            Some(keep_until),
        );
        if !self.store.try_revoke(revocation)? {
            return Err(RefreshError::Revoked { token: short });
        }
        tracing::info!(old = %short, new = %successor.id().short(), "refreshed token");
        Ok(successor)
    }

    /// Returns the verified claims when the only errors, if any, are a lapsed `exp`.
    fn check_report(&self, report: &Report) -> Result<Claims, RefreshError> {
        let token = report.token.clone();
        let errors: Vec<Code> = report
            .findings
            .iter()
            .filter(|finding| finding.severity == Severity::Error)
            .map(|finding| finding.code)
            .collect();
        if errors.contains(&Code::TokenRevoked) {
            return Err(RefreshError::Revoked { token });
        }
        let other: Vec<&str> = errors
            .iter()
            .filter(|code| **code != Code::TokenExpired)
            .map(|code| code.as_str())
            .collect();
        match &report.claims {
            Some(claims) if other.is_empty() => Ok(claims.clone()),
            _ => Err(RefreshError::Invalid {
                token,
                codes: other.join(", "),
            }),
        }
    }

    /// Rejects a successor the policy would deny, such as one signed with a key that does
    /// not match the issuer's, before the old token is revoked.
    fn check_successor(&self, successor: &IssuedToken) -> Result<(), RefreshError> {
        let report = self.validator.validate(successor.as_str());
        let errors: Vec<&str> = report
            .findings
            .iter()
            .filter(|finding| finding.severity == Severity::Error)
            .map(|finding| finding.code.as_str())
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        Err(RefreshError::Issue(IssueError::Policy(format!(
            "the policy would deny the new token ({}); check that the signing key matches the verification key",
            errors.join(", ")
        ))))
    }

    fn check_due(&self, token: &str, exp: i64, now: i64) -> Result<(), RefreshError> {
        if self.policy.is_due(exp, now) {
            return Ok(());
        }
        if now > exp {
            return Err(RefreshError::Expired {
                token: token.to_owned(),
                expired_at: exp,
                grace: self.policy.grace,
            });
        }
        let window = i64::try_from(self.policy.window.as_secs()).unwrap_or(i64::MAX);
        Err(RefreshError::NotYetDue {
            token: token.to_owned(),
            due_at: exp.saturating_sub(window),
        })
    }
}

fn missing(token: &str, claim: &'static str) -> RefreshError {
    RefreshError::MissingClaim {
        token: token.to_owned(),
        claim,
    }
}

/// Builds the successor's request: same `sub`, `role`, `name`, `session_id`, lifetime
/// and extra claims; the issuer adds fresh `jti`, `iat`, `exp` and the role's grants.
fn successor_request(
    issuer: &Issuer,
    claims: &Claims,
    token: &str,
) -> Result<IssueRequest, RefreshError> {
    let subject = claims.sub.clone().ok_or_else(|| missing(token, "sub"))?;
    let role = claims.role.clone().ok_or_else(|| missing(token, "role"))?;
    let exp = claims.exp.map(|exp| exp.as_secs()).unwrap_or_default();
    let iat = claims
        .iat
        .map(|iat| iat.as_secs())
        .ok_or_else(|| missing(token, "iat"))?;
    let ttl = u64::try_from(exp.saturating_sub(iat)).unwrap_or_default();
    let extra: Map<String, serde_json::Value> = claims
        .other
        .iter()
        .filter(|(name, _)| !issuer.is_reserved(name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Ok(IssueRequest {
        subject,
        role,
        name: claims.name.clone(),
        ttl,
        session_id: claims.session_id.clone(),
        extra,
    })
}
