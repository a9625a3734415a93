//! Registering a passkey (`/me/passkeys/register/start|finish`): a discoverable credential with
//! user verification, for the signed-in user, excluding the credentials they already have.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential, Uuid};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::challenges::{self, Purpose};
use super::{credential_hash, credential_ids};
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::store::StoreError;
use crate::store::passkeys::{NewPasskey, StoredPasskey};
use crate::store::users::User;

/// Passkeys one account may hold.
pub const MAX_PER_USER: usize = 20;

/// Longest passkey name (the column's size).
const MAX_NAME_CHARS: usize = 255;

/// A registration in progress: webauthn-rs's state and the user handle it was started with.
#[derive(Serialize, Deserialize)]
struct Pending {
    user_handle: Uuid,
    state: PasskeyRegistration,
}

/// Starts a registration: the `PublicKeyCredentialCreationOptions` (as `{"publicKey": …}`) for
/// `navigator.credentials.create`. A new start replaces a pending one.
pub async fn start(auth: &Auth, user: &User) -> Result<Value, Error> {
    let rp = auth.passkeys.get()?;
    let existing = auth.store().passkeys_of_user(user.id).await?;
    if existing.len() >= MAX_PER_USER {
        return Err(Error::Conflict(format!("An account holds at most {MAX_PER_USER} passkeys; delete one first")));
    }
    // Every passkey of an account carries one user handle, so an authenticator keeps one per account.
    let user_handle = match existing.first() {
        Some(row) => Uuid::parse_str(&row.user_handle).map_err(Error::internal)?,
        None => Uuid::new_v4(),
    };
    let display_name = user.full_name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&user.email);
    let exclude = Some(credential_ids(&existing)?).filter(|ids| !ids.is_empty());
    let (mut options, state) = rp
        .start_passkey_registration(user_handle, &user.email, display_name, exclude)
        .map_err(|e| Error::internal(anyhow::anyhow!("starting a passkey registration: {e}")))?;
    // A discoverable credential: signing in then needs no email.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    challenges::put(auth, Purpose::Register, Some(user.id), &Pending { user_handle, state }).await?;
    serde_json::to_value(options).map_err(Error::internal)
}

/// Finishes the pending registration with the browser's `PublicKeyCredential` and stores the
/// passkey under `name`. The pending registration is used up whatever the outcome.
pub async fn finish(
    auth: &Auth,
    user: &User,
    name: Option<String>,
    credential: Value,
    request: &RequestMeta,
) -> Result<StoredPasskey, Error> {
    let rp = auth.passkeys.get()?;
    let name = checked_name(name)?;
    let credential: RegisterPublicKeyCredential = serde_json::from_value(credential)
        .map_err(|e| InvalidValue::new("credential", format!("is not a PublicKeyCredential: {e}")))?;
    let pending: Pending = challenges::take(auth, Purpose::Register, None, Some(user.id))
        .await?
        .ok_or_else(|| Error::Conflict("No passkey registration to finish; start one first".into()))?;
    let passkey = rp
        .finish_passkey_registration(&credential, &pending.state)
        .map_err(|e| InvalidValue::new("credential", format!("was refused: {e}")))?;
    let new = NewPasskey {
        user_id: user.id,
        name,
        credential_hash: credential_hash(passkey.cred_id()),
        user_handle: pending.user_handle.to_string(),
        passkey: serde_json::to_string(&passkey).map_err(Error::internal)?,
        counter: 0,
        backup_eligible: false,
        backup_state: false,
        now: auth.now(),
    };
    let stored = match auth.store().insert_passkey(new).await {
        Err(StoreError::Taken { .. }) => return Err(Error::Conflict("This passkey is already registered".into())),
        other => other?,
    };
    let event = AuditEvent::during(request, Actor::User(user.id), "passkey.register")
        .target(format!("users:{}", user.id))
        .detail(serde_json::json!({"passkey": stored.id, "name": stored.name}));
    auth.audit().record(event).await;
    Ok(stored)
}

/// A name trimmed, blank as none, at most [`MAX_NAME_CHARS`].
pub fn checked_name(name: Option<String>) -> Result<Option<String>, Error> {
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(InvalidValue::new("name", format!("must be at most {MAX_NAME_CHARS} characters")).into());
    }
    Ok(name)
}
