//! The keyring an instance signs and verifies with, replaced whole when the shared key store
//! changes (`runtime::shared_keys`). Readers take a snapshot without a lock (`arc-swap`), so the
//! hot paths cost what they did with a fixed keyring.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arc_swap::{ArcSwap, Guard};

use super::Keyring;

pub struct KeyringCell {
    keyring: ArcSwap<Keyring>,
    /// When the next lifecycle step falls due (Unix seconds; `i64::MAX`: none).
    next_step_at: AtomicI64,
}

impl KeyringCell {
    pub fn new(keyring: Keyring, next_step_at: Option<i64>) -> Self {
        Self { keyring: ArcSwap::from_pointee(keyring), next_step_at: AtomicI64::new(next_step_at.unwrap_or(i64::MAX)) }
    }

    /// The keyring now; hold it only for the operation at hand.
    pub fn current(&self) -> Guard<Arc<Keyring>> {
        self.keyring.load()
    }

    /// Puts `keyring` in place for every later reader.
    pub fn replace(&self, keyring: Keyring, next_step_at: Option<i64>) {
        self.keyring.store(Arc::new(keyring));
        self.next_step_at.store(next_step_at.unwrap_or(i64::MAX), Ordering::Relaxed);
    }

    /// When the next lifecycle step falls due, if one is scheduled.
    pub fn next_step_at(&self) -> Option<i64> {
        Some(self.next_step_at.load(Ordering::Relaxed)).filter(|at| *at != i64::MAX)
    }

    /// The kid that signs at `now` and the seconds until the next lifecycle step (none scheduled:
    /// none), for `/monitoring/info` and `/metrics`.
    pub fn status(&self, now: i64) -> (String, Option<i64>) {
        let kid = self.current().kid(now).to_owned();
        (kid, self.next_step_at().map(|at| at.saturating_sub(now).max(0)))
    }
}
