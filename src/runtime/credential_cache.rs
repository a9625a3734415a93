//! API keys already checked against the database, kept in memory so a busy machine client's token
//! requests need no database round trip. An entry is used only while the directory epoch it was
//! loaded at is still current (every change made through this process bumps the epoch, so it takes
//! effect at once here) and for at most the TTL (so changes made by other instances sharing the
//! database take effect within it). A key deleted on another instance stops sooner: its `apikey`
//! revocation, polled every AUTHIFY_REVOCATION_POLL_MS, is checked before a cached key mints. Only successful logins are cached; the secret is checked against
//! the cached hash on every use, so a wrong secret is never taken for a good one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::store::api_keys::{ApiKey, LAST_USED_RESOLUTION};
use crate::store::claims::OrganizationClaim;
use crate::store::users::User;

/// Entries kept at most; a flood of distinct valid keys costs bounded memory.
pub const CAPACITY: usize = 10_000;

/// An API key whose owner was in good standing when loaded, with everything a token for it says.
#[derive(Debug)]
pub struct CheckedKey {
    pub key: ApiKey,
    pub owner: User,
    pub organizations: Vec<OrganizationClaim>,
    /// The key's scopes that the owner still holds.
    pub scopes: Vec<String>,
    epoch: u64,
    loaded_at: i64,
    /// When `last_used_at` was last written (or found written), so a busy key is written once a minute.
    last_touched: AtomicI64,
}

impl CheckedKey {
    pub fn new(
        key: ApiKey,
        owner: User,
        organizations: Vec<OrganizationClaim>,
        scopes: Vec<String>,
        epoch: u64,
        loaded_at: i64,
    ) -> Self {
        let last_touched = AtomicI64::new(key.last_used_at.unwrap_or(i64::MIN));
        Self { key, owner, organizations, scopes, epoch, loaded_at, last_touched }
    }

    /// Whether a use at `now` should write `last_used_at`; true for one caller per minute at most.
    pub fn claim_touch(&self, now: i64) -> bool {
        let last = self.last_touched.load(Ordering::Acquire);
        now.saturating_sub(last) >= LAST_USED_RESOLUTION
            && self.last_touched.compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    fn is_fresh(&self, epoch: u64, now: i64, ttl: i64) -> bool {
        // A clock that went backwards makes the age negative: treat that as stale, not as young.
        let age = now - self.loaded_at;
        self.epoch == epoch && (0..ttl).contains(&age)
    }
}

/// access key → [`CheckedKey`].
#[derive(Debug)]
pub struct CredentialCache {
    ttl: i64,
    capacity: usize,
    entries: RwLock<HashMap<String, Arc<CheckedKey>>>,
}

impl CredentialCache {
    /// A cache whose entries live `ttl_seconds` (0 disables it) and that holds `capacity` at most.
    pub fn new(ttl_seconds: u32, capacity: usize) -> Self {
        Self { ttl: i64::from(ttl_seconds), capacity, entries: RwLock::new(HashMap::new()) }
    }

    pub fn enabled(&self) -> bool {
        self.ttl > 0 && self.capacity > 0
    }

    /// The entry for `access_key` if it was loaded at `epoch` less than the TTL before `now`.
    pub fn get(&self, access_key: &str, epoch: u64, now: i64) -> Option<Arc<CheckedKey>> {
        if !self.enabled() {
            return None;
        }
        // A panic while holding the lock cannot leave the map half-updated, so poison is harmless.
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(access_key).filter(|e| e.is_fresh(epoch, now, self.ttl)).cloned()
    }

    /// Stores (or replaces) the entry for its access key. When full, stale entries go first, then
    /// an arbitrary one: simple, and any eviction only costs one database load later.
    pub fn insert(&self, entry: Arc<CheckedKey>, now: i64) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&entry.key.access_key) {
            let (epoch, ttl) = (entry.epoch, self.ttl);
            entries.retain(|_, e| e.is_fresh(epoch, now, ttl));
            if entries.len() >= self.capacity
                && let Some(victim) = entries.keys().next().cloned()
            {
                entries.remove(&victim);
            }
        }
        entries.insert(entry.key.access_key.clone(), entry);
    }

    /// Number of entries held, fresh or not.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(access_key: &str, epoch: u64, loaded_at: i64) -> Arc<CheckedKey> {
        let key = ApiKey {
            id: 1,
            user_id: 1,
            name: None,
            access_key: access_key.into(),
            secret_hash: "00".into(),
            scopes: "user_access".into(),
            expires_at: None,
            last_used_at: None,
            created_at: 0,
        };
        let owner = User {
            id: 1,
            email: "a@example.com".into(),
            handle: "a".into(),
            full_name: None,
            password_digest: None,
            admin: false,
            verified: true,
            disabled: false,
            password_changed_at: 0,
            created_at: 0,
            updated_at: 0,
        };
        Arc::new(CheckedKey::new(key, owner, Vec::new(), vec!["user_access".into()], epoch, loaded_at))
    }

    #[test]
    fn an_entry_is_used_only_at_its_epoch_and_within_the_ttl() {
        let cache = CredentialCache::new(5, 10);
        cache.insert(checked("k", 3, 100), 100);
        assert!(cache.get("k", 3, 100).is_some());
        assert!(cache.get("k", 3, 104).is_some());
        assert!(cache.get("k", 3, 105).is_none(), "TTL reached");
        assert!(cache.get("k", 4, 100).is_none(), "directory changed");
        assert!(cache.get("k", 3, 99).is_none(), "clock went backwards");
        assert!(cache.get("other", 3, 100).is_none());
    }

    #[test]
    fn a_zero_ttl_disables_the_cache() {
        let cache = CredentialCache::new(0, 10);
        cache.insert(checked("k", 0, 100), 100);
        assert!(cache.is_empty());
        assert!(cache.get("k", 0, 100).is_none());
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity_and_drops_stale_entries_first() {
        let cache = CredentialCache::new(5, 3);
        cache.insert(checked("old", 1, 100), 100);
        cache.insert(checked("a", 2, 100), 100);
        cache.insert(checked("b", 2, 100), 100);
        cache.insert(checked("c", 2, 100), 100);
        assert_eq!(cache.len(), 3);
        assert!(cache.get("a", 2, 100).is_some() && cache.get("b", 2, 100).is_some());
        for i in 0..20 {
            cache.insert(checked(&format!("k{i}"), 2, 100), 100);
            assert!(cache.len() <= 3);
        }
        assert!(cache.get("k19", 2, 100).is_some(), "the newest entry is kept");
    }

    #[test]
    fn last_used_is_claimed_once_a_minute() {
        let entry = checked("k", 0, 100);
        assert!(entry.claim_touch(100));
        assert!(!entry.claim_touch(100));
        assert!(!entry.claim_touch(159));
        assert!(entry.claim_touch(160));
        assert!(!entry.claim_touch(161));
    }
}
