//! Fixed-window request counters: in Redis when AUTHIFY_REDIS_URL is set (one atomic Lua script, so
//! every instance shares the counts), else in this process (sharded maps with a bounded size; the
//! limits then apply per instance). Windows are cut from the service clock (`state.now()`), so tests
//! move them with the ManualClock.
//!
//! A Redis that cannot be reached fails open: the request is let through. The outage is logged once
//! when it starts and once when Redis answers again; meanwhile Redis is asked again at most once a
//! second, so requests do not each wait for its timeouts. Rate limits blunt floods; the account
//! lockout (in the database) still bounds password guessing.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::Error;

/// Shards of the in-process limiter (fewer lock collisions between concurrent requests).
const SHARDS: usize = 16;
/// Counters kept in memory at most; beyond it old windows are dropped, then everything.
const LOCAL_CAPACITY: usize = 100_000;

/// Increments the window's counter and sets its expiry on first use, atomically.
const FIXED_WINDOW_SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
";

/// One limit: at most `limit` hits per `window` seconds (0 = unlimited).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub limit: u32,
    pub window: u32,
}

/// Where the counters live.
pub enum RateLimiter {
    Local(LocalCounters),
    Redis { manager: ConnectionManager, script: redis::Script, prefix: String, outage: Outage },
}

/// Whether Redis is failing, and when to ask it again.
pub struct Outage {
    failing: AtomicBool,
    /// Milliseconds since `started` before which Redis is not asked.
    retry_at_ms: AtomicU64,
    started: Instant,
}

impl Outage {
    const RETRY_EVERY_MS: u64 = 1000;

    fn new() -> Self {
        Self { failing: AtomicBool::new(false), retry_at_ms: AtomicU64::new(0), started: Instant::now() }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether Redis should be asked now (not during the second after a failure).
    fn may_ask(&self) -> bool {
        !self.failing.load(Ordering::Relaxed) || self.elapsed_ms() >= self.retry_at_ms.load(Ordering::Relaxed)
    }

    fn failed(&self, err: &redis::RedisError) {
        self.retry_at_ms.store(self.elapsed_ms() + Self::RETRY_EVERY_MS, Ordering::Relaxed);
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %err, "rate limiter: Redis unreachable; letting requests through until it answers");
        }
    }

    fn answered(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("rate limiter: Redis answers again; rate limits apply");
        }
    }
}

impl RateLimiter {
    /// An in-process limiter.
    pub fn local() -> Self {
        RateLimiter::Local(LocalCounters::default())
    }

    /// A Redis-backed limiter; connects lazily (and reconnects) on use.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        let script = redis::Script::new(FIXED_WINDOW_SCRIPT);
        Ok(RateLimiter::Redis { manager, script, prefix: prefix.to_owned(), outage: Outage::new() })
    }

    /// Counts one hit on `key` at `now`; [`Error::RateLimited`] when it is over the limit.
    pub async fn hit(&self, key: &str, limit: Limit, now: i64) -> Result<(), Error> {
        if limit.limit == 0 {
            return Ok(());
        }
        let window = i64::from(limit.window.max(1));
        let index = now.div_euclid(window);
        let count = match self {
            RateLimiter::Local(counters) => counters.increment(key, index),
            RateLimiter::Redis { manager, script, prefix, outage } => {
                if !outage.may_ask() {
                    return Ok(());
                }
                let redis_key = format!("{prefix}:rl:{key}:{index}");
                let mut connection = manager.clone();
                match script.key(redis_key).arg(window * 2).invoke_async::<u64>(&mut connection).await {
                    Ok(count) => {
                        outage.answered();
                        count
                    }
                    Err(err) => {
                        outage.failed(&err);
                        return Ok(());
                    }
                }
            }
        };
        if count > u64::from(limit.limit) {
            let retry_after = (index + 1) * window - now;
            return Err(Error::RateLimited { retry_after: retry_after.clamp(1, i64::from(u32::MAX)) as u32 });
        }
        Ok(())
    }
}

/// In-process counters: key → (window index, count).
pub struct LocalCounters {
    shards: Vec<Mutex<HashMap<String, (i64, u64)>>>,
    hasher: RandomState,
}

impl Default for LocalCounters {
    fn default() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(), hasher: RandomState::new() }
    }
}

impl LocalCounters {
    fn increment(&self, key: &str, index: i64) -> u64 {
        let shard = (self.hasher.hash_one(key) as usize) % SHARDS;
        let Some(shard) = self.shards.get(shard) else { return 0 };
        let mut map = match shard.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= LOCAL_CAPACITY / SHARDS && !map.contains_key(key) {
            map.retain(|_, (i, _)| *i >= index);
            if map.len() >= LOCAL_CAPACITY / SHARDS {
                map.clear();
            }
        }
        let entry = map.entry(key.to_owned()).or_insert((index, 0));
        if entry.0 != index {
            *entry = (index, 0);
        }
        entry.1 += 1;
        entry.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_counters_refuse_over_the_limit_until_the_next_window() {
        let limiter = RateLimiter::local();
        let limit = Limit { limit: 2, window: 60 };
        let now = 6_000; // the start of a window
        assert!(limiter.hit("a", limit, now).await.is_ok());
        assert!(limiter.hit("a", limit, now + 1).await.is_ok());
        match limiter.hit("a", limit, now + 10).await {
            Err(Error::RateLimited { retry_after }) => assert_eq!(retry_after, 50),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(limiter.hit("b", limit, now + 10).await.is_ok());
        assert!(limiter.hit("a", limit, now + 60).await.is_ok());
    }
}
