//! What an admin does to another user's security state: remove their second factor (a lost
//! device), lift their lockout. The command line does the same through `totp::reset` and
//! `lockout::unlock`, without a caller to check.

use crate::error::Error;
use crate::service::account::{lockout, totp};
use crate::service::auth::access::Caller;
use crate::service::directory::Directory;
use crate::store::users::User;

/// Removes the user's second factor and recovery codes; they can enrol again.
pub async fn reset_second_factor(directory: &Directory, caller: &Caller, id: i64) -> Result<User, Error> {
    let user = target_user(directory, caller, id).await?;
    totp::reset(directory, user.id).await?;
    tracing::info!(user_id = user.id, "an admin reset a user's second factor");
    Ok(user)
}

/// Lifts the user's lockout and forgets their failed logins.
pub async fn lift_lockout(directory: &Directory, caller: &Caller, id: i64) -> Result<User, Error> {
    let user = target_user(directory, caller, id).await?;
    lockout::unlock(directory, &user.email).await?;
    tracing::info!(user_id = user.id, "an admin unlocked a user");
    Ok(user)
}

/// The user an admin acts on: 403 for non-admins, 404 for unknown ids.
async fn target_user(directory: &Directory, caller: &Caller, id: i64) -> Result<User, Error> {
    if !caller.is_admin() {
        return Err(Error::forbidden("Only admins may do this"));
    }
    directory.store.user_by_id(id).await?.ok_or(Error::NotFound)
}
