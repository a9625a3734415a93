//! The people and machines Authify knows, and the rules over who may see and change them.

pub mod api_keys;
pub mod delegates;
pub mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::Clock;
use crate::runtime::audit::AuditLog;
use crate::runtime::credential_cache::CredentialCache;
use crate::store::Store;

/// The directory's handle: the store, the clock, the audit trail, and the epoch that tells this
/// process's caches (the credential cache) that users, memberships or credentials changed.
/// Built once in `app.rs`, and by the command line; cheap to clone.
#[derive(Clone)]
pub struct Directory {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub audit: AuditLog,
    /// API keys already checked against the database (see `runtime::credential_cache`).
    pub credentials: Arc<CredentialCache>,
    epoch: Arc<AtomicU64>,
}

impl Directory {
    pub fn new(store: Store, clock: Arc<dyn Clock>, audit: AuditLog, credentials: Arc<CredentialCache>) -> Self {
        Self { store, clock, audit, credentials, epoch: Default::default() }
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Tells caches in this process that users, memberships or credentials changed. Every write
    /// that can change what a token says or whether a credential is still good calls it.
    pub fn changed(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The current epoch (see [`Directory::changed`]).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }
}
