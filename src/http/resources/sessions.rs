//! `DELETE /users/:id/sessions[?revoke_api_keys=true]`: ends every session of a user (refresh-token
//! families, browser sessions, single-token sessions; their JWTs go on the revocation list) and,
//! when asked, deletes every API key of the user too. The user themselves and admins may
//! (`service::directory::end_sessions`).

use super::kind::Cx;
use crate::error::Error;
use crate::service::directory::end_sessions::{Ended, end_sessions};

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
    end_sessions(&cx.state.directory, cx.state.sessions(), cx.caller, user_id, revoke_keys).await
}
