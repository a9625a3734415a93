//! Account lockout: reserve an attempt in the database before checking a password, settle it after.
//!
//! Reserving first (a conditional UPDATE that refuses at the threshold) is what keeps 50 parallel
//! guesses, on any number of instances, from making more than `AUTHIFY_LOCKOUT_THRESHOLD` password
//! checks: counting after the check would let every guess in flight through. See docs/lockout.md.
//!
//! A reservation must always be settled. Callers run reserve → check → settle with
//! [`run_to_completion`](crate::runtime::request_context::run_to_completion), in a task of its own, so a client that resets the connection mid-check
//! (dropping the request's future) cannot leave it behind; and a reservation that a crashed process
//! never settled expires after [`RESERVATION_SECONDS`], counted as the failure it may have been.

use std::future::Future;

use crate::crypto::secret::hash_secret;
use crate::domain::{Email, InvalidValue, Submitted};
use crate::error::Error;
use crate::runtime::rate_limit::Limit;
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::service::directory::Directory;
use crate::store::lockouts::Reservation;
use crate::store::users::User;

/// The lockout row's key for a login name: SHA-256 of the normalised email, whether or not such a
/// user exists, so locking behaves the same for unknown emails (and no plain email is stored).
pub fn account_key(email: &str) -> String {
    login_key(&Submitted::parse(email, Email::parse))
}

/// [`account_key`] of a login name parsed where it arrived.
pub fn login_key(name: &Submitted<Email>) -> String {
    match name.value() {
        Ok(email) => hash_secret(email.as_str()),
        Err(_) => hash_secret(&name.text().trim().to_lowercase()),
    }
}

/// How long an unsettled reservation counts as an attempt still being checked (seconds); a check
/// takes well under a second, so only a process that died mid-check leaves one this old.
pub const RESERVATION_SECONDS: i64 = 10;

/// One counted attempt at a secret of the account `key` (its password, a second-factor code):
/// reserved before `work` runs, settled by what [`judge_secret`] makes of the result. Call it
/// inside [`run_to_completion`](crate::runtime::request_context::run_to_completion), so the settling cannot be skipped.
pub async fn counted<T>(auth: &Auth, key: &str, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    reserve(auth, key).await?;
    let result = work.await;
    settle(auth, key, judge_secret(&result)).await?;
    result
}

/// Proves `password` is `user`'s current one, as a counted attempt; a wrong one is
/// [`wrong_password`] naming `field`.
pub async fn prove_password(auth: &Auth, user: &User, password: &str, field: &'static str) -> Result<(), Error> {
    counted(auth, &account_key(&user.email), check_password(auth, user, password, field)).await
}

/// The password check of [`prove_password`], for a counted attempt that checks more (a code).
pub async fn check_password(auth: &Auth, user: &User, password: &str, field: &'static str) -> Result<(), Error> {
    match auth.hasher.verify(password, user.password_digest.as_deref()).await? {
        true => Ok(()),
        false => Err(wrong_password(field)),
    }
}

/// The usual judgement: proven is a success; a wrong password ([`wrong_password`]), credential
/// or second-factor code a failure; anything else (our own trouble) neither.
pub fn judge_secret<T>(result: &Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(Error::InvalidCredentials | Error::InvalidSecondFactor) => Outcome::Failure,
        Err(Error::Invalid(value)) if value.problem == WRONG_PASSWORD => Outcome::Failure,
        Err(_) => Outcome::Neutral,
    }
}

const WRONG_PASSWORD: &str = "is not the account's current password";

/// The error for a wrong current password, naming the field it came in.
pub fn wrong_password(field: &'static str) -> Error {
    InvalidValue::new(field, WRONG_PASSWORD).into()
}

/// Counts a sign-in attempt at the account `key` from the request's client against
/// AUTHIFY_RATE_LIMIT_PER_ACCOUNT: [`Error::RateLimited`] past it.
pub async fn limit_per_client(auth: &Auth, key: &str, request: &RequestMeta) -> Result<(), Error> {
    let client = request.client_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let limit = Limit { limit: auth.settings.rate_limit_per_account, window: auth.settings.rate_limit_window };
    auth.limiter.hit(&format!("login:{client}:{key}"), limit, auth.now()).await
}

/// Counts one attempt, or refuses with [`Error::AccountLocked`] (no password is checked then).
pub async fn reserve(auth: &Auth, key: &str) -> Result<(), Error> {
    let threshold = auth.settings.lockout_threshold;
    if threshold == 0 {
        return Ok(());
    }
    let now = auth.now();
    let until = match auth.store().reserve_login_attempt(key, threshold, now).await? {
        Reservation::Reserved => return Ok(()),
        Reservation::Locked { until: Some(until) } => until,
        // Attempts still being checked fill the threshold; they settle within moments, unless
        // their process died: then they have expired and count as failures.
        Reservation::Locked { until: None } => match expire_reservations(auth, key, threshold, now).await? {
            Some(until) => until,
            None => now + 1,
        },
    };
    Err(locked_until(until, now))
}

/// [`Error::AccountLocked`] with the seconds left of a lock that ends at `until`.
fn locked_until(until: i64, now: i64) -> Error {
    Error::AccountLocked { retry_after: (until - now).clamp(1, i64::from(u32::MAX)) as u32 }
}

/// Refuses with [`Error::AccountLocked`] while the account `key` is locked, counting nothing: for
/// sign-ins that prove who it is otherwise (an external provider), which a lock holds back too.
pub async fn ensure_not_locked(auth: &Auth, key: &str) -> Result<(), Error> {
    let now = auth.now();
    match auth.store().lockout(key).await? {
        Some(row) if auth.settings.lockout_threshold > 0 && row.locked_until > now => {
            Err(locked_until(row.locked_until, now))
        }
        _ => Ok(()),
    }
}

/// When the reservations filling the threshold are older than [`RESERVATION_SECONDS`], settles
/// them as failures (the lock they would have set) and answers until when it holds.
async fn expire_reservations(auth: &Auth, key: &str, threshold: u32, now: i64) -> Result<Option<i64>, Error> {
    let Some(row) = auth.store().lockout(key).await? else { return Ok(None) };
    if row.updated_at + RESERVATION_SECONDS > now {
        return Ok(None);
    }
    tracing::warn!("unsettled login reservations expired: counted as failures");
    Ok(auth.store().lock_if_exhausted(key, threshold, now, |n| interval(auth, n)).await?)
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
pub async fn settle(auth: &Auth, key: &str, outcome: Outcome) -> Result<(), Error> {
    let threshold = auth.settings.lockout_threshold;
    if threshold == 0 {
        return Ok(());
    }
    let now = auth.now();
    match outcome {
        Outcome::Success => auth.store().reset_lockout(key, now).await?,
        Outcome::Neutral => auth.store().release_login_attempt(key, now).await?,
        Outcome::Failure => {
            if let Some(until) = auth.store().lock_if_exhausted(key, threshold, now, |n| interval(auth, n)).await? {
                tracing::warn!(locked_for = until - now, "account locked after repeated failed logins");
            }
        }
    }
    Ok(())
}

/// Lifts a lock and forgets the failures of `email` (`authify user unlock`, the admin route);
/// whether there was anything to forget.
pub async fn unlock(directory: &Directory, email: &str) -> Result<bool, Error> {
    Ok(directory.store.clear_lockout(&account_key(email)).await?)
}

/// The length of the `n`-th lock (0-based) in seconds; the last configured length repeats.
fn interval(auth: &Auth, n: i32) -> i64 {
    auth.settings.lockout_minutes.nth(n)
}
