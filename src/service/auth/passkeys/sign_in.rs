//! Passwordless sign-in (`/passkeys/login/start|finish`): a discoverable credential, no email
//! asked. The finish goes through the account's lockout like a password; a counter that went
//! backwards (a cloned authenticator) is refused and audited.

use serde::Serialize;
use serde_json::{Value, json};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PublicKeyCredential, Uuid, WebauthnError,
};

use super::challenges::{self, Purpose};
use super::{credential_hash, credential_of};
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::runtime::request_context::{self, RequestMeta};
use crate::service::account::lockout;
use crate::service::auth::Auth;
use crate::service::auth::login::check_standing;
use crate::store::passkeys::{PasskeyUse, StoredPasskey};
use crate::store::users::User;

/// A ceremony the client finishes with `challenge_id`: the request options for
/// `navigator.credentials.get` (`{"publicKey": …, "mediation": "conditional"}`).
#[derive(Debug, Clone, Serialize)]
pub struct Challenge {
    pub challenge_id: String,
    #[serde(flatten)]
    pub options: Value,
}

/// Starts a passwordless sign-in.
pub async fn start(auth: &Auth) -> Result<Challenge, Error> {
    let (options, state) = auth
        .passkeys
        .get()?
        .start_discoverable_authentication()
        .map_err(|e| Error::internal(anyhow::anyhow!("starting a passkey sign-in: {e}")))?;
    let challenge_id = challenges::put(auth, Purpose::SignIn, None, &state).await?;
    Ok(Challenge { challenge_id, options: serde_json::to_value(options).map_err(Error::internal)? })
}

/// Parses the browser's assertion (`PublicKeyCredential` as JSON); 422 naming `credential`.
pub fn parse_assertion(credential: Value) -> Result<PublicKeyCredential, Error> {
    serde_json::from_value(credential)
        .map_err(|e| InvalidValue::new("credential", format!("is not a PublicKeyCredential: {e}")).into())
}

/// Finishes a passwordless sign-in: the user it proves, audited (`login.passkey`). Runs to
/// completion even when the client goes away, so the lockout it reserves is settled.
pub async fn finish(
    auth: &Auth,
    challenge_id: String,
    credential: PublicKeyCredential,
    request: &RequestMeta,
) -> Result<User, Error> {
    let auth = auth.clone();
    let request = request.clone();
    request_context::run_to_completion(async move {
        let result = check(&auth, &challenge_id, &credential, &request).await;
        let event = match &result {
            Ok(user) => {
                AuditEvent::during(&request, Actor::User(user.id), "login.passkey").target(format!("users:{}", user.id))
            }
            Err(_) => AuditEvent::during(&request, Actor::Anonymous, "login.passkey"),
        };
        auth.audit().record(event.detail(audit::outcome(&result))).await;
        result
    })
    .await
}

async fn check(
    auth: &Auth,
    challenge_id: &str,
    credential: &PublicKeyCredential,
    request: &RequestMeta,
) -> Result<User, Error> {
    let rp = auth.passkeys.get()?;
    let state: DiscoverableAuthentication =
        challenges::take(auth, Purpose::SignIn, Some(challenge_id), None).await?.ok_or(Error::InvalidCredentials)?;
    let row = auth
        .store()
        .passkey_by_credential(&credential_hash(credential.get_credential_id()))
        .await?
        .ok_or(Error::InvalidCredentials)?;
    // The authenticator's user handle, when it sends one, must be the account's.
    if let Some(handle) = credential.get_user_unique_id()
        && handle != uuid_bytes(&row.user_handle).as_slice()
    {
        return Err(Error::InvalidCredentials);
    }
    let user = auth.store().user_by_id(row.user_id).await?.ok_or(Error::InvalidCredentials)?;
    // The per-(client, account) limit and the lockout of a password login, under the same keys.
    let account = lockout::account_key(&user.email);
    lockout::limit_per_client(auth, &account, request).await?;
    let verified = lockout::counted(auth, &account, async {
        let passkey = credential_of(&row)?;
        let result = rp.finish_discoverable_authentication_v2(credential, state, &passkey);
        accept(auth, &user, &row, passkey, result, request).await
    })
    .await;
    verified?;
    check_standing(auth, &user)?;
    Ok(user)
}

/// The 16 bytes of a stored user handle.
fn uuid_bytes(handle: &str) -> Vec<u8> {
    Uuid::parse_str(handle).map(|u| u.as_bytes().to_vec()).unwrap_or_default()
}

/// Stores what a verified assertion changes (counter, backup state), only forwards; a counter that
/// went backwards, here or in a race, is a possibly cloned authenticator: refused and audited.
pub async fn accept(
    auth: &Auth,
    user: &User,
    row: &StoredPasskey,
    mut passkey: Passkey,
    result: Result<AuthenticationResult, WebauthnError>,
    request: &RequestMeta,
) -> Result<(), Error> {
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(WebauthnError::CredentialPossibleCompromise) => return Err(cloned(auth, user, row, request).await),
        Err(err) => {
            tracing::debug!(error = %err, "passkey assertion refused");
            return Err(Error::InvalidCredentials);
        }
    };
    passkey.update_credential(&outcome);
    let stored = serde_json::to_string(&passkey).map_err(Error::internal)?;
    let used = PasskeyUse {
        id: row.id,
        counter: i64::from(outcome.counter()),
        backup_eligible: outcome.backup_eligible(),
        backup_state: outcome.backup_state(),
        passkey: &stored,
        now: auth.now(),
    };
    match auth.store().record_passkey_use(used).await? {
        true => Ok(()),
        false => Err(cloned(auth, user, row, request).await),
    }
}

async fn cloned(auth: &Auth, user: &User, row: &StoredPasskey, request: &RequestMeta) -> Error {
    let event = AuditEvent::during(request, Actor::Anonymous, "passkey.counter-regressed")
        .target(format!("users:{}", user.id))
        .detail(json!({"passkey": row.id, "stored_counter": row.counter}));
    auth.audit().record(event).await;
    Error::InvalidCredentials
}
