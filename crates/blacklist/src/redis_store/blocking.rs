//! The blocking Redis store, for synchronous callers such as the validator.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use redis::{Connection, ConnectionLike, RedisResult, Script};

use super::config::{Durability, RedisConfig, breaks_connection, unavailable};
use super::layout;
use crate::model::{Revocation, RevocationStore, StoreError, TokenFacts, UsageCounter, UsageKey};

/// Keys asked for per `SCAN` call by `list` and `purge`.
const SCAN_COUNT: usize = 500;

/// Idle connections kept for reuse; more concurrent calls open extra ones and close them.
const MAX_IDLE: usize = 32;

/// Revocation list and usage counters in Redis, shared by every replica that uses the server.
///
/// Connections are made on demand and kept in a small idle pool. A connection that fails is
/// dropped together with the idle ones, so a replica that loses Redis resumes by itself once
/// the server is back, and every call in between returns `StoreError::Unavailable`.
///
/// Calls block for one round trip (two for [`Durability::Replicas`] revocations). On a
/// multi-thread Tokio runtime they run inside `tokio::task::block_in_place`, so other tasks
/// move off the worker. On a current-thread runtime, call the validator from
/// `tokio::task::spawn_blocking`, or use [`AsyncRedisStore`](super::AsyncRedisStore).
pub struct RedisStore {
    config: RedisConfig,
    server: String,
    idle: Mutex<Vec<Connection>>,
    /// Set once the server's persistence settings have been looked at.
    persistence_checked: AtomicBool,
    /// Whether the last call succeeded, so that outages are logged once.
    healthy: AtomicBool,
    revoke_script: Script,
    purge_script: Script,
    increment_script: Script,
}

/// Whether a failed call may be sent again on a fresh connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Sending it twice has the same effect as once.
    Idempotent,
    /// A repeat could count twice.
    Never,
}

impl RedisStore {
    /// Creates the store; the first call connects.
    pub fn new(config: RedisConfig) -> Self {
        RedisStore {
            server: config.server(),
            config,
            idle: Mutex::new(Vec::new()),
            persistence_checked: AtomicBool::new(false),
            healthy: AtomicBool::new(true),
            revoke_script: Script::new(layout::REVOKE_SCRIPT),
            purge_script: Script::new(layout::PURGE_SCRIPT),
            increment_script: Script::new(layout::INCREMENT_SCRIPT),
        }
    }

    /// Parses `url` (see [`RedisConfig::parse`]) and creates the store.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Ok(RedisStore::new(RedisConfig::parse(url)?))
    }

    /// Returns the settings.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    /// Sends `PING`, to find out early whether the server can be reached.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.run("ping", Retry::Idempotent, |connection| {
            redis::cmd("PING").query::<String>(connection)
        })
        .map(drop)
    }

    fn run<T>(
        &self,
        action: &str,
        retry: Retry,
        mut call: impl FnMut(&mut Connection) -> RedisResult<T>,
    ) -> Result<T, StoreError> {
        let result = off_async_worker(|| self.call_once_or_twice(action, retry, &mut call));
        self.track_health(&result);
        result
    }

    fn call_once_or_twice<T>(
        &self,
        action: &str,
        retry: Retry,
        call: &mut impl FnMut(&mut Connection) -> RedisResult<T>,
    ) -> Result<T, StoreError> {
        let (mut connection, reused) = match self.take_idle() {
            Some(connection) => (connection, true),
            None => (self.connect(action)?, false),
        };
        match call(&mut connection) {
            Ok(value) => {
                self.give_back(connection);
                Ok(value)
            }
            Err(error) if breaks_connection(&error) => {
                self.drop_idle();
                // A pooled connection may have died while idle, for example when the server
                // restarted, so one fresh attempt separates a stale socket from an outage.
                if !(reused && retry == Retry::Idempotent) {
                    return Err(unavailable(&self.server, action, &error));
                }
                tracing::info!(server = %self.server, %error, "retrying on a new redis connection");
                let mut connection = self.connect(action)?;
                let value = call(&mut connection).map_err(|error| self.failed(action, &error))?;
                self.give_back(connection);
                Ok(value)
            }
            Err(error) => {
                self.give_back(connection);
                Err(unavailable(&self.server, action, &error))
            }
        }
    }

    /// Logs the first failure after a success and the first success after a failure, so an
    /// outage logs two lines however many calls fail during it.
    fn track_health<T>(&self, result: &Result<T, StoreError>) {
        let healthy = result.is_ok();
        if self.healthy.swap(healthy, Ordering::Relaxed) == healthy {
            return;
        }
        match result {
            Ok(_) => tracing::info!(server = %self.server, "redis is reachable again"),
            Err(error) => tracing::warn!(
                server = %self.server,
                %error,
                "redis calls are failing; checks report the store as unavailable"
            ),
        }
    }

    fn failed(&self, action: &str, error: &redis::RedisError) -> StoreError {
        if breaks_connection(error) {
            self.drop_idle();
        }
        unavailable(&self.server, action, error)
    }

    fn connect(&self, action: &str) -> Result<Connection, StoreError> {
        let timeout = self.config.timeout;
        let connect = || -> RedisResult<Connection> {
            let connection = self.config.client.get_connection_with_timeout(timeout)?;
            connection.set_read_timeout(Some(self.config.reply_timeout()))?;
            connection.set_write_timeout(Some(timeout))?;
            Ok(connection)
        };
        let mut connection =
            connect().map_err(|error| unavailable(&self.server, action, &error))?;
        if !self.persistence_checked.swap(true, Ordering::Relaxed) {
            self.warn_without_persistence(&mut connection);
        }
        Ok(connection)
    }

    /// Logs a warning when acknowledged revocations would not survive a server crash.
    fn warn_without_persistence(&self, connection: &mut Connection) {
        if self.config.durability != Durability::Reply {
            return;
        }
        let info: RedisResult<String> = redis::cmd("INFO").arg("persistence").query(connection);
        let Ok(info) = info else {
            return;
        };
        let aof_enabled = info.lines().any(|line| line.trim() == "aof_enabled:1");
        if !aof_enabled {
            tracing::warn!(
                server = %self.server,
                "redis runs without an append-only file, so a server crash can lose \
                 acknowledged revocations; set `appendonly yes` and `appendfsync always`"
            );
        }
    }

    fn take_idle(&self) -> Option<Connection> {
        self.idle.lock().ok()?.pop()
    }

    fn give_back(&self, connection: Connection) {
        if !connection.is_open() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(connection);
        }
    }

    fn drop_idle(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn wait_for_replicas(&self, connection: &mut Connection) -> RedisResult<Option<u32>> {
        let Durability::Replicas { count, timeout } = self.config.durability else {
            return Ok(None);
        };
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let acknowledged: u32 = redis::cmd("WAIT")
            .arg(count)
            .arg(millis)
            .query(connection)?;
        Ok(Some(acknowledged))
    }

    /// Returns every revocation key under the prefix, each once.
    fn scan_revocation_keys(&self) -> Result<Vec<String>, StoreError> {
        let pattern = layout::revocation_pattern(&self.config.prefix);
        let mut keys = HashSet::new();
        let mut cursor = 0_u64;
        loop {
            let (next, batch): (u64, Vec<String>) = self.run("scan", Retry::Idempotent, |c| {
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(SCAN_COUNT)
                    .query(c)
            })?;
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

    /// Fails when `WAIT` reported fewer replicas than the configured durability needs.
    fn check_replicated(&self, acknowledged: Option<u32>) -> Result<(), StoreError> {
        if let (Some(acknowledged), Durability::Replicas { count, timeout }) =
            (acknowledged, self.config.durability)
            && acknowledged < count
        {
            return Err(StoreError::Unavailable(format!(
                "redis `{}` replicated a revocation to {acknowledged} of {count} replicas within {}ms",
                self.server,
                timeout.as_millis()
            )));
        }
        Ok(())
    }

    fn fetch_hashes(
        &self,
        action: &str,
        keys: &[String],
    ) -> Result<Vec<HashMap<String, String>>, StoreError> {
        self.run(action, Retry::Idempotent, |connection| {
            let mut pipe = redis::pipe();
            for key in keys {
                pipe.cmd("HGETALL").arg(key);
            }
            pipe.query(connection)
        })
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RevocationStore for RedisStore {
    fn try_revoke(&self, revocation: Revocation) -> Result<bool, StoreError> {
        let (key, field) = layout::location(&self.config.prefix, &revocation.target)?;
        let mut invocation = self.revoke_script.prepare_invoke();
        invocation
            .key(&key)
            .arg(&field)
            .arg(revocation.revoked_at)
            .arg(layout::expiry_arg(revocation.expires_at))
            .arg("1");
        // A retry after a lost reply would find the entry this call made and return false,
        // so this is never retried.
        let (inserted, acknowledged) =
            self.run("record a revocation", Retry::Never, |connection| {
                let inserted = invocation.invoke::<i64>(connection)? == 1;
                let acknowledged = if inserted {
                    self.wait_for_replicas(connection)?
                } else {
                    None
                };
                Ok((inserted, acknowledged))
            })?;
        self.check_replicated(acknowledged)?;
        Ok(inserted)
    }

    fn revoke(&self, revocation: Revocation) -> Result<(), StoreError> {
        let (key, field) = layout::location(&self.config.prefix, &revocation.target)?;
        let mut invocation = self.revoke_script.prepare_invoke();
        invocation
            .key(&key)
            .arg(&field)
            .arg(revocation.revoked_at)
            .arg(layout::expiry_arg(revocation.expires_at))
            .arg("0");
        // Recording the same revocation twice has the effect of once, so a retry is safe.
        let acknowledged = self.run("record a revocation", Retry::Idempotent, |connection| {
            invocation.invoke::<i64>(connection)?;
            self.wait_for_replicas(connection)
        })?;
        self.check_replicated(acknowledged)
    }

    fn check(&self, facts: &TokenFacts<'_>, now: i64) -> Result<Option<Revocation>, StoreError> {
        let keys = layout::check_keys(&self.config.prefix, facts)?;
        let hashes = self.fetch_hashes("check a token", &keys)?;
        Ok(layout::first_match(
            &self.config.prefix,
            &keys,
            hashes,
            facts,
            now,
        ))
    }

    fn list(&self, now: i64) -> Result<Vec<Revocation>, StoreError> {
        let keys = self.scan_revocation_keys()?;
        let mut live = Vec::new();
        for batch in keys.chunks(SCAN_COUNT) {
            let hashes = self.fetch_hashes("list revocations", batch)?;
            for (key, fields) in batch.iter().zip(hashes) {
                let entries = layout::entries_of(&self.config.prefix, key, &fields);
                live.extend(entries.into_iter().filter(|entry| entry.is_live(now)));
            }
        }
        crate::model::sort_entries(&mut live);
        Ok(live)
    }

    fn purge(&self, now: i64) -> Result<usize, StoreError> {
        let keys = self.scan_revocation_keys()?;
        let mut dropped = 0_usize;
        for batch in keys.chunks(SCAN_COUNT) {
            dropped += self.run("purge revocations", Retry::Idempotent, |connection| {
                let mut count = 0_usize;
                for key in batch {
                    let mut invocation = self.purge_script.prepare_invoke();
                    invocation.key(key).arg(now);
                    count += invocation.invoke::<usize>(connection)?;
                }
                Ok(count)
            })?;
        }
        Ok(dropped)
    }
}

impl UsageCounter for RedisStore {
    fn increment(
        &self,
        key: &UsageKey,
        now: i64,
        window: Option<u64>,
        expires_at: Option<i64>,
    ) -> Result<u64, StoreError> {
        let key = layout::usage_key(&self.config.prefix, key)?;
        let mut invocation = self.increment_script.prepare_invoke();
        invocation
            .key(&key)
            .arg(now)
            .arg(layout::usage_lapse(now, window, expires_at));
        self.run("count a use", Retry::Never, |connection| {
            invocation.invoke::<u64>(connection)
        })
    }
}

impl crate::model::TokenState for RedisStore {
    /// Sends the revocation look-ups and the usage increment as one pipeline, so checking
    /// a token costs one round trip.
    fn check_and_count(
        &self,
        facts: &TokenFacts<'_>,
        now: i64,
        usage: Option<crate::model::UsageCount<'_>>,
    ) -> Result<(Option<Revocation>, Option<u64>), StoreError> {
        let Some(usage) = usage else {
            return Ok((self.check(facts, now)?, None));
        };
        let keys = layout::check_keys(&self.config.prefix, facts)?;
        let usage_key = layout::usage_key(&self.config.prefix, usage.key)?;
        let lapse = layout::usage_lapse(now, usage.window, usage.expires_at);
        // The pipeline counts a use, so a lost reply must not be retried.
        let (hashes, uses) = self.run("check and count a token", Retry::Never, |connection| {
            let mut pipe = redis::pipe();
            for key in &keys {
                pipe.cmd("HGETALL").arg(key);
            }
            pipe.cmd("EVAL")
                .arg(layout::INCREMENT_SCRIPT)
                .arg(1)
                .arg(&usage_key)
                .arg(now)
                .arg(&lapse);
            let mut replies: Vec<redis::Value> = pipe.query(connection)?;
            let uses_reply = replies.pop().unwrap_or(redis::Value::Nil);
            let uses: u64 = redis::from_redis_value(uses_reply)?;
            let hashes = replies
                .into_iter()
                .map(redis::from_redis_value::<HashMap<String, String>>)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((hashes, uses))
        })?;
        let revoked = layout::first_match(&self.config.prefix, &keys, hashes, facts, now);
        Ok((revoked, Some(uses)))
    }
}

/// Runs a blocking call so that it does not stall a Tokio worker thread, where it can.
fn off_async_worker<T>(call: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(call)
        }
        _ => call(),
    }
}
