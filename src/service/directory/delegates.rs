//! Registering, listing and removing trusted delegates (the command line and the admin API run
//! the same functions). The secret is shown once, in [`CreatedDelegate`]; only its SHA-256 is stored.
//! Through the API only admin users manage them, so a delegate cannot mint other delegates.

use std::convert::Infallible;

use super::Directory;
use crate::crypto::secret::{hash_secret, random_hex};
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::service::auth::access::Caller;
use crate::service::auth::issue_token::{ADMIN_ACCESS, USER_ACCESS};
use crate::service::auth::{Sessions, revoke};
use crate::store::delegates::{Delegate, NewDelegate};
use crate::store::listing::{ListParams, Page};

/// Prefixed so a leaked secret is recognisable (by people and secret scanners) for what it is.
pub const SECRET_PREFIX: &str = "authify_ds_";

const MAX_NAME_CHARS: usize = 64;
const MAX_DESCRIPTION_CHARS: usize = 1024;
const MAX_SCOPE_CHARS: usize = 64;

/// A newly registered delegate and its secret, which exists nowhere else: show it once.
#[derive(Debug, Clone)]
pub struct CreatedDelegate {
    pub delegate: Delegate,
    pub secret: String,
}

/// Registers a delegate with a fresh access key (40 hex chars) and secret (256 random bits).
/// `scopes` defaults to `user_access admin_access`. A taken name is [`Error::Taken`] `{field: "name"}`.
pub async fn create_delegate(
    directory: &Directory,
    name: &str,
    description: Option<String>,
    scopes: Option<Vec<String>>,
) -> Result<CreatedDelegate, Error> {
    check_name(name)?;
    let description = check_description(description)?;
    let scopes = match scopes {
        Some(scopes) => check_scopes(scopes)?,
        None => format!("{USER_ACCESS} {ADMIN_ACCESS}"),
    };
    let secret = format!("{SECRET_PREFIX}{}", random_hex(32));
    let new = NewDelegate {
        name: name.to_owned(),
        description,
        access_key: random_hex(20),
        secret_hash: hash_secret(&secret),
        scopes,
        now: directory.now(),
    };
    // The unique index decides a race between two adds of the same name, so there is no pre-check.
    let delegate = directory.store.insert_delegate(new).await?;
    directory.changed();
    Ok(CreatedDelegate { delegate, secret })
}

/// Removes the delegate called `name` and answers it; [`Error::NotFound`] when there is none.
/// Every token minted through it is refused from now on (see [`revoke::shut_out_delegate`]).
pub async fn remove_delegate(directory: &Directory, sessions: &Sessions, name: &str) -> Result<Delegate, Error> {
    let delegate = directory.store.delegate_by_name(name).await?.ok_or(Error::NotFound)?;
    remove(directory, sessions, delegate).await
}

/// Removes this delegate (see [`remove_delegate`]).
async fn remove(directory: &Directory, sessions: &Sessions, delegate: Delegate) -> Result<Delegate, Error> {
    // A concurrent remove may win between the lookup and the delete; the outcome is the same.
    if !directory.store.delete_delegate(delegate.id).await? {
        return Err(Error::NotFound);
    }
    revoke::shut_out_delegate(sessions, &delegate.name).await?;
    directory.changed();
    Ok(delegate)
}

/// Every delegate, oldest first.
pub async fn list_delegates(directory: &Directory) -> Result<Vec<Delegate>, Error> {
    Ok(directory.store.list_delegates().await?)
}

/// Forbidden unless the caller is an admin person signed in themselves.
fn require_admin_user(caller: &Caller) -> Result<(), Error> {
    if caller.is_admin_user() { Ok(()) } else { Err(Error::forbidden("Only admins manage trusted delegates")) }
}

/// `GET /trusted-delegates`: one page, for admin users.
pub async fn list(directory: &Directory, caller: &Caller, params: &ListParams) -> Result<Page<Delegate>, Error> {
    require_admin_user(caller)?;
    Ok(directory.store.list_delegates_page(params).await?)
}

/// One delegate, for admin users.
pub async fn show(directory: &Directory, caller: &Caller, id: i64) -> Result<Delegate, Error> {
    require_admin_user(caller)?;
    directory.store.delegate_by_id(id).await?.ok_or(Error::NotFound)
}

/// Registers a delegate for an admin user (see [`create_delegate`]).
pub async fn create(
    directory: &Directory,
    caller: &Caller,
    name: &str,
    description: Option<String>,
    scopes: Option<Vec<String>>,
) -> Result<CreatedDelegate, Error> {
    require_admin_user(caller)?;
    create_delegate(directory, name, description, scopes).await
}

/// Delegates are never changed (remove and add again); the read's refusals come first.
pub async fn update(directory: &Directory, caller: &Caller, id: i64) -> Result<Infallible, Error> {
    show(directory, caller, id).await?;
    Err(Error::forbidden("Trusted delegates cannot be changed; remove and add again"))
}

/// Removes a delegate for an admin user (see [`remove_delegate`]).
pub async fn delete(directory: &Directory, sessions: &Sessions, caller: &Caller, id: i64) -> Result<(), Error> {
    let delegate = show(directory, caller, id).await?;
    remove(directory, sessions, delegate).await.map(drop)
}

/// Names appear in tokens (`act.sub = "delegate:<name>"`) and on command lines, so keep them plain.
pub(crate) fn check_name(name: &str) -> Result<(), InvalidValue> {
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > MAX_NAME_CHARS || !plain {
        return Err(InvalidValue::new(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters of letters, digits, '.', '_' or '-'"),
        ));
    }
    Ok(())
}

/// A blank description is no description.
pub(crate) fn check_description(description: Option<String>) -> Result<Option<String>, InvalidValue> {
    let Some(text) = description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(InvalidValue::new("description", format!("must be at most {MAX_DESCRIPTION_CHARS} characters")));
    }
    Ok(Some(text))
}

/// Scopes are stored space-separated, so a name must not contain whitespace; duplicates are dropped.
fn check_scopes(scopes: Vec<String>) -> Result<String, InvalidValue> {
    let mut kept: Vec<String> = Vec::with_capacity(scopes.len());
    for scope in scopes {
        let plain = scope.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'));
        if scope.is_empty() || scope.len() > MAX_SCOPE_CHARS || !plain {
            return Err(InvalidValue::new(
                "scopes",
                format!(
                    "each scope must be 1 to {MAX_SCOPE_CHARS} characters of letters, digits, '.', '_', '-' or ':'"
                ),
            ));
        }
        if !kept.contains(&scope) {
            kept.push(scope);
        }
    }
    if kept.is_empty() {
        return Err(InvalidValue::new("scopes", "must name at least one scope"));
    }
    Ok(kept.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_to_sixty_four_plain_characters() {
        assert!(check_name("ci-bot_1.example").is_ok());
        assert!(check_name(&"a".repeat(64)).is_ok());
        for bad in ["", "has space", "slash/y", "ümlaut", "semi;colon"] {
            assert_eq!(check_name(bad).map_err(|e| e.field), Err("name"), "{bad:?}");
        }
        assert!(check_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn scopes_are_joined_with_spaces_without_duplicates_and_never_empty() {
        let scopes = |s: &[&str]| check_scopes(s.iter().map(|x| (*x).to_owned()).collect());
        assert_eq!(scopes(&["user_access", "user_access", "org:read"]).as_deref(), Ok("user_access org:read"));
        assert!(scopes(&[]).is_err());
        assert!(scopes(&["two words"]).is_err());
        assert!(scopes(&[""]).is_err());
    }

    #[test]
    fn a_blank_description_is_none_and_a_long_one_is_refused() {
        assert_eq!(check_description(Some("  ".into())), Ok(None));
        assert_eq!(check_description(Some(" ci ".into())), Ok(Some("ci".into())));
        assert!(check_description(Some("x".repeat(1025))).is_err());
    }
}
