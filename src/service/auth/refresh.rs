//! Refresh sessions: an interactive login at `/jwt/token` opens a session and answers a JWT with
//! a refresh token; `POST /jwt/refresh` exchanges the refresh token for a new pair (rotation).
//!
//! Refresh tokens are `authify_rt_` + 256 random bits, stored as SHA-256. An exchanged token that
//! comes back is either a concurrent refresh or a stolen copy:
//! - within AUTHIFY_REFRESH_GRACE_SECONDS of its exchange it is taken for a concurrent refresh and
//!   gets the pair that exchange produced (kept sealed on the old row), but only while the session
//!   could still be refreshed normally: the session neither ended nor expired, its user as
//!   [`live_user`] requires (there, not disabled, no password change since the login), and a
//!   delegate that opened it still trusted. Otherwise the usual 401 `Invalid refresh token`;
//! - after the window the whole session ends (the newest token too) and `session.refresh-reuse`
//!   is audited.
//!
//! What a thief who copied a used token gets by presenting it within the window: it cannot be told
//! from a concurrent refresh, so it gets exactly the pair the rightful client already got (the same
//! access token, valid until its `exp`, and the same successor refresh token), never a pair of its
//! own, and the session does not end. Thief and client then share one session: whichever exchanges
//! the successor first rotates it, and the other's later use is a reuse that ends the session for
//! both once the window has passed. Ending the session, disabling or deleting the user, changing
//! the password or removing the delegate closes the window at once. A thief who presents a token
//! before its rightful client does simply rotates it (it is the rightful client's replay that then
//! falls into the window or, later, ends the session).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::secret;
use crate::domain::SessionId;
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::service::auth::delegate_auth::{acting_delegate, confine};
use crate::service::auth::issue_token::{IssuedToken, TokenSubject, scopes_of, sign_token};
use crate::service::auth::refresh_token::{is_well_formed, new_refresh_token};
use crate::service::auth::revoke;
use crate::store::sessions::{KIND_REFRESH, KIND_TOKEN, NewSession, RefreshToken, Rotation, Session};
use crate::store::users::User;

/// What an interactive login or a refresh answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenPair {
    pub jwt: String,
    pub refresh_token: String,
    /// Seconds until the JWT expires.
    pub expires_in: i64,
}

/// Opens a session for `user` and signs its first token; `actor` is the delegate acting for the
/// user (`delegate:<name>`), `amr` how the user signed in when not with a password; both are
/// carried into every token of the session.
pub async fn start_session(
    auth: &Auth,
    user: &User,
    actor: Option<&str>,
    amr: Option<&'static str>,
    inject: Option<Map<String, Value>>,
    request: &RequestMeta,
) -> Result<TokenPair, Error> {
    let now = auth.now();
    let refresh_token = new_refresh_token();
    let new = NewSession {
        user_id: user.id,
        kind: KIND_REFRESH,
        secret_hash: None,
        now,
        expires_at: now + i64::from(auth.settings.sessions.refresh_absolute_seconds),
        client_ip: request.client_ip_text(),
        actor: actor.map(str::to_owned),
        amr,
    };
    let session = auth.store().create_session(new, Some(&secret::hash_secret(&refresh_token))).await?;
    sign_pair(auth, user, &session, refresh_token, inject).await
}

/// Signs one access token in a session of its own with no refresh token ([`KIND_TOKEN`]): the
/// token a signup, an email verification or a password reset answers. Ending the user's sessions
/// ends it like any other.
pub async fn start_token_session(
    auth: &Auth,
    user: &User,
    actor: Option<&str>,
    request: &RequestMeta,
) -> Result<String, Error> {
    let now = auth.now();
    let new = NewSession {
        user_id: user.id,
        kind: KIND_TOKEN,
        secret_hash: None,
        now,
        expires_at: now + auth.settings.token_lifetime(),
        client_ip: request.client_ip_text(),
        actor: actor.map(str::to_owned),
        amr: None,
    };
    let session = auth.store().create_session(new, None).await?;
    Ok(sign_for_session(auth, user, &session, None).await?.jwt)
}

/// Exchanges a refresh token for a new pair (see the module documentation).
#[tracing::instrument(skip_all)]
pub async fn refresh(
    auth: &Auth,
    presented: &str,
    inject: Option<Map<String, Value>>,
    request: &RequestMeta,
) -> Result<TokenPair, Error> {
    let now = auth.now();
    if !is_well_formed(presented) {
        return Err(Error::InvalidRefreshToken);
    }
    let (token, session) =
        auth.store().refresh_token(&secret::hash_secret(presented)).await?.ok_or(Error::InvalidRefreshToken)?;
    if session.kind != KIND_REFRESH || session.revoked_at.is_some() || session.expires_at <= now {
        return Err(Error::InvalidRefreshToken);
    }
    if token.used_at.is_some() {
        return replayed(auth, &token, &session, now, request).await;
    }
    if token.issued_at + i64::from(auth.settings.sessions.refresh_idle_seconds) <= now {
        return Err(Error::InvalidRefreshToken);
    }
    let user = live_user(auth, &session).await.map_err(|_| Error::InvalidRefreshToken)?;
    let successor = new_refresh_token();
    let pair = sign_pair(auth, &user, &session, successor.clone(), inject).await.map_err(|err| match err {
        Error::Unauthenticated => Error::InvalidRefreshToken,
        other => other,
    })?;
    let sealed = seal_pair(auth, &token, &pair)?;
    match auth.store().rotate_refresh_token(&token, &secret::hash_secret(&successor), Some(&sealed), now).await? {
        Rotation::Rotated => Ok(pair),
        Rotation::AlreadyUsed(current) => replayed(auth, &current, &session, now, request).await,
    }
}

/// The session's user, if the session may still be used: the user exists, is not disabled, and
/// has not changed the password since the session last proved it.
pub async fn live_user(auth: &Auth, session: &Session) -> Result<User, Error> {
    let user = auth.store().user_by_id(session.user_id).await?.ok_or(Error::Unauthenticated)?;
    if user.disabled || user.password_changed_at > session.password_checked_at {
        return Err(Error::Unauthenticated);
    }
    Ok(user)
}

/// An already exchanged token: within the grace window, the pair it was exchanged for (if the
/// session may still be refreshed); after it, the session ends (whoever holds the newer token loses it too: it may be the thief).
async fn replayed(
    auth: &Auth,
    token: &RefreshToken,
    session: &Session,
    now: i64,
    request: &RequestMeta,
) -> Result<TokenPair, Error> {
    let used_at = token.used_at.unwrap_or(now);
    let grace = i64::from(auth.settings.sessions.refresh_grace_seconds);
    // `grace > 0`: with whole seconds, 0 would still forgive a reuse within the same second.
    if grace > 0 && now - used_at <= grace {
        // A concurrent refresh: the same pair, never an ended session, and only while a normal
        // refresh would still succeed. A pair that cannot be opened was sealed by an instance with
        // another AUTHIFY_TOTP_KEY_PATH key (docs/sessions.md).
        still_refreshable(auth, session.id, now).await?;
        return match token.successor.as_deref().and_then(|sealed| open_pair(auth, token, sealed)) {
            Some(pair) => Ok(pair),
            None => {
                tracing::warn!(session = session.id, "a concurrent refresh's pair cannot be opened with this key");
                Err(Error::InvalidRefreshToken)
            }
        };
    }
    revoke::end_sessions(&auth.sessions, &[session.id]).await?;
    let event = AuditEvent::during(request, Actor::User(session.user_id), "session.refresh-reuse")
        .target(format!("users:{}", session.user_id))
        .detail(serde_json::json!({"session": session.id, "reused_after_seconds": now - used_at}));
    auth.audit().record(event).await;
    tracing::warn!(session = session.id, user_id = session.user_id, "a used refresh token came back: session revoked");
    Err(Error::InvalidRefreshToken)
}

/// What a normal refresh requires of a session, checked for a replay within the grace window: the
/// session read again (the caller's copy may predate its end), its user's standing, and the
/// delegate that opened it. Every failure is [`Error::InvalidRefreshToken`].
async fn still_refreshable(auth: &Auth, session_id: i64, now: i64) -> Result<(), Error> {
    let session = auth.store().session(session_id).await?.ok_or(Error::InvalidRefreshToken)?;
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(Error::InvalidRefreshToken);
    }
    live_user(auth, &session).await.map_err(|_| Error::InvalidRefreshToken)?;
    if let Some(actor) = session.actor.as_deref() {
        acting_delegate(auth.store(), actor).await.map_err(|err| match err {
            Error::Unauthenticated => Error::InvalidRefreshToken,
            other => other,
        })?;
    }
    Ok(())
}

async fn sign_pair(
    auth: &Auth,
    user: &User,
    session: &Session,
    refresh_token: String,
    inject: Option<Map<String, Value>>,
) -> Result<TokenPair, Error> {
    let issued = sign_for_session(auth, user, session, inject).await?;
    Ok(TokenPair { jwt: issued.jwt, refresh_token, expires_in: issued.expires_in })
}

/// An access token of `session` for `user`.
async fn sign_for_session(
    auth: &Auth,
    user: &User,
    session: &Session,
    inject: Option<Map<String, Value>>,
) -> Result<IssuedToken, Error> {
    let organizations = auth.store().organization_claims(user.id).await?;
    // A session a delegate opened never carries more than the delegate holds now (a removed
    // delegate's sessions end here: Unauthenticated).
    let scopes = match session.actor.as_deref() {
        Some(actor) => confine(scopes_of(user), &acting_delegate(auth.store(), actor).await?),
        None => scopes_of(user),
    };
    let subject = TokenSubject {
        user,
        organizations: &organizations,
        scopes: &scopes,
        actor: session.actor.as_deref(),
        session: Some(SessionId(session.id)),
        api_key: None,
        amr: session.amr.as_deref(),
    };
    sign_token(&auth.tokens, &subject, inject)
}

/// The successor pair, encrypted and bound to the row it is stored on.
fn seal_pair(auth: &Auth, token: &RefreshToken, pair: &TokenPair) -> Result<String, Error> {
    let plain = serde_json::to_vec(pair).map_err(Error::internal)?;
    auth.sealing.seal(&plain, token.token_hash.as_bytes()).map_err(Error::internal)
}

fn open_pair(auth: &Auth, token: &RefreshToken, sealed: &str) -> Option<TokenPair> {
    let plain = auth.sealing.open(sealed, token.token_hash.as_bytes()).ok()?;
    serde_json::from_slice(&plain).ok()
}
