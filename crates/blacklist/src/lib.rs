//! Revocation list and usage counters for Warden.
//!
//! A [`RevocationStore`] answers one question for a verified token: has it been revoked,
//! by its identity hash, by `(iss, jti)`, by subject ("every token issued before T") or by
//! the key id that signed it? A [`UsageCounter`] counts uses of a token, `jti` or subject.
//!
//! Two stores ship here: [`MemoryStore`] (DashMap, for tests and single processes) and
//! [`FileStore`], an append-only journal that syncs each revocation to disk before it
//! returns, so a revocation survives a crash or restart.
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
    Revocation, RevocationStore, StoreError, Target, TokenFacts, UsageCounter, UsageKey,
};
#[cfg(feature = "redis")]
pub use redis_store::{
    AsyncRedisStore, DEFAULT_PREFIX, DEFAULT_TIMEOUT, Durability, RedisConfig, RedisStore,
};
