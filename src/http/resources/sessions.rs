//! `DELETE /users/:id/sessions[?revoke_api_keys=true]`: ends every session of a user (refresh-token
//! families, browser sessions, single-token sessions; their JWTs go on the revocation list) and,
//! when asked, deletes every API key of the user too. The user themselves and admins may.

use super::kind::{Cx, ResourceKind};
use super::users::Users;
use crate::error::Error;
use crate::service::auth::revoke;
use crate::service::directory::api_keys;

/// What ending a user's sessions ended.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    pub sessions: usize,
    pub api_keys: usize,
}

/// `revoke_api_keys=true|false`, the one query parameter of the route (default false).
pub fn revoke_api_keys(query: Option<&str>) -> Result<bool, Error> {
    let mut revoke = false;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("revoke_api_keys", "true") => revoke = true,
            ("revoke_api_keys", "false") => revoke = false,
            ("revoke_api_keys", _) => return Err(Error::bad_parameter("revoke_api_keys", "must be true or false")),
            (other, _) => return Err(Error::bad_parameter(other, "is not a supported query parameter")),
        }
    }
    Ok(revoke)
}

/// Ends the user's sessions (and API keys when asked). 404 when the caller cannot see the user.
pub async fn end_all(cx: &Cx<'_>, user_id: i64, revoke_keys: bool) -> Result<Ended, Error> {
    Users.show(cx, user_id).await?;
    if !cx.caller.is_self_or_admin(user_id) {
        return Err(Error::forbidden("Only the user and admins end a user's sessions"));
    }
    let sessions = revoke::end_all_sessions(cx.state.sessions(), user_id, None).await?;
    let api_keys = match revoke_keys {
        true => api_keys::delete_all_api_keys(&cx.state.directory, cx.state.sessions(), user_id).await?,
        false => 0,
    };
    Ok(Ended { sessions, api_keys })
}
