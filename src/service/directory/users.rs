//! Creating users and changing their standing and profile; the API and the command line run the
//! same functions (the command line builds the same handles, without keys). Anyone signed in lists
//! and reads users; admins create them; a user edits their own profile, admins everything; the
//! user themselves and admins delete them (and end their sessions: `end_sessions`).

use crate::crypto::password::PasswordHasher;
use crate::runtime::request_context::RequestMeta;

use super::Directory;
use crate::domain::{Email, FullName, Handle, InvalidValue, Password, Submitted};
use crate::error::Error;
use crate::runtime::request_context;
use crate::service::account::Account;
use crate::service::account::email_change;
use crate::service::auth::access::Caller;
use crate::service::auth::revoke;
use crate::service::auth::{Auth, Sessions};
use crate::store::Store;
use crate::store::listing::{ListParams, Page};
use crate::store::users::{NewUser, User, UserChanges};

/// What an admin asks for, through the API or the command line (`authify user create`).
#[derive(Debug, Clone)]
pub struct NewUserRequest {
    pub email: Submitted<Email>,
    pub password: Option<Submitted<Password>>,
    pub handle: Option<Submitted<Handle>>,
    pub full_name: Option<String>,
    pub admin: bool,
    pub verified: bool,
}

/// Creates a user as an admin asked (password optional: without one the user cannot log in with a
/// password until they reset it). A taken email or handle is refused by the unique indexes.
pub async fn create_user(
    directory: &Directory,
    hasher: &PasswordHasher,
    request: NewUserRequest,
) -> Result<User, Error> {
    let email = request.email.into_value()?;
    let handle = match request.handle {
        Some(handle) => handle.into_value()?,
        None => free_handle(&directory.store, &Handle::derive_from(&email)).await?,
    };
    let password_digest = match request.password {
        Some(password) => Some(hasher.hash(password.into_value()?.expose()).await?),
        None => None,
    };
    let full_name = request.full_name.map(|n| FullName::parse(&n, "full-name")).transpose()?.flatten();
    let new = NewUser {
        email: email.as_str().to_owned(),
        handle: handle.as_str().to_owned(),
        full_name: full_name.map(FullName::into_inner),
        password_digest,
        admin: request.admin,
        verified: request.verified,
        now: directory.now(),
    };
    Ok(directory.store.insert_user(new).await?)
}

/// The user, whoever asks; `NotFound` when there is none.
pub async fn load(directory: &Directory, id: i64) -> Result<User, Error> {
    directory.store.user_by_id(id).await?.ok_or(Error::NotFound)
}

/// `GET /users`: one page, for anyone signed in (what they see of each is the renderer's
/// business: [`Caller::is_self_or_admin`]).
pub async fn list(directory: &Directory, params: &ListParams) -> Result<Page<User>, Error> {
    Ok(directory.store.list_users(params).await?)
}

/// `POST /users`: [`create_user`], for admins only.
pub async fn create(
    directory: &Directory,
    hasher: &PasswordHasher,
    caller: &Caller,
    request: NewUserRequest,
) -> Result<User, Error> {
    if !caller.is_admin() {
        return Err(Error::forbidden("Only admins create users"));
    }
    create_user(directory, hasher, request).await
}

/// The user with this email (the command line names users by email).
pub async fn user_by_email(directory: &Directory, email: &Email) -> Result<User, Error> {
    directory.store.user_by_email(email.as_str()).await?.ok_or(Error::NotFound)
}

/// `base`, or `base` with the first numeric suffix that is free.
pub(crate) async fn free_handle(store: &Store, base: &Handle) -> Result<Handle, Error> {
    if !store.handle_taken(base.as_str()).await? {
        return Ok(base.clone());
    }
    for n in 2..1000 {
        let candidate = base.with_suffix(n);
        if !store.handle_taken(candidate.as_str()).await? {
            return Ok(candidate);
        }
    }
    Err(Error::Taken { field: "handle" })
}

/// Grants or takes away global admin rights. Tokens from this instance reflect it at once (API keys
/// cached in memory are reloaded). `NotFound` when there is no such user.
pub async fn set_admin(directory: &Directory, user_id: i64, admin: bool) -> Result<User, Error> {
    let user = directory.store.set_user_admin(user_id, admin, directory.now()).await?.ok_or(Error::NotFound)?;
    directory.changed();
    Ok(user)
}

/// Disables or re-enables an account; like [`set_admin`], effective at once on this instance.
/// Disabling shuts the user out: every session and token ends; how many sessions ended.
pub async fn set_disabled(
    directory: &Directory,
    sessions: &Sessions,
    user_id: i64,
    disabled: bool,
) -> Result<(User, usize), Error> {
    let user = directory.store.set_user_disabled(user_id, disabled, directory.now()).await?.ok_or(Error::NotFound)?;
    directory.changed();
    let ended = match disabled {
        true => revoke::shut_out_user(sessions, user_id).await?,
        false => 0,
    };
    Ok((user, ended))
}

/// Deletes a user (themselves, or any user for an admin): every token they hold is refused first,
/// then the row goes, and with it their sessions, keys, memberships and identities.
pub async fn delete_user(directory: &Directory, sessions: &Sessions, caller: &Caller, id: i64) -> Result<(), Error> {
    load(directory, id).await?;
    if !caller.is_self_or_admin(id) {
        return Err(Error::forbidden("Only the user and admins delete a user"));
    }
    revoke::shut_out_user(sessions, id).await?;
    directory.store.delete_user(id).await?;
    directory.changed();
    Ok(())
}

/// A change to a user as a {json:api} PATCH asks for it; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub email: Option<Option<Submitted<Email>>>,
    pub handle: Option<Option<Submitted<Handle>>>,
    pub full_name: Option<Option<String>>,
    pub admin: Option<bool>,
    pub verified: Option<bool>,
    pub disabled: Option<bool>,
}

/// `PATCH /users/{id}`: the user edits their name, handle and email (a new email waits for
/// confirmation through a mail); admins edit everything, and an admin's email change applies at
/// once. Only the columns asked for are written; disabling ends every session.
pub async fn update_user(
    account: &Account,
    caller: &Caller,
    id: i64,
    update: UserUpdate,
    request: &RequestMeta,
) -> Result<User, Error> {
    let user = account.store().user_by_id(id).await?.ok_or(Error::NotFound)?;
    let admin = caller.is_admin();
    if !admin && !caller.is_user(id) {
        return Err(Error::forbidden("Only the user and admins change a user"));
    }
    for (restricted, asked) in [
        ("admin", update.admin.is_some()),
        ("verified", update.verified.is_some()),
        ("disabled", update.disabled.is_some()),
    ] {
        if asked && !admin {
            return Err(Error::forbidden(format!("Only admins change {restricted}")));
        }
    }
    let mut changes =
        UserChanges { admin: update.admin, verified: update.verified, disabled: update.disabled, ..Default::default() };
    let mut pending_email = None;
    if let Some(email) = update.email.flatten() {
        let email = email.into_value()?;
        if email.as_str() != user.email {
            match admin {
                true => changes.email = Some(email.as_str().to_owned()),
                // Stays pending until confirmed through the mail (POST /registration/verify).
                false => pending_email = Some(email),
            }
        }
    }
    if let Some(handle) = update.handle {
        let handle = handle.ok_or_else(|| InvalidValue::new("handle", "must not be null"))?;
        changes.handle = Some(handle.into_value()?.as_str().to_owned());
    }
    if let Some(full_name) = update.full_name {
        let parsed = full_name.map(|n| FullName::parse(&n, "full-name")).transpose()?.flatten();
        changes.full_name = Some(parsed.map(FullName::into_inner));
    }
    // The confirmation mail first: refused (address taken, mail limits), nothing is written.
    if let Some(email) = &pending_email {
        email_change::request_email_change(account, &user, email, request.client_ip).await?;
    }
    let owned = account.auth.clone();
    request_context::run_to_completion(async move { save_user_changes(&owned, id, changes).await }).await
}

/// Writes `changes` and what follows from them; never stops between the two.
async fn save_user_changes(auth: &Auth, id: i64, changes: UserChanges) -> Result<User, Error> {
    let saved = auth.store().update_user_fields(id, &changes, auth.now()).await?.ok_or(Error::NotFound)?;
    auth.directory.changed();
    if changes.disabled == Some(true) {
        // Disabling ends every session and token (SPEC §5), so enabling the account revives none.
        revoke::shut_out_user(&auth.sessions, id).await?;
    }
    Ok(saved)
}
