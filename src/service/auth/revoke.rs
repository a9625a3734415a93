//! Ending sessions and revoking tokens: logout (`POST /jwt/revoke`), the admin's "end every
//! session of this user", and what disabling, deleting or a new password does. A revoked session's
//! refresh tokens and cookie stop working at once; its JWTs, and a revoked JWT, go on the
//! revocation list until they expire (see `runtime::revocation_list`).

use super::refresh_token;
use super::{Sessions, Tokens, verify_token};
use crate::crypto::secret;
use crate::domain::Claims;
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::store::revocations::{KIND_CLIENT, KIND_CLIENT_SECRET, KIND_DELEGATE, KIND_JTI, KIND_SID, KIND_USER};

/// Ends the sessions with these ids: revoked in the database, their `sid` on the revocation list
/// until the last JWT they issued has expired.
pub async fn end_sessions(sessions: &Sessions, ids: &[i64]) -> Result<(), Error> {
    let now = sessions.now();
    let mut ended = Vec::with_capacity(ids.len());
    for &id in ids {
        if sessions.store.revoke_session(id, now).await? {
            ended.push(id);
        }
    }
    list_sessions(sessions, &ended, now).await
}

/// Puts sessions already marked revoked on the revocation list: in this process at once, in the
/// others (and from the command line) at their next poll of the revocation table.
async fn list_sessions(sessions: &Sessions, ids: &[i64], now: i64) -> Result<(), Error> {
    let until = now + sessions.settings.token_lifetime();
    let entries: Vec<_> = ids.iter().map(|id| (KIND_SID, id.to_string(), until)).collect();
    sessions.store.insert_revocations(&entries, now).await?;
    for &id in ids {
        sessions.revocations.revoke_sid(id, until);
    }
    Ok(())
}

/// Shuts a user out (disabled or deleted): every session ends and every token issued so far, API-key
/// tokens included, is refused everywhere (`/jwt/verify` too) until it would have expired. How
/// many sessions ended.
pub async fn shut_out_user(sessions: &Sessions, user_id: i64) -> Result<usize, Error> {
    let now = sessions.now();
    let ended = end_all_sessions(sessions, user_id, None).await?;
    let until = now + sessions.settings.token_lifetime();
    sessions.store.insert_revocations(&[(KIND_USER, user_id.to_string(), until)], now).await?;
    sessions.revocations.revoke_user(user_id, now, until);
    Ok(ended)
}

/// A trusted delegate was removed: every token minted through it so far is refused everywhere
/// (`/jwt/verify` too), and one added later under the same name does not revive them.
pub async fn shut_out_delegate(sessions: &Sessions, name: &str) -> Result<(), Error> {
    let now = sessions.now();
    let until = now + sessions.settings.token_lifetime();
    sessions.store.insert_revocations(&[(KIND_DELEGATE, name.to_owned(), until)], now).await?;
    sessions.revocations.revoke_delegate(name, now, until);
    Ok(())
}

/// An OAuth client was removed: every token issued to it so far is refused everywhere.
pub async fn shut_out_client(sessions: &Sessions, client_id: &str) -> Result<(), Error> {
    let now = sessions.now();
    let until = now + sessions.settings.token_lifetime();
    sessions.store.insert_revocations(&[(KIND_CLIENT, client_id.to_owned(), until)], now).await?;
    sessions.revocations.revoke_client(client_id, now, until);
    Ok(())
}

/// An OAuth client's secret changed: every instance drops its cached copy of the client within
/// the poll interval (tokens already issued stay valid).
pub async fn client_secret_changed(sessions: &Sessions, client_id: &str) -> Result<(), Error> {
    let now = sessions.now();
    let until = now + i64::from(sessions.settings.credential_cache_seconds) + 1;
    sessions.store.insert_revocations(&[(KIND_CLIENT_SECRET, client_id.to_owned(), until)], now).await?;
    sessions.revocations.client_secret_changed(client_id, now, until);
    Ok(())
}

/// Ends every session of a user but `keep` (the caller's own, on a password change); how many.
pub async fn end_all_sessions(sessions: &Sessions, user_id: i64, keep: Option<i64>) -> Result<usize, Error> {
    let now = sessions.now();
    let ids = sessions.store.revoke_user_sessions(user_id, keep, now).await?;
    list_sessions(sessions, &ids, now).await?;
    Ok(ids.len())
}

/// `POST /jwt/revoke`: logout with an access token (checked first: a token that does not verify
/// is [`Error::Unauthenticated`]), a refresh token, or both.
pub async fn logout(
    tokens: &Tokens,
    sessions: &Sessions,
    bearer: Option<&str>,
    refresh_token: Option<&str>,
    request: &RequestMeta,
) -> Result<(), Error> {
    if let Some(token) = bearer {
        let verified = verify_token::verify(tokens, token).map_err(|_| Error::Unauthenticated)?;
        revoke_access_token(sessions, &verified.claims, request).await?;
    }
    if let Some(token) = refresh_token {
        revoke_refresh_token(sessions, token, request).await?;
    }
    Ok(())
}

/// Logout with a verified access token: its session ends and the token itself is revoked until
/// its `exp`.
pub async fn revoke_access_token(sessions: &Sessions, claims: &Claims, request: &RequestMeta) -> Result<(), Error> {
    let now = sessions.now();
    if let Some(jti) = claims.jti.as_deref() {
        // Verification accepts a token until `exp` + leeway: the entry must outlive that, or a
        // prune after `exp` would make the revoked token valid again.
        let leeway = i64::from(sessions.settings.jwt_leeway);
        let until = claims.exp.map_or(now + sessions.settings.token_lifetime(), |exp| exp.saturating_add(leeway));
        sessions.store.insert_revocations(&[(KIND_JTI, jti.to_owned(), until)], now).await?;
        sessions.revocations.revoke_jti(jti, until);
    }
    let session = claims.sid.map(|sid| sid.0);
    if let Some(sid) = session {
        end_sessions(sessions, &[sid]).await?;
    }
    let user = claims.sub.map(|sub| sub.0);
    let mut event = AuditEvent::during(request, user.map_or(Actor::Anonymous, Actor::User), "session.logout");
    if let Some(user) = user {
        event = event.target(format!("users:{user}"));
    }
    sessions.audit.record(event.detail(serde_json::json!({"session": session, "by": "access_token"}))).await;
    Ok(())
}

/// Logout with a refresh token: its session ends. An unknown token is not an error (RFC 7009):
/// the answer does not tell whether it existed.
pub async fn revoke_refresh_token(sessions: &Sessions, presented: &str, request: &RequestMeta) -> Result<(), Error> {
    if !refresh_token::is_well_formed(presented) {
        return Ok(());
    }
    let Some((_, session)) = sessions.store.refresh_token(&secret::hash_secret(presented)).await? else {
        return Ok(());
    };
    end_sessions(sessions, &[session.id]).await?;
    let event = AuditEvent::during(request, Actor::User(session.user_id), "session.logout")
        .target(format!("users:{}", session.user_id))
        .detail(serde_json::json!({"session": session.id, "by": "refresh_token"}));
    sessions.audit.record(event).await;
    Ok(())
}
