//! Passkeys (WebAuthn, through webauthn-rs): registration by a signed-in user, passwordless
//! sign-in with a discoverable credential, and a passkey as the second factor after a password.
//! Every ceremony's state stays in the database ([`challenges`]) and is taken once.

pub mod challenges;
pub mod register;
pub mod relying_party;
pub mod second_factor;
pub mod sign_in;

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{CredentialID, Passkey};

use crate::crypto::secret;
use crate::error::Error;
use crate::store::passkeys::StoredPasskey;

/// The `amr` of a session opened with a passkey (RFC 8176: a hardware-bound key, user verified).
pub const PASSKEY_AMR: &str = "hwk user";

/// The hex SHA-256 of a credential id: how a credential is found.
pub fn credential_hash(id: &[u8]) -> String {
    secret::hex(&Sha256::digest(id))
}

/// The webauthn-rs credential a row holds.
pub fn credential_of(row: &StoredPasskey) -> Result<Passkey, Error> {
    serde_json::from_str(&row.passkey).map_err(Error::internal)
}

/// The ids of a user's credentials (excluded from a new registration, allowed in a second factor).
pub fn credential_ids(rows: &[StoredPasskey]) -> Result<Vec<CredentialID>, Error> {
    rows.iter().map(|row| credential_of(row).map(|p| p.cred_id().clone())).collect()
}
