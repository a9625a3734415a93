//! `POST /me/password`: a signed-in user replaces the password, proving the current one. The
//! check counts towards the account's lockout like a login (a stolen token must not become a way
//! to guess the password), and every other session of the user ends.

use crate::domain::{InvalidValue, Password};
use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::runtime::request_context;
use crate::service::account::lockout;
use crate::service::auth::revoke;
use crate::state::AppState;
use crate::store::users::User;

/// Changes `user`'s password; `current_session` (the caller's own) stays signed in. Runs to
/// completion even when the client goes away (the lockout reservation is always settled).
pub async fn change_password(
    state: &AppState,
    user: &User,
    current_session: Option<i64>,
    current_password: &str,
    new_password: &str,
) -> Result<(), Error> {
    let new_password = Password::parse(new_password).map_err(|e| InvalidValue::new("new_password", e.problem))?;
    let (state, user, current_password) = (state.clone(), user.clone(), current_password.to_owned());
    request_context::run_to_completion(async move {
        change(&state, &user, current_session, &current_password, new_password).await
    })
    .await
}

async fn change(
    state: &AppState,
    user: &User,
    current_session: Option<i64>,
    current_password: &str,
    new_password: Password,
) -> Result<(), Error> {
    let proven = lockout::prove_password(state, user, current_password, "current_password").await;
    let event = AuditEvent::new(Actor::User(user.id), "users.password-change").target(format!("users:{}", user.id));
    if let Err(err) = proven {
        if matches!(err, Error::Invalid(_)) {
            let detail = serde_json::json!({"outcome": "failure", "reason": "wrong current password"});
            audit::record(state, event.detail(detail)).await;
        }
        return Err(err);
    }
    let digest = state.hasher.hash(new_password.expose()).await?;
    let now = state.now();
    if let Some(session) = current_session {
        state.store.confirm_session_password(session, now).await?;
    }
    state.store.change_password(user.id, &digest, now).await?.ok_or(Error::NotFound)?;
    state.directory_changed();
    let ended = revoke::end_all_sessions(state, user.id, current_session).await?;
    let detail = serde_json::json!({"outcome": "success", "sessions_ended": ended});
    audit::record(state, event.detail(detail)).await;
    Ok(())
}
