//! The refresh token's text: a prefix people and secret scanners recognise, and 32 random bytes.

use crate::crypto::secret;

/// The prefix of refresh tokens, so secret scanners and people can tell them apart.
pub const REFRESH_TOKEN_PREFIX: &str = "authify_rt_";

/// Whether `presented` could be one of our refresh tokens (checked before any hashing or lookup).
pub fn is_well_formed(presented: &str) -> bool {
    presented.starts_with(REFRESH_TOKEN_PREFIX) && presented.len() <= 128
}

/// A new refresh token.
pub fn new_refresh_token() -> String {
    format!("{REFRESH_TOKEN_PREFIX}{}", secret::random_hex(32))
}
