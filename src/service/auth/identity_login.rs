//! Delegate identity login: a trusted delegate, recognised by its `X-Authify-Access` /
//! `X-Authify-Secret` pair, asks for a token for the user linked to an external identity
//! (`provider` + `uid`). The token names the delegate in `act`, so relying services can tell it
//! from a token the user obtained directly.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::runtime::audit::{self, Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::service::auth::delegate_auth::{actor_of, authenticate_delegate};
use crate::service::auth::login::check_standing;
use crate::service::auth::refresh::{TokenPair, start_session};
use crate::store::delegates::Delegate;

/// Opens a session for the user linked to `provider`/`uid`, acting as the delegate owning `access`.
/// Bad delegate credentials and an unknown identity get the same 401.
#[tracing::instrument(skip_all, fields(provider = provider))]
pub async fn delegate_identity_login(
    auth: &Auth,
    access: &str,
    secret: &str,
    provider: &str,
    uid: &str,
    inject: Option<Map<String, Value>>,
    request: &RequestMeta,
) -> Result<TokenPair, Error> {
    let delegate = authenticate_delegate(auth, access, secret, request).await?;
    let result = token_for_identity(auth, &delegate, provider, uid, inject, request).await;
    let mut event = AuditEvent::during(request, Actor::Delegate(delegate.name.clone()), "login.identity");
    let mut detail = audit::outcome(&result);
    detail["provider"] = provider.chars().take(64).collect::<String>().into();
    detail["uid"] = uid.chars().take(255).collect::<String>().into();
    if let Ok((_, user_id)) = &result {
        event = event.target(format!("users:{user_id}"));
    }
    auth.audit().record(event.detail(detail)).await;
    result.map(|(issued, _)| issued)
}

/// The session (token pair) for the user linked to `provider`/`uid`, and that user's id. Only the
/// delegate that linked the identity logs in through it (links older than that record: any
/// delegate); the session's tokens carry the user's scopes that the delegate holds too.
async fn token_for_identity(
    auth: &Auth,
    delegate: &Delegate,
    provider: &str,
    uid: &str,
    inject: Option<Map<String, Value>>,
    request: &RequestMeta,
) -> Result<(TokenPair, i64), Error> {
    let identity = auth
        .store()
        .identity_by_provider_uid(provider, uid)
        .await?
        .filter(|identity| identity.delegate_id.is_none_or(|id| id == delegate.id))
        .ok_or(Error::InvalidCredentials)?;
    let user = auth.store().user_by_id(identity.user_id).await?.ok_or(Error::InvalidCredentials)?;
    check_standing(auth, &user)?;
    Ok((start_session(auth, &user, Some(&actor_of(delegate)), None, inject, request).await?, user.id))
}
