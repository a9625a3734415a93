//! Key-store settings: where the signing keys live and how they rotate (issue 25,
//! docs/key-lifecycle.md). The fields are [`Settings`]' own (top-level, so a bad value's error
//! names its setting); their rules are here.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings};

/// Where the signing keys live (AUTHIFY_KEY_STORE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStore {
    /// The PEM files at AUTHIFY_PRIVKEY_PATH / AUTHIFY_PUBKEY_PATH, as authify-api (the default).
    Files,
    /// The `signing_keys` table, shared by every instance; the files are imported at first start.
    Database,
}

impl Settings {
    /// Whether the keys live in the database: AUTHIFY_KEY_STORE=database, or a scheduled rotation.
    pub fn shared_keys(&self) -> bool {
        self.key_store == KeyStore::Database || self.key_rotation_days > 0
    }

    /// The scheduled rotation period in seconds, when there is one.
    pub fn key_rotation_period(&self) -> Option<i64> {
        (self.key_rotation_days > 0).then(|| i64::from(self.key_rotation_days) * 86_400)
    }

    pub(super) fn validate_keys(&self) -> Result<(), ConfigError> {
        if self.key_poll_ms == 0 {
            return Err(ConfigError::new("AUTHIFY_KEY_POLL_MS", "must be at least 1"));
        }
        let least = u64::from(self.jwks_max_age) + 60;
        if self.shared_keys() && u64::from(self.key_rotation_delay) < least {
            return Err(ConfigError::new(
                "AUTHIFY_KEY_ROTATION_DELAY",
                format!(
                    "must be at least AUTHIFY_JWKS_MAX_AGE + 60 = {least} seconds with shared keys, so that \
                     clients caching the JWKS have a new key before it signs"
                ),
            ));
        }
        Ok(())
    }
}
