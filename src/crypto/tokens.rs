//! Random identifiers and secrets, from rand's thread-local CSPRNG (ChaCha12, seeded from the OS
//! and reseeded as it goes): a token id or a refresh token costs no system call.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

/// `count` random bytes.
pub fn random_bytes(count: usize) -> Vec<u8> {
    let mut buf = vec![0u8; count];
    rand::rng().fill_bytes(&mut buf);
    buf
}
