//! Cache of verified asymmetric signatures, so a token seen before skips the RSA, ECDSA or
//! Ed25519 verification.
//!
//! Only the signature result is cached: header checks, revocation, usage and every claim
//! rule still run on each validation, so a cached token that has since been revoked or has
//! expired is still denied. An entry is the token identity (SHA-256 of the signing input)
//! with the exact signature segment, and a hit needs both to match, so a changed signature
//! is verified again. Only successes are stored.

use std::sync::Mutex;

use warden_claims::TokenId;

/// Fixed-size, direct-mapped cache: each identity has one slot, and a new entry replaces
/// whatever was in it. Memory is bounded by the slot count times the longest signature
/// segment stored (683 bytes for RSA-4096).
pub(crate) struct SignatureCache {
    slots: Box<[Mutex<Option<Entry>>]>,
}

struct Entry {
    id: TokenId,
    signature: Box<str>,
    /// Id of the key that verified, so revocation by key id still applies on a hit.
    key_id: Option<Box<str>>,
}

impl SignatureCache {
    /// Builds a cache with `entries` slots (at least one).
    pub(crate) fn new(entries: usize) -> Self {
        let slots = (0..entries.max(1)).map(|_| Mutex::new(None)).collect();
        SignatureCache { slots }
    }

    fn slot(&self, id: &TokenId) -> Option<&Mutex<Option<Entry>>> {
        let mut prefix = [0_u8; 8];
        prefix.copy_from_slice(id.as_bytes().get(..8)?);
        let index = u64::from_le_bytes(prefix) % self.slots.len() as u64;
        self.slots.get(usize::try_from(index).ok()?)
    }

    /// Returns the verifying key's id when this exact signature of this signing input
    /// verified before, or `None` on a miss.
    pub(crate) fn lookup(&self, id: &TokenId, signature: &str) -> Option<Option<String>> {
        let slot = self.slot(id)?;
        // A poisoned slot reads as a miss, which only costs a verification.
        let entry = slot.lock().ok()?;
        let entry = entry
            .as_ref()
            .filter(|entry| entry.id == *id && *entry.signature == *signature)?;
        Some(entry.key_id.as_deref().map(str::to_owned))
    }

    /// Returns true when this exact signature of this signing input verified before.
    #[cfg(test)]
    pub(crate) fn contains(&self, id: &TokenId, signature: &str) -> bool {
        self.lookup(id, signature).is_some()
    }

    /// Records that `signature` verified for the signing input with identity `id`, with the
    /// key `key_id`.
    pub(crate) fn insert(&self, id: TokenId, signature: &str, key_id: Option<&str>) {
        if let Some(mut entry) = self.slot(&id).and_then(|slot| slot.lock().ok()) {
            *entry = Some(Entry {
                id,
                signature: signature.into(),
                key_id: key_id.map(Into::into),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(first: u8) -> TokenId {
        let mut bytes = [7_u8; 32];
        bytes[0] = first;
        TokenId::from_bytes(bytes)
    }

    #[test]
    fn hit_needs_same_signature() {
        let cache = SignatureCache::new(16);
        cache.insert(id(1), "sig-a", None);
        assert!(cache.contains(&id(1), "sig-a"));
        assert!(!cache.contains(&id(1), "sig-b"));
        assert!(!cache.contains(&id(2), "sig-a"));
    }

    #[test]
    fn colliding_entry_replaces_slot() {
        // With one slot every identity maps to it, so the newer entry evicts the older.
        let cache = SignatureCache::new(1);
        cache.insert(id(1), "sig-a", None);
        cache.insert(id(2), "sig-b", Some("k2"));
        assert!(cache.contains(&id(2), "sig-b"));
        assert_eq!(cache.lookup(&id(2), "sig-b"), Some(Some("k2".to_owned())));
        assert!(!cache.contains(&id(1), "sig-a"));
    }

    #[test]
    fn zero_entries_still_bounded() {
        let cache = SignatureCache::new(0);
        cache.insert(id(1), "sig-a", None);
        assert!(cache.contains(&id(1), "sig-a"));
        assert_eq!(cache.slots.len(), 1);
    }
}
