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

    /// Returns true when this exact signature of this signing input verified before.
    pub(crate) fn contains(&self, id: &TokenId, signature: &str) -> bool {
        let Some(slot) = self.slot(id) else {
            return false;
        };
        // A poisoned slot reads as a miss, which only costs a verification.
        slot.lock().ok().is_some_and(|entry| {
            entry
                .as_ref()
                .is_some_and(|entry| entry.id == *id && *entry.signature == *signature)
        })
    }

    /// Records that `signature` verified for the signing input with identity `id`.
    pub(crate) fn insert(&self, id: TokenId, signature: &str) {
        if let Some(mut entry) = self.slot(&id).and_then(|slot| slot.lock().ok()) {
            *entry = Some(Entry {
                id,
                signature: signature.into(),
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
        cache.insert(id(1), "sig-a");
        assert!(cache.contains(&id(1), "sig-a"));
        assert!(!cache.contains(&id(1), "sig-b"));
        assert!(!cache.contains(&id(2), "sig-a"));
    }

    #[test]
    fn colliding_entry_replaces_slot() {
        // With one slot every identity maps to it, so the newer entry evicts the older.
        let cache = SignatureCache::new(1);
        cache.insert(id(1), "sig-a");
        cache.insert(id(2), "sig-b");
        assert!(cache.contains(&id(2), "sig-b"));
        assert!(!cache.contains(&id(1), "sig-a"));
    }

    #[test]
    fn zero_entries_still_bounded() {
        let cache = SignatureCache::new(0);
        cache.insert(id(1), "sig-a");
        assert!(cache.contains(&id(1), "sig-a"));
        assert_eq!(cache.slots.len(), 1);
    }
}
