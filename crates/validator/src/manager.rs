//! Client-side token management: keep a current token and refresh it before it expires.
//!
//! The manager reads `exp` from the token's payload without verifying the signature,
//! because a client often has no verification key, and it uses `exp` only to schedule
//! refreshes, never to grant access.

use std::sync::{Arc, Mutex};

use warden_claims::{Claims, CompactToken};

use crate::clock::{Clock, SystemClock};

/// Error type that refresh functions return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A function that exchanges the current token for a new one.
pub type RefreshFn = dyn Fn(&str) -> Result<String, BoxError> + Send + Sync;

/// Reason the manager has no valid token to hand out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// The token is not a compact JWS with a numeric `exp` claim.
    #[error("the token cannot be managed: {0}")]
    Unmanageable(String),
    /// The refresh function failed; the old token is not returned.
    #[error("token refresh failed: {0}")]
    RefreshFailed(String),
    /// The async manager was started outside a tokio runtime.
    #[error("the token manager must be started inside a tokio runtime")]
    NoRuntime,
    /// The token has expired and no refresh succeeded.
    #[error("the token expired at {expired_at} (Unix seconds) and could not be refreshed{}", last_error.as_ref().map(|error| format!(": {error}")).unwrap_or_default())]
    Expired {
        /// The token's `exp`.
        expired_at: i64,
        /// The last refresh failure, if any.
        last_error: Option<String>,
    },
}

/// Reads `exp` from an unverified token; see the module docs for why that is enough here.
pub fn unverified_expiry(token: &str) -> Result<i64, ManagerError> {
    unverified_times(token).map(|(expires_at, _)| expires_at)
}

/// Reads `exp` and, when present, `iat` from an unverified token.
fn unverified_times(token: &str) -> Result<(i64, Option<i64>), ManagerError> {
    let unmanageable = |reason: String| ManagerError::Unmanageable(reason);
    let compact = CompactToken::parse(token).map_err(|error| unmanageable(error.to_string()))?;
    let payload = compact
        .decode_payload()
        .map_err(|error| unmanageable(error.to_string()))?;
    let claims = Claims::from_json(&payload).map_err(|error| unmanageable(error.to_string()))?;
    let expires_at = claims
        .exp
        .map(|exp| exp.as_secs())
        .ok_or_else(|| unmanageable("the token has no numeric `exp` claim".to_owned()))?;
    Ok((expires_at, claims.iat.map(|iat| iat.as_secs())))
}

/// Returns the Unix time at which `token` is due for refresh: `threshold` seconds before
/// `exp`, but not before half its life since `iat` has passed. That floor keeps a token
/// that lives shorter than the threshold from being refreshed on every use.
pub(crate) fn refresh_due_at(token: &str, threshold: i64) -> Result<i64, ManagerError> {
    let (expires_at, issued_at) = unverified_times(token)?;
    let before_expiry = expires_at.saturating_sub(threshold);
    Ok(match issued_at {
        Some(iat) => before_expiry.max(iat.saturating_add(expires_at.saturating_sub(iat) / 2)),
        None => before_expiry,
    })
}

/// Holds the current token and refreshes it on demand when it expires within a threshold.
pub struct TokenManager {
    current: Mutex<String>,
    threshold: u64,
    refresh: Box<RefreshFn>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// Manages `token`, refreshing it through `refresh` once it expires within
    /// `threshold` seconds. The token must carry `exp`.
    pub fn new(
        token: String,
        threshold: u64,
        refresh: impl Fn(&str) -> Result<String, BoxError> + Send + Sync + 'static,
    ) -> Result<Self, ManagerError> {
        unverified_expiry(&token)?;
        Ok(TokenManager {
            current: Mutex::new(token),
            threshold,
            refresh: Box::new(refresh),
            clock: Arc::new(SystemClock),
        })
    }

    /// Sets the clock that decides when a refresh is due. Default: the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Returns the current token, or a refreshed one when the current token expires
    /// within the threshold (or, for a token shorter-lived than twice the threshold, once
    /// half its life has passed). A failed refresh is an error even while the old token has
    /// not expired yet, so a caller never gets a token the manager could not renew.
    ///
    /// Concurrent callers wait for one refresh instead of each starting their own, which
    /// matters because a rotated token can be refreshed only once.
    pub fn valid_token(&self) -> Result<String, ManagerError> {
        let mut current = self
            .current
            .lock()
            .map_err(|_| ManagerError::RefreshFailed("the manager's lock is poisoned".into()))?;
        let now = self.clock.now();
        let threshold = i64::try_from(self.threshold).unwrap_or(i64::MAX);
        if now < refresh_due_at(&current, threshold)? {
            return Ok(current.clone());
        }
        let fresh = (self.refresh)(&current).map_err(|error| {
            tracing::warn!(%error, "token refresh failed");
            ManagerError::RefreshFailed(error.to_string())
        })?;
        let fresh_expiry = unverified_expiry(&fresh)?;
        if fresh_expiry <= now {
            return Err(ManagerError::RefreshFailed(
                "the refreshed token has already expired".to_owned(),
            ));
        }
        tracing::debug!(expires_at = fresh_expiry, "token refreshed");
        current.clone_from(&fresh);
        Ok(fresh)
    }
}
