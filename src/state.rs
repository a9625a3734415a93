//! Everything a request may need, built once at start-up and passed to handlers (never global).

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::Keyring;
use crate::crypto::password::PasswordHasher;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
