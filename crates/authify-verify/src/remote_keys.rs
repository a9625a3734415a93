//! The fetched key set and when to fetch it again.
//!
//! - Fresh for the JWKS answer's `max-age` (clamped to 1 s – 1 day; 5 min when absent); after that
//!   the next verification fetches again.
//! - A token naming an unknown `kid` causes one refetch, but fetches (for any reason) are at least
//!   `refetch_interval` apart: a flood of garbage kids costs Authify one request per interval.
//! - A failed fetch keeps the last good set, which goes on verifying (stale) until a fetch succeeds.
//! - One fetch at a time: concurrent callers wait for it and use its result.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::Error;
use crate::fetch::{self, Discovery, HttpClient};
use crate::key_set::KeySet;

const MIN_MAX_AGE: Duration = Duration::from_secs(1);
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Where the keys come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Authify's base URL; the JWKS URL and the issuer come from its discovery document.
    Discovery(String),
    JwksUrl(String),
}

/// How often to fetch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FetchPolicy {
    pub refetch_interval: Duration,
    pub default_max_age: Duration,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self { refetch_interval: Duration::from_secs(10), default_max_age: Duration::from_secs(300) }
    }
}

#[derive(Default)]
struct Snapshot {
    keys: Option<Arc<KeySet>>,
    fresh_until: Option<Instant>,
    last_attempt: Option<Instant>,
    last_error: Option<String>,
    discovery: Option<Discovery>,
}

/// Why a fetch is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// No keys yet, or the set is past its `max-age`.
    Refresh,
    /// A token names a kid the set does not have.
    UnknownKid,
}

pub(crate) struct RemoteKeys {
    source: Source,
    client: HttpClient,
    policy: FetchPolicy,
    snapshot: RwLock<Snapshot>,
    fetching: tokio::sync::Mutex<()>,
}

impl RemoteKeys {
    pub fn new(source: Source, client: HttpClient, policy: FetchPolicy) -> Self {
        Self { source, client, policy, snapshot: RwLock::default(), fetching: tokio::sync::Mutex::new(()) }
    }

    /// The key set to verify a token naming `kid` with (fetched first when due), and the issuer
    /// discovery found.
    pub async fn keys_for(&self, kid: Option<&str>) -> Result<(Arc<KeySet>, Option<String>), Error> {
        let now = Instant::now();
        let (keys, fresh) = {
            let snapshot = self.read();
            (snapshot.keys.clone(), snapshot.fresh_until.is_some_and(|until| now < until))
        };
        let known = keys.as_ref().is_some_and(|keys| keys.find(kid).is_some());
        match (fresh, known) {
            (true, true) => {}
            (true, false) => self.fetch_if_allowed(Need::UnknownKid, now).await,
            // Stale but the key is there: refresh, without waiting behind a fetch already under way
            // (a slow or unreachable Authify must not hold up verifications it is not needed for).
            (false, true) => {
                if let Ok(fetching) = self.fetching.try_lock() {
                    self.fetch_locked(Need::Refresh, now, fetching).await;
                }
            }
            (false, false) => self.fetch_if_allowed(Need::Refresh, now).await,
        }
        let snapshot = self.read();
        match &snapshot.keys {
            Some(keys) => Ok((keys.clone(), snapshot.discovery.as_ref().and_then(|d| d.token_issuer()))),
            None => Err(Error::KeysUnavailable(snapshot.last_error.clone().unwrap_or_else(|| "not fetched".into()))),
        }
    }

    /// The keys fetched so far, without fetching (`None` before the first fetch).
    pub fn cached(&self) -> (Option<Arc<KeySet>>, Option<String>) {
        let snapshot = self.read();
        (snapshot.keys.clone(), snapshot.discovery.as_ref().and_then(|d| d.token_issuer()))
    }

    /// Fetches now, whatever the interval; the error says why it failed (the old set stays).
    pub async fn refresh(&self) -> Result<(), Error> {
        let _fetching = self.fetching.lock().await;
        self.fetch().await.map_err(Error::KeysUnavailable)
    }

    /// Fetches unless another caller's fetch began since `asked_at`, or fetches are still too
    /// close together.
    async fn fetch_if_allowed(&self, need: Need, asked_at: Instant) {
        let fetching = self.fetching.lock().await;
        self.fetch_locked(need, asked_at, fetching).await;
    }

    async fn fetch_locked(&self, need: Need, asked_at: Instant, _fetching: tokio::sync::MutexGuard<'_, ()>) {
        let last_attempt = self.read().last_attempt;
        if last_attempt.is_some_and(|at| at >= asked_at) {
            return; // a fetch started while this caller waited: use its result
        }
        let too_soon = last_attempt.is_some_and(|at| at.elapsed() < self.policy.refetch_interval);
        if too_soon && (need == Need::UnknownKid || self.read().last_error.is_some()) {
            return;
        }
        let _ = self.fetch().await;
    }

    /// One fetch (discovery first while not yet done); records the outcome.
    async fn fetch(&self) -> Result<(), String> {
        let started = Instant::now();
        self.write().last_attempt = Some(started);
        let outcome = self.fetch_keys().await;
        let mut snapshot = self.write();
        match outcome {
            Ok((fetched, discovery)) => {
                let max_age = fetched.max_age.unwrap_or(self.policy.default_max_age).clamp(MIN_MAX_AGE, MAX_MAX_AGE);
                snapshot.keys = Some(Arc::new(fetched.keys));
                snapshot.fresh_until = Some(started + max_age);
                snapshot.last_error = None;
                if discovery.is_some() {
                    snapshot.discovery = discovery;
                }
                Ok(())
            }
            Err(error) => {
                snapshot.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    async fn fetch_keys(&self) -> Result<(fetch::Fetched, Option<Discovery>), String> {
        let (jwks_url, discovered) = match &self.source {
            Source::JwksUrl(url) => (url.clone(), None),
            Source::Discovery(base) => match self.known_discovery() {
                Some(known) => (known.jwks_uri, None),
                None => {
                    let found = self.client.discover(base).await?;
                    (found.jwks_uri.clone(), Some(found))
                }
            },
        };
        Ok((self.client.jwks(&jwks_url).await?, discovered))
    }

    fn known_discovery(&self) -> Option<Discovery> {
        self.read().discovery.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Snapshot> {
        self.snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Snapshot> {
        self.snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
