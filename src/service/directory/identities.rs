//! A user's logins at other services. Only trusted delegates (and, later, the external-login flow)
//! attach them, so an ordinary user can never claim someone else's external account; delegates and
//! admins list them; the owner, admins and delegates read them; the owner and admins delete them.
//! Logging in with one is `service::auth::identity_login`.

use std::convert::Infallible;

use super::{Directory, SentText, required_text};
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::service::auth::access::Caller;
use crate::service::auth::delegate_auth::scopes_of_delegate;
use crate::service::auth::external::PROVIDER_PREFIX;
use crate::service::auth::issue_token::ADMIN_ACCESS;
use crate::store::identities::Identity;
use crate::store::listing::{ListParams, Page};
use crate::store::users::User;

const MAX_PROVIDER_BYTES: usize = 64;
const MAX_UID_BYTES: usize = 255;

/// The owner, admins and delegates read an identity.
fn may_read(caller: &Caller, identity: &Identity) -> bool {
    caller.is_self_or_admin(identity.user_id) || caller.is_delegate()
}

async fn load_visible(directory: &Directory, caller: &Caller, id: i64) -> Result<Identity, Error> {
    let identity = directory.store.identity_by_id(id).await?.ok_or(Error::NotFound)?;
    if may_read(caller, &identity) { Ok(identity) } else { Err(Error::NotFound) }
}

/// `GET /identities`: for admins and delegates.
pub async fn list(directory: &Directory, caller: &Caller, params: &ListParams) -> Result<Page<Identity>, Error> {
    if !caller.is_admin() && !caller.is_delegate() {
        return Err(Error::forbidden("Only admins and delegates list identities; users see /users/{id}/identities"));
    }
    Ok(directory.store.list_identities(params).await?)
}

/// An identity the caller may read.
pub async fn show(directory: &Directory, caller: &Caller, id: i64) -> Result<Identity, Error> {
    load_visible(directory, caller, id).await
}

/// A user's identities (`/users/{id}/identities`): for the user, admins and delegates.
pub async fn of_user(directory: &Directory, caller: &Caller, user_id: i64) -> Result<Vec<Identity>, Error> {
    let user = super::users::load(directory, user_id).await?;
    if !caller.is_self_or_admin(user.id) && !caller.is_delegate() {
        return Err(Error::forbidden("Only the user, admins and delegates see a user's identities"));
    }
    Ok(directory.store.identities_of_user(user.id).await?)
}

/// Links an identity to the user named by `linked_user` (the ids the request linked, when it
/// linked any), else to the user the delegate acts for; only a trusted delegate may.
pub async fn link(
    directory: &Directory,
    caller: &Caller,
    linked_user: Option<&[i64]>,
    provider: SentText,
    uid: SentText,
) -> Result<Identity, Error> {
    let Some(delegate) = &caller.delegate else {
        return Err(Error::forbidden("Identities are attached only by trusted delegates"));
    };
    let user_id = match (linked_user, caller.user_id()) {
        (Some([id]), _) => *id,
        (None, Some(id)) => id,
        _ => return Err(Error::bad_document("/data/relationships/user", "is required: the user to link")),
    };
    let user = super::users::load(directory, user_id).await?;
    // An identity login never carries more than the delegate's scopes; linking an admin is
    // still refused to a delegate that is no admin itself, so it cannot even try.
    if user.admin && !scopes_of_delegate(delegate).iter().any(|s| s == ADMIN_ACCESS) {
        return Err(Error::forbidden("A delegate without admin_access cannot link an identity to an admin"));
    }
    let provider = required_text("provider", provider, MAX_PROVIDER_BYTES)?;
    if provider.starts_with(PROVIDER_PREFIX) {
        return Err(InvalidValue::new("provider", "`oidc:` names identities proven by a configured provider").into());
    }
    let uid = required_text("uid", uid, MAX_UID_BYTES)?;
    let now = directory.now();
    Ok(directory.store.insert_identity(user_id, Some(delegate.id), &provider, &uid, now).await?)
}

/// Identities are never changed (delete and link again); `NotFound` first when the caller may
/// not see this one.
pub async fn update(directory: &Directory, caller: &Caller, id: i64) -> Result<Infallible, Error> {
    load_visible(directory, caller, id).await?;
    Err(Error::forbidden("Identities cannot be changed; delete and link again"))
}

/// Unlinks an identity; for its owner and admins. The owner cannot remove the last way they sign
/// in (an external provider's identity when they have no password and no other such identity).
pub async fn delete(directory: &Directory, caller: &Caller, id: i64) -> Result<(), Error> {
    let identity = load_visible(directory, caller, id).await?;
    if !caller.is_self_or_admin(identity.user_id) {
        return Err(Error::forbidden("Only the owner and admins remove an identity"));
    }
    if !caller.is_admin() && identity.provider.starts_with(PROVIDER_PREFIX) {
        let owner = super::users::load(directory, identity.user_id).await?;
        let others = directory.store.identities_of_user(owner.id).await?;
        let other_ways = others.iter().filter(|i| i.id != id && i.provider.starts_with(PROVIDER_PREFIX)).count();
        if owner.password_digest.is_none() && other_ways == 0 {
            return Err(Error::Conflict(
                "This identity is the account's only way to sign in; set a password first".into(),
            ));
        }
    }
    directory.store.delete_identity(id).await?;
    Ok(())
}

/// The user an identity the caller may see belongs to.
pub async fn owner(directory: &Directory, caller: &Caller, id: i64) -> Result<User, Error> {
    let identity = load_visible(directory, caller, id).await?;
    super::users::load(directory, identity.user_id).await
}
