//! Keys, JWT signing and verification, password hashing. Nothing here is hand-rolled: ECDSA comes
//! from OpenSSL (through josekit) or RustCrypto, argon2id from the `argon2` crate.

mod algorithm;
pub mod hash_workers;
pub mod jwt;
pub mod keyfile;
mod keyring;
pub mod legacy_digest;
pub mod password;
pub mod sealed;
pub mod secret;
mod signer;
pub mod tokens;

pub use algorithm::Algorithm;
pub use keyring::Keyring;
