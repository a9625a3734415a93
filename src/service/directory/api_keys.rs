//! API keys: creation for a user, and token issuance from an access key and its secret.
//!
//! Key secrets carry 256 random bits, so they are checked with SHA-256 in constant time, never with
//! argon2: a machine client may ask for a token every few seconds. Checked keys are kept in the
//! [`CredentialCache`](crate::runtime::credential_cache::CredentialCache) so most logins need no database.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::crypto::secret;
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::runtime::credential_cache::CheckedKey;
use crate::service::auth::issue_token::{IssuedToken, TokenSubject, scopes_of, sign_token};
use crate::service::auth::login::check_standing;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::api_keys::{ApiKey, NewApiKey};
use crate::store::users::User;

/// Prefix of every secret, so secret scanners can recognise a leaked one.
pub const SECRET_PREFIX: &str = "authify_sk_";

/// Longest key name accepted (the column's size).
const MAX_NAME_CHARS: usize = 255;

/// A new key and its secret; the secret is shown once and never stored.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: String,
}

/// Creates a key for `owner`. `scopes` defaults to all of the owner's and may only narrow them;
/// `expires_at` (Unix seconds), when given, must be in the future.
pub async fn create_api_key(
    state: &AppState,
    owner: &User,
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<i64>,
) -> Result<CreatedApiKey, Error> {
    create_api_key_within(state, owner, &scopes_of(owner), name, scopes, expires_at).await
}

/// Creates a key for `owner` whose scopes stay within `held`: the scopes of the credential asking
/// (a key limited to `user_access` cannot mint a key with `admin_access`, even for an admin).
pub async fn create_api_key_within(
    state: &AppState,
    owner: &User,
    held: &[String],
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<i64>,
) -> Result<CreatedApiKey, Error> {
    let now = state.now();
    let held: Vec<String> = scopes_of(owner).into_iter().filter(|s| held.contains(s)).collect();
    let scopes = granted_scopes(&held, scopes)?;
    if expires_at.is_some_and(|at| at <= now) {
        return Err(InvalidValue::new("expires-at", "must be in the future").into());
    }
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(InvalidValue::new("name", format!("must be at most {MAX_NAME_CHARS} characters")).into());
    }
    let secret = format!("{SECRET_PREFIX}{}", secret::random_hex(32));
    let secret_hash = secret::hash_secret(&secret);
    // 80 random bits make a collision all but impossible; retrying costs nothing if one happens.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let new = NewApiKey {
            user_id: owner.id,
            name: name.clone(),
            access_key: secret::random_hex(10),
            secret_hash: secret_hash.clone(),
            scopes: scopes.join(" "),
            expires_at,
            now,
        };
        match state.store.insert_api_key(new).await {
            Err(StoreError::Taken { .. }) if attempts < 3 => continue,
            result => return Ok(CreatedApiKey { key: result?, secret }),
        }
    }
}

/// Deletes a key and revokes every token minted with it (their `akid`): from this moment it no
/// longer logs in and its tokens are refused on this instance; on others sharing the database
/// within AUTHIFY_REVOCATION_POLL_MS (or at the latest AUTHIFY_CREDENTIAL_CACHE_SECONDS, for a
/// key they hold in their credential cache). Whether there was one.
///
/// The `apikey` revocation lasts one token lifetime past the last moment any instance may still
/// mint a token from its cache (the cache TTL), so it outlives every token of the key. Deleting
/// the owner deletes their keys through a foreign key; the `user` revocation covers those tokens.
pub async fn delete_api_key(state: &AppState, id: i64) -> Result<bool, Error> {
    let now = state.now();
    let settings = &state.settings;
    let until = now + i64::from(settings.credential_cache_seconds) + settings.token_lifetime();
    let deleted = state.store.delete_api_key(id, until, now).await?;
    if deleted {
        state.revocations.revoke_api_key(id, until);
        state.directory_changed();
    }
    Ok(deleted)
}

/// Deletes every key of a user (a reset or "end every session" that asked for it); how many.
pub async fn delete_all_api_keys(state: &AppState, user_id: i64) -> Result<usize, Error> {
    let mut deleted = 0;
    for key in state.store.api_keys_of_user(user_id).await? {
        if delete_api_key(state, key.id).await? {
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// The scopes stored with a key.
pub fn key_scopes(key: &ApiKey) -> Vec<String> {
    key.scopes.split_whitespace().map(str::to_owned).collect()
}

/// Signs a token for the owner of `access_key` when `secret` is its secret. Unknown, expired or
/// deleted keys, wrong secrets and owners who may not log in all get the same 401; a disabled owner
/// gets 403 after a correct secret, as with passwords. The token's scopes are the key's scopes that
/// the owner holds now.
#[tracing::instrument(skip_all)]
pub async fn api_key_login(
    state: &AppState,
    access_key: &str,
    secret: &str,
    inject: Option<Map<String, Value>>,
) -> Result<IssuedToken, Error> {
    let result = check_key_and_issue(state, access_key, secret, inject).await;
    let mut event =
        AuditEvent::new(Actor::ApiKey(access_key.to_owned()), "login.apikey").detail(audit::outcome(&result));
    if let Ok((_, owner)) = &result {
        event = event.target(format!("users:{owner}"));
    }
    audit::record(state, event).await;
    result.map(|(issued, _)| issued)
}

/// The token and the owner's id.
async fn check_key_and_issue(
    state: &AppState,
    access_key: &str,
    secret: &str,
    inject: Option<Map<String, Value>>,
) -> Result<(IssuedToken, i64), Error> {
    let now = state.now();
    // Read before loading: a change committed while we load leaves the entry already stale.
    let epoch = state.directory_epoch();
    if let Some(cached) = state.credentials.get(access_key, epoch, now) {
        check_secret(secret, Some(&cached.key))?;
        check_expiry(&cached.key, now)?;
        // Deleted through another instance: its revocation arrives with the poll, before the TTL.
        if state.revocations.is_api_key_revoked(cached.key.id) {
            return Err(Error::InvalidCredentials);
        }
        return Ok((issue(state, &cached, now, inject)?, cached.owner.id));
    }
    let key = state.store.api_key_by_access_key(access_key).await?;
    check_secret(secret, key.as_ref())?;
    let key = key.ok_or(Error::InvalidCredentials)?;
    check_expiry(&key, now)?;
    let owner = state.store.user_by_id(key.user_id).await?.ok_or(Error::InvalidCredentials)?;
    check_standing(state, &owner)?;
    let scopes = narrowed_scopes(&key, &owner);
    if scopes.is_empty() {
        // The owner holds none of the key's scopes any more (an admin-only key of a demoted admin).
        return Err(Error::InvalidCredentials);
    }
    let organizations = state.store.organization_claims(owner.id).await?;
    let checked = Arc::new(CheckedKey::new(key, owner, organizations, scopes, epoch, now));
    state.credentials.insert(checked.clone(), now);
    Ok((issue(state, &checked, now, inject)?, checked.owner.id))
}

fn check_secret(secret: &str, key: Option<&ApiKey>) -> Result<(), Error> {
    match secret::secret_matches_stored(secret, key.map(|k| k.secret_hash.as_str())) {
        true => Ok(()),
        false => Err(Error::InvalidCredentials),
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

/// `requested` checked against `held`, without duplicates; all held scopes when absent.
fn granted_scopes(held: &[String], requested: Option<Vec<String>>) -> Result<Vec<String>, Error> {
    let requested = requested.unwrap_or_else(|| held.to_vec());
    let mut scopes: Vec<String> = Vec::with_capacity(requested.len());
    for scope in requested {
        if !held.contains(&scope) {
            return Err(InvalidValue::new("scopes", format!("`{scope}` is not a scope this credential holds")).into());
        }
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(InvalidValue::new("scopes", "must name at least one scope").into());
    }
    Ok(scopes)
}

fn issue(
    state: &AppState,
    checked: &CheckedKey,
    now: i64,
    inject: Option<Map<String, Value>>,
) -> Result<IssuedToken, Error> {
    if checked.claim_touch(now) {
        // Off the response path: the token does not depend on it, and a failure only loses a timestamp.
        let store = state.store.clone();
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
        api_key: Some(checked.key.id),
    };
    sign_token(state, &subject, inject)
}

/// Renames a key (a blank name clears it).
pub async fn rename_api_key(state: &AppState, key: ApiKey, name: Option<String>) -> Result<ApiKey, Error> {
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(InvalidValue::new("name", format!("must be at most {MAX_NAME_CHARS} characters")).into());
    }
    Ok(state.store.rename_api_key(key, name).await?)
}
