//! Validates JWTs against a Warden policy and returns a report for every token.
//!
//! A [`Validator`] combines a [`Policy`](warden_policy::Policy), a [`KeySet`], a revocation
//! store, usage counters and a [`Clock`]. [`Validator::validate`] never fails: a bad token
//! yields a [`Report`] whose decision is deny, with [`Finding`]s that carry stable
//! [`Code`]s. Only a broken setup, such as an unreadable key, is an error, and it is
//! reported when the validator is built.
//!
//! ```
//! use std::sync::Arc;
//! use warden_validator::{FixedClock, KeyFormat, KeySet, Validator};
//!
//! let policy = warden_policy::Policy::from_yaml_str(
//!     "version: 1\nalgorithms: [HS256]\nrules:\n  required_claims: { claims: [sub] }\n",
//!     "inline.yaml",
//! )?;
//! let keys = KeySet::from_bytes(b"a-very-long-secret-of-at-least-32-bytes!", KeyFormat::HmacRaw, "inline")?;
//! let validator = Validator::builder(policy, keys).clock(Arc::new(FixedClock(1_700_000_000))).build()?;
//! let report = validator.validate("not-a-token");
//! assert!(!report.is_allowed());
//! assert_eq!(report.codes().collect::<Vec<_>>(), ["token.malformed"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same policy drives issuance: an [`Issuer`] signs tokens whose `iss`, `aud`,
//! algorithm and role grants come from it, and a [`Refresher`] exchanges a due token for a
//! new one while revoking the old one through [`RevocationStore::try_revoke`], so each
//! token refreshes at most once. Clients keep tokens with [`TokenManager`] and the
//! [`TokenStorage`] locations; the `tokio` feature adds `AsyncTokenManager`.
//!
//! [`RevocationStore::try_revoke`]: warden_blacklist::RevocationStore::try_revoke
//!
//! # Guarantees on untrusted input
//!
//! - `validate` does not panic on any input, and its time is bounded by the policy's
//!   `max_token_length`, which is checked before any decoding.
//! - No claim rule runs on a payload whose signature did not verify.
//! - The header can select a key by `kid` but never the key's type; `none` is never
//!   accepted in any letter case.
//! - Messages name the token by a prefix of its identity hash, never by its text.
#![forbid(unsafe_code)]

mod cache;
mod clock;
mod der;
mod findings;
mod issue;
mod keys;
mod manager;
#[cfg(feature = "tokio")]
mod manager_async;
mod prepared;
mod refresh;
mod report;
mod roca;
mod rules;
mod signature;
mod signing;
mod storage;
#[cfg(feature = "keyring")]
mod storage_keyring;
mod validator;

pub use clock::{Clock, FixedClock, SystemClock};
pub use issue::{ISSUER_CLAIMS, IssueError, IssueRequest, IssuedToken, Issuer};
pub use jsonwebtoken::crypto::CryptoProvider;
pub use keys::{
    KeyError, KeyFormat, KeySet, MIN_JWK_SECRET_LEN, MIN_RSA_BITS, VerificationKey, jwk_key,
};
pub use manager::{BoxError, ManagerError, RefreshFn, TokenManager, unverified_expiry};
#[cfg(feature = "tokio")]
pub use manager_async::{AsyncTokenManager, RefreshSchedule};
pub use refresh::{RefreshError, Refresher};
pub use report::{Check, Code, Decision, Finding, Report};
pub use signature::{Verified, verify_signature};
pub use signing::{SigningError, SigningKey, SigningKeyKind};
pub use storage::{
    ClearReport, EnvTokenSource, FileTokenStore, StorageError, TokenLocations, TokenStorage,
};
#[cfg(feature = "keyring")]
pub use storage_keyring::KeyringTokenStore;
pub use validator::{Request, SetupError, ValidateOptions, Validator, ValidatorBuilder};
