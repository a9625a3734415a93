//! Keeps this instance's keyring in step with the shared key store: every AUTHIFY_KEY_POLL_MS it
//! performs the lifecycle steps that are due (another instance may beat it to each; the store lets
//! only one succeed), reads the store, and swaps in a new keyring when the keys changed. Steps it
//! performed itself go on the audit trail.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::crypto::keyring_cell::KeyringCell;
use crate::crypto::lifecycle::{KeyRecord, Step};
use crate::runtime::audit::{Actor, AuditEvent, AuditLog};
use crate::service::keys::{KeyStore, KeyStoreError, Performed, timestamp};

pub struct SharedKeys {
    pub keys: KeyStore,
    pub cell: Arc<KeyringCell>,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
    /// The records the keyring in the cell was built from.
    seen: Mutex<Vec<KeyRecord>>,
}

impl SharedKeys {
    /// Performs what is due, then builds the keyring from the store: a wrong key-encryption key or
    /// an empty store fails here (start-up).
    pub async fn open(keys: KeyStore, clock: Arc<dyn Clock>, audit: AuditLog) -> Result<Self, KeyStoreError> {
        let (_, records) = keys.load().await?;
        let performed = keys.perform_due(&records, clock.now()).await?;
        let (rows, records) = keys.load().await?;
        let (keyring, next_step) = keys.keyring(&rows, &records)?;
        let shared = Self {
            keys,
            cell: Arc::new(KeyringCell::new(keyring, next_step)),
            clock,
            audit,
            seen: Mutex::new(records),
        };
        shared.record(performed).await;
        Ok(shared)
    }

    /// One round: the steps due, then the store's keys into the cell when they changed.
    pub async fn poll(&self) -> Result<(), KeyStoreError> {
        let (mut rows, mut records) = self.keys.load().await?;
        let performed = self.keys.perform_due(&records, self.clock.now()).await?;
        if !performed.is_empty() {
            (rows, records) = self.keys.load().await?;
        }
        let unchanged = *self.seen.lock().unwrap_or_else(|e| e.into_inner()) == records;
        if !unchanged {
            let (keyring, next_step) = self.keys.keyring(&rows, &records)?;
            tracing::info!(kid = keyring.kid(self.clock.now()), "the key store changed: keyring replaced");
            self.cell.replace(keyring, next_step);
            *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = records;
        }
        self.record(performed).await;
        Ok(())
    }

    async fn record(&self, performed: Vec<Performed>) {
        for Performed { step, added } in performed {
            let event = match step {
                Step::Promote { kid, at, old_verifies_until } => {
                    AuditEvent::new(Actor::System, "keys.sign").target(format!("kid:{kid}")).detail(
                        json!({"signs_from": timestamp(at), "previous_verifies_until": timestamp(old_verifies_until)}),
                    )
                }
                Step::Retire { kid, at } => AuditEvent::new(Actor::System, "keys.retire")
                    .target(format!("kid:{kid}"))
                    .detail(json!({"at": timestamp(at), "reason": "every token it signed has expired"})),
                Step::Schedule { signs_at, .. } => AuditEvent::new(Actor::System, "keys.rotate")
                    .target(format!("kid:{}", added.unwrap_or_default()))
                    .detail(json!({"signs_from": timestamp(signs_at), "scheduled": true})),
            };
            self.audit.record(event).await;
        }
    }
}

/// Polls every `period` until `stop` resolves; a failed round is logged and the keyring kept.
pub async fn run_poller(shared: Arc<SharedKeys>, period: Duration, mut stop: oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(period) => {}
        }
        if let Err(err) = shared.poll().await {
            tracing::warn!(error = %err, "could not bring the keyring in step with the key store");
        }
    }
}
