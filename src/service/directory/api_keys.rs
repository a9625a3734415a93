//! API keys of a user: creation (within the scopes of the credential asking), renaming, deletion
//! (which revokes the key's tokens). A user creates keys for themselves; the owner and admins read,
//! rename and delete them, and to anyone else a key does not exist; only admins list every key.
//! Logging in with a key is `service::auth::api_key_login`.

use super::{Directory, SentText};
use crate::crypto::secret;
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::service::auth::Sessions;
use crate::service::auth::access::Caller;
use crate::service::auth::issue_token::scopes_of;
use crate::store::StoreError;
use crate::store::api_keys::{ApiKey, NewApiKey};
use crate::store::listing::{ListParams, Page};
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
    directory: &Directory,
    owner: &User,
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<i64>,
) -> Result<CreatedApiKey, Error> {
    create_api_key_within(directory, owner, &scopes_of(owner), name, scopes, expires_at).await
}

/// Creates a key for `owner` whose scopes stay within `held`: the scopes of the credential asking
/// (a key limited to `user_access` cannot mint a key with `admin_access`, even for an admin).
pub async fn create_api_key_within(
    directory: &Directory,
    owner: &User,
    held: &[String],
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<i64>,
) -> Result<CreatedApiKey, Error> {
    let now = directory.now();
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
        match directory.store.insert_api_key(new).await {
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
pub async fn delete_api_key(directory: &Directory, sessions: &Sessions, id: i64) -> Result<bool, Error> {
    let now = directory.now();
    let settings = &sessions.settings;
    let until = now + i64::from(settings.credential_cache_seconds) + settings.token_lifetime();
    let deleted = directory.store.delete_api_key(id, until, now).await?;
    if deleted {
        sessions.revocations.revoke_api_key(id, until);
        directory.changed();
    }
    Ok(deleted)
}

/// Deletes every key of a user (a reset or "end every session" that asked for it); how many.
pub async fn delete_all_api_keys(directory: &Directory, sessions: &Sessions, user_id: i64) -> Result<usize, Error> {
    let mut deleted = 0;
    for key in directory.store.api_keys_of_user(user_id).await? {
        if delete_api_key(directory, sessions, key.id).await? {
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// The scopes stored with a key.
pub fn key_scopes(key: &ApiKey) -> Vec<String> {
    key.scopes.split_whitespace().map(str::to_owned).collect()
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

/// Renames a key (a blank name clears it).
async fn rename_api_key(directory: &Directory, key: ApiKey, name: Option<String>) -> Result<ApiKey, Error> {
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(InvalidValue::new("name", format!("must be at most {MAX_NAME_CHARS} characters")).into());
    }
    Ok(directory.store.rename_api_key(key, name).await?)
}

/// The key, when the caller owns it or is an admin; `NotFound` otherwise.
async fn load_visible(directory: &Directory, caller: &Caller, id: i64) -> Result<ApiKey, Error> {
    let key = directory.store.api_key_by_id(id).await?.ok_or(Error::NotFound)?;
    if caller.is_self_or_admin(key.user_id) { Ok(key) } else { Err(Error::NotFound) }
}

/// `GET /apikeys`: every key, for admins only.
pub async fn list(directory: &Directory, caller: &Caller, params: &ListParams) -> Result<Page<ApiKey>, Error> {
    if !caller.is_admin() {
        return Err(Error::forbidden("Only admins list every key; users see /users/{id}/apikeys"));
    }
    Ok(directory.store.list_api_keys(params).await?)
}

/// A key the caller owns, or any key for an admin.
pub async fn show(directory: &Directory, caller: &Caller, id: i64) -> Result<ApiKey, Error> {
    load_visible(directory, caller, id).await
}

/// A user's keys (`/users/{id}/apikeys`): for the user and admins.
pub async fn of_user(directory: &Directory, caller: &Caller, user_id: i64) -> Result<Vec<ApiKey>, Error> {
    let user = super::users::load(directory, user_id).await?;
    if !caller.is_self_or_admin(user.id) {
        return Err(Error::forbidden("Only the user and admins see a user's API keys"));
    }
    Ok(directory.store.api_keys_of_user(user.id).await?)
}

/// A key for the calling user, within the scopes of the credential they called with.
pub async fn create(
    directory: &Directory,
    caller: &Caller,
    name: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<i64>,
) -> Result<CreatedApiKey, Error> {
    let owner = caller.require_user()?;
    create_api_key_within(directory, owner, caller.scopes(), name, scopes, expires_at).await
}

/// Renames a key the caller may see; an absent name keeps it.
pub async fn update(directory: &Directory, caller: &Caller, id: i64, name: SentText) -> Result<ApiKey, Error> {
    let key = load_visible(directory, caller, id).await?;
    let name = name.unwrap_or_else(|| key.name.clone());
    rename_api_key(directory, key, name).await
}

/// Deletes a key the caller may see (see [`delete_api_key`]).
pub async fn delete(directory: &Directory, sessions: &Sessions, caller: &Caller, id: i64) -> Result<(), Error> {
    load_visible(directory, caller, id).await?;
    delete_api_key(directory, sessions, id).await?;
    Ok(())
}

/// The owner of a key the caller may see.
pub async fn owner(directory: &Directory, caller: &Caller, id: i64) -> Result<User, Error> {
    let key = load_visible(directory, caller, id).await?;
    super::users::load(directory, key.user_id).await
}
