//! OAuth clients already read from the database, kept in memory so a busy machine client's token
//! requests need no database round trip, with the rules of the API-key cache
//! ([`super::credential_cache`]): an entry is used only while the directory epoch it was loaded at is
//! current (changes made through this process take effect at once) and for at most
//! AUTHIFY_CREDENTIAL_CACHE_SECONDS (changes made by other instances take effect within it); a
//! client removed, or whose secret changed, on another instance is read again sooner, through the
//! `client` and `client-secret` entries of the revocation list. The secret is
//! checked against the cached hash on every use.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::store::oauth_clients::OauthClient;

/// Entries kept at most; past it the cache starts over.
pub const CAPACITY: usize = 10_000;

struct Entry {
    client: Arc<OauthClient>,
    epoch: u64,
    loaded_at: i64,
}

/// See the module documentation.
pub struct ClientCache {
    ttl: i64,
    entries: RwLock<HashMap<String, Entry>>,
}

impl ClientCache {
    pub fn new(ttl_seconds: u32) -> Self {
        Self { ttl: i64::from(ttl_seconds), entries: RwLock::default() }
    }

    /// The client with this id and when it was loaded, if the entry is still good.
    pub fn get(&self, client_id: &str, epoch: u64, now: i64) -> Option<(Arc<OauthClient>, i64)> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(client_id)?;
        (entry.epoch == epoch && now - entry.loaded_at < self.ttl).then(|| (entry.client.clone(), entry.loaded_at))
    }

    pub fn insert(&self, client: Arc<OauthClient>, epoch: u64, now: i64) {
        if self.ttl <= 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(client.client_id.clone(), Entry { client, epoch, loaded_at: now });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Arc<OauthClient> {
        Arc::new(OauthClient {
            id: 1,
            client_id: "c".into(),
            name: "n".into(),
            secret_hash: None,
            redirect_uris: String::new(),
            post_logout_redirect_uris: String::new(),
            scopes: String::new(),
            public: true,
            first_party: false,
            created_at: 0,
        })
    }

    #[test]
    fn entries_expire_with_the_epoch_and_the_ttl() {
        let cache = ClientCache::new(5);
        cache.insert(client(), 1, 100);
        assert!(cache.get("c", 1, 104).is_some());
        assert!(cache.get("c", 2, 104).is_none(), "a change through this process");
        assert!(cache.get("c", 1, 105).is_none(), "the TTL");
        assert!(cache.get("other", 1, 100).is_none());
    }
}
