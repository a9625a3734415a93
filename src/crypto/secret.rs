//! High-entropy secrets (API-key and delegate secrets, refresh and email tokens): generated from a
//! CSPRNG (`crypto::tokens`: rand's, seeded from the OS), stored only as their SHA-256 and
//! compared in constant time. They carry at least 128 random bits, so a slow password hash would
//! add cost without adding safety.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    hex(&super::tokens::random_bytes(bytes))
}

/// The stored form of a secret: hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` hashes to `stored`, compared in constant time.
pub fn secret_matches(secret: &str, stored: &str) -> bool {
    hash_secret(secret).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// Whether `secret` matches the stored hash of a credential that may not exist: with `None` (an
/// unknown access key) a hash is still computed and compared, so both failures cost the same.
pub fn secret_matches_stored(secret: &str, stored: Option<&str>) -> bool {
    const NO_SUCH_SECRET: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    secret_matches(secret, stored.unwrap_or(NO_SUCH_SECRET)) && stored.is_some()
}

/// How a presented secret compared with what is stored for its credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredMatch {
    /// No credential, or not its secret.
    No,
    /// Matches Authify's own hash.
    Current,
    /// Matches a digest imported from authify-api (`super::legacy_digest`): the caller replaces it
    /// with [`hash_secret`] now that the secret is known.
    Legacy,
}

/// [`secret_matches_stored`] that also accepts an imported authify-api digest (API keys and trusted
/// delegates moved by `authify import authify-api`), also compared in constant time. Which form is
/// stored follows from its length (64 hex characters against 144), which says nothing of the secret.
pub fn check_stored(secret: &str, stored: Option<&str>) -> StoredMatch {
    match stored {
        Some(stored) if super::legacy_digest::is_legacy(stored) => {
            match super::legacy_digest::verify_legacy(secret, stored) {
                true => StoredMatch::Legacy,
                false => StoredMatch::No,
            }
        }
        stored => match secret_matches_stored(secret, stored) {
            true => StoredMatch::Current,
            false => StoredMatch::No,
        },
    }
}

/// Lowercase hex of `bytes`, encoded in constant time (base16ct): what is hexed here is secret.
pub fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_only_its_own_hash() {
        let secret = random_hex(32);
        assert_eq!(secret.len(), 64);
        let stored = hash_secret(&secret);
        assert!(secret_matches(&secret, &stored));
        assert!(!secret_matches(&random_hex(32), &stored));
        assert!(!secret_matches("", &stored));
        // The SHA-256 of "abc" from FIPS 180-2.
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn an_imported_digest_matches_only_its_secret_and_says_so() {
        // `printf '%s' 'b@d!dea1234567890123456' | sha512sum`, then the salt (authify-api's format).
        let legacy = "2811ec9689e8fbfd8769066424209b2143ce7d4839b5d76755cb0c09fc79fa05\
                      be3af560378b430b2fb4977f872be6475a0e550d53e021104205f262abeb4ed61234567890123456";
        assert_eq!(check_stored("b@d!dea", Some(legacy)), StoredMatch::Legacy);
        assert_eq!(check_stored("b@d!deA", Some(legacy)), StoredMatch::No);
        let current = hash_secret("abc");
        assert_eq!(check_stored("abc", Some(&current)), StoredMatch::Current);
        assert_eq!(check_stored("abd", Some(&current)), StoredMatch::No);
        assert_eq!(check_stored("abc", None), StoredMatch::No);
    }
}
