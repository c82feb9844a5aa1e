//! Connection settings shared by [`RedisStore`](super::RedisStore) and
//! [`AsyncRedisStore`](super::AsyncRedisStore).

use std::fmt;
use std::time::Duration;

use crate::model::StoreError;

/// Key prefix used when the URL names none.
pub const DEFAULT_PREFIX: &str = "warden:";

/// Time allowed for connecting and for each reply, unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// When a revocation counts as acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Once the server has replied to the write. The entry then survives a server crash only
    /// as far as the server's persistence allows: with `appendonly yes` and
    /// `appendfsync always`, Redis syncs the AOF before it replies.
    #[default]
    Reply,
    /// Once `count` replicas have also acknowledged the write (`WAIT count timeout`). Fewer
    /// acknowledgements within `timeout` make `revoke` fail with `Unavailable`, and every
    /// call then allows `timeout` more for its reply.
    Replicas {
        /// Replicas that must acknowledge.
        count: u32,
        /// Time to wait for them.
        timeout: Duration,
    },
}

/// Settings of a Redis revocation and usage store.
#[derive(Clone)]
pub struct RedisConfig {
    pub(crate) client: redis::Client,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
    pub(crate) durability: Durability,
}

impl RedisConfig {
    /// Parses `redis://[user:password@]HOST:PORT/DB[?prefix=PREFIX]`.
    ///
    /// `prefix` is taken literally and starts every key, so several deployments can share a
    /// server; it defaults to [`DEFAULT_PREFIX`]. Nothing connects yet.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let (base, prefix) = split_prefix(url);
        let client = redis::Client::open(base.as_str()).map_err(|error| {
            // The URL may carry a password, so the URL itself is not repeated.
            StoreError::Unavailable(format!(
                "invalid redis url ({error}); expected `redis://HOST:PORT/DB`"
            ))
        })?;
        Ok(RedisConfig {
            client,
            prefix: prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_owned()),
            timeout: DEFAULT_TIMEOUT,
            durability: Durability::default(),
        })
    }

    /// Sets the key prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the time allowed for connecting and for each reply.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets when a revocation counts as acknowledged.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Returns the time allowed for a reply, which includes the wait for replicas.
    pub(crate) fn reply_timeout(&self) -> Duration {
        match self.durability {
            Durability::Reply => self.timeout,
            Durability::Replicas { timeout, .. } => self.timeout.saturating_add(timeout),
        }
    }

    /// Returns the key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// Names the server as `redis://HOST:PORT/DB`, without credentials.
    pub fn server(&self) -> String {
        let info = self.client.get_connection_info();
        format!("redis://{}/{}", info.addr(), info.redis_settings().db())
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("server", &self.server())
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("durability", &self.durability)
            .finish()
    }
}

/// Removes the `prefix` query parameter, which the Redis client does not know.
fn split_prefix(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut prefix = None;
    let mut other_pairs = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.strip_prefix("prefix=") {
            Some(value) => prefix = Some(value.to_owned()),
            None => other_pairs.push(pair),
        }
    }
    if other_pairs.is_empty() {
        (base.to_owned(), prefix)
    } else {
        (format!("{base}?{}", other_pairs.join("&")), prefix)
    }
}

/// Maps a client error to `Unavailable`, naming the server but not its credentials.
pub(crate) fn unavailable(server: &str, action: &str, error: &redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis `{server}` failed to {action}: {error}"))
}

/// Returns true when the error leaves the connection unusable.
pub(crate) fn breaks_connection(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_prefix() {
        let config = RedisConfig::parse("redis://127.0.0.1:6390/3?prefix=t1:").unwrap();
        assert_eq!(config.key_prefix(), "t1:");
        assert_eq!(config.server(), "redis://127.0.0.1:6390/3");
    }

    #[test]
    fn parse_defaults_prefix() {
        let config = RedisConfig::parse("redis://127.0.0.1:6390").unwrap();
        assert_eq!(config.key_prefix(), DEFAULT_PREFIX);
    }

    #[test]
    fn server_hides_password() {
        let config = RedisConfig::parse("redis://user:hunter2@127.0.0.1:6390/0").unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!config.server().contains("hunter2"));
    }

    #[test]
    fn parse_rejects_other_scheme() {
        let error = RedisConfig::parse("http://user:hunter2@127.0.0.1:6390").unwrap_err();
        assert!(error.to_string().contains("invalid redis url"));
        assert!(!error.to_string().contains("hunter2"));
    }
}
