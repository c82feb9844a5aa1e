//! Redis backend: revocations and usage counters shared by every replica.
//!
//! [`RedisStore`] implements [`RevocationStore`](crate::RevocationStore) and
//! [`UsageCounter`](crate::UsageCounter) with blocking calls; [`AsyncRedisStore`] offers the
//! same operations as `async` methods for Tokio. Both use the same keys, so they can share
//! a server. Entries and counters carry an `EXPIREAT` at the token's expiry (counters at
//! the end of their window, if sooner), so Redis drops them by itself.
//!
//! NOTE: a check reads several keys in one pipeline, and a Redis Cluster rejects that when
//! they hash to different slots. Only a single server, or a primary with replicas, works.

mod asynchronous;
mod blocking;
mod config;
mod layout;

pub use asynchronous::AsyncRedisStore;
pub use blocking::RedisStore;
pub use config::{DEFAULT_PREFIX, DEFAULT_TIMEOUT, Durability, RedisConfig};
