//! Ceremonies in progress: webauthn-rs's state, serialized into `passkey_challenges` at a
//! ceremony's start and taken (deleted) once by its finish, within [`CEREMONY_SECONDS`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::relying_party::CEREMONY_SECONDS;
use crate::crypto::secret;
use crate::error::Error;
use crate::service::auth::Auth;
use crate::store::passkeys::NewChallenge;

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SignIn,
    SecondFactor,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "login",
            Purpose::SecondFactor => "second-factor",
        }
    }
}

/// Stores a ceremony's state and answers the id the client finishes it with. A registration
/// replaces the user's earlier one (one at a time per user).
pub async fn put(auth: &Auth, purpose: Purpose, user_id: Option<i64>, state: &impl Serialize) -> Result<String, Error> {
    let challenge_id = secret::random_hex(32);
    let now = auth.now();
    let new = NewChallenge {
        challenge_hash: secret::hash_secret(&challenge_id),
        purpose: purpose.name(),
        user_id,
        state: serde_json::to_string(state).map_err(Error::internal)?,
        now,
        expires_at: now + CEREMONY_SECONDS,
        replaces: purpose == Purpose::Register,
    };
    auth.store().put_passkey_challenge(new).await?;
    Ok(challenge_id)
}

/// Takes a live ceremony once: by its id, or (a registration) by its user. `None` when it is
/// unknown, expired, already taken, or for another purpose or user.
pub async fn take<T: DeserializeOwned>(
    auth: &Auth,
    purpose: Purpose,
    challenge_id: Option<&str>,
    user_id: Option<i64>,
) -> Result<Option<T>, Error> {
    let hash = challenge_id.map(secret::hash_secret);
    let taken = auth.store().take_passkey_challenge(purpose.name(), hash.as_deref(), user_id, auth.now()).await?;
    match taken {
        Some(row) => Ok(Some(serde_json::from_str(&row.state).map_err(Error::internal)?)),
        None => Ok(None),
    }
}
