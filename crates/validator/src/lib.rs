//! Validates JWTs against a Warden policy and returns a report for every token.
//!
//! A [`Validator`] holds a [`Policy`](warden_policy::Policy), a [`KeySet`], a revocation
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
mod keys;
mod prepared;
mod report;
mod rules;
mod validator;

pub use clock::{Clock, FixedClock, SystemClock};
pub use jsonwebtoken::crypto::CryptoProvider;
pub use keys::{KeyError, KeyFormat, KeySet, MIN_RSA_BITS, VerificationKey, jwk_key};
pub use report::{Code, Decision, Finding, Report};
pub use validator::{SetupError, Validator, ValidatorBuilder, verify_signature};
