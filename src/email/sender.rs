//! The background outbox sender. Woken after every commit that queues mail (and polling every
//! AUTHIFY_MAIL_POLL_MS, so rows left by a crash or an outage are picked up), it claims due rows
//! one by one with a conditional UPDATE (owner + lease), sends, and records the outcome: sent;
//! retry after an exponential back-off; or, after AUTHIFY_MAIL_MAX_ATTEMPTS, given up (the row is
//! kept, marked failed, and logged). Several instances may run senders on one database: a row is
//! only ever held by one of them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use super::transport::Mailer;
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::secret;
use crate::store::Store;
use crate::store::outbox::{Delivery, OutboxMail};

/// The longest back-off between two attempts.
const MAX_BACKOFF_SECONDS: i64 = 3600;
/// Rows fetched per round.
const BATCH: u64 = 20;

pub struct OutboxSender {
    store: Store,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    /// This sender's claim name (random per process).
    owner: String,
    poll: Duration,
    retry_seconds: i64,
    /// How long a claim holds a row; a sender that dies mid-send frees it after this.
    lease_seconds: i64,
    max_attempts: i32,
}

impl OutboxSender {
    /// A sender delivering `store`'s outbox through `mailer`; `wake` tells it mail was committed.
    pub fn new(
        store: Store,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        settings: &Settings,
    ) -> Self {
        Self {
            store,
            mailer,
            clock,
            wake,
            owner: format!("sender-{}", secret::random_hex(8)),
            poll: Duration::from_millis(settings.mail_poll_ms),
            retry_seconds: i64::from(settings.mail_retry_seconds),
            lease_seconds: i64::from(settings.mail_lease_seconds),
            max_attempts: i32::try_from(settings.mail_max_attempts).unwrap_or(i32::MAX),
        }
    }

    /// Sends until `stop` fires (or its sender is dropped).
    pub async fn run(self, mut stop: oneshot::Receiver<()>) {
        tracing::info!(transport = %self.mailer.describe(), owner = %self.owner, "outbox sender started");
        loop {
            self.drain().await;
            tokio::select! {
                _ = &mut stop => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
        tracing::info!(owner = %self.owner, "outbox sender stopped");
    }

    /// Sends every due mail this sender can claim.
    async fn drain(&self) {
        for _ in 0..50 {
            let ids = match self.store.due_mail_ids(self.clock.now(), BATCH).await {
                Ok(ids) => ids,
                Err(err) => {
                    tracing::warn!(error = %err, "outbox: cannot look for due mail");
                    return;
                }
            };
            for id in &ids {
                let now = self.clock.now();
                match self.store.claim_mail(*id, &self.owner, now, now + self.lease_seconds).await {
                    Ok(Some(mail)) => self.deliver(mail).await,
                    Ok(None) => {}
                    Err(err) => tracing::warn!(mail_id = id, error = %err, "outbox: cannot claim mail"),
                }
            }
            if (ids.len() as u64) < BATCH {
                return;
            }
        }
    }

    async fn deliver(&self, mail: OutboxMail) {
        let attempts = mail.attempts.saturating_add(1);
        let result = self.mailer.send(&mail).await;
        let now = self.clock.now();
        let outcome = match result {
            Ok(()) => {
                tracing::info!(mail_id = mail.id, attempts, "outbox: mail sent");
                Delivery::Sent
            }
            Err(error) if attempts >= self.max_attempts => {
                tracing::error!(mail_id = mail.id, attempts, %error, "outbox: giving up on mail (kept, marked failed)");
                Delivery::GiveUp { error }
            }
            Err(error) => {
                let next_attempt_at = now + self.backoff(attempts);
                tracing::warn!(mail_id = mail.id, attempts, next_attempt_at, %error, "outbox: send failed, will retry");
                Delivery::Retry { next_attempt_at, error }
            }
        };
        if let Err(err) = self.store.finish_mail(mail.id, &self.owner, attempts, now, &outcome).await {
            tracing::warn!(mail_id = mail.id, error = %err, "outbox: cannot record the outcome (lease will expire)");
        }
    }

    /// AUTHIFY_MAIL_RETRY_SECONDS after the first failure, doubled after each further one.
    fn backoff(&self, attempts: i32) -> i64 {
        let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(20);
        self.retry_seconds.saturating_mul(1_i64 << doublings).min(MAX_BACKOFF_SECONDS)
    }
}
