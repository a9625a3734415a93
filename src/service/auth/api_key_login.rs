//! Logging in with an API key: a token for the owner of an access key, when the secret is its secret.
//!
//! Key secrets carry 256 random bits, so they are checked with SHA-256 in constant time, never with
//! argon2: a machine client may ask for a token every few seconds. Checked keys are kept in the
//! [`CredentialCache`](crate::runtime::credential_cache::CredentialCache) so most logins need no database.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::Auth;
use super::issue_token::{IssuedToken, TokenSubject, scopes_of, sign_token};
use super::login::check_standing;
use crate::crypto::secret::{self, StoredMatch};
use crate::domain::ApiKeyId;
use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::runtime::credential_cache::CheckedKey;
use crate::runtime::request_context::RequestMeta;
use crate::service::directory::api_keys::key_scopes;
use crate::store::api_keys::ApiKey;
use crate::store::users::User;

/// Signs a token for the owner of `access_key` when `secret` is its secret. Unknown, expired or
/// deleted keys, wrong secrets and owners who may not log in all get the same 401; a disabled owner
/// gets 403 after a correct secret, as with passwords. The token's scopes are the key's scopes that
/// the owner holds now.
#[tracing::instrument(skip_all)]
pub async fn api_key_login(
    auth: &Auth,
    access_key: &str,
    secret: &str,
    inject: Option<Map<String, Value>>,
    request: &RequestMeta,
) -> Result<IssuedToken, Error> {
    let result = check_key_and_issue(auth, access_key, secret, inject).await;
    let mut event = AuditEvent::during(request, Actor::ApiKey(access_key.to_owned()), "login.apikey")
        .detail(audit::outcome(&result));
    if let Ok((_, owner)) = &result {
        event = event.target(format!("users:{owner}"));
    }
    auth.audit().record(event).await;
    result.map(|(issued, _)| issued)
}

/// The token and the owner's id.
async fn check_key_and_issue(
    auth: &Auth,
    access_key: &str,
    secret: &str,
    inject: Option<Map<String, Value>>,
) -> Result<(IssuedToken, i64), Error> {
    let now = auth.now();
    // Read before loading: a change committed while we load leaves the entry already stale.
    let epoch = auth.directory.epoch();
    if let Some(cached) = auth.directory.credentials.get(access_key, epoch, now) {
        check_secret(secret, Some(&cached.key))?;
        check_expiry(&cached.key, now)?;
        // Deleted through another instance: its revocation arrives with the poll, before the TTL.
        if auth.tokens.revocations.is_api_key_revoked(cached.key.id) {
            return Err(Error::InvalidCredentials);
        }
        return Ok((issue(auth, &cached, now, inject)?, cached.owner.id));
    }
    let key = auth.store().api_key_by_access_key(access_key).await?;
    let matched = check_secret(secret, key.as_ref())?;
    let mut key = key.ok_or(Error::InvalidCredentials)?;
    check_expiry(&key, now)?;
    let owner = auth.store().user_by_id(key.user_id).await?.ok_or(Error::InvalidCredentials)?;
    check_standing(auth, &owner)?;
    let scopes = narrowed_scopes(&key, &owner);
    if scopes.is_empty() {
        // The owner holds none of the key's scopes any more (an admin-only key of a demoted admin).
        return Err(Error::InvalidCredentials);
    }
    // Only a login that succeeds replaces an imported digest.
    if matched == StoredMatch::Legacy {
        upgrade_secret(auth, &mut key, secret).await;
    }
    let organizations = auth.store().organization_claims(owner.id).await?;
    let checked = Arc::new(CheckedKey::new(key, owner, organizations, scopes, epoch, now));
    auth.directory.credentials.insert(checked.clone(), now);
    Ok((issue(auth, &checked, now, inject)?, checked.owner.id))
}

/// How the secret matched; a wrong secret, imported or not, is the same 401 (and counts the same
/// against the rate limits, which run before this).
fn check_secret(secret: &str, key: Option<&ApiKey>) -> Result<StoredMatch, Error> {
    match secret::check_stored(secret, key.map(|k| k.secret_hash.as_str())) {
        StoredMatch::No => Err(Error::InvalidCredentials),
        matched => Ok(matched),
    }
}

/// Replaces the key's imported authify-api digest with Authify's hash of the secret just checked
/// (`secret_hash` only). A failed write keeps the imported digest, which still works next time.
async fn upgrade_secret(auth: &Auth, key: &mut ApiKey, secret: &str) {
    let current = secret::hash_secret(secret);
    match auth.store().upgrade_api_key_secret(key.id, &key.secret_hash, &current).await {
        Ok(_) => key.secret_hash = current,
        Err(err) => tracing::warn!(error = %err, key = key.id, "could not replace the imported secret digest"),
    }
}

fn check_expiry(key: &ApiKey, now: i64) -> Result<(), Error> {
    match key.expires_at {
        Some(at) if at <= now => Err(Error::InvalidCredentials),
        _ => Ok(()),
    }
}

/// The owner's scopes that the key also names, in the owner's order.
fn narrowed_scopes(key: &ApiKey, owner: &User) -> Vec<String> {
    let granted = key_scopes(key);
    scopes_of(owner).into_iter().filter(|s| granted.contains(s)).collect()
}

fn issue(
    auth: &Auth,
    checked: &CheckedKey,
    now: i64,
    inject: Option<Map<String, Value>>,
) -> Result<IssuedToken, Error> {
    if checked.claim_touch(now) {
        // Off the response path: the token does not depend on it, and a failure only loses a timestamp.
        let store = auth.store().clone();
        let id = checked.key.id;
        tokio::spawn(async move {
            if let Err(err) = store.touch_api_key(id, now).await {
                tracing::warn!(error = %err, key = id, "could not record the API key's last use");
            }
        });
    }
    let subject = TokenSubject {
        user: &checked.owner,
        organizations: &checked.organizations,
        scopes: &checked.scopes,
        actor: None,
        session: None,
        api_key: Some(ApiKeyId(checked.key.id)),
        amr: None,
    };
    sign_token(&auth.tokens, &subject, inject)
}
