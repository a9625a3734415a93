//! Everything a request may need, built once at start-up and passed to handlers (never global).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::Keyring;
use crate::crypto::password::PasswordHasher;
use crate::service::audit::AuditLog;
use crate::service::credential_cache::CredentialCache;
use crate::service::monitoring::Monitor;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    /// Bumped by every write that can change what a token says or whether a credential is still
    /// good (users, memberships, API keys, delegates), so in-process caches know to reload.
    pub directory_epoch: Arc<AtomicU64>,
    /// API keys already checked against the database (see `service::credential_cache`).
    pub credentials: Arc<CredentialCache>,
    /// The queue of the audit trail's background writer (see `service::audit`).
    pub audit: AuditLog,
    /// Request, token and per-route counters of this process (see `service::monitoring`).
    pub monitor: Arc<Monitor>,
}

impl AppState {
    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Tells caches in this process that users, memberships or credentials changed.
    pub fn directory_changed(&self) {
        self.directory_epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The current directory epoch (see [`AppState::directory_changed`]).
    pub fn directory_epoch(&self) -> u64 {
        self.directory_epoch.load(Ordering::Acquire)
    }
}
