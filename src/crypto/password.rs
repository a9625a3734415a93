//! argon2id password hashing (OWASP parameters: m=12288 KiB, t=3, p=1) on a fixed set of hashing
//! threads ([`HashWorkers`]), so a login flood can neither exhaust memory (12 MiB a running check)
//! nor the async threads. Checks wait for a hashing thread at most a set time and the queue is
//! bounded: past either, the caller is told to come back (503). A refusal is given when that wait
//! would have ended, not at once, so a client that retries immediately cannot turn refusals into a
//! flood that takes the CPU from the hashes; and the logins that are served stay within the wait
//! plus one hash.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::hash_workers::{HashMemory, HashWorkers, Refusal};
use super::legacy_digest;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing stopped before the check ran to the end")]
    Lost,
    /// The check could not get a hashing thread in time; the caller should retry shortly.
    #[error("too many password checks are waiting")]
    Busy,
}

/// Hashes and verifies passwords; cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    workers: HashWorkers,
    /// How long a check may wait for a hashing thread; `None` waits as long as it takes.
    wait_limit: Option<Duration>,
    /// A hash of a random password, verified for unknown accounts so they take as long as known ones.
    dummy: Arc<OnceCell<String>>,
}

impl PasswordHasher {
    /// `concurrency` hashing threads, and at most `queue` more checks waiting, for as long as it takes.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        Self { workers: HashWorkers::new(concurrency, queue), wait_limit: None, dummy: Arc::new(OnceCell::new()) }
    }

    /// Refuses a check that has not got a hashing thread within `limit` (`None`: waits as long as it
    /// takes).
    pub fn with_wait_limit(mut self, limit: Option<Duration>) -> Self {
        self.wait_limit = limit;
        self
    }

    /// Refuses, when its wait would end, a check that would find the queue full, before the caller
    /// spends anything on it (a flood's excess logins then cost no database read).
    pub async fn admit(&self) -> Result<(), HashError> {
        Ok(self.workers.admit(self.refuse_at()).await?)
    }

    /// A PHC string (`$argon2id$v=19$m=12288,t=3,p=1$…`) for `password` with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_owned();
        self.run(move |memory| {
            let failed = |e: &dyn std::fmt::Display| HashError::Hash(e.to_string());
            let params = current_params();
            let salt = Salt::generate();
            let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
                .hash_password_into_with_memory(
                    password.as_bytes(),
                    &salt,
                    &mut output,
                    memory.blocks(params.block_count()),
                )
                .map_err(|e| failed(&e))?;
            let hash = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
                salt: Some(salt),
                hash: Some(Output::new(&output).map_err(|e| failed(&e))?),
            };
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
        self.run(move |memory| Ok(phc_matches(password.as_bytes(), &phc, memory))).await
    }

    /// Whether a stored digest should be replaced by a fresh hash after a successful login: a legacy
    /// authify-api digest, or an argon2 hash of another variant, version or parameters.
    pub fn needs_rehash(stored: &str) -> bool {
        if legacy_digest::is_legacy(stored) {
            return true;
        }
        let Ok(parsed) = PasswordHash::new(stored) else { return false };
        let current = current_params();
        parsed.algorithm != Algorithm::Argon2id.ident()
            || parsed.version != Some(Version::V0x13.into())
            || Params::try_from(&parsed).map_or(true, |p| {
                (p.m_cost(), p.t_cost(), p.p_cost()) != (current.m_cost(), current.t_cost(), current.p_cost())
            })
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
        check: impl FnOnce(&mut HashMemory) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        self.workers.run(self.refuse_at(), check).await?
    }

    /// When a check arriving now is refused if no hashing thread has taken it.
    fn refuse_at(&self) -> Option<Instant> {
        self.wait_limit.map(|limit| Instant::now() + limit)
    }
}

impl From<Refusal> for HashError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Busy => HashError::Busy,
            Refusal::Lost => HashError::Lost,
        }
    }
}

/// argon2id memory in KiB and passes for new hashes: OWASP's m=12288, t=3, p=1 row, as strong as
/// its m=19456, t=2 row at two thirds of the memory a running check holds.
pub const M_COST: u32 = 12288;
pub const T_COST: u32 = 3;

/// The parameters of new hashes; a stored hash of any others is replaced at the next login.
pub fn current_params() -> Params {
    // Valid values (a unit test checks the hashes carry them), so the default is never used.
    Params::new(M_COST, T_COST, 1, None).unwrap_or(Params::DEFAULT)
}

/// Whether `password` hashes to the PHC string `phc` (any argon2 variant and parameters), compared in
/// constant time; a string that does not parse matches nothing.
fn phc_matches(password: &[u8], phc: &str, memory: &mut HashMemory) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm.as_str()), Params::try_from(&parsed))
    else {
        return false;
    };
    let Ok(version) = parsed.version.map(Version::try_from).transpose() else { return false };
    let mut computed = [0u8; Output::MAX_LENGTH];
    let computed = &mut computed[..expected.len()];
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    argon2.hash_password_into_with_memory(password, salt, computed, memory.blocks(params.block_count())).is_ok()
        && Output::new(computed).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(2, 4);
        let phc = hasher.hash("correct horse").await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "{phc}");
        assert!(!PasswordHasher::needs_rehash(&phc));
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_check_that_cannot_start_within_the_wait_limit_is_refused_when_it_ends() {
        let hasher = PasswordHasher::new(1, 16).with_wait_limit(Some(Duration::from_millis(50)));
        let phc = hasher.hash("password").await.expect("hash");
        let checks: Vec<_> = (0..8)
            .map(|_| {
                let (hasher, phc) = (hasher.clone(), phc.clone());
                tokio::spawn(async move {
                    let started = Instant::now();
                    (hasher.verify("password", Some(&phc)).await, started.elapsed())
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for check in checks {
            outcomes.push(check.await.expect("task"));
        }
        assert!(outcomes.iter().any(|(result, _)| matches!(result, Ok(true))), "{outcomes:?}");
        let refused: Vec<_> = outcomes.iter().filter(|(result, _)| matches!(result, Err(HashError::Busy))).collect();
        assert!(!refused.is_empty(), "eight argon2 checks on one thread take longer than 50 ms: {outcomes:?}");
        assert!(refused.iter().all(|(_, elapsed)| *elapsed >= Duration::from_millis(50)), "{refused:?}");
    }

    #[tokio::test]
    async fn hashes_of_other_argon2_parameters_still_verify() {
        let hasher = PasswordHasher::new(1, 0);
        let small = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::new(64, 3, 1, Some(24)).expect("params"));
        let phc = argon2::PasswordHasher::hash_password(&small, b"old password").expect("hash").to_string();
        assert!(phc.starts_with("$argon2i$v=16$m=64,t=3,p=1$"), "{phc}");
        assert!(hasher.verify("old password", Some(&phc)).await.expect("verify"));
        assert!(!hasher.verify("old passwore", Some(&phc)).await.expect("verify"));
        assert!(PasswordHasher::needs_rehash(&phc));
        let owasp_2023 =
            argon2::PasswordHasher::hash_password(&Argon2::default(), b"old password").expect("hash").to_string();
        assert!(owasp_2023.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{owasp_2023}");
        assert!(PasswordHasher::needs_rehash(&owasp_2023));
        assert!(!PasswordHasher::needs_rehash("not a phc string"));
        let modern = hasher.hash("old password").await.expect("hash");
        assert!(hasher.verify("old password", Some(&modern)).await.expect("verify"), "memory of another size is fine");
    }
}
