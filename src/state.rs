//! Everything a request may need, built once at start-up and passed to handlers (never global).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::Keyring;
use crate::crypto::password::PasswordHasher;
use crate::crypto::sealed::SealingKey;
use crate::email::{Mailer, Templates};
use crate::runtime::audit::AuditLog;
use crate::runtime::credential_cache::CredentialCache;
use crate::runtime::monitoring::Monitor;
use crate::runtime::rate_limit::RateLimiter;
use crate::runtime::revocation_list::RevocationList;
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
    /// Mail templates, parsed at start-up.
    pub templates: Arc<Templates>,
    /// Where the outbox sender delivers mail.
    pub mailer: Arc<dyn Mailer>,
    /// Wakes this instance's outbox sender after a commit that queued mail.
    pub outbox_wake: Arc<Notify>,
    /// Request counters for rate limits (Redis when configured, else this process).
    pub limiter: Arc<RateLimiter>,
    /// Encrypts TOTP secrets at rest.
    pub sealing: Arc<SealingKey>,
    /// The queue of the audit trail's background writer (see `service::audit`).
    pub audit: AuditLog,
    /// Request, token and per-route counters of this process (see `service::monitoring`).
    pub monitor: Arc<Monitor>,
    /// Revoked tokens and sessions, polled from the database (see `service::revocation_list`).
    pub revocations: Arc<RevocationList>,
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

    /// Tells the outbox sender that mail was committed (it also polls, so this is only for speed).
    pub fn mail_queued(&self) {
        self.outbox_wake.notify_one();
    }

    /// The current directory epoch (see [`AppState::directory_changed`]).
    pub fn directory_epoch(&self) -> u64 {
        self.directory_epoch.load(Ordering::Acquire)
    }
}
