use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::model::{
    Revocation, RevocationStore, StoreError, Target, TokenFacts, UsageCounter, UsageKey,
    merge_entry, sort_entries,
};

/// Sentinel for "never lapses" in the compact token index.
const NEVER: i64 = i64::MAX;

/// In-memory revocation list on DashMap: fast, shared between threads, lost on exit.
///
/// Token entries, the common case, are kept as 48 bytes of payload per entry (hash,
/// revocation time, expiry); the other kinds are grouped by `jti`, subject or key id.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: DashMap<[u8; 32], (i64, i64)>,
    by_jti: DashMap<String, Vec<Revocation>>,
    by_subject: DashMap<String, Vec<Revocation>>,
    by_key_id: DashMap<String, Vec<Revocation>>,
}

impl MemoryStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Returns the number of entries, live or lapsed.
    pub fn len(&self) -> usize {
        let grouped = |map: &DashMap<String, Vec<Revocation>>| -> usize {
            map.iter().map(|entry| entry.value().len()).sum()
        };
        self.tokens.len()
            + grouped(&self.by_jti)
            + grouped(&self.by_subject)
            + grouped(&self.by_key_id)
    }

    /// Returns true when the store has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an entry without any durability step; the file store replays into this.
    ///
    /// A repeated target is merged into its entry by the rule of `merge_entry`.
    pub(crate) fn insert(&self, revocation: Revocation) {
        let new = (revocation.revoked_at, revocation.expires_at);
        let (group, key) = match &revocation.target {
            Target::Token { hash } => {
                let stored = |(revoked_at, expires_at): (i64, Option<i64>)| {
                    (revoked_at, expires_at.unwrap_or(NEVER))
                };
                match self.tokens.entry(*hash) {
                    Entry::Occupied(mut slot) => {
                        let (revoked_at, expires_at) = *slot.get();
                        let existing = (revoked_at, (expires_at != NEVER).then_some(expires_at));
                        slot.insert(stored(merge_entry(existing, new)));
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(stored(new));
                    }
                }
                return;
            }
            Target::Jti { jti, .. } => (&self.by_jti, jti.clone()),
            Target::Subject { subject, .. } => (&self.by_subject, subject.clone()),
            Target::KeyId { kid } => (&self.by_key_id, kid.clone()),
        };
        let mut entries = group.entry(key).or_default();
        match entries
            .iter_mut()
            .find(|entry| entry.target == revocation.target)
        {
            Some(entry) => {
                let existing = (entry.revoked_at, entry.expires_at);
                (entry.revoked_at, entry.expires_at) = merge_entry(existing, new);
            }
            None => entries.push(revocation),
        }
    }

    /// Adds an entry unless one with the same target is live at `revocation.revoked_at`;
    /// returns true when it was added. Atomic: the map shard stays locked throughout.
    pub(crate) fn try_insert(&self, revocation: Revocation) -> bool {
        let now = revocation.revoked_at;
        let group = match &revocation.target {
            Target::Token { hash } => {
                let expires_at = revocation.expires_at.unwrap_or(NEVER);
                let mut slot = self.tokens.entry(*hash).or_insert((now, now));
                if now < slot.1 {
                    return false;
                }
                *slot = (now, expires_at);
                return true;
            }
            Target::Jti { jti, .. } => self.by_jti.entry(jti.clone()),
            Target::Subject { subject, .. } => self.by_subject.entry(subject.clone()),
            Target::KeyId { kid } => self.by_key_id.entry(kid.clone()),
        };
        let mut entries = group.or_default();
        let exists = entries
            .iter()
            .any(|entry| entry.target == revocation.target && entry.is_live(now));
        if !exists {
            entries.push(revocation);
        }
        !exists
    }

    /// Returns true when an entry with `target` is live at `now`.
    pub(crate) fn has_live(&self, target: &Target, now: i64) -> bool {
        let (group, key) = match target {
            Target::Token { hash } => {
                return self.tokens.get(hash).is_some_and(|slot| now < slot.1);
            }
            Target::Jti { jti, .. } => (&self.by_jti, jti),
            Target::Subject { subject, .. } => (&self.by_subject, subject),
            Target::KeyId { kid } => (&self.by_key_id, kid),
        };
        group.get(key).is_some_and(|entries| {
            entries
                .iter()
                .any(|entry| entry.target == *target && entry.is_live(now))
        })
    }

    fn check_group(
        group: &DashMap<String, Vec<Revocation>>,
        key: Option<&str>,
        facts: &TokenFacts<'_>,
        now: i64,
    ) -> Option<Revocation> {
        let entries = group.get(key?)?;
        entries
            .iter()
            .find(|entry| entry.is_live(now) && entry.matches(facts))
            .cloned()
    }
}

impl RevocationStore for MemoryStore {
    fn revoke(&self, revocation: Revocation) -> Result<(), StoreError> {
        self.insert(revocation);
        Ok(())
    }

    fn try_revoke(&self, revocation: Revocation) -> Result<bool, StoreError> {
        Ok(self.try_insert(revocation))
    }

    fn check(&self, facts: &TokenFacts<'_>, now: i64) -> Result<Option<Revocation>, StoreError> {
        if let Some(slot) = self.tokens.get(&facts.token_hash) {
            let (revoked_at, expires_at) = *slot;
            if now < expires_at {
                let expires_at = (expires_at != NEVER).then_some(expires_at);
                let target = Target::Token {
                    hash: facts.token_hash,
                };
                return Ok(Some(Revocation {
                    target,
                    revoked_at,
                    expires_at,
                }));
            }
        }
        let found = Self::check_group(&self.by_jti, facts.jti, facts, now)
            .or_else(|| Self::check_group(&self.by_subject, facts.subject, facts, now))
            .or_else(|| Self::check_group(&self.by_key_id, facts.key_id, facts, now));
        Ok(found)
    }

    fn list(&self, now: i64) -> Result<Vec<Revocation>, StoreError> {
        let mut live: Vec<Revocation> = self
            .tokens
            .iter()
            .filter(|entry| now < entry.value().1)
            .map(|entry| {
                let (revoked_at, expires_at) = *entry.value();
                let expires_at = (expires_at != NEVER).then_some(expires_at);
                Revocation {
                    target: Target::Token { hash: *entry.key() },
                    revoked_at,
                    expires_at,
                }
            })
            .collect();
        for group in [&self.by_jti, &self.by_subject, &self.by_key_id] {
            for entries in group.iter() {
                live.extend(entries.iter().filter(|entry| entry.is_live(now)).cloned());
            }
        }
        sort_entries(&mut live);
        Ok(live)
    }

    fn purge(&self, now: i64) -> Result<usize, StoreError> {
        let before = self.len();
        self.tokens.retain(|_, slot| now < slot.1);
        for group in [&self.by_jti, &self.by_subject, &self.by_key_id] {
            group.retain(|_, entries| {
                entries.retain(|entry| entry.is_live(now));
                !entries.is_empty()
            });
        }
        Ok(before.saturating_sub(self.len()))
    }
}

#[derive(Debug, Clone, Copy)]
struct Count {
    uses: u64,
    /// End of the current window or the token's expiry, whichever comes first.
    expires_at: i64,
}

/// In-memory usage counters on DashMap. Increments are atomic per key.
#[derive(Debug, Default)]
pub struct MemoryUsageCounter {
    counts: DashMap<UsageKey, Count>,
}

impl MemoryUsageCounter {
    /// Creates an empty counter set.
    pub fn new() -> Self {
        MemoryUsageCounter::default()
    }

    /// Drops counters whose token has expired or whose window has passed.
    pub fn purge(&self, now: i64) {
        self.counts.retain(|_, count| now < count.expires_at);
    }

    /// Sets a count, as read back from a journal snapshot; `lapse_at` `None` is never.
    pub(crate) fn restore(&self, key: UsageKey, uses: u64, lapse_at: Option<i64>) {
        let expires_at = lapse_at.unwrap_or(NEVER);
        self.counts.insert(key, Count { uses, expires_at });
    }

    /// Returns every count still running at `now`, with the instant it lapses.
    pub(crate) fn snapshot(&self, now: i64) -> Vec<(UsageKey, u64, Option<i64>)> {
        self.counts
            .iter()
            .filter(|entry| now < entry.value().expires_at)
            .map(|entry| {
                let Count { uses, expires_at } = *entry.value();
                (
                    entry.key().clone(),
                    uses,
                    (expires_at != NEVER).then_some(expires_at),
                )
            })
            .collect()
    }
}

impl UsageCounter for MemoryUsageCounter {
    fn increment(
        &self,
        key: &UsageKey,
        now: i64,
        window: Option<u64>,
        expires_at: Option<i64>,
    ) -> Result<u64, StoreError> {
        let window = window.map(|seconds| i64::try_from(seconds).unwrap_or(i64::MAX));
        let lapse_at = |start: i64| {
            let window_end = window.map_or(NEVER, |seconds| start.saturating_add(seconds));
            window_end.min(expires_at.unwrap_or(NEVER))
        };
        let fresh = Count {
            uses: 0,
            expires_at: lapse_at(now),
        };
        let mut count = self.counts.entry(key.clone()).or_insert(fresh);
        if now >= count.expires_at {
            *count = fresh;
        }
        count.uses = count.uses.saturating_add(1);
        Ok(count.uses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(hash: u8) -> TokenFacts<'static> {
        TokenFacts {
            token_hash: [hash; 32],
            ..TokenFacts::default()
        }
    }

    #[test]
    fn token_entry_lapses_at_expiry() {
        let store = MemoryStore::new();
        store
            .revoke(Revocation::new(
                Target::Token { hash: [1; 32] },
                0,
                Some(100),
            ))
            .unwrap();
        assert!(store.check(&facts(1), 99).unwrap().is_some());
        assert!(store.check(&facts(1), 100).unwrap().is_none());
        assert!(store.check(&facts(2), 50).unwrap().is_none());
        assert_eq!(store.purge(100).unwrap(), 1);
        assert!(store.is_empty());
    }

    #[test]
    fn jti_entry_respects_issuer() {
        let store = MemoryStore::new();
        let target = Target::Jti {
            issuer: Some("a".into()),
            jti: "j1".into(),
        };
        store.revoke(Revocation::new(target, 0, None)).unwrap();
        let mut token = TokenFacts {
            jti: Some("j1"),
            issuer: Some("a"),
            ..facts(0)
        };
        assert!(store.check(&token, 10).unwrap().is_some());
        token.issuer = Some("b");
        assert!(store.check(&token, 10).unwrap().is_none());
    }

    #[test]
    fn subject_entry_covers_older_tokens() {
        let store = MemoryStore::new();
        let target = Target::Subject {
            issuer: None,
            subject: "alice".into(),
            issued_before: 500,
        };
        store
            .revoke(Revocation::new(target, 500, Some(10_000)))
            .unwrap();
        let old = TokenFacts {
            subject: Some("alice"),
            issued_at: Some(499),
            ..facts(0)
        };
        let new = TokenFacts {
            issued_at: Some(500),
            ..old
        };
        let undated = TokenFacts {
            issued_at: None,
            ..old
        };
        assert!(store.check(&old, 600).unwrap().is_some());
        assert!(store.check(&new, 600).unwrap().is_none());
        assert!(store.check(&undated, 600).unwrap().is_some());
    }

    #[test]
    fn try_revoke_inserts_once() {
        let store = MemoryStore::new();
        let entry = Revocation::new(Target::Token { hash: [5; 32] }, 10, Some(100));
        assert!(store.try_revoke(entry.clone()).unwrap());
        assert!(!store.try_revoke(entry).unwrap());
        let jti = Revocation::new(
            Target::Jti {
                issuer: None,
                jti: "j".into(),
            },
            10,
            None,
        );
        assert!(store.try_revoke(jti.clone()).unwrap());
        assert!(!store.try_revoke(jti).unwrap());
    }

    #[test]
    fn try_revoke_replaces_lapsed_entry() {
        let store = MemoryStore::new();
        let target = Target::Token { hash: [6; 32] };
        assert!(
            store
                .try_revoke(Revocation::new(target.clone(), 0, Some(50)))
                .unwrap()
        );
        assert!(
            store
                .try_revoke(Revocation::new(target, 50, Some(100)))
                .unwrap()
        );
        assert!(store.check(&facts(6), 99).unwrap().is_some());
    }

    #[test]
    fn try_revoke_has_one_winner_across_threads() {
        let store = std::sync::Arc::new(MemoryStore::new());
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let entry = Revocation::new(Target::Token { hash: [7; 32] }, 0, None);
                    store.try_revoke(entry).unwrap()
                })
            })
            .collect();
        let winners = handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .filter(|won| *won)
            .count();
        assert_eq!(winners, 1);
    }

    #[test]
    fn usage_window_restarts_count() {
        let counter = MemoryUsageCounter::new();
        let key = UsageKey::Token([3; 32]);
        assert_eq!(counter.increment(&key, 0, Some(10), None).unwrap(), 1);
        assert_eq!(counter.increment(&key, 9, Some(10), None).unwrap(), 2);
        assert_eq!(counter.increment(&key, 10, Some(10), None).unwrap(), 1);
        assert_eq!(counter.increment(&key, 11, None, Some(20)).unwrap(), 2);
    }

    #[test]
    fn usage_counts_are_exact_across_threads() {
        let counter = std::sync::Arc::new(MemoryUsageCounter::new());
        let key = UsageKey::Token([4; 32]);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let counter = counter.clone();
                let key = key.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        counter.increment(&key, 0, None, None).unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(counter.increment(&key, 0, None, None).unwrap(), 8_001);
    }
}
