//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, or `none` for a public client (which then proves
//! itself with PKCE). A client uses exactly one method. Secrets carry 256 random bits and are
//! compared as SHA-256 in constant time; every wrong one counts toward a per-client limit.

use std::sync::Arc;

use super::error::OauthError;
use crate::crypto::secret;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::rate_limit::Limit;
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::Auth;
use crate::store::oauth_clients::OauthClient;

/// The longest `client_id` looked up.
const MAX_CLIENT_ID_LEN: usize = 64;

/// What a request presented to identify its client.
#[derive(Debug, Clone, Default)]
pub struct PresentedClient<'a> {
    /// `Authorization: Basic`, already decoded.
    pub basic: Option<(String, String)>,
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
}

/// An authenticated client, and whether it proved a secret.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub client: Arc<OauthClient>,
    pub confidential: bool,
}

/// Checks the presented client (see the module documentation). Failures are `invalid_client`
/// (401), or `invalid_request` for two methods at once.
pub async fn authenticate(
    auth: &Auth,
    presented: &PresentedClient<'_>,
    request: &RequestMeta,
) -> Result<AuthenticatedClient, OauthError> {
    let (client_id, secret) = match (&presented.basic, presented.client_id, presented.client_secret) {
        (Some(_), _, Some(_)) => {
            return Err(OauthError::invalid_request("use one client authentication method, not two"));
        }
        (Some((id, _)), Some(form_id), None) if form_id != id => {
            return Err(OauthError::invalid_request("client_id differs from the authenticated client"));
        }
        (Some((id, secret)), _, None) => (id.as_str(), Some(secret.as_str())),
        (None, Some(id), secret) => (id, secret),
        (None, None, _) => return Err(OauthError::invalid_client("client authentication is required")),
    };
    // Some libraries send a public client's id with an empty password.
    let secret = secret.filter(|secret| !secret.is_empty());
    let unknown = || OauthError::invalid_client("unknown client or wrong credentials");
    if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID_LEN {
        return Err(unknown());
    }
    let client = find_client(auth, client_id).await?;
    match (client, secret) {
        (Some(client), None) if client.public => Ok(AuthenticatedClient { client, confidential: false }),
        (Some(client), Some(secret)) if !client.public => {
            if secret::secret_matches_stored(secret, client.secret_hash.as_deref()) {
                Ok(AuthenticatedClient { client, confidential: true })
            } else {
                Err(wrong_secret(auth, client_id, request).await)
            }
        }
        (Some(_), Some(_)) | (None, Some(_)) => Err(wrong_secret(auth, client_id, request).await),
        _ => Err(unknown()),
    }
}

/// The client, from the cache when it is fresh there and not removed since (see
/// [`crate::runtime::client_cache`]), else from the store.
async fn find_client(auth: &Auth, client_id: &str) -> Result<Option<Arc<OauthClient>>, OauthError> {
    let (now, epoch) = (auth.now(), auth.directory.epoch());
    if let Some((client, loaded_at)) = auth.directory.clients.get(client_id, epoch, now)
        && !auth.tokens.revocations.is_client_revoked(client_id, loaded_at)
        && !auth.tokens.revocations.is_client_secret_changed(client_id, loaded_at)
    {
        return Ok(Some(client));
    }
    let Some(client) = auth.store().client_by_client_id(client_id).await? else { return Ok(None) };
    let client = Arc::new(client);
    auth.directory.clients.insert(client.clone(), epoch, now);
    Ok(Some(client))
}

/// Counts a wrong secret toward the client's limit and audits it; over the limit, 429.
async fn wrong_secret(auth: &Auth, client_id: &str, request: &RequestMeta) -> OauthError {
    let event = AuditEvent::during(request, Actor::Anonymous, "oauth.client-auth")
        .detail(serde_json::json!({"client_id": client_id, "outcome": "invalid_client"}));
    auth.audit().record(event).await;
    let limit = Limit { limit: auth.settings.rate_limit_per_account, window: auth.settings.rate_limit_window };
    match auth.limiter.hit(&format!("client-secret:{client_id}"), limit, auth.now()).await {
        Ok(()) => OauthError::invalid_client("unknown client or wrong credentials"),
        Err(err) => err.into(),
    }
}
