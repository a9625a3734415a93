//! Ending every session of a user at once (`DELETE /users/{id}/sessions`), for the user themselves
//! and admins: their refresh-token families, browser sessions and single-token sessions end and
//! their tokens go on the revocation list; when asked, their API keys are deleted too.

use super::{Directory, api_keys, users};
use crate::error::Error;
use crate::service::auth::access::Caller;
use crate::service::auth::{Sessions, revoke};

/// What ending a user's sessions ended.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    pub sessions: usize,
    pub api_keys: usize,
}

/// `DELETE /users/{id}/sessions`: ends every session of the user (refresh-token families, browser
/// sessions, single-token sessions) and, when `revoke_keys`, deletes every API key of theirs too.
/// For the user themselves and admins.
pub async fn end_sessions(
    directory: &Directory,
    sessions: &Sessions,
    caller: &Caller,
    user_id: i64,
    revoke_keys: bool,
) -> Result<Ended, Error> {
    users::load(directory, user_id).await?;
    if !caller.is_self_or_admin(user_id) {
        return Err(Error::forbidden("Only the user and admins end a user's sessions"));
    }
    let ended = revoke::end_all_sessions(sessions, user_id, None).await?;
    let api_keys = match revoke_keys {
        true => api_keys::delete_all_api_keys(directory, sessions, user_id).await?,
        false => 0,
    };
    Ok(Ended { sessions: ended, api_keys })
}
