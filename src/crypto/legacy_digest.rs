//! authify-api's digests, accepted once so imported credentials keep working, then replaced at the
//! next successful use: passwords by argon2id, API-key and trusted-delegate secrets by
//! [`super::secret::hash_secret`]. The Ruby service stored all three as
//! `hex(SHA-512(secret + salt)) + salt` with a 16-character salt (authify-core's `salted_sha512`;
//! restated in ../shared/seeds/authify-api-schema.md, "Secrets", from authify-api's models).

use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

const HEX_LEN: usize = 128;
const SALT_LEN: usize = 16;

/// Whether `stored` has the legacy shape (128 hex characters and a 16-character salt).
pub fn is_legacy(stored: &str) -> bool {
    stored.len() == HEX_LEN + SALT_LEN
        && stored.is_char_boundary(HEX_LEN)
        && stored[..HEX_LEN].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `password` (or an API-key or delegate secret) matches a legacy digest, compared in
/// constant time.
pub fn verify_legacy(password: &str, stored: &str) -> bool {
    if !is_legacy(stored) {
        return false;
    }
    let (digest, salt) = stored.split_at(HEX_LEN);
    let mut hasher = Sha512::new();
    hasher.update(password.as_bytes());
    hasher.update(salt.as_bytes());
    let computed = super::secret::hex(&hasher.finalize());
    computed.as_bytes().ct_eq(digest.to_ascii_lowercase().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made the way authify-core does (`sha512(password + salt) + salt`), computed independently with
    /// `printf '%s' 'b@d!dea1234567890123456' | sha512sum`.
    const STORED: &str = "2811ec9689e8fbfd8769066424209b2143ce7d4839b5d76755cb0c09fc79fa05\
                          be3af560378b430b2fb4977f872be6475a0e550d53e021104205f262abeb4ed61234567890123456";

    #[test]
    fn legacy_digests_are_recognised_by_shape() {
        assert!(!is_legacy("$argon2id$v=19$m=19456,t=2,p=1$abc$def"));
        assert!(!is_legacy(""));
        assert!(is_legacy(&format!("{}{}", "a".repeat(128), "1234567890123456")));
    }

    #[test]
    fn a_legacy_digest_verifies_its_password_only() {
        assert!(verify_legacy("b@d!dea", STORED));
        assert!(!verify_legacy("b@d!deA", STORED));
        assert!(!verify_legacy("b@d!dea", &STORED.replace("1234567890123456", "6543210987654321")));
    }
}
