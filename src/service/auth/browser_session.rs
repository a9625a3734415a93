//! Browser sessions: `POST /session` checks a password login like `/jwt/token` and answers a
//! session cookie (`__Host-identity`, or `identity` over plain HTTP: `http::auth`) holding a
//! 256-bit secret; the server keeps only its SHA-256 in a session row.
//! The cookie authenticates every route a Bearer token does, until `DELETE /session`, the user's
//! sessions being ended, AUTHIFY_SESSION_IDLE_SECONDS without use, or the absolute lifetime.

use crate::crypto::secret;
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::service::auth::login::{PasswordAttempt, check_password};
use crate::service::auth::refresh::live_user;
use crate::service::auth::revoke;
use crate::store::sessions::{KIND_BROWSER, NewSession, Session};
use crate::store::users::User;

/// A session's last use is written at most this often (seconds): idle expiry is coarse, reads are
/// cheap. A shorter idle time than twice this is touched every half of it, or it could not slide.
const TOUCH_EVERY: i64 = 60;

/// A new browser session and the secret that goes into the cookie.
pub struct SignedIn {
    pub secret: String,
    pub session: Session,
    pub user: User,
}

/// Checks the login (rate limit, lockout, password, second factor: audited as any password login)
/// and opens a session.
pub async fn sign_in(auth: &Auth, attempt: &PasswordAttempt<'_>) -> Result<SignedIn, Error> {
    let user = check_password(auth, attempt).await?;
    open(auth, user, attempt.request).await
}

/// Opens a browser session for a user whose sign-in was proven elsewhere (an external provider).
pub async fn open(auth: &Auth, user: User, request: &RequestMeta) -> Result<SignedIn, Error> {
    open_with(auth, user, None, request).await
}

/// [`open`], for a sign-in of the kind `amr` says (a passkey).
pub async fn open_with(
    auth: &Auth,
    user: User,
    amr: Option<&'static str>,
    request: &RequestMeta,
) -> Result<SignedIn, Error> {
    let now = auth.now();
    let secret = secret::random_hex(32);
    let new = NewSession {
        user_id: user.id,
        kind: KIND_BROWSER,
        secret_hash: Some(&secret::hash_secret(&secret)),
        now,
        expires_at: now + i64::from(auth.settings.sessions.refresh_absolute_seconds),
        client_ip: request.client_ip_text(),
        actor: None,
        amr,
    };
    let session = auth.store().create_session(new, None).await?;
    Ok(SignedIn { secret, session, user })
}

/// The user and session a cookie secret stands for; anything else is [`Error::Unauthenticated`].
pub async fn authenticate(auth: &Auth, cookie_secret: &str) -> Result<(User, Session), Error> {
    let session = find(auth, cookie_secret).await?.ok_or(Error::Unauthenticated)?;
    let now = auth.now();
    let idle = i64::from(auth.settings.sessions.session_idle_seconds);
    if session.revoked_at.is_some() || session.expires_at <= now || session.last_used_at + idle <= now {
        return Err(Error::Unauthenticated);
    }
    let user = live_user(auth, &session).await?;
    if now - session.last_used_at >= TOUCH_EVERY.min(idle / 2) {
        auth.store().touch_session(session.id, now).await?;
    }
    Ok((user, session))
}

/// Ends the cookie's session, if it names one.
pub async fn sign_out(auth: &Auth, cookie_secret: &str, request: &RequestMeta) -> Result<(), Error> {
    let Some(session) = find(auth, cookie_secret).await? else { return Ok(()) };
    revoke::end_sessions(&auth.sessions, &[session.id]).await?;
    let event = AuditEvent::during(request, Actor::User(session.user_id), "session.logout")
        .target(format!("users:{}", session.user_id))
        .detail(serde_json::json!({"session": session.id, "by": "cookie"}));
    auth.audit().record(event).await;
    Ok(())
}

async fn find(auth: &Auth, cookie_secret: &str) -> Result<Option<Session>, Error> {
    if cookie_secret.len() != 64 {
        return Ok(None);
    }
    Ok(auth.store().browser_session(&secret::hash_secret(cookie_secret)).await?)
}
