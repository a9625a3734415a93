//! `POST /me/password`: a signed-in user replaces the password, proving the current one. The
//! check counts towards the account's lockout like a login (a stolen token must not become a way
//! to guess the password), and every other session of the user ends.

use crate::domain::Password;
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context;
use crate::runtime::request_context::RequestMeta;
use crate::service::account::lockout;
use crate::service::auth::Auth;
use crate::service::auth::revoke;
use crate::store::users::User;

/// Changes `user`'s password; `current_session` (the caller's own) stays signed in. Runs to
/// completion even when the client goes away (the lockout reservation is always settled).
pub async fn change_password(
    auth: &Auth,
    user: &User,
    current_session: Option<i64>,
    current_password: &str,
    new_password: Password,
    request: &RequestMeta,
) -> Result<(), Error> {
    let (auth, user, current_password, request) =
        (auth.clone(), user.clone(), current_password.to_owned(), request.clone());
    request_context::run_to_completion(async move {
        change(&auth, &user, current_session, &current_password, new_password, &request).await
    })
    .await
}

async fn change(
    auth: &Auth,
    user: &User,
    current_session: Option<i64>,
    current_password: &str,
    new_password: Password,
    request: &RequestMeta,
) -> Result<(), Error> {
    let proven = lockout::prove_password(auth, user, current_password, "current_password").await;
    let event =
        AuditEvent::during(request, Actor::User(user.id), "users.password-change").target(format!("users:{}", user.id));
    if let Err(err) = proven {
        if matches!(err, Error::Invalid(_)) {
            let detail = serde_json::json!({"outcome": "failure", "reason": "wrong current password"});
            auth.audit().record(event.detail(detail)).await;
        }
        return Err(err);
    }
    let digest = auth.hasher.hash(new_password.expose()).await?;
    let now = auth.now();
    if let Some(session) = current_session {
        auth.store().confirm_session_password(session, now).await?;
    }
    auth.store().change_password(user.id, &digest, now).await?.ok_or(Error::NotFound)?;
    auth.directory.changed();
    let ended = revoke::end_all_sessions(&auth.sessions, user.id, current_session).await?;
    let detail = serde_json::json!({"outcome": "success", "sessions_ended": ended});
    auth.audit().record(event.detail(detail)).await;
    Ok(())
}
