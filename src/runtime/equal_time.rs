//! Answers that must not tell two cases apart by their time (docs/reliability.md, "What timing
//! tells"): the cheaper case waits out the typical time of the dearer one. A [`TypicalDuration`]
//! follows the median of how long the dearer case took (a streaming estimate: each run moves it
//! 1/64 of itself towards each run; the median, not the mean, since a few slow runs pull the mean past most
//! answers); the cheaper case sleeps until it has taken as long, at most a second. Sleeping costs
//! the service nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The longest a cheaper case is held back.
const LONGEST_WAIT: Duration = Duration::from_secs(1);
/// tokio's timer rounds a sleep up to its next millisecond tick: asking a millisecond less lands
/// on the average instead of past it.
const TIMER_TICK: Duration = Duration::from_millis(1);

pub struct TypicalDuration {
    micros: AtomicU64,
}

impl TypicalDuration {
    pub const fn new() -> Self {
        Self { micros: AtomicU64::new(0) }
    }

    /// Notes one run of the dearer case, begun at `started`.
    pub fn note(&self, started: Instant) {
        let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let _ = self.micros.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |median| {
            let step = (median / 64).max(1);
            Some(match median {
                0 => took,
                _ if took > median => median + step,
                _ if took < median => median - step,
                _ => median,
            })
        });
    }

    /// Waits until a run of the cheaper case, begun at `started`, has taken the typical time.
    pub async fn wait_out(&self, started: Instant) {
        let typical = Duration::from_micros(self.micros.load(Ordering::Relaxed)).min(LONGEST_WAIT);
        if let Some(rest) = typical.checked_sub(started.elapsed() + TIMER_TICK) {
            tokio::time::sleep(rest).await;
        }
    }
}

impl Default for TypicalDuration {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_cheaper_case_waits_out_the_typical_time() {
        let typical = TypicalDuration::new();
        let started = Instant::now();
        typical.wait_out(started).await;
        assert!(started.elapsed() < Duration::from_millis(5), "nothing noted yet: no wait");
        let dear = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        typical.note(dear);
        let cheap = Instant::now();
        typical.wait_out(cheap).await;
        assert!(cheap.elapsed() >= Duration::from_millis(28), "{:?}", cheap.elapsed());
    }
}
