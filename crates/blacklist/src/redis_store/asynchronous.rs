//! The async Redis store, for Tokio services.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::config::{Durability, RedisConfig, unavailable};
use super::layout;
use crate::model::{Revocation, StoreError, TokenFacts, UsageKey};

/// Keys asked for per `SCAN` call by `list` and `purge`.
const SCAN_COUNT: usize = 500;

/// Reconnection attempts the connection manager makes before a call fails.
const RECONNECT_RETRIES: usize = 2;

/// The Redis store of [`RedisStore`](super::RedisStore) with `async` methods, for Tokio.
///
/// It uses the same keys and scripts, so the two can share a server: an admin endpoint may
/// revoke through this store while validators check through the blocking one. One
/// multiplexed connection carries every call, and after the server is lost it reconnects
/// on the next call. Clones share the connection.
#[derive(Clone)]
pub struct AsyncRedisStore {
    connection: ConnectionManager,
    shared: Arc<Shared>,
}

struct Shared {
    config: RedisConfig,
    server: String,
    revoke_script: Script,
    purge_script: Script,
    increment_script: Script,
}

impl AsyncRedisStore {
    /// Creates the store without connecting. It must be called inside a Tokio runtime,
    /// because the connection manager spawns a task.
    pub fn new(config: RedisConfig) -> Result<Self, StoreError> {
        let server = config.server();
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::Unavailable(format!(
                "the async store for redis `{server}` needs a Tokio runtime; create it inside one"
            )));
        }
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.reply_timeout()))
            .set_number_of_retries(RECONNECT_RETRIES);
        let connection =
            ConnectionManager::new_lazy_with_config(config.client.clone(), manager_config)
                .map_err(|error| unavailable(&server, "set up a connection", &error))?;
        let shared = Shared {
            config,
            server,
            revoke_script: Script::new(layout::REVOKE_SCRIPT),
            purge_script: Script::new(layout::PURGE_SCRIPT),
            increment_script: Script::new(layout::INCREMENT_SCRIPT),
        };
        Ok(AsyncRedisStore {
            connection,
            shared: Arc::new(shared),
        })
    }

    /// Parses `url` (see [`RedisConfig::parse`]) and creates the store.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        AsyncRedisStore::new(RedisConfig::parse(url)?)
    }

    /// Returns the settings.
    pub fn config(&self) -> &RedisConfig {
        &self.shared.config
    }

    /// Records a revocation; see [`RevocationStore::revoke`](crate::RevocationStore::revoke).
    pub async fn revoke(&self, revocation: Revocation) -> Result<(), StoreError> {
        let (key, field) = layout::location(&self.shared.config.prefix, &revocation.target)?;
        let mut invocation = self.shared.revoke_script.prepare_invoke();
        invocation
            .key(&key)
            .arg(&field)
            .arg(revocation.revoked_at)
            .arg(layout::expiry_arg(revocation.expires_at))
            .arg("0");
        let mut connection = self.connection.clone();
        invocation
            .invoke_async::<i64>(&mut connection)
            .await
            .map_err(|error| self.failed("record a revocation", &error))?;
        let Durability::Replicas { count, timeout } = self.shared.config.durability else {
            return Ok(());
        };
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let acknowledged: u32 = redis::cmd("WAIT")
            .arg(count)
            .arg(millis)
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failed("wait for replicas", &error))?;
        if acknowledged < count {
            return Err(StoreError::Unavailable(format!(
                "redis `{}` replicated a revocation to {acknowledged} of {count} replicas within {millis}ms",
                self.shared.server
            )));
        }
        Ok(())
    }

    /// Returns the first live entry that revokes the token, in one round trip.
    pub async fn check(
        &self,
        facts: &TokenFacts<'_>,
        now: i64,
    ) -> Result<Option<Revocation>, StoreError> {
        let prefix = &self.shared.config.prefix;
        let keys = layout::check_keys(prefix, facts)?;
        let hashes = self.fetch_hashes("check a token", &keys).await?;
        Ok(layout::first_match(prefix, &keys, hashes, facts, now))
    }

    /// Returns every live entry.
    pub async fn list(&self, now: i64) -> Result<Vec<Revocation>, StoreError> {
        let prefix = &self.shared.config.prefix;
        let keys = self.scan_revocation_keys().await?;
        let mut live = Vec::new();
        for batch in keys.chunks(SCAN_COUNT) {
            let hashes = self.fetch_hashes("list revocations", batch).await?;
            for (key, fields) in batch.iter().zip(hashes) {
                let entries = layout::entries_of(prefix, key, &fields);
                live.extend(entries.into_iter().filter(|entry| entry.is_live(now)));
            }
        }
        crate::model::sort_entries(&mut live);
        Ok(live)
    }

    /// Drops entries lapsed at `now` and returns how many were dropped.
    pub async fn purge(&self, now: i64) -> Result<usize, StoreError> {
        let keys = self.scan_revocation_keys().await?;
        let mut connection = self.connection.clone();
        let mut dropped = 0_usize;
        for key in &keys {
            let mut invocation = self.shared.purge_script.prepare_invoke();
            invocation.key(key).arg(now);
            dropped += invocation
                .invoke_async::<usize>(&mut connection)
                .await
                .map_err(|error| self.failed("purge revocations", &error))?;
        }
        Ok(dropped)
    }

    /// Adds one use; see [`UsageCounter::increment`](crate::UsageCounter::increment).
    pub async fn increment(
        &self,
        key: &UsageKey,
        now: i64,
        window: Option<u64>,
        expires_at: Option<i64>,
    ) -> Result<u64, StoreError> {
        let key = layout::usage_key(&self.shared.config.prefix, key)?;
        let mut invocation = self.shared.increment_script.prepare_invoke();
        invocation
            .key(&key)
            .arg(now)
            .arg(layout::usage_lapse(now, window, expires_at));
        let mut connection = self.connection.clone();
        invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|error| self.failed("count a use", &error))
    }

    async fn fetch_hashes(
        &self,
        action: &str,
        keys: &[String],
    ) -> Result<Vec<HashMap<String, String>>, StoreError> {
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("HGETALL").arg(key);
        }
        let mut connection = self.connection.clone();
        pipe.query_async(&mut connection)
            .await
            .map_err(|error| self.failed(action, &error))
    }

    async fn scan_revocation_keys(&self) -> Result<Vec<String>, StoreError> {
        let pattern = layout::revocation_pattern(&self.shared.config.prefix);
        let mut connection = self.connection.clone();
        let mut keys = HashSet::new();
        let mut cursor = 0_u64;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(&mut connection)
                .await
                .map_err(|error| self.failed("scan revocations", &error))?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let mut keys: Vec<String> = keys.into_iter().collect();
        keys.sort();
        Ok(keys)
    }

    fn failed(&self, action: &str, error: &redis::RedisError) -> StoreError {
        tracing::warn!(server = %self.shared.server, action, %error, "redis call failed");
        unavailable(&self.shared.server, action, error)
    }
}

impl std::fmt::Debug for AsyncRedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncRedisStore")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}
