//! The grants of `POST /oauth2/token`: `client_credentials`, `authorization_code` and
//! `refresh_token`. Each answers a [`TokenResponse`] or an RFC 6749 error, and is audited.

use serde_json::json;
use subtle::ConstantTimeEq;

use super::client_auth::AuthenticatedClient;
use super::error::OauthError;
use super::scope::{OFFLINE_ACCESS, OPENID, Scopes};
use super::tokens::{AccessGrant, IdTokenFacts, sign_access_token, sign_id_token};
use crate::crypto::secret;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::refresh::live_user;
use crate::service::auth::refresh_token::{is_well_formed, new_refresh_token};
use crate::service::auth::{Auth, revoke};
use crate::store::oauth_codes::{
    Accepted, AuthorizationCode, CodeCheck, Exchange, KIND_OAUTH, NewOauthSession, OpenedSession,
};
use crate::store::sessions::{Rotation, Session};
use crate::store::users::User;

/// What the token endpoint answers (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// `client_credentials`: a confidential client's token for itself, with the scopes it asked for
/// among those registered for it (all of them when it asked for none).
pub async fn client_credentials(
    auth: &Auth,
    client: &AuthenticatedClient,
    scope: Option<&str>,
    request: &RequestMeta,
) -> Result<TokenResponse, OauthError> {
    if !client.confidential {
        return Err(OauthError::unauthorized_client("client_credentials is for confidential clients"));
    }
    let registered = Scopes::parse(&client.client.scopes)?;
    let allowed: Vec<&str> = registered.iter().collect();
    let scope = match scope {
        Some(text) => Scopes::parse(text)?.within(&allowed)?,
        None => registered.clone(),
    };
    let grant = AccessGrant {
        client_id: &client.client.client_id,
        user_id: None,
        scope: &scope,
        session: None,
        auth_time: None,
    };
    let access = sign_access_token(&auth.tokens, &grant)?;
    record(auth, request, &client.client.client_id, "client_credentials", None).await;
    Ok(TokenResponse {
        access_token: access.jwt,
        token_type: "Bearer",
        expires_in: access.expires_in,
        scope: scope.to_text(),
        refresh_token: None,
        id_token: None,
    })
}

/// What the client sent with `grant_type=authorization_code`.
#[derive(Debug, Clone, Copy)]
pub struct CodeExchange<'a> {
    pub code: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// `authorization_code`: a code issued to this client for this redirect URI, unexpired, unused,
/// whose PKCE challenge the verifier meets, of a user still in good standing since signing in. A
/// code that comes back a second time ends the session its first exchange opened (every token
/// issued from it is refused) and is `invalid_grant`.
pub async fn authorization_code(
    auth: &Auth,
    client: &AuthenticatedClient,
    exchange: CodeExchange<'_>,
    request: &RequestMeta,
) -> Result<TokenResponse, OauthError> {
    if exchange.code.is_empty() || exchange.code.len() > 128 {
        return Err(OauthError::invalid_grant(INVALID_CODE));
    }
    let now = auth.now();
    // Made for every exchange, kept only for a code that grants offline_access (known in the store).
    let refresh_token = new_refresh_token();
    let refresh_hash = secret::hash_secret(&refresh_token);
    let new = NewOauthSession {
        expires_at: now + i64::from(auth.settings.sessions.refresh_absolute_seconds),
        refresh_hash: &refresh_hash,
        client_ip: request.client_ip_text(),
        now,
    };
    let check = code_check(&client.client.client_id, exchange, now);
    let opened = match auth.store().exchange_code(secret::hash_secret(exchange.code), check, new).await? {
        Exchange::Opened(opened) => opened,
        Exchange::AlreadyUsed { code, first_session } => {
            if let Some(session) = first_session {
                revoke::end_sessions(&auth.sessions, &[session]).await?;
            }
            let event = AuditEvent::during(request, Actor::Client(code.client_id.clone()), "oauth.code-reuse")
                .target(format!("users:{}", code.user_id))
                .detail(json!({"session": first_session}));
            auth.audit().record(event).await;
            return Err(OauthError::invalid_grant(INVALID_CODE));
        }
        Exchange::Refused(reason) => return Err(OauthError::invalid_grant(reason)),
        Exchange::Unknown => return Err(OauthError::invalid_grant(INVALID_CODE)),
    };
    let OpenedSession { code, user, session, accepted } = *opened;
    let refresh_token = accepted.with_refresh_token.then_some(refresh_token);
    let response = tokens_for_session(auth, &session, &user, code.nonce.as_deref(), refresh_token)?;
    record(auth, request, &code.client_id, "authorization_code", Some(code.user_id)).await;
    Ok(response)
}

const INVALID_CODE: &str = "the code is invalid, expired, used, or was issued to another client or redirect URI";

/// The rule a presented code must meet (see [`authorization_code`]), run by the store in the
/// exchange's transaction.
fn code_check(client_id: &str, exchange: CodeExchange<'_>, now: i64) -> CodeCheck {
    let client_id = client_id.to_owned();
    let redirect_uri = exchange.redirect_uri.map(str::to_owned);
    let verifier = exchange.code_verifier.map(str::to_owned);
    Box::new(move |code: &AuthorizationCode, user: &User| {
        if code.client_id != client_id || code.expires_at <= now || redirect_uri.as_deref() != Some(&code.redirect_uri)
        {
            return Err(INVALID_CODE);
        }
        check_pkce(code, verifier.as_deref())?;
        // The user still in good standing since signing in (as `live_user` checks a session).
        if user.disabled || user.password_changed_at > code.auth_time {
            return Err(INVALID_CODE);
        }
        let scope = Scopes::parse(&code.scope).map_err(|_| INVALID_CODE)?;
        Ok(Accepted { with_refresh_token: scope.contains(OFFLINE_ACCESS) })
    })
}

/// PKCE (RFC 7636): with a challenge, the verifier must be 43 to 128 unreserved characters whose
/// S256 is the challenge; without one, no verifier may be sent.
fn check_pkce(code: &AuthorizationCode, verifier: Option<&str>) -> Result<(), &'static str> {
    const MISMATCH: &str = "the PKCE code_verifier does not match the code_challenge";
    match (code.code_challenge.as_deref(), verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) | (Some(_), None) => Err(MISMATCH),
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if well_formed && bool::from(super::authorize::s256(verifier).as_bytes().ct_eq(challenge.as_bytes())) {
                Ok(())
            } else {
                Err(MISMATCH)
            }
        }
    }
}

/// `refresh_token`: a refresh token of a session this client opened. Rotation as for
/// `/jwt/refresh`; a used token that comes back ends the session (no grace window: a client of
/// this endpoint serializes its refreshes).
pub async fn refresh_token(
    auth: &Auth,
    client: &AuthenticatedClient,
    presented: &str,
    request: &RequestMeta,
) -> Result<TokenResponse, OauthError> {
    let invalid = || OauthError::invalid_grant("the refresh token is invalid, expired or revoked");
    if !is_well_formed(presented) {
        return Err(invalid());
    }
    let (token, session) = auth.store().refresh_token(&secret::hash_secret(presented)).await?.ok_or_else(invalid)?;
    let now = auth.now();
    if session.kind != KIND_OAUTH
        || session.client_id.as_deref() != Some(client.client.client_id.as_str())
        || session.revoked_at.is_some()
        || session.expires_at <= now
        || token.issued_at + i64::from(auth.settings.sessions.refresh_idle_seconds) <= now
    {
        return Err(invalid());
    }
    let successor = new_refresh_token();
    let rotated = match token.used_at {
        Some(_) => Rotation::AlreadyUsed(token.clone()),
        None => auth.store().rotate_refresh_token(&token, &secret::hash_secret(&successor), None, now).await?,
    };
    if let Rotation::AlreadyUsed(_) = rotated {
        revoke::end_sessions(&auth.sessions, &[session.id]).await?;
        let event =
            AuditEvent::during(request, Actor::Client(client.client.client_id.clone()), "session.refresh-reuse")
                .target(format!("users:{}", session.user_id))
                .detail(json!({"session": session.id}));
        auth.audit().record(event).await;
        return Err(invalid());
    }
    let user = live_user(auth, &session).await?;
    let response = tokens_for_session(auth, &session, &user, None, Some(successor))?;
    record(auth, request, &client.client.client_id, "refresh_token", Some(session.user_id)).await;
    Ok(response)
}

/// An access token (and, with `openid`, an ID token) for `user`'s session a code exchange opened.
fn tokens_for_session(
    auth: &Auth,
    session: &Session,
    user: &User,
    nonce: Option<&str>,
    refresh_token: Option<String>,
) -> Result<TokenResponse, OauthError> {
    let scope = Scopes::parse(session.scope.as_deref().unwrap_or_default())?;
    let client_id = session.client_id.as_deref().unwrap_or_default();
    let auth_time = session.auth_time.unwrap_or(session.created_at);
    let grant = AccessGrant {
        client_id,
        user_id: Some(user.id),
        scope: &scope,
        session: Some(session.id),
        auth_time: Some(auth_time),
    };
    let access = sign_access_token(&auth.tokens, &grant)?;
    let id_token = if scope.contains(OPENID) {
        let facts = IdTokenFacts {
            client_id,
            scope: &scope,
            nonce,
            auth_time,
            access_token: &access.jwt,
            session: session.id,
            amr: session.amr.as_deref(),
        };
        Some(sign_id_token(&auth.tokens, user, &facts)?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: access.jwt,
        token_type: "Bearer",
        expires_in: access.expires_in,
        scope: scope.to_text(),
        refresh_token,
        id_token,
    })
}

async fn record(auth: &Auth, request: &RequestMeta, client_id: &str, grant: &str, user: Option<i64>) {
    let mut event = AuditEvent::during(request, Actor::Client(client_id.to_owned()), "oauth.token")
        .detail(json!({"grant_type": grant, "outcome": "success"}));
    if let Some(user) = user {
        event = event.target(format!("users:{user}"));
    }
    auth.audit().record(event).await;
    auth.tokens.monitor.oauth_grant(grant);
}
