//! Proving who is calling, and the tokens and sessions that follow.

pub mod access;
pub mod api_key_login;
pub mod browser_session;
pub mod delegate_auth;
pub mod external;
pub mod identity_login;
pub mod issue_token;
pub mod login;
pub mod passkeys;
pub mod refresh;
pub mod refresh_token;
pub mod revoke;
pub mod verify_token;

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keyring_cell::KeyringCell;
use crate::crypto::password::PasswordHasher;
use crate::crypto::sealed::SealingKey;
use crate::runtime::audit::AuditLog;
use crate::runtime::monitoring::Monitor;
use crate::runtime::rate_limit::RateLimiter;
use crate::runtime::revocation_list::RevocationList;
use crate::service::auth::passkeys::relying_party::RelyingParty;
use crate::service::directory::Directory;
use crate::store::Store;

/// Signs and verifies this instance's tokens: the keyring, the JWT settings, the clock, and the
/// revocation list a verified token is checked against.
#[derive(Clone)]
pub struct Tokens {
    /// Swapped whole when the shared key store changes (see `runtime::shared_keys`).
    pub keyring: Arc<KeyringCell>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub revocations: Arc<RevocationList>,
    /// Counts the tokens signed.
    pub monitor: Arc<Monitor>,
}

impl Tokens {
    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// Ends sessions and revokes tokens: the store, the revocation list and the settings that say how
/// long an entry matters. Needs no keys, so the command line builds it too.
#[derive(Clone)]
pub struct Sessions {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub audit: AuditLog,
    pub settings: Arc<Settings>,
    pub revocations: Arc<RevocationList>,
}

impl Sessions {
    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// Everything the sign-in use cases touch: the directory they look people up in, the tokens they
/// sign, the sessions they start and end, the hasher and the request counters that guard secrets.
#[derive(Clone)]
pub struct Auth {
    pub directory: Directory,
    pub tokens: Tokens,
    pub sessions: Sessions,
    pub hasher: PasswordHasher,
    pub limiter: Arc<RateLimiter>,
    /// Seals the token pair a refresh answered, for a retry within the grace window, and TOTP secrets.
    pub sealing: Arc<SealingKey>,
    pub settings: Arc<Settings>,
    /// The WebAuthn relying party passkey ceremonies run as.
    pub passkeys: Arc<RelyingParty>,
}

impl Auth {
    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.directory.now()
    }

    pub fn store(&self) -> &Store {
        &self.directory.store
    }

    pub fn audit(&self) -> &AuditLog {
        &self.directory.audit
    }
}
