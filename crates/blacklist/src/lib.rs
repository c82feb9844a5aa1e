//! Revocation list and usage counters for Warden.
//!
//! A [`RevocationStore`] answers one question for a verified token: has it been revoked,
//! by its identity hash, by `(iss, jti)`, by subject ("every token issued before T") or by
//! the key id that signed it? A [`UsageCounter`] counts uses of a token, `jti` or subject.
//!
//! Three stores ship here, and each implements both traits except [`MemoryStore`], whose
//! counterpart is [`MemoryUsageCounter`]:
//!
//! - [`MemoryStore`]: DashMap, for tests and single processes; lost on exit.
//! - [`FileStore`]: an append-only journal that syncs each revocation to disk before it
//!   returns, so a revocation survives a crash or restart. Processes on one machine can
//!   share the file.
//! - [`RedisStore`] (feature `redis`, on by default): revocations and usage counts in
//!   Redis, shared by every replica, with [`AsyncRedisStore`] for Tokio code.
//!
//! Every store keeps one entry per target: revoking a target again while its entry is live
//! keeps the first `revoked_at` and the later expiry.
//!
//! # Async services
//!
//! The traits are blocking, and so is `Validator::validate` in `warden-validator`. In a
//! Tokio service, call the validator through `tokio::task::spawn_blocking`, and use
//! [`AsyncRedisStore`] for revocations made from async handlers. On a multi-thread
//! runtime [`RedisStore`] also wraps each round trip in `tokio::task::block_in_place`, so a
//! direct call does not stall the other tasks of its worker thread.
//!
//! ```
//! use warden_blacklist::{MemoryStore, Revocation, RevocationStore, Target, TokenFacts};
//!
//! let store = MemoryStore::new();
//! let hash = [7_u8; 32];
//! store.revoke(Revocation::new(Target::Token { hash }, 1_000, Some(2_000)))?;
//! let facts = TokenFacts { token_hash: hash, ..TokenFacts::default() };
//! assert!(store.check(&facts, 1_500)?.is_some());
//! assert!(store.check(&facts, 2_000)?.is_none(), "entries lapse when the token expires");
//! # Ok::<(), warden_blacklist::StoreError>(())
//! ```
#![forbid(unsafe_code)]

mod file;
mod memory;
mod model;
#[cfg(feature = "redis")]
mod redis_store;

pub use file::FileStore;
pub use memory::{MemoryStore, MemoryUsageCounter};
pub use model::{
    Revocation, RevocationStore, StoreError, Target, TokenFacts, TokenState, UsageCount,
    UsageCounter, UsageKey,
};
#[cfg(feature = "redis")]
pub use redis_store::{
    AsyncRedisStore, DEFAULT_PREFIX, DEFAULT_TIMEOUT, Durability, RedisConfig, RedisStore,
};
