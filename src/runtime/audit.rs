//! The audit trail: who did what to whom, appended and never changed. Recording is one call,
//! `state.audit.record(AuditEvent::new(actor, "action").target(…)).await`. The request id and
//! client address come from the current request.
//!
//! Two paths, chosen by the action ([`AuditEvent::is_high_volume`]):
//! - Changes (admin writes, impersonation, delegate, key and client changes, password changes) are
//!   written before `record` returns, by a task of their own, so a client that goes away mid-request
//!   cannot cancel the write: once the change is answered, its event is in the database.
//! - The high-volume events (logins, delegate authentication, logouts, token grants) go into a
//!   bounded in-memory queue that a background writer inserts in batches, cheap enough for the
//!   hottest route. What can be lost: events still queued when the process dies without a graceful
//!   shutdown (measured in docs/reliability.md). A graceful shutdown flushes the queue. While the
//!   database cannot be reached the writer retries (for up to ten minutes) and the queue holds what
//!   arrives; when the queue stays full for a second an event is dropped, counted and logged,
//!   rather than stalling logins. A machine's identical events of one second in a batch are one
//!   row with their count ([`crate::runtime::audit_repeats`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::runtime::audit_repeats;
use crate::runtime::request_context::RequestMeta;
use crate::store::Store;
use crate::store::audit_events::NewAuditEvent;

/// Events waiting for the writer; beyond this a recorder waits (at most [`ENQUEUE_WAIT`]).
pub const QUEUE_CAPACITY: usize = 8192;
/// Rows per INSERT.
const BATCH: usize = 256;
/// How long the writer waits for more events before writing a batch that is not full.
const LINGER: Duration = Duration::from_millis(20);
const ENQUEUE_WAIT: Duration = Duration::from_secs(1);
const WRITE_ATTEMPTS: u32 = 3;
/// How long the batch writer keeps retrying while the database cannot be reached (the queue holds
/// what arrives meanwhile) before it gives a batch up.
const OUTAGE_PATIENCE: Duration = Duration::from_secs(600);

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(i64),
    Delegate(String),
    /// An API key, by its access key (an identifier, not a secret).
    ApiKey(String),
    /// An OAuth client, by its `client_id`.
    Client(String),
    /// The command line on the server, with the OS user when known.
    Cli(Option<String>),
    /// The service itself (for example generating its first key pair).
    System,
    Anonymous,
}

impl Actor {
    /// `cli`, or `cli:<os user>` when the OS user name is in the environment.
    pub fn cli() -> Self {
        Actor::Cli(std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok().filter(|u| !u.is_empty()))
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Delegate(name) => write!(f, "delegate:{name}"),
            Actor::ApiKey(access) => write!(f, "apikey:{access}"),
            Actor::Client(client_id) => write!(f, "client:{client_id}"),
            Actor::Cli(None) => f.write_str("cli"),
            Actor::Cli(Some(os_user)) => write!(f, "cli:{os_user}"),
            Actor::System => f.write_str("system"),
            Actor::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// One thing that happened. `action` is a stable dotted name (`login.password`, `user.disable`);
/// `target` names what it happened to (`user:17`); `detail` is a small JSON object.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub actor: Actor,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<Value>,
    /// The request it happened in; none for the command line and the service's own work.
    pub request: Option<RequestMeta>,
}

impl AuditEvent {
    /// Something that happened outside any request (the command line, start-up).
    pub fn new(actor: Actor, action: impl Into<String>) -> Self {
        Self { actor, action: action.into(), target: None, detail: None, request: None }
    }

    /// Something that happened while serving `request`: its id and client address are recorded.
    pub fn during(request: &RequestMeta, actor: Actor, action: impl Into<String>) -> Self {
        Self { request: Some(request.clone()), ..Self::new(actor, action) }
    }

    pub fn target(mut self, target: impl fmt::Display) -> Self {
        self.target = Some(target.to_string());
        self
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Whether the event is one of the many a busy service records every second (logins, delegate
    /// authentication, logouts and token revocations, token endpoint calls): those are batched; every other event
    /// records a change and is written before `record` returns.
    pub fn is_high_volume(&self) -> bool {
        const BATCHED_PREFIXES: [&str; 4] = ["login.", "delegate.authenticate", "session.logout", "oauth."];
        BATCHED_PREFIXES.iter().any(|prefix| self.action.starts_with(prefix)) && self.action != "oauth.consent"
    }

    /// Whether a machine credential (an OAuth client, an API key, a delegate) acted, never a person:
    /// its high-volume events may be folded with identical ones of the same second.
    fn is_by_machine(&self) -> bool {
        matches!(self.actor, Actor::Client(_) | Actor::ApiKey(_) | Actor::Delegate(_))
    }

    /// The row to store, with the request's id and client address and the time `now`.
    fn into_row(self, now: i64) -> NewAuditEvent {
        let request = self.request.as_ref();
        NewAuditEvent {
            occurred_at: now,
            actor: cut(self.actor.to_string(), 255),
            action: cut(self.action, 64),
            target: self.target.map(|t| cut(t, 255)),
            // `to_string` rather than `Display`, which writes through the formatter a piece at a time.
            detail: self.detail.map(|d| cut(serde_json::to_string(&d).unwrap_or_default(), 4096)),
            client_ip: request.and_then(RequestMeta::client_ip_text),
            request_id: request.and_then(RequestMeta::request_id).map(str::to_owned),
            occurrences: 1,
        }
    }
}

/// At most `max` bytes, cut at a character boundary.
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// `outcome: success`, or `outcome: failure` with the error's public message.
pub fn outcome<T>(result: &Result<T, crate::error::Error>) -> Value {
    match result {
        Ok(_) => serde_json::json!({"outcome": "success"}),
        Err(err) => serde_json::json!({"outcome": "failure", "reason": err.to_string()}),
    }
}

enum Message {
    /// A row, and whether it may be folded with identical ones (a high-volume event [`AuditEvent::is_by_machine`]).
    Event(NewAuditEvent, bool),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// The queue in front of the background writer; cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    store: Store,
    queue: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
    clock: Arc<dyn Clock>,
}

impl AuditLog {
    /// Starts the writer on the current tokio runtime.
    pub fn start(store: Store, clock: Arc<dyn Clock>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let dropped = Arc::<AtomicU64>::default();
        tokio::spawn(write_batches(store.clone(), receiver, dropped.clone()));
        Self { store, queue, dropped, clock }
    }

    /// Records `event` on the audit trail: a change is written before this returns, a high-volume
    /// event is queued (see the module documentation for what may be lost). The command line
    /// records the same way and calls [`AuditLog::flush`] before it exits.
    pub async fn record(&self, event: AuditEvent) {
        let high_volume = event.is_high_volume();
        let foldable = high_volume && event.is_by_machine();
        let row = event.into_row(self.clock.now());
        if high_volume {
            self.enqueue(row, foldable).await;
        } else {
            self.write_now(row).await;
        }
    }

    /// Writes `row` on a task of its own (a dropped request future cannot cancel it) and waits for
    /// it. While the database cannot be reached (the change itself then failed too) the row goes to
    /// the batch writer, which waits for the database, instead of holding the request.
    async fn write_now(&self, row: NewAuditEvent) {
        let audit = self.clone();
        let written = tokio::spawn(async move {
            match audit.store.insert_audit_events(std::slice::from_ref(&row)).await {
                Ok(()) => true,
                Err(crate::store::StoreError::Unavailable) => {
                    audit.enqueue(row, false).await;
                    true
                }
                Err(_) => write_with_retries(&audit.store, &[row]).await,
            }
        });
        if !matches!(written.await, Ok(true)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn enqueue(&self, row: NewAuditEvent, foldable: bool) {
        let message = match self.queue.try_send(Message::Event(row, foldable)) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(message)) => message,
            Err(mpsc::error::TrySendError::Closed(_)) => return self.lost(1, "the audit writer has stopped"),
        };
        if !matches!(tokio::time::timeout(ENQUEUE_WAIT, self.queue.send(message)).await, Ok(Ok(()))) {
            self.lost(1, "the audit queue stayed full");
        }
    }

    fn lost(&self, count: u64, why: &str) {
        self.dropped.fetch_add(count, Ordering::Relaxed);
        tracing::error!(count, why, "audit events lost");
    }

    /// Audit events lost since start (queue full for too long, or the database refused them).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every event recorded before this call is written (or given up on).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// The writer: takes whatever is queued (up to a batch), inserts it, and repeats; ends when every
/// sender is gone.
async fn write_batches(store: Store, mut receiver: mpsc::Receiver<Message>, dropped: Arc<AtomicU64>) {
    let mut messages = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut messages, BATCH).await > 0 {
        // Under load events arrive one by one: wait a moment for more, so the database sees a few
        // batched INSERTs a second instead of one per wake-up (each a round trip and thread switches).
        if messages.len() < BATCH && !messages.iter().any(|m| matches!(m, Message::Flush(_))) {
            tokio::time::sleep(LINGER).await;
            while messages.len() < BATCH {
                match receiver.try_recv() {
                    Ok(message) => messages.push(message),
                    Err(_) => break,
                }
            }
        }
        let mut events = Vec::with_capacity(messages.len());
        let mut waiting = Vec::new();
        for message in messages.drain(..) {
            match message {
                Message::Event(row, foldable) => events.push((row, foldable)),
                Message::Flush(done) => waiting.push(done),
            }
        }
        let rows = audit_repeats::fold(events);
        if !rows.is_empty() && !write_through_outage(&store, &rows).await {
            let lost: u64 = rows.iter().map(|row| u64::try_from(row.occurrences).unwrap_or(1)).sum();
            dropped.fetch_add(lost, Ordering::Relaxed);
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}

/// Whether the rows were written: retried every second while the database cannot be reached (for
/// at most [`OUTAGE_PATIENCE`]), then as [`write_with_retries`].
async fn write_through_outage(store: &Store, rows: &[NewAuditEvent]) -> bool {
    let started = tokio::time::Instant::now();
    loop {
        match store.insert_audit_events(rows).await {
            Ok(()) => return true,
            Err(crate::store::StoreError::Unavailable) if started.elapsed() < OUTAGE_PATIENCE => {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(_) => return write_with_retries(store, rows).await,
        }
    }
}

/// Whether the rows were written.
async fn write_with_retries(store: &Store, rows: &[NewAuditEvent]) -> bool {
    let count = rows.len();
    for attempt in 1..=WRITE_ATTEMPTS {
        match store.insert_audit_events(rows).await {
            Ok(()) => return true,
            Err(err) if attempt < WRITE_ATTEMPTS => {
                tracing::warn!(error = %err, count, attempt, "writing audit events failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            Err(err) => tracing::error!(error = %err, count, "audit events lost: the database refused them"),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_and_token_calls_are_batched_and_changes_are_written_at_once() {
        let high_volume = |action: &str| AuditEvent::new(Actor::System, action).is_high_volume();
        for batched in
            ["login.password", "login.apikey", "delegate.authenticate", "session.logout", "oauth.token", "oauth.revoke"]
        {
            assert!(high_volume(batched), "{batched}");
        }
        for durable in [
            "users.create",
            "users.password-change",
            "delegate.impersonate",
            "trusted-delegates.delete",
            "keys.rotate",
            "client.create",
            "oauth.consent",
            "session.refresh-reuse",
        ] {
            assert!(!high_volume(durable), "{durable}");
        }
    }
}
