use std::fmt;

use serde::{Deserialize, Serialize};

/// Target of a revocation entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Target {
    /// One token, by its identity hash (SHA-256 of header and payload).
    Token {
        /// The identity hash.
        #[serde(with = "hex_hash")]
        hash: [u8; 32],
    },
    /// Tokens with this `jti`, from this issuer when one is given.
    Jti {
        /// The `iss` the `jti` belongs to; `None` matches any issuer.
        issuer: Option<String>,
        /// The `jti` value.
        jti: String,
    },
    /// Every token of this subject issued before `issued_before` (logout everywhere).
    Subject {
        /// The `iss` of the subject; `None` matches any issuer.
        issuer: Option<String>,
        /// The `sub` value.
        subject: String,
        /// Tokens with `iat` before this Unix time, or without `iat`, are revoked.
        issued_before: i64,
    },
    /// Every token signed with this key id (a leaked key).
    KeyId {
        /// The `kid` header value.
        kid: String,
    },
}

/// One revocation entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// The entry's target.
    pub target: Target,
    /// Unix time the revocation was made.
    pub revoked_at: i64,
    /// Unix time after which the entry is dropped, normally the revoked token's `exp`;
    /// `None` keeps it until it is removed by hand.
    pub expires_at: Option<i64>,
}

impl Revocation {
    /// Builds an entry.
    pub fn new(target: Target, revoked_at: i64, expires_at: Option<i64>) -> Self {
        Revocation {
            target,
            revoked_at,
            expires_at,
        }
    }

    /// Returns true while the entry is in force at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|expires_at| now < expires_at)
    }

    /// Returns true when the entry revokes the token described by `facts`.
    pub fn matches(&self, facts: &TokenFacts<'_>) -> bool {
        match &self.target {
            Target::Token { hash } => *hash == facts.token_hash,
            Target::Jti { issuer, jti } => {
                facts.jti == Some(jti.as_str()) && issuer_matches(issuer.as_deref(), facts.issuer)
            }
            Target::Subject {
                issuer,
                subject,
                issued_before,
            } => {
                facts.subject == Some(subject.as_str())
                    && issuer_matches(issuer.as_deref(), facts.issuer)
                    && facts.issued_at.is_none_or(|iat| iat < *issued_before)
            }
            Target::KeyId { kid } => facts.key_id == Some(kid.as_str()),
        }
    }
}

/// Combines a repeated revocation of one target with the existing entry.
///
/// An entry still live at the new `revoked_at` keeps its `revoked_at` and takes the later
/// expiry (no expiry is the latest). A lapsed one is replaced. Every store applies this rule,
/// so each keeps one entry per target. Arguments and result are `(revoked_at, expires_at)`.
pub(crate) fn merge_entry(
    existing: (i64, Option<i64>),
    new: (i64, Option<i64>),
) -> (i64, Option<i64>) {
    let (old_revoked_at, old_expires_at) = existing;
    let (new_revoked_at, new_expires_at) = new;
    if old_expires_at.is_some_and(|at| at <= new_revoked_at) {
        return new;
    }
    let expires_at = match (old_expires_at, new_expires_at) {
        (Some(old), Some(new)) => Some(old.max(new)),
        _ => None,
    };
    (old_revoked_at, expires_at)
}

/// Sorts entries by revocation time, then by target, the order `list` returns.
pub(crate) fn sort_entries(entries: &mut [Revocation]) {
    entries.sort_by(|a, b| {
        a.revoked_at
            .cmp(&b.revoked_at)
            .then_with(|| a.target.to_string().cmp(&b.target.to_string()))
    });
}

fn issuer_matches(entry: Option<&str>, token: Option<&str>) -> bool {
    entry.is_none() || entry == token
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Token { hash } => write!(f, "token {}", hex::encode(hash)),
            Target::Jti {
                issuer: Some(issuer),
                jti,
            } => write!(f, "jti `{jti}` of `{issuer}`"),
            Target::Jti { issuer: None, jti } => write!(f, "jti `{jti}`"),
            Target::Subject {
                issuer,
                subject,
                issued_before,
            } => {
                write!(f, "subject `{subject}`")?;
                if let Some(issuer) = issuer {
                    write!(f, " of `{issuer}`")?;
                }
                write!(f, " issued before {issued_before}")
            }
            Target::KeyId { kid } => write!(f, "key id `{kid}`"),
        }
    }
}

/// The facts of a verified token that revocation entries are matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenFacts<'a> {
    /// Identity hash: SHA-256 of the signing input.
    pub token_hash: [u8; 32],
    /// The `iss` claim.
    pub issuer: Option<&'a str>,
    /// The `sub` claim.
    pub subject: Option<&'a str>,
    /// The `jti` claim.
    pub jti: Option<&'a str>,
    /// The `iat` claim, in whole seconds.
    pub issued_at: Option<i64>,
    /// The `kid` header parameter.
    pub key_id: Option<&'a str>,
}

/// Failure of a store to look up or record an entry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backing file or server could not be reached or written.
    #[error("revocation store unavailable: {0}")]
    Unavailable(String),
    /// The journal is damaged before its last record; nothing was dropped.
    #[error("journal `{path}` is corrupted at byte offset {offset}: {reason}")]
    Corrupted {
        /// Journal path.
        path: String,
        /// Byte offset of the first bad record.
        offset: u64,
        /// Description of the damage.
        reason: String,
    },
    /// An I/O error on the journal.
    #[error("journal `{path}` I/O failed")]
    Io {
        /// Journal path.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// A revocation list.
///
/// Implementations are shared between threads. `revoke` returns only once the entry is
/// durable for that store, and `check` never returns an entry that has lapsed.
pub trait RevocationStore: Send + Sync {
    /// Records a revocation.
    fn revoke(&self, revocation: Revocation) -> Result<(), StoreError>;

    /// Records a revocation unless an entry with the same target, live at
    /// `revocation.revoked_at`, already exists; returns true when this call recorded it.
    ///
    /// The check and the insert are one atomic step for every client of the store, so of
    /// several concurrent calls with one target exactly one returns true. A true return is
    /// as durable as [`RevocationStore::revoke`].
    fn try_revoke(&self, revocation: Revocation) -> Result<bool, StoreError>;

    /// Returns the first live entry that revokes the token, if any.
    fn check(&self, facts: &TokenFacts<'_>, now: i64) -> Result<Option<Revocation>, StoreError>;

    /// Returns every live entry.
    fn list(&self, now: i64) -> Result<Vec<Revocation>, StoreError>;

    /// Drops lapsed entries and returns how many were dropped.
    fn purge(&self, now: i64) -> Result<usize, StoreError>;
}

/// What a usage counter counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UsageKey {
    /// A token identity hash.
    Token(#[serde(with = "hex_hash")] [u8; 32]),
    /// A `jti`, with its issuer.
    Jti {
        /// The `iss` claim.
        issuer: Option<String>,
        /// The `jti` claim.
        jti: String,
    },
    /// A subject, with its issuer.
    Subject {
        /// The `iss` claim.
        issuer: Option<String>,
        /// The `sub` claim.
        subject: String,
    },
}

/// Counts uses for the usage thresholds.
pub trait UsageCounter: Send + Sync {
    /// Adds one use at `now` and returns the count including it.
    ///
    /// With a `window` (seconds), counting restarts when the window that began with the
    /// first use has passed. The counter is dropped once `expires_at` has passed.
    fn increment(
        &self,
        key: &UsageKey,
        now: i64,
        window: Option<u64>,
        expires_at: Option<i64>,
    ) -> Result<u64, StoreError>;
}

mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        hash: &[u8; 32],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(hash))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut hash = [0_u8; 32];
        hex::decode_to_slice(&text, &mut hash).map_err(serde::de::Error::custom)?;
        Ok(hash)
    }
}

/// A use to count in the same step as a revocation check; see [`TokenState`].
#[derive(Debug, Clone, Copy)]
pub struct UsageCount<'a> {
    /// Counted key.
    pub key: &'a UsageKey,
    /// Counting window in seconds, if any.
    pub window: Option<u64>,
    /// Unix time after which the counter is dropped.
    pub expires_at: Option<i64>,
}

/// A store that keeps revocations and usage counts together, and can check a token and
/// count its use in one step. For Redis that step is one round trip.
pub trait TokenState: RevocationStore + UsageCounter {
    /// Checks the token against the revocation list and, with `usage`, counts one use;
    /// returns the matching entry and the count including this use.
    fn check_and_count(
        &self,
        facts: &TokenFacts<'_>,
        now: i64,
        usage: Option<UsageCount<'_>>,
    ) -> Result<(Option<Revocation>, Option<u64>), StoreError> {
        let revoked = self.check(facts, now)?;
        let uses = match usage {
            Some(usage) => Some(self.increment(usage.key, now, usage.window, usage.expires_at)?),
            None => None,
        };
        Ok((revoked, uses))
    }
}
