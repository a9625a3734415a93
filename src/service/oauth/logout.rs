//! `GET /oauth2/logout` (OpenID Connect RP-Initiated Logout 1.0): ends the browser session and,
//! when the client asked for it with a URI from its allow-list, sends the browser back there.

use serde_json::Value;

use super::authorize::with_query;
use super::tokens::issuer;
use crate::crypto::jwt::{self, Expectations};
use crate::service::auth::Auth;
use crate::service::directory::clients::post_logout_redirect_uris;

/// The parameters of a logout request.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub client_id: Option<String>,
    pub state: Option<String>,
}

/// Where the browser goes after logout: back to the client, or a page of ours.
#[derive(Debug, Clone)]
pub enum AfterLogout {
    Redirect(String),
    Page,
}

/// Checks a logout request before anything ends: a `post_logout_redirect_uri` needs a client
/// (from the ID token hint, which must be one of ours, or `client_id`) that registered it.
/// Errors are texts for a page (never a redirect).
pub async fn check(auth: &Auth, params: &LogoutParams) -> Result<AfterLogout, String> {
    let hinted = match params.id_token_hint.as_deref().filter(|hint| !hint.is_empty()) {
        Some(hint) => Some(hinted_client(auth, hint).ok_or("The id_token_hint is not an ID token of this service.")?),
        None => None,
    };
    if let (Some(hinted), Some(named)) = (&hinted, &params.client_id)
        && hinted != named
    {
        return Err("client_id does not match the id_token_hint.".to_owned());
    }
    let Some(uri) = params.post_logout_redirect_uri.as_deref().filter(|uri| !uri.is_empty()) else {
        return Ok(AfterLogout::Page);
    };
    let client_id = hinted
        .or_else(|| params.client_id.clone())
        .ok_or("A post_logout_redirect_uri needs a client_id or an id_token_hint.")?;
    let client = auth
        .store()
        .client_by_client_id(&client_id)
        .await
        .ok()
        .flatten()
        .ok_or("The application is not registered with this service.")?;
    if !post_logout_redirect_uris(&client).any(|registered| registered == uri) {
        return Err("The application asked to send you to an address it has not registered for logout.".to_owned());
    }
    Ok(AfterLogout::Redirect(with_query(uri, &[("state", params.state.as_deref())])))
}

/// The `aud` of an ID token this service signed; expired hints are accepted (they only name the
/// client), for as long as a refresh session could last.
fn hinted_client(auth: &Auth, hint: &str) -> Option<String> {
    let leeway = i64::from(auth.settings.sessions.refresh_absolute_seconds);
    let expect = Expectations { issuer: issuer(&auth.tokens), now: auth.now(), leeway };
    let signed = jwt::verify_signed(&auth.tokens.keyring.current(), hint, expect).ok()?;
    if signed.token_type.as_deref().is_some_and(|typ| typ.eq_ignore_ascii_case(jwt::ACCESS_TOKEN_TYPE)) {
        return None;
    }
    match signed.payload.get("aud") {
        Some(Value::String(aud)) => Some(aud.clone()),
        Some(Value::Array(auds)) => auds.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}
