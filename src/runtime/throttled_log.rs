//! A warning that may repeat many times a second (every refused connection, every request while the
//! database is down) logged at most once a minute, with how many times it happened since: a flood
//! of requests must not become a flood of log lines.

use std::sync::atomic::{AtomicU64, Ordering};

pub struct ThrottledLog {
    last_minute: AtomicU64,
    since: AtomicU64,
}

impl ThrottledLog {
    pub const fn new() -> Self {
        Self { last_minute: AtomicU64::new(0), since: AtomicU64::new(0) }
    }

    /// Counts one occurrence; logs `what` (with the count since the last line) if no line was
    /// logged this minute.
    pub fn warn(&self, what: &str) {
        let minute = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs() / 60)
            .unwrap_or_default();
        let count = self.since.fetch_add(1, Ordering::Relaxed) + 1;
        if self.last_minute.swap(minute, Ordering::Relaxed) != minute {
            self.since.store(0, Ordering::Relaxed);
            tracing::warn!(times = count, "{what}");
        }
    }
}

impl Default for ThrottledLog {
    fn default() -> Self {
        Self::new()
    }
}
