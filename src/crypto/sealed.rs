//! Secrets the service must read back (TOTP secrets, and the shared signing keys' private keys) are
//! sealed with AES-256-GCM (the RustCrypto `aes-gcm` crate) under a key kept in a file beside the
//! signing key, so a copy of the database alone does not give an attacker anyone's second factor
//! or a signing key.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::tokens::random_bytes;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// Why the sealing key cannot be used; names the setting.
#[derive(Debug, thiserror::Error)]
pub enum SealingKeyError {
    #[error("{setting}: cannot read or write {path}: {source}")]
    Io { setting: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{setting}: {path} does not hold a base64 256-bit key")]
    Malformed { setting: &'static str, path: PathBuf },
    /// A key given in the environment (AUTHIFY_KEY_ENCRYPTION_KEY) that is not one.
    #[error("{setting}: not a base64 256-bit key")]
    MalformedValue { setting: &'static str },
}

/// A sealed value could not be opened (wrong key, or tampered with).
#[derive(Debug, thiserror::Error)]
#[error("a sealed secret could not be opened (wrong AUTHIFY_TOTP_KEY_PATH key or damaged data)")]
pub struct OpenError;

/// The AEAD key.
pub struct SealingKey {
    cipher: Aes256Gcm,
}

impl SealingKey {
    /// Reads the key file, generating it (mode 0600, never overwriting) when missing.
    pub fn load_or_generate(path: &Path) -> Result<(Self, bool), SealingKeyError> {
        Self::load_or_generate_for(path, "AUTHIFY_TOTP_KEY_PATH")
    }

    /// As [`SealingKey::load_or_generate`], for the key of `setting` (named by its errors).
    pub fn load_or_generate_for(path: &Path, setting: &'static str) -> Result<(Self, bool), SealingKeyError> {
        let io = |source| SealingKeyError::Io { setting, path: path.into(), source };
        let mut generated = false;
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
            }
            match fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
                Ok(mut file) => {
                    file.write_all(STANDARD.encode(random_bytes(KEY_LEN)).as_bytes()).map_err(io)?;
                    file.sync_all().map_err(io)?;
                    generated = true;
                }
                // Another process created it meanwhile: use theirs.
                Err(err) if err.kind() == ErrorKind::AlreadyExists => {}
                Err(err) => return Err(io(err)),
            }
        }
        let text = fs::read_to_string(path).map_err(io)?;
        let key = Self::from_base64(&text).ok_or_else(|| SealingKeyError::Malformed { setting, path: path.into() })?;
        Ok((key, generated))
    }

    /// The key written as base64 (as in the key file); none when it is not 256 bits.
    pub fn from_base64(text: &str) -> Option<Self> {
        let bytes = STANDARD.decode(text.trim()).ok()?;
        Some(Self { cipher: Aes256Gcm::new_from_slice(&bytes).ok()? })
    }

    /// Encrypts `plain`, bound to `context` (for example the user id, so a sealed value cannot be
    /// moved to another row): base64 of nonce ‖ ciphertext.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> Result<String, OpenError> {
        let nonce_bytes = random_bytes(NONCE_LEN);
        let nonce = Nonce::try_from(nonce_bytes.as_slice()).map_err(|_| OpenError)?;
        let sealed = self.cipher.encrypt(&nonce, Payload { msg: plain, aad: context }).map_err(|_| OpenError)?;
        let mut out = nonce_bytes;
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts what [`SealingKey::seal`] made with the same `context`.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, OpenError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| OpenError)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| OpenError)?;
        self.cipher.decrypt(&nonce, Payload { msg: ciphertext, aad: context }).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k/totp.key");
        let (key, generated) = SealingKey::load_or_generate(&path).expect("key");
        assert!(generated);
        let sealed = key.seal(b"secret", b"7").expect("seal");
        assert_eq!(key.open(&sealed, b"7").expect("open"), b"secret");
        assert!(key.open(&sealed, b"8").is_err());
        let (again, generated) = SealingKey::load_or_generate(&path).expect("key");
        assert!(!generated);
        assert_eq!(again.open(&sealed, b"7").expect("open"), b"secret");
    }
}
