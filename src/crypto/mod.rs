//! Keys, JWT signing and verification, password hashing. Nothing here is hand-rolled: josekit
//! assembles and parses the JWS, ECDSA comes from ring, RustCrypto or OpenSSL (through josekit),
//! whichever is fastest per algorithm, argon2id from the `argon2` crate.

mod algorithm;
pub mod hash_workers;
pub mod jwt;
#[cfg(test)]
mod jwt_proptests;
pub mod keyfile;
mod keyring;
pub mod keyring_cell;
pub mod legacy_digest;
pub mod lifecycle;
pub mod password;
mod remembered;
pub mod rotation;
pub mod sealed;
pub mod secret;
mod signer;
pub mod stored_key;
pub mod tokens;
mod verifier;

pub use algorithm::Algorithm;
pub use keyring::{Keyring, RotatedPair, kid_of};
