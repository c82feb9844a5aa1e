//! The `--store` option: which revocation and usage store a command uses.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use warden_blacklist::{
    FileStore, MemoryStore, RedisConfig, RedisStore, RevocationStore, TokenState, UsageCounter,
};
use warden_validator::ValidatorBuilder;

/// A store named on the command line.
#[derive(Debug, Clone)]
pub enum StoreSpec {
    /// `file:PATH`, or a bare path: a journal of revocations and usage counts, created if
    /// missing.
    File(PathBuf),
    /// `redis://HOST:PORT/DB`: revocations and usage counts in Redis. The URL may add
    /// `?prefix=PREFIX` for the key prefix and `replicas=N` to wait for replicas.
    Redis(RedisConfig),
    /// `memory`: an empty in-process store, gone when the command exits.
    Memory,
}

impl FromStr for StoreSpec {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        if text == "memory" {
            return Ok(StoreSpec::Memory);
        }
        if text.starts_with("redis://") || text.starts_with("rediss://") {
            let config = RedisConfig::parse(text)?;
            return Ok(StoreSpec::Redis(config));
        }
        if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                bail!("store `file:` has no path; expected `file:PATH`");
            }
            return Ok(StoreSpec::File(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            bail!(
                "unknown store scheme `{scheme}`; expected `file:PATH`, `redis://HOST:PORT/DB` or `memory`"
            );
        }
        if text.is_empty() {
            bail!("store is empty; expected `file:PATH`, `redis://HOST:PORT/DB` or `memory`");
        }
        Ok(StoreSpec::File(PathBuf::from(text)))
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::File(path) => write!(f, "{}", path.display()),
            StoreSpec::Redis(config) => write!(f, "{}", config.server()),
            StoreSpec::Memory => f.write_str("memory"),
        }
    }
}

/// An opened store: the revocation list, and shared usage counters where the store has them.
pub struct Stores {
    /// The revocation list.
    pub revocations: Arc<dyn RevocationStore>,
    /// Usage counters shared with other processes; `None` keeps the validator's own.
    pub usage: Option<Arc<dyn UsageCounter>>,
    /// The same store as both, when it can check and count in one step.
    pub state: Option<Arc<dyn TokenState>>,
}

/// Opens the store; a file store replays its journal, a Redis store connects on first use.
///
/// With `create` false, a missing journal is an error, so a mistyped path cannot check
/// tokens against a new, empty revocation list.
pub fn open(spec: &StoreSpec, create: bool) -> Result<Stores> {
    let stores = match spec {
        StoreSpec::File(path) => {
            if !create && !path.exists() {
                anyhow::bail!(
                    "revocation store `{}` does not exist; check the path, or create it with `warden revoke`",
                    path.display()
                );
            }
            let store = FileStore::open(path)
                .with_context(|| format!("cannot open revocation store `{}`", path.display()))?;
            let store = Arc::new(store);
            Stores {
                revocations: store.clone(),
                usage: Some(store.clone()),
                state: Some(store),
            }
        }
        StoreSpec::Redis(config) => {
            let store = Arc::new(RedisStore::new(config.clone()));
            Stores {
                revocations: store.clone(),
                usage: Some(store.clone()),
                state: Some(store),
            }
        }
        StoreSpec::Memory => Stores {
            revocations: Arc::new(MemoryStore::new()),
            usage: None,
            state: None,
        },
    };
    Ok(stores)
}

/// Opens the store and gives it to the validator being built.
pub fn attach(builder: ValidatorBuilder, spec: &StoreSpec) -> Result<ValidatorBuilder> {
    let stores = open(spec, false)?;
    if let Some(state) = stores.state {
        return Ok(builder.state(state));
    }
    let mut builder = builder.revocations(stores.revocations);
    if let Some(usage) = stores.usage {
        builder = builder.usage(usage);
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_file_prefix() {
        let spec: StoreSpec = "file:/tmp/x.journal".parse().unwrap();
        assert!(
            matches!(spec, StoreSpec::File(path) if path == std::path::Path::new("/tmp/x.journal"))
        );
    }

    #[test]
    fn spec_keeps_bare_path() {
        let spec: StoreSpec = "revoked.journal".parse().unwrap();
        assert!(
            matches!(spec, StoreSpec::File(path) if path == std::path::Path::new("revoked.journal"))
        );
    }

    #[test]
    fn spec_parses_redis_url() {
        let spec: StoreSpec = "redis://127.0.0.1:6379/2?prefix=ci:".parse().unwrap();
        let StoreSpec::Redis(config) = spec else {
            panic!("expected a redis store");
        };
        assert_eq!(config.server(), "redis://127.0.0.1:6379/2");
        assert_eq!(config.key_prefix(), "ci:");
    }

    #[test]
    fn spec_parses_memory() {
        assert!(matches!(
            "memory".parse::<StoreSpec>().unwrap(),
            StoreSpec::Memory
        ));
    }

    #[test]
    fn spec_rejects_unknown_scheme() {
        let error = "etcd://127.0.0.1:2379".parse::<StoreSpec>().unwrap_err();
        assert!(error.to_string().contains("unknown store scheme `etcd`"));
    }
}
