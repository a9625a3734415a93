//! argon2id password hashing (OWASP parameters: m=19456 KiB, t=2, p=1), off the async threads and
//! behind a semaphore so a login flood queues instead of exhausting memory (about 19 MiB a hash).

use std::sync::Arc;

use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::{OnceCell, Semaphore};

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("password hashing is shutting down")]
    Closed,
}

/// Hashes and verifies passwords; cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified for unknown accounts so they take as long as known ones.
    dummy: Arc<OnceCell<String>>,
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(concurrency.max(1))), dummy: Arc::new(OnceCell::new()) }
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
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let (phc, real) = match stored {
            Some(phc) => (phc.to_owned(), true),
            None => (self.dummy_hash().await?.clone(), false),
        };
        let password = password.to_owned();
        let matches = self
            .run(move || {
                let Ok(parsed) = PasswordHash::new(&phc) else { return Ok(false) };
                Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            })
            .await?;
        Ok(matches && real)
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
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Closed)?;
        tokio::task::spawn_blocking(work).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(2);
        let phc = hasher.hash("correct horse").await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("correct horse", Some(&phc)).await.expect("verify"));
        assert!(!hasher.verify("wrong horse", Some(&phc)).await.expect("verify"));
        assert!(!hasher.verify("correct horse", None).await.expect("verify"));
        assert!(!hasher.verify("x", Some("not a phc string")).await.expect("verify"));
    }
}
