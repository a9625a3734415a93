//! `POST /oauth2/introspect` (RFC 7662) and `POST /oauth2/revoke` (RFC 7009), for authenticated
//! confidential clients. A client sees and revokes only the tokens issued to it, unless it was
//! registered with the `introspection` scope (a resource server), which lets it introspect any.

use serde_json::{Map, Value, json};

use super::client_auth::AuthenticatedClient;
use super::error::OauthError;
use super::tokens::{check_access_token, issuer};
use crate::crypto::secret;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::refresh_token::is_well_formed;
use crate::service::auth::{Auth, revoke};
use crate::store::oauth_codes::KIND_OAUTH;
use crate::store::revocations::KIND_JTI;
use crate::store::sessions::{RefreshToken, Session};

/// The registered scope that lets a client introspect every client's tokens.
pub const INTROSPECTION_SCOPE: &str = "introspection";

/// What RFC 7662 answers: `{"active": false}`, or the token's claims.
pub async fn introspect(
    auth: &Auth,
    client: &AuthenticatedClient,
    token: &str,
    request: &RequestMeta,
) -> Result<Map<String, Value>, OauthError> {
    require_confidential(client)?;
    let sees_all = client.client.scopes.split(' ').any(|scope| scope == INTROSPECTION_SCOPE);
    let visible = |owner: &str| sees_all || owner == client.client.client_id;
    let mut answer = Map::new();
    if let Ok(checked) = check_access_token(&auth.tokens, token) {
        if visible(&checked.client_id) {
            answer = checked.claims;
            answer.insert("token_type".into(), "Bearer".into());
        }
    } else if let Some((_, session)) = live_refresh_token(auth, token).await? {
        let owner = session.client_id.clone().unwrap_or_default();
        if visible(&owner) {
            answer.insert("iss".into(), issuer(&auth.tokens).into());
            answer.insert("sub".into(), session.user_id.to_string().into());
            answer.insert("client_id".into(), owner.into());
            answer.insert("scope".into(), session.scope.clone().unwrap_or_default().into());
            answer.insert("exp".into(), session.expires_at.into());
            answer.insert("iat".into(), session.created_at.into());
            answer.insert("token_type".into(), "refresh_token".into());
        }
    }
    let active = !answer.is_empty();
    answer.insert("active".into(), active.into());
    let event = AuditEvent::during(request, Actor::Client(client.client.client_id.clone()), "oauth.introspect")
        .detail(json!({"active": active}));
    auth.audit().record(event).await;
    Ok(answer)
}

/// Revokes a token issued to this client: an access token by its `jti` (everywhere, until it
/// expires), a refresh token by ending its session (with every access token of it). Anything
/// else, another client's token included, changes nothing and answers the same (RFC 7009 §2.2).
pub async fn revoke_token(
    auth: &Auth,
    client: &AuthenticatedClient,
    token: &str,
    request: &RequestMeta,
) -> Result<(), OauthError> {
    require_confidential(client)?;
    let mine = |owner: &str| owner == client.client.client_id;
    let mut revoked = None;
    if let Ok(checked) = check_access_token(&auth.tokens, token) {
        let jti = checked.claims.get("jti").and_then(Value::as_str);
        let exp = checked.claims.get("exp").and_then(Value::as_i64);
        if let (true, Some(jti), Some(exp)) = (mine(&checked.client_id), jti, exp) {
            let now = auth.now();
            auth.store().insert_revocations(&[(KIND_JTI, jti.to_owned(), exp)], now).await?;
            auth.tokens.revocations.revoke_jti(jti, exp);
            revoked = Some("access_token");
        }
    } else if let Some((_, session)) = live_refresh_token(auth, token).await?
        && mine(session.client_id.as_deref().unwrap_or_default())
    {
        revoke::end_sessions(&auth.sessions, &[session.id]).await?;
        revoked = Some("refresh_token");
    }
    let event = AuditEvent::during(request, Actor::Client(client.client.client_id.clone()), "oauth.revoke")
        .detail(json!({"revoked": revoked}));
    auth.audit().record(event).await;
    Ok(())
}

/// A refresh token of a live OAuth session that could still be exchanged.
async fn live_refresh_token(auth: &Auth, token: &str) -> Result<Option<(RefreshToken, Session)>, OauthError> {
    if !is_well_formed(token) {
        return Ok(None);
    }
    let Some((refresh, session)) = auth.store().refresh_token(&secret::hash_secret(token)).await? else {
        return Ok(None);
    };
    let now = auth.now();
    let live = session.kind == KIND_OAUTH
        && session.revoked_at.is_none()
        && session.expires_at > now
        && refresh.used_at.is_none()
        && refresh.issued_at + i64::from(auth.settings.sessions.refresh_idle_seconds) > now;
    Ok(live.then_some((refresh, session)))
}

fn require_confidential(client: &AuthenticatedClient) -> Result<(), OauthError> {
    if client.confidential {
        Ok(())
    } else {
        Err(OauthError::invalid_client("only confidential clients may introspect or revoke tokens"))
    }
}
