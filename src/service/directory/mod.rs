//! The people and machines Authify knows, and the rules over who may see and change them.

pub mod api_keys;
pub mod audit_trail;
pub mod clients;
pub mod delegates;
pub mod end_sessions;
pub mod groups;
pub mod identities;
pub mod organizations;
pub mod passkeys;
pub mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::Clock;
use crate::domain::InvalidValue;
use crate::runtime::audit::AuditLog;
use crate::runtime::client_cache::ClientCache;
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
    /// OAuth clients read recently, for the token endpoint.
    pub clients: Arc<ClientCache>,
    epoch: Arc<AtomicU64>,
}

impl Directory {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        audit: AuditLog,
        credentials: Arc<CredentialCache>,
        clients: Arc<ClientCache>,
    ) -> Self {
        Self { store, clock, audit, credentials, clients, epoch: Default::default() }
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

/// What a write to a to-many relationship (members, admins) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Add these members.
    Add,
    /// Remove these members.
    Remove,
    /// Make the members exactly these.
    Replace,
}

/// A text field as a request sent it: `None` when absent, `Some(None)` when sent as null.
pub type SentText = Option<Option<String>>;

/// A trimmed text of 1 to `max` bytes: `None` when absent; refused when null, blank or too long.
fn bounded_text(field: &'static str, sent: SentText, max: usize) -> Result<Option<String>, InvalidValue> {
    match sent {
        None => Ok(None),
        Some(value) => value
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty() && v.len() <= max)
            .map(Some)
            .ok_or_else(|| InvalidValue::new(field, format!("must be 1 to {max} characters"))),
    }
}

/// Like [`bounded_text`], and refused when absent too.
fn required_text(field: &'static str, sent: SentText, max: usize) -> Result<String, InvalidValue> {
    bounded_text(field, sent, max)?.ok_or_else(|| InvalidValue::new(field, "is required"))
}
