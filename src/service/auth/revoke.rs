//! Ending sessions and revoking tokens: logout (`POST /jwt/revoke`), the admin's "end every
//! session of this user", and what disabling, deleting or a new password does. A revoked session's
//! refresh tokens and cookie stop working at once; its JWTs, and a revoked JWT, go on the
//! revocation list until they expire (see `service::revocation_list`).

use serde_json::{Map, Value};

use crate::config::Settings;
use crate::crypto::secret;
use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::service::auth::refresh;
use crate::service::auth::verify_token::session_id;
use crate::state::AppState;
use crate::store::Store;
use crate::store::revocations::{KIND_DELEGATE, KIND_JTI, KIND_SID, KIND_USER};

/// Ends the sessions with these ids: revoked in the database, their `sid` on the revocation list
/// until the last JWT they issued has expired.
pub async fn end_sessions(state: &AppState, ids: &[i64]) -> Result<(), Error> {
    let now = state.now();
    let mut ended = Vec::with_capacity(ids.len());
    for &id in ids {
        if state.store.revoke_session(id, now).await? {
            ended.push(id);
        }
    }
    list_sessions(state, &ended, now).await
}

/// Puts sessions already marked revoked on the revocation list (here at once, elsewhere at the
/// next poll).
async fn list_sessions(state: &AppState, ids: &[i64], now: i64) -> Result<(), Error> {
    let until = record_revoked_sessions(&state.store, &state.settings, ids, now).await?;
    for &id in ids {
        state.revocations.revoke_sid(id, until);
    }
    Ok(())
}

/// Writes revoked sessions to the revocation table; answers until when the entries matter.
async fn record_revoked_sessions(store: &Store, settings: &Settings, ids: &[i64], now: i64) -> Result<i64, Error> {
    let until = now + settings.token_lifetime();
    let entries: Vec<_> = ids.iter().map(|id| (KIND_SID, id.to_string(), until)).collect();
    store.insert_revocations(&entries, now).await?;
    Ok(until)
}

/// Shuts a user out (disabled or deleted): every session ends and every token issued so far, API-key
/// tokens included, is refused everywhere (`/jwt/verify` too) until it would have expired. How
/// many sessions ended.
pub async fn shut_out_user(state: &AppState, user_id: i64) -> Result<usize, Error> {
    let now = state.now();
    let ended = end_all_sessions(state, user_id, None).await?;
    let until = record_shut_out(&state.store, &state.settings, user_id, now).await?;
    state.revocations.revoke_user(user_id, now, until);
    Ok(ended)
}

/// [`shut_out_user`] for a process that serves no requests (the command line).
pub async fn shut_out_user_in_store(
    store: &Store,
    settings: &Settings,
    user_id: i64,
    now: i64,
) -> Result<usize, Error> {
    let ended = end_all_sessions_in_store(store, settings, user_id, now).await?;
    record_shut_out(store, settings, user_id, now).await?;
    Ok(ended)
}

async fn record_shut_out(store: &Store, settings: &Settings, user_id: i64, now: i64) -> Result<i64, Error> {
    let until = now + settings.token_lifetime();
    store.insert_revocations(&[(KIND_USER, user_id.to_string(), until)], now).await?;
    Ok(until)
}

/// A trusted delegate was removed: every token minted through it so far is refused everywhere
/// (`/jwt/verify` too), and one added later under the same name does not revive them.
pub async fn shut_out_delegate(state: &AppState, name: &str) -> Result<(), Error> {
    let now = state.now();
    let until = record_delegate_removal(&state.store, &state.settings, name, now).await?;
    state.revocations.revoke_delegate(name, now, until);
    Ok(())
}

/// Records a removed delegate on the revocation list (the command line: instances read it at their
/// next poll); until when the entry matters.
pub async fn record_delegate_removal(store: &Store, settings: &Settings, name: &str, now: i64) -> Result<i64, Error> {
    let until = now + settings.token_lifetime();
    store.insert_revocations(&[(KIND_DELEGATE, name.to_owned(), until)], now).await?;
    Ok(until)
}

/// Ends every session of a user but `keep` (the caller's own, on a password change); how many.
pub async fn end_all_sessions(state: &AppState, user_id: i64, keep: Option<i64>) -> Result<usize, Error> {
    let now = state.now();
    let ids = state.store.revoke_user_sessions(user_id, keep, now).await?;
    list_sessions(state, &ids, now).await?;
    Ok(ids.len())
}

/// [`end_all_sessions`] for a process that serves no requests (the command line): running
/// instances see it at their next poll of the revocation table.
pub async fn end_all_sessions_in_store(
    store: &Store,
    settings: &Settings,
    user_id: i64,
    now: i64,
) -> Result<usize, Error> {
    let ids = store.revoke_user_sessions(user_id, None, now).await?;
    record_revoked_sessions(store, settings, &ids, now).await?;
    Ok(ids.len())
}

/// Logout with a verified access token: its session ends and the token itself is revoked until
/// its `exp`.
pub async fn revoke_access_token(state: &AppState, claims: &Map<String, Value>) -> Result<(), Error> {
    let now = state.now();
    if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
        // Verification accepts a token until `exp` + leeway: the entry must outlive that, or a
        // prune after `exp` would make the revoked token valid again.
        let leeway = i64::from(state.settings.jwt_leeway);
        let until = claims
            .get("exp")
            .and_then(Value::as_i64)
            .map_or(now + state.settings.token_lifetime(), |exp| exp.saturating_add(leeway));
        state.store.insert_revocations(&[(KIND_JTI, jti.to_owned(), until)], now).await?;
        state.revocations.revoke_jti(jti, until);
    }
    let session = session_id(claims);
    if let Some(sid) = session {
        end_sessions(state, &[sid]).await?;
    }
    let user = claims.get("sub").and_then(Value::as_str).and_then(|s| s.parse().ok());
    let mut event = AuditEvent::new(user.map_or(Actor::Anonymous, Actor::User), "session.logout");
    if let Some(user) = user {
        event = event.target(format!("users:{user}"));
    }
    audit::record(state, event.detail(serde_json::json!({"session": session, "by": "access_token"}))).await;
    Ok(())
}

/// Logout with a refresh token: its session ends. An unknown token is not an error (RFC 7009):
/// the answer does not tell whether it existed.
pub async fn revoke_refresh_token(state: &AppState, presented: &str) -> Result<(), Error> {
    if !refresh::is_well_formed(presented) {
        return Ok(());
    }
    let Some((_, session)) = state.store.refresh_token(&secret::hash_secret(presented)).await? else {
        return Ok(());
    };
    end_sessions(state, &[session.id]).await?;
    let event = AuditEvent::new(Actor::User(session.user_id), "session.logout")
        .target(format!("users:{}", session.user_id))
        .detail(serde_json::json!({"session": session.id, "by": "refresh_token"}));
    audit::record(state, event).await;
    Ok(())
}
