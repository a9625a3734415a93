//! Random identifiers and secrets from the OS CSPRNG.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

/// `count` bytes from the OS CSPRNG.
pub fn random_bytes(count: usize) -> Vec<u8> {
    let mut buf = vec![0u8; count];
    // getrandom only fails when the OS has no entropy source at all; there is nothing to fall back to.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("the OS random number generator is unavailable");
    buf
}
