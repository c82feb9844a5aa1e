//! JOSE header and JWT claims for Warden, parsed strictly from untrusted bytes.
//!
//! This crate owns the token's wire format: splitting a compact JWS into its three
//! segments, decoding them, and turning the header and payload into typed values.
//! It verifies nothing; `warden-validator` checks signatures and policies.
//!
//! ```
//! use warden_claims::{Claims, CompactToken};
//!
//! let token = CompactToken::parse("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln")?;
//! let claims = Claims::from_json(&token.decode_payload()?)?;
//! assert_eq!(claims.sub.as_deref(), Some("alice"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Guarantees on untrusted input
//!
//! - Parsing never panics, whatever the bytes.
//! - Base64url segments must be canonical: no padding, no whitespace, no stray bits.
//! - A member name that appears twice in the header or the payload, at any depth and
//!   however it is escaped, rejects the whole part.
//! - A registered claim of the wrong type (an `exp` that is a string, say) is kept as a
//!   [`ClaimTypeError`] and never read as if the claim were absent.
#![forbid(unsafe_code)]

mod algorithm;
mod claims;
mod compact;
mod error;
mod header;
mod numeric_date;
mod strict_json;

pub use algorithm::{Algorithm, AlgorithmFamily};
pub use claims::{Audience, ClaimTypeError, Claims};
pub use compact::{CompactToken, TokenId, decode_segment};
pub use error::{FormatError, Part};
pub use header::Header;
pub use numeric_date::{NumericDate, NumericDateError};
pub use strict_json::parse_strict;
