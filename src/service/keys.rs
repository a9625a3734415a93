//! The shared key store's use cases (issue 25, docs/key-lifecycle.md): importing the configured
//! key files at first start, building the keyring from the stored keys, performing the lifecycle
//! steps that are due, and the rotations `authify keys rotate` asks for. The rules are
//! `crypto::lifecycle`; the conditional writes that let one instance perform each step are in
//! `store::signing_keys`.

use std::sync::Arc;

use crate::config::Settings;
use crate::crypto::keyfile::{self, KeyPair};
use crate::crypto::lifecycle::{self, KeyRecord, KeyState, Policy, Step};
use crate::crypto::rotation::KeySet;
use crate::crypto::sealed::SealingKey;
use crate::crypto::stored_key::{self, SealedPair};
use crate::crypto::{Algorithm, Keyring, RotatedPair};
use crate::store::signing_keys::{EmergencyError, NewSigningKey, SigningKeyRow};
use crate::store::{Store, StoreError};

/// Why the key store cannot be used; each text is one line naming the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error(
        "{setting}: {key} does not open the signing keys in the database (they were sealed with another \
         key-encryption key); use the same key on every instance"
    )]
    WrongKek { setting: &'static str, key: String },
    #[error("AUTHIFY_DB_URL: the key store: {0}")]
    Store(#[from] StoreError),
    #[error("AUTHIFY_DB_URL: the key store holds no signing key; start `authify serve` once to import the key files")]
    Empty,
    #[error("AUTHIFY_DB_URL: the key store holds a key that cannot be used: {0}")]
    Unusable(String),
    #[error("AUTHIFY_KEY_STORE: a rotation is in progress: {kid} signs from {signs_at}; rotate again after that")]
    InProgress { kid: String, signs_at: String },
    #[error("AUTHIFY_KEY_STORE: {0}")]
    Emergency(#[from] EmergencyError),
    #[error(transparent)]
    Generate(#[from] keyfile::KeyError),
}

/// A step this instance performed (the others found it done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Performed {
    pub step: Step,
    /// The key a scheduled rotation added.
    pub added: Option<String>,
}

/// The key store as one instance (or the command line) uses it.
#[derive(Clone)]
pub struct KeyStore {
    pub store: Store,
    pub kek: Arc<SealingKey>,
    pub settings: Arc<Settings>,
}

impl KeyStore {
    pub fn policy(&self) -> Policy {
        Policy {
            period: self.settings.key_rotation_period(),
            publish_delay: i64::from(self.settings.key_rotation_delay),
            token_lifetime: self.settings.token_lifetime(),
        }
    }

    /// The error for a key-encryption key that opens no stored key, naming where it came from.
    fn wrong_kek(&self) -> KeyStoreError {
        match self.settings.key_encryption_key {
            Some(_) => KeyStoreError::WrongKek { setting: "AUTHIFY_KEY_ENCRYPTION_KEY", key: "the key".into() },
            None => KeyStoreError::WrongKek {
                setting: "AUTHIFY_KEY_ENCRYPTION_KEY_PATH",
                key: self.settings.key_encryption_key_file().display().to_string(),
            },
        }
    }

    /// Whether the store holds no key yet (the files are then imported).
    pub async fn is_empty(&self) -> Result<bool, KeyStoreError> {
        Ok(self.store.signing_keys().await?.is_empty())
    }

    /// Imports the configured pairs (the current one signing; a file rotation's next and previous
    /// pairs with their times) when the store holds no key; false when it held some, or another
    /// instance imported first.
    pub async fn import_files(&self, files: &KeySet, now: i64) -> Result<bool, KeyStoreError> {
        if !self.is_empty().await? {
            return Ok(false);
        }
        let mut keys = vec![self.new_key(1, &files.current, KeyState::Signing, "file", now)?];
        keys[0].signing_since = Some(now);
        if let Some((pair, signs_at)) = &files.next {
            let mut next = self.new_key(2, pair, KeyState::Next, "file", now)?;
            next.signs_at = Some(*signs_at);
            keys.push(next);
        }
        if let Some((pair, until)) = &files.previous {
            let mut previous = self.new_key(3, pair, KeyState::Verifying, "file", now)?;
            (previous.verifying_since, previous.verifies_until) = (Some(now), Some(*until));
            keys.push(previous);
        }
        Ok(self.store.insert_signing_keys(keys).await?)
    }

    fn new_key(
        &self,
        seq: i64,
        pair: &KeyPair,
        state: KeyState,
        origin: &'static str,
        now: i64,
    ) -> Result<NewSigningKey, KeyStoreError> {
        let sealed = stored_key::seal(&self.kek, pair).map_err(|_| KeyStoreError::Unusable("sealing failed".into()))?;
        Ok(NewSigningKey {
            seq,
            kid: sealed.kid,
            algorithm: pair.algorithm.name().to_owned(),
            state,
            origin,
            created_at: now,
            signs_at: None,
            signing_since: None,
            verifying_since: None,
            verifies_until: None,
            public_pem: sealed.public_pem,
            sealed_private_key: sealed.sealed_private_key,
        })
    }

    /// The stored keys and their lifecycle records.
    pub async fn load(&self) -> Result<(Vec<SigningKeyRow>, Vec<KeyRecord>), KeyStoreError> {
        let rows = self.store.signing_keys().await?;
        let records = rows.iter().map(record).collect::<Result<_, _>>()?;
        Ok((rows, records))
    }

    /// The keyring of the stored keys and when their next step falls due. Every key that is not
    /// retired is opened, so a wrong key-encryption key fails here.
    pub fn keyring(
        &self,
        rows: &[SigningKeyRow],
        records: &[KeyRecord],
    ) -> Result<(Keyring, Option<i64>), KeyStoreError> {
        let plan = lifecycle::plan(records).ok_or(KeyStoreError::Empty)?;
        let open = |kid: &str| -> Result<KeyPair, KeyStoreError> {
            let row = rows.iter().find(|r| r.kid == kid).ok_or(KeyStoreError::Empty)?;
            stored_key::open(&self.kek, &sealed(row)?).map_err(|_| self.wrong_kek())
        };
        let current = open(&plan.current.kid)?;
        let next = plan.next.map(|(r, at)| Ok::<_, KeyStoreError>((open(&r.kid)?, at))).transpose()?;
        let previous: Vec<(KeyPair, i64)> =
            plan.previous.iter().map(|(r, until)| Ok((open(&r.kid)?, *until))).collect::<Result<_, KeyStoreError>>()?;
        let token_lifetime = self.settings.token_lifetime();
        let mut rotated: Vec<RotatedPair<'_>> =
            previous.iter().map(|(pair, until)| RotatedPair::Previous { pair, verifies_until: *until }).collect();
        if let Some((pair, signs_from)) = &next {
            rotated.push(RotatedPair::Next { pair, signs_from: *signs_from, token_lifetime });
        }
        let keyring = Keyring::rotating(&current, &rotated).map_err(|e| KeyStoreError::Unusable(e.to_string()))?;
        Ok((keyring, lifecycle::next_step_at(records, &self.policy())))
    }

    /// Performs the steps due at `now`; answers those this instance performed.
    pub async fn perform_due(&self, records: &[KeyRecord], now: i64) -> Result<Vec<Performed>, KeyStoreError> {
        let mut performed = Vec::new();
        for step in lifecycle::due_steps(records, &self.policy(), now) {
            let (done, added) = match &step {
                Step::Promote { kid, at, old_verifies_until } => {
                    (self.store.promote_signing_key(kid, *at, *old_verifies_until).await?, None)
                }
                Step::Retire { kid, at } => (self.store.retire_verifying_key(kid, *at).await?, None),
                Step::Schedule { seq, signs_at } => {
                    let pair = keyfile::generate_pair(self.settings.jwt_algorithm)?;
                    let mut key = self.new_key(*seq, &pair, KeyState::Next, "generated", now)?;
                    key.signs_at = Some(*signs_at);
                    let kid = key.kid.clone();
                    (self.store.insert_signing_keys(vec![key]).await?, Some(kid))
                }
            };
            if done {
                performed.push(Performed { step, added });
            }
        }
        Ok(performed)
    }

    /// `authify keys rotate`: a new key, published at once by every instance (within
    /// AUTHIFY_KEY_POLL_MS) and signing AUTHIFY_KEY_ROTATION_DELAY from `now`. Answers its kid and
    /// that time.
    pub async fn rotate(&self, now: i64) -> Result<(String, i64), KeyStoreError> {
        let (_, records) = self.load().await?;
        if lifecycle::plan(&records).is_none() {
            return Err(KeyStoreError::Empty);
        }
        if let Some(next) = records.iter().find(|r| r.state == KeyState::Next) {
            let signs_at = next.signs_at.unwrap_or_default();
            return Err(KeyStoreError::InProgress { kid: next.kid.clone(), signs_at: timestamp(signs_at) });
        }
        let signs_at = now.saturating_add(i64::from(self.settings.key_rotation_delay));
        let pair = keyfile::generate_pair(self.settings.jwt_algorithm)?;
        let mut key = self.new_key(next_seq(&records), &pair, KeyState::Next, "generated", now)?;
        key.signs_at = Some(signs_at);
        let kid = key.kid.clone();
        if !self.store.insert_signing_keys(vec![key]).await? {
            return Err(EmergencyError::Raced.into());
        }
        Ok((kid, signs_at))
    }

    /// `authify keys rotate --now [--retire <kid>]`: a new key signs at once; `retire` stops
    /// verifying at once (within AUTHIFY_KEY_POLL_MS on every instance). Answers the new kid.
    pub async fn rotate_now(&self, retire: Option<&str>, now: i64) -> Result<String, KeyStoreError> {
        let (_, records) = self.load().await?;
        let pair = keyfile::generate_pair(self.settings.jwt_algorithm)?;
        let mut key = self.new_key(next_seq(&records), &pair, KeyState::Signing, "generated", now)?;
        key.signing_since = Some(now);
        let kid = key.kid.clone();
        let old_until = now.saturating_add(self.settings.token_lifetime());
        self.store.emergency_rotation(key, retire, now, old_until).await?;
        Ok(kid)
    }
}

fn next_seq(records: &[KeyRecord]) -> i64 {
    records.iter().map(|r| r.seq).max().unwrap_or(0) + 1
}

fn record(row: &SigningKeyRow) -> Result<KeyRecord, KeyStoreError> {
    let state = KeyState::parse(&row.state)
        .ok_or_else(|| KeyStoreError::Unusable(format!("{} has the unknown state `{}`", row.kid, row.state)))?;
    Ok(KeyRecord {
        seq: row.seq,
        kid: row.kid.clone(),
        state,
        signs_at: row.signs_at,
        signing_since: row.signing_since,
        verifies_until: row.verifies_until,
    })
}

fn sealed(row: &SigningKeyRow) -> Result<SealedPair, KeyStoreError> {
    let algorithm: Algorithm =
        row.algorithm.parse().map_err(|e| KeyStoreError::Unusable(format!("{}: {e}", row.kid)))?;
    Ok(SealedPair {
        kid: row.kid.clone(),
        algorithm,
        public_pem: row.public_pem.clone(),
        sealed_private_key: row.sealed_private_key.clone(),
    })
}

/// RFC 3339, as `keys list` shows times.
pub fn timestamp(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(|| unix.to_string(), |t| t.to_rfc3339())
}
