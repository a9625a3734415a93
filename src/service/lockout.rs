//! Account lockout: reserve an attempt in the database before checking a password, settle it after.
//!
//! Reserving first (a conditional UPDATE that refuses at the threshold) is what keeps 50 parallel
//! guesses, on any number of instances, from making more than `AUTHIFY_LOCKOUT_THRESHOLD` password
//! checks: counting after the check would let every guess in flight through. See docs/lockout.md.

use crate::crypto::secret::hash_secret;
use crate::domain::Email;
use crate::error::Error;
use crate::state::AppState;
use crate::store::Store;
use crate::store::lockouts::Reservation;

/// The lockout row's key for a login name: SHA-256 of the normalised email, whether or not such a
/// user exists, so locking behaves the same for unknown emails (and no plain email is stored).
pub fn account_key(email: &str) -> String {
    match Email::parse(email) {
        Ok(email) => hash_secret(email.as_str()),
        Err(_) => hash_secret(&email.trim().to_lowercase()),
    }
}

/// Counts one attempt, or refuses with [`Error::AccountLocked`] (no password is checked then).
pub async fn reserve(state: &AppState, key: &str) -> Result<(), Error> {
    let threshold = state.settings.lockout_threshold;
    if threshold == 0 {
        return Ok(());
    }
    let now = state.now();
    match state.store.reserve_login_attempt(key, threshold, now).await? {
        Reservation::Reserved => Ok(()),
        Reservation::Locked { until } => {
            // `None`: attempts still being checked fill the threshold; they settle within moments.
            let retry_after = until.map_or(1, |until| until - now);
            Err(Error::AccountLocked { retry_after: retry_after.clamp(1, i64::from(u32::MAX)) as u32 })
        }
    }
}

/// What the reserved attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Correct credentials: the count starts afresh.
    Success,
    /// A wrong password or second factor: the attempt stays counted and may lock the account.
    Failure,
    /// Neither (a correct password awaiting its second factor, or our own failure).
    Neutral,
}

/// Settles a reserved attempt.
pub async fn settle(state: &AppState, key: &str, outcome: Outcome) -> Result<(), Error> {
    let threshold = state.settings.lockout_threshold;
    if threshold == 0 {
        return Ok(());
    }
    let now = state.now();
    match outcome {
        Outcome::Success => state.store.reset_lockout(key, now).await?,
        Outcome::Neutral => state.store.release_login_attempt(key, now).await?,
        Outcome::Failure => {
            if let Some(until) = state.store.lock_if_exhausted(key, threshold, now, |n| interval(state, n)).await? {
                tracing::warn!(locked_for = until - now, "account locked after repeated failed logins");
            }
        }
    }
    Ok(())
}

/// Lifts a lock and forgets the failures of `email` (`authify user unlock`, the admin route);
/// whether there was anything to forget.
pub async fn unlock(store: &Store, email: &str) -> Result<bool, Error> {
    Ok(store.clear_lockout(&account_key(email)).await?)
}

/// The length of the `n`-th lock (0-based) in seconds; the last configured length repeats.
fn interval(state: &AppState, n: i32) -> i64 {
    let intervals = state.settings.lockout_intervals().unwrap_or_default();
    let index = usize::try_from(n).unwrap_or(0).min(intervals.len().saturating_sub(1));
    intervals.get(index).copied().unwrap_or(60)
}
