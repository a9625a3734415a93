//! The revocation list: revoked token ids (`jti`), sessions (`sid`), users shut out (their tokens
//! issued until then) and deleted API keys (tokens whose `akid` names them), held in memory so
//! checking a token costs one hash lookup per kind however many revocations there are, and kept in step with the
//! `revocations` table that every instance writes. Revocations made here apply at once; those of
//! other instances within AUTHIFY_REVOCATION_POLL_MS.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::clock::Clock;

use crate::store::revocations::{
    KIND_API_KEY, KIND_CLIENT, KIND_CLIENT_SECRET, KIND_DELEGATE, KIND_JTI, KIND_SID, KIND_USER, POLL_BATCH, Revocation,
};
use crate::store::{Store, StoreError};

/// Ids below the highest one seen that each poll reads again: a revocation whose transaction
/// committed after a later one's is still picked up.
const RESCAN_IDS: i64 = 64;
/// How often expired entries are dropped from memory and from the database, and ended sessions
/// deleted (seconds).
const PRUNE_EVERY: i64 = 60;
/// How long ended sessions are kept before they are deleted (seconds).
const KEEP_ENDED_SESSIONS: i64 = 24 * 3600;

#[derive(Default)]
pub struct RevocationList {
    entries: RwLock<Entries>,
}

#[derive(Default)]
struct Entries {
    /// `jti` → until when it matters (Unix seconds).
    jtis: HashMap<String, i64>,
    /// session id → until when it matters.
    sids: HashMap<i64, i64>,
    /// user id → (tokens issued at or before this time are refused, until when it matters).
    users: HashMap<i64, (i64, i64)>,
    /// deleted API key id → until when it matters.
    api_keys: HashMap<i64, i64>,
    /// removed delegate's name → (its tokens issued at or before this time are refused, until when).
    delegates: HashMap<String, (i64, i64)>,
    /// removed OAuth client's `client_id` → (its tokens issued at or before this time are refused, until when).
    clients: HashMap<String, (i64, i64)>,
    /// OAuth client whose secret changed → (copies of it read at or before this time are stale, until when).
    client_secrets: HashMap<String, (i64, i64)>,
    /// The highest `revocations.id` read.
    last_id: i64,
}

impl RevocationList {
    /// Whether a token with this `jti`, issued for this session, or issued to this user at `iat`
    /// was revoked.
    pub fn is_revoked(&self, jti: Option<&str>, sid: Option<i64>, subject: Option<(i64, i64)>) -> bool {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        jti.is_some_and(|jti| entries.jtis.contains_key(jti))
            || sid.is_some_and(|sid| entries.sids.contains_key(&sid))
            || subject.is_some_and(|(user, iat)| entries.users.get(&user).is_some_and(|(before, _)| iat <= *before))
    }

    /// Whether the API key with this id was deleted (every token minted with it is refused).
    pub fn is_api_key_revoked(&self, key_id: i64) -> bool {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).api_keys.contains_key(&key_id)
    }

    pub fn revoke_jti(&self, jti: &str, until: i64) {
        self.write().jtis.insert(jti.to_owned(), until);
    }

    pub fn revoke_sid(&self, sid: i64, until: i64) {
        self.write().sids.insert(sid, until);
    }

    /// Refuses every token minted with the API key `key_id`.
    pub fn revoke_api_key(&self, key_id: i64, until: i64) {
        let mut entries = self.write();
        let entry = entries.api_keys.entry(key_id).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Whether the delegate named `name` was removed after a token minted through it at `iat`.
    pub fn is_delegate_revoked(&self, name: &str, iat: i64) -> bool {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.delegates.get(name).is_some_and(|(before, _)| iat <= *before)
    }

    /// Refuses the tokens minted through the delegate `name` issued at or before `before`.
    pub fn revoke_delegate(&self, name: &str, before: i64, until: i64) {
        let mut entries = self.write();
        let entry = entries.delegates.entry(name.to_owned()).or_insert((before, until));
        *entry = (entry.0.max(before), entry.1.max(until));
    }

    /// Whether the OAuth client `client_id` was removed after a token was issued to it at `iat`.
    pub fn is_client_revoked(&self, client_id: &str, iat: i64) -> bool {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.clients.get(client_id).is_some_and(|(before, _)| iat <= *before)
    }

    /// Refuses the tokens issued to the OAuth client `client_id` at or before `before`.
    pub fn revoke_client(&self, client_id: &str, before: i64, until: i64) {
        let mut entries = self.write();
        let entry = entries.clients.entry(client_id.to_owned()).or_insert((before, until));
        *entry = (entry.0.max(before), entry.1.max(until));
    }

    /// Whether a copy of the OAuth client `client_id` read at `loaded_at` predates a change of its
    /// secret (made on any instance).
    pub fn is_client_secret_changed(&self, client_id: &str, loaded_at: i64) -> bool {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.client_secrets.get(client_id).is_some_and(|(at, _)| loaded_at <= *at)
    }

    /// Records that the secret of `client_id` changed at `at`.
    pub fn client_secret_changed(&self, client_id: &str, at: i64, until: i64) {
        let mut entries = self.write();
        let entry = entries.client_secrets.entry(client_id.to_owned()).or_insert((at, until));
        *entry = (entry.0.max(at), entry.1.max(until));
    }

    /// Refuses the user's tokens issued at or before `before`.
    pub fn revoke_user(&self, user_id: i64, before: i64, until: i64) {
        let mut entries = self.write();
        let entry = entries.users.entry(user_id).or_insert((before, until));
        *entry = (entry.0.max(before), entry.1.max(until));
    }

    /// How many revocations are held.
    pub fn len(&self) -> usize {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.jtis.len()
            + entries.sids.len()
            + entries.users.len()
            + entries.api_keys.len()
            + entries.delegates.len()
            + entries.clients.len()
            + entries.client_secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    fn absorb(&self, rows: &[Revocation]) {
        let mut entries = self.write();
        for row in rows {
            entries.last_id = entries.last_id.max(row.id);
            match row.kind.as_str() {
                KIND_JTI => {
                    entries.jtis.insert(row.value.clone(), row.expires_at);
                }
                KIND_SID => {
                    if let Ok(sid) = row.value.parse() {
                        entries.sids.insert(sid, row.expires_at);
                    }
                }
                KIND_USER => {
                    if let Ok(user) = row.value.parse() {
                        let entry = entries.users.entry(user).or_insert((row.created_at, row.expires_at));
                        *entry = (entry.0.max(row.created_at), entry.1.max(row.expires_at));
                    }
                }
                KIND_API_KEY => {
                    if let Ok(key) = row.value.parse() {
                        let entry = entries.api_keys.entry(key).or_insert(row.expires_at);
                        *entry = (*entry).max(row.expires_at);
                    }
                }
                KIND_DELEGATE => {
                    let entry = entries.delegates.entry(row.value.clone()).or_insert((row.created_at, row.expires_at));
                    *entry = (entry.0.max(row.created_at), entry.1.max(row.expires_at));
                }
                KIND_CLIENT => {
                    let entry = entries.clients.entry(row.value.clone()).or_insert((row.created_at, row.expires_at));
                    *entry = (entry.0.max(row.created_at), entry.1.max(row.expires_at));
                }
                KIND_CLIENT_SECRET => {
                    let entry =
                        entries.client_secrets.entry(row.value.clone()).or_insert((row.created_at, row.expires_at));
                    *entry = (entry.0.max(row.created_at), entry.1.max(row.expires_at));
                }
                _ => {}
            }
        }
    }

    fn prune(&self, now: i64) {
        let mut entries = self.write();
        entries.jtis.retain(|_, until| *until > now);
        entries.sids.retain(|_, until| *until > now);
        entries.users.retain(|_, (_, until)| *until > now);
        entries.api_keys.retain(|_, until| *until > now);
        entries.delegates.retain(|_, (_, until)| *until > now);
        entries.clients.retain(|_, (_, until)| *until > now);
        entries.client_secrets.retain(|_, (_, until)| *until > now);
    }

    /// Reads the revocations recorded since the last poll (by any instance).
    pub async fn poll(&self, store: &Store, now: i64) -> Result<(), StoreError> {
        let mut after = (self.entries.read().unwrap_or_else(|e| e.into_inner()).last_id - RESCAN_IDS).max(0);
        loop {
            let rows = store.revocations_after(after, now).await?;
            self.absorb(&rows);
            match rows.last() {
                Some(last) if rows.len() as u64 == POLL_BATCH => after = last.id,
                _ => return Ok(()),
            }
        }
    }
}

/// Polls the revocation table until `stop` fires, and prunes what no longer matters.
pub async fn run_poller(
    list: Arc<RevocationList>,
    store: Store,
    clock: Arc<dyn Clock>,
    period: Duration,
    mut stop: oneshot::Receiver<()>,
) {
    let mut pruned_at = i64::MIN;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(period) => {}
        }
        let now = clock.now();
        if let Err(err) = list.poll(&store, now).await {
            tracing::warn!(error = %err, "could not read the revocation list");
        }
        // Saturating: `pruned_at` starts at i64::MIN, and a plain `now - i64::MIN` overflows (a
        // panic that killed the poller in debug builds; in release it wrapped and never pruned).
        if now.saturating_sub(pruned_at) >= PRUNE_EVERY {
            pruned_at = now;
            list.prune(now);
            let pruned = async {
                store.prune_revocations(now).await?;
                store.prune_sessions(now, KEEP_ENDED_SESSIONS).await
            };
            if let Err(err) = pruned.await {
                tracing::warn!(error = %err, "could not prune revocations and ended sessions");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, kind: &str, value: &str, expires_at: i64) -> Revocation {
        Revocation { id, kind: kind.into(), value: value.into(), created_at: 0, expires_at }
    }

    #[test]
    fn revoked_ids_and_sessions_are_refused_until_they_are_pruned() {
        let list = RevocationList::default();
        list.absorb(&[row(1, KIND_JTI, "abc", 100), row(2, KIND_SID, "7", 200), row(3, "other", "x", 300)]);
        assert!(list.is_revoked(Some("abc"), None, None));
        assert!(list.is_revoked(Some("zzz"), Some(7), None));
        assert!(!list.is_revoked(Some("zzz"), Some(8), None));
        assert!(!list.is_revoked(None, None, None));
        assert_eq!(list.len(), 2);
        list.prune(150);
        assert!(!list.is_revoked(Some("abc"), None, None), "expired at 100");
        assert!(list.is_revoked(None, Some(7), None));
        list.prune(200);
        assert!(list.is_empty());
    }

    #[test]
    fn the_highest_id_read_is_remembered() {
        let list = RevocationList::default();
        list.absorb(&[row(5, KIND_JTI, "a", 10), row(3, KIND_JTI, "b", 10)]);
        assert_eq!(list.entries.read().expect("lock").last_id, 5);
        list.revoke_sid(9, 10);
        assert!(list.is_revoked(None, Some(9), None), "local revocations apply at once");
    }

    #[test]
    fn a_shut_out_user_loses_the_tokens_issued_until_then_and_keeps_later_ones() {
        let list = RevocationList::default();
        let mut user = row(1, KIND_USER, "42", 500);
        user.created_at = 100;
        list.absorb(&[user]);
        assert!(list.is_revoked(None, None, Some((42, 99))));
        assert!(list.is_revoked(None, None, Some((42, 100))), "issued in the same second");
        assert!(!list.is_revoked(None, None, Some((42, 101))), "issued after re-enabling");
        assert!(!list.is_revoked(None, None, Some((43, 99))), "another user");
        list.revoke_user(42, 200, 600);
        assert!(list.is_revoked(None, None, Some((42, 150))), "the later revocation wins");
        list.prune(600);
        assert!(list.is_empty());
    }

    #[test]
    fn a_deleted_api_key_refuses_its_tokens_until_the_entry_expires() {
        let list = RevocationList::default();
        list.absorb(&[row(1, KIND_API_KEY, "7", 500), row(2, KIND_API_KEY, "not a number", 500)]);
        assert!(list.is_api_key_revoked(7));
        assert!(!list.is_api_key_revoked(8), "another key");
        assert!(!list.is_revoked(None, None, None), "the other kinds are unaffected");
        assert_eq!(list.len(), 1);
        list.revoke_api_key(7, 400);
        list.prune(499);
        assert!(list.is_api_key_revoked(7), "the later expiry wins");
        list.prune(500);
        assert!(list.is_empty());
    }
}
