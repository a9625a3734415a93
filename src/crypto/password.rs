//! argon2id password hashing (OWASP parameters: m=19456 KiB, t=2, p=1), off the async threads and
//! behind a semaphore so a login flood cannot exhaust memory (about 19 MiB a hash). The queue in
//! front of it is bounded too: past it, callers are told to come back (503) at once rather than
//! waiting seconds, which keeps the latency of the logins that are served low under overload.

use std::sync::Arc;

use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::{OnceCell, Semaphore};

use super::legacy_digest;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("password hashing is shutting down")]
    Closed,
    /// More hashes are waiting than the queue allows; the caller should retry shortly.
    #[error("too many password checks are waiting")]
    Busy,
}

/// Hashes and verifies passwords; cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    /// Hashes running at once.
    permits: Arc<Semaphore>,
    /// Hashes running or waiting; `try_acquire` failing means the queue is full.
    slots: Arc<Semaphore>,
    /// A hash of a random password, verified for unknown accounts so they take as long as known ones.
    dummy: Arc<OnceCell<String>>,
}

impl PasswordHasher {
    /// `concurrency` hashes at once, and at most `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            slots: Arc::new(Semaphore::new(concurrency + queue)),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `password` with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_owned();
        self.run(move || {
            let hash: PasswordHash =
                Argon2::default().hash_password(password.as_bytes()).map_err(|e| HashError::Hash(e.to_string()))?;
            Ok(hash.to_string())
        })
        .await
    }

    /// Whether `password` matches `stored`. With `None` (unknown account, or no password set) a dummy
    /// hash is verified instead and the answer is `false`, so timing does not tell the cases apart.
    /// A legacy authify-api digest is checked too, with the dummy argon2 hash verified beside it for
    /// the same timing; [`needs_rehash`] then tells the caller to store an argon2id hash.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        match stored {
            Some(legacy) if legacy_digest::is_legacy(legacy) => {
                let legacy_ok = legacy_digest::verify_legacy(password, legacy);
                let dummy = self.dummy_hash().await?.clone();
                self.verify_phc(password, dummy).await?;
                Ok(legacy_ok)
            }
            Some(phc) => self.verify_phc(password, phc.to_owned()).await,
            None => {
                let dummy = self.dummy_hash().await?.clone();
                self.verify_phc(password, dummy).await?;
                Ok(false)
            }
        }
    }

    async fn verify_phc(&self, password: &str, phc: String) -> Result<bool, HashError> {
        let password = password.to_owned();
        self.run(move || {
            let Ok(parsed) = PasswordHash::new(&phc) else { return Ok(false) };
            Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
    }

    /// Whether a stored digest should be replaced by a fresh argon2id hash after a successful login.
    pub fn needs_rehash(stored: &str) -> bool {
        legacy_digest::is_legacy(stored)
    }

    /// Computes the dummy hash ahead of the first unknown-account login.
    pub async fn warm_up(&self) -> Result<(), HashError> {
        self.dummy_hash().await.map(|_| ())
    }

    async fn dummy_hash(&self) -> Result<&String, HashError> {
        self.dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 32];
                getrandom::fill(&mut random).map_err(|e| HashError::Hash(e.to_string()))?;
                self.hash(&String::from_utf8_lossy(&random)).await
            })
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _slot = self.slots.try_acquire().map_err(|_| HashError::Busy)?;
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Closed)?;
        tokio::task::spawn_blocking(work).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(2, 4);
        let phc = hasher.hash("correct horse").await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("correct horse", Some(&phc)).await.expect("verify"));
        assert!(!hasher.verify("wrong horse", Some(&phc)).await.expect("verify"));
        assert!(!hasher.verify("correct horse", None).await.expect("verify"));
        assert!(!hasher.verify("x", Some("not a phc string")).await.expect("verify"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_instead_of_waiting() {
        let hasher = PasswordHasher::new(1, 1);
        let phc = hasher.hash("password").await.expect("hash");
        let checks: Vec<_> = (0..6)
            .map(|_| {
                let (hasher, phc) = (hasher.clone(), phc.clone());
                tokio::spawn(async move { hasher.verify("password", Some(&phc)).await })
            })
            .collect();
        let mut busy = 0;
        for check in checks {
            match check.await.expect("task") {
                Ok(matched) => assert!(matched),
                Err(HashError::Busy) => busy += 1,
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert!(busy >= 1, "six checks cannot all fit one running and one waiting");
    }
}
