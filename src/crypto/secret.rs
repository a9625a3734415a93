//! High-entropy secrets (API-key and delegate secrets, refresh and email tokens): generated from the
//! OS CSPRNG, stored only as their SHA-256 and compared in constant time. They carry at least 128
//! random bits, so a slow password hash would add cost without adding safety.

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

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
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
}
