//! `DELETE /users/:id/sessions`: ends every session of a user (refresh-token families and browser
//! sessions; their JWTs go on the revocation list). The user themselves and admins may.

use super::kind::{Cx, ResourceKind};
use super::users::Users;
use crate::error::Error;
use crate::service::revoke;

/// Ends the user's sessions; how many there were. 404 when the caller cannot see the user.
pub async fn end_all(cx: &Cx<'_>, user_id: i64) -> Result<usize, Error> {
    Users.show(cx, user_id).await?;
    if !cx.caller.is_self_or_admin(user_id) {
        return Err(Error::forbidden("Only the user and admins end a user's sessions"));
    }
    revoke::end_all_sessions(cx.state, user_id, None).await
}
