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
    /// Parses `redis://[user:password@]HOST:PORT/DB[?prefix=P&replicas=N&replica_timeout_ms=T]`.
    ///
    /// `prefix` is taken literally and starts every key, so several deployments can share a
    /// server. It defaults to [`DEFAULT_PREFIX`]. `replicas` sets [`Durability::Replicas`],
    /// waiting `replica_timeout_ms` (default 1000) for them. Nothing connects yet.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let (base, options) = split_options(url)?;
        let client = redis::Client::open(base.as_str()).map_err(|error| {
            // The URL may carry a password, so the URL itself is not repeated.
            StoreError::Unavailable(format!(
                "invalid redis url ({error}); expected `redis://HOST:PORT/DB`"
            ))
        })?;
        let durability = match options.replicas {
            Some(count) => Durability::Replicas {
                count,
                timeout: Duration::from_millis(options.replica_timeout_ms),
            },
            None => Durability::Reply,
        };
        Ok(RedisConfig {
            client,
            prefix: options.prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_owned()),
            timeout: DEFAULT_TIMEOUT,
            durability,
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

/// Query parameters of the URL that the store reads and the Redis client does not know.
struct StoreOptions {
    prefix: Option<String>,
    replicas: Option<u32>,
    replica_timeout_ms: u64,
}

/// Splits the store's own query parameters off the URL and returns the rest of it.
fn split_options(url: &str) -> Result<(String, StoreOptions), StoreError> {
    let mut options = StoreOptions {
        prefix: None,
        replicas: None,
        replica_timeout_ms: 1_000,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), options));
    };
    let mut other_pairs = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("prefix", value)) => options.prefix = Some(value.to_owned()),
            Some(("replicas", value)) => options.replicas = Some(parse_number(pair, value)?),
            Some(("replica_timeout_ms", value)) => {
                options.replica_timeout_ms = parse_number(pair, value)?;
            }
            _ => other_pairs.push(pair),
        }
    }
    if other_pairs.is_empty() {
        Ok((base.to_owned(), options))
    } else {
        Ok((format!("{base}?{}", other_pairs.join("&")), options))
    }
}

fn parse_number<T: std::str::FromStr>(pair: &str, value: &str) -> Result<T, StoreError> {
    value.parse().map_err(|_| {
        StoreError::Unavailable(format!(
            "invalid redis url parameter `{pair}`; expected a whole number"
        ))
    })
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
    fn parse_reads_replicas() {
        let url = "redis://127.0.0.1:6390/0?replicas=2&replica_timeout_ms=250";
        let config = RedisConfig::parse(url).unwrap();
        let expected = Durability::Replicas {
            count: 2,
            timeout: Duration::from_millis(250),
        };
        assert_eq!(config.durability, expected);
    }

    #[test]
    fn parse_rejects_bad_replicas() {
        let error = RedisConfig::parse("redis://127.0.0.1:6390/0?replicas=two").unwrap_err();
        assert!(error.to_string().contains("`replicas=two`"), "{error}");
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
