//! A user's passkeys as a {json:api} resource: the owner and admins read, rename and delete them
//! (to anyone else a passkey does not exist); `GET /passkeys` lists the caller's own, or every one
//! for an admin. Registering one is a ceremony (`service::auth::passkeys::register`). A passkey that
//! is the account's last way to sign in (no password, no linked identity) cannot be deleted.

use serde_json::json;

use super::{Directory, SentText};
use crate::error::Error;
use crate::runtime::audit::AuditEvent;
use crate::service::auth::access::Caller;
use crate::service::auth::passkeys::register::checked_name;
use crate::store::listing::{FilterValue, ListParams, Page};
use crate::store::passkeys::StoredPasskey;
use crate::store::users::User;

async fn load_visible(directory: &Directory, caller: &Caller, id: i64) -> Result<StoredPasskey, Error> {
    let passkey = directory.store.passkey_by_id(id).await?.ok_or(Error::NotFound)?;
    if caller.is_self_or_admin(passkey.user_id) { Ok(passkey) } else { Err(Error::NotFound) }
}

/// The caller's own passkeys, or (an admin) every passkey; `filter[user]` narrows an admin's list.
pub async fn list(directory: &Directory, caller: &Caller, params: &ListParams) -> Result<Page<StoredPasskey>, Error> {
    if caller.is_admin() {
        return Ok(directory.store.list_passkeys(params).await?);
    }
    let own = caller.require_user()?.id;
    let mut params = params.clone();
    params.filters.retain(|(column, _)| column != "user_id");
    params.filters.push(("user_id".to_owned(), vec![FilterValue::Int(own)]));
    Ok(directory.store.list_passkeys(&params).await?)
}

/// A user's passkeys, oldest first (their account page).
pub async fn of_user(directory: &Directory, user_id: i64) -> Result<Vec<StoredPasskey>, Error> {
    Ok(directory.store.passkeys_of_user(user_id).await?)
}

pub async fn show(directory: &Directory, caller: &Caller, id: i64) -> Result<StoredPasskey, Error> {
    load_visible(directory, caller, id).await
}

/// Renames a passkey (a blank name clears it; an absent one keeps it).
pub async fn rename(directory: &Directory, caller: &Caller, id: i64, name: SentText) -> Result<StoredPasskey, Error> {
    let passkey = load_visible(directory, caller, id).await?;
    let Some(name) = name else { return Ok(passkey) };
    let name = checked_name(name)?;
    directory.store.rename_passkey(id, name.clone()).await?;
    Ok(StoredPasskey { name, ..passkey })
}

/// Deletes a passkey unless it is the owner's last way to sign in (409).
pub async fn delete(directory: &Directory, caller: &Caller, id: i64) -> Result<(), Error> {
    let passkey = load_visible(directory, caller, id).await?;
    let owner = super::users::load(directory, passkey.user_id).await?;
    if is_last_way_in(directory, &owner).await? {
        return Err(Error::Conflict(
            "This passkey is the account's last way to sign in; set a password or add another passkey first".into(),
        ));
    }
    if directory.store.delete_passkey(id).await? {
        let event = AuditEvent::new(caller.actor(), "passkey.delete")
            .target(format!("users:{}", owner.id))
            .detail(json!({"passkey": id, "name": passkey.name}));
        directory.audit.record(event).await;
    }
    Ok(())
}

/// The owner of a passkey the caller may see.
pub async fn owner(directory: &Directory, caller: &Caller, id: i64) -> Result<User, Error> {
    let passkey = load_visible(directory, caller, id).await?;
    super::users::load(directory, passkey.user_id).await
}

/// Whether `user` could no longer sign in without one more passkey: no password, no linked
/// identity, and only one passkey.
async fn is_last_way_in(directory: &Directory, user: &User) -> Result<bool, Error> {
    if user.password_digest.is_some() || !directory.store.identities_of_user(user.id).await?.is_empty() {
        return Ok(false);
    }
    Ok(directory.store.passkeys_of_user(user.id).await?.len() <= 1)
}
