//! A passkey as the second factor after a correct password: the refusal that asks for a second
//! factor carries a ceremony for the account's passkeys ([`offer`]); the login then comes back
//! with the password and the assertion ([`verify`]).

use serde::Deserialize;
use serde_json::Value;
use webauthn_rs::prelude::PasskeyAuthentication;

use super::challenges::{self, Purpose};
use super::sign_in::{Challenge, accept, parse_assertion};
use super::{credential_hash, credential_of};
use crate::error::Error;
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::store::users::User;

/// A passkey assertion sent with a password login: `{"challenge_id", "credential"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Assertion {
    pub challenge_id: String,
    pub credential: Value,
}

/// A ceremony for `user`'s passkeys, when they have any (and passkeys are on).
pub async fn offer(auth: &Auth, user: &User) -> Result<Option<Challenge>, Error> {
    let Ok(rp) = auth.passkeys.get() else { return Ok(None) };
    let rows = auth.store().passkeys_of_user(user.id).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let passkeys = rows.iter().map(credential_of).collect::<Result<Vec<_>, _>>()?;
    let (options, state) = rp
        .start_passkey_authentication(&passkeys)
        .map_err(|e| Error::internal(anyhow::anyhow!("starting a passkey second factor: {e}")))?;
    let challenge_id = challenges::put(auth, Purpose::SecondFactor, Some(user.id), &state).await?;
    Ok(Some(Challenge { challenge_id, options: serde_json::to_value(options).map_err(Error::internal)? }))
}

/// Whether `assertion` proves one of `user`'s passkeys for a ceremony [`offer`]ed to them.
pub async fn verify(auth: &Auth, user: &User, assertion: &Assertion, request: &RequestMeta) -> Result<bool, Error> {
    let rp = auth.passkeys.get()?;
    let Ok(credential) = parse_assertion(assertion.credential.clone()) else { return Ok(false) };
    let taken: Option<PasskeyAuthentication> =
        challenges::take(auth, Purpose::SecondFactor, Some(&assertion.challenge_id), Some(user.id)).await?;
    let Some(state) = taken else { return Ok(false) };
    let row = auth.store().passkey_by_credential(&credential_hash(credential.get_credential_id())).await?;
    let Some(row) = row.filter(|row| row.user_id == user.id) else { return Ok(false) };
    let result = rp.finish_passkey_authentication(&credential, &state);
    match accept(auth, user, &row, credential_of(&row)?, result, request).await {
        Ok(()) => Ok(true),
        Err(Error::InvalidCredentials) => Ok(false),
        Err(other) => Err(other),
    }
}
