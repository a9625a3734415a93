//! `GET|POST /oauth2/userinfo` (OpenID Connect Core §5.3): the claims an access token's scope
//! grants about its user.

use serde_json::{Map, Value};

use super::error::OauthError;
use super::scope::OPENID;
use super::tokens::{check_access_token, user_claims};
use crate::service::auth::Auth;

/// The user's claims, for a valid access token with the `openid` scope issued for a user who may
/// still sign in.
pub async fn userinfo(auth: &Auth, access_token: &str) -> Result<Map<String, Value>, OauthError> {
    let checked = check_access_token(&auth.tokens, access_token)?;
    let Some(user_id) = checked.user_id else {
        return Err(OauthError::invalid_token("the access token was not issued for a user"));
    };
    if !checked.scope.contains(OPENID) {
        return Err(OauthError {
            status: 403,
            ..OauthError::redirect("insufficient_scope", "the openid scope is required")
        });
    }
    let user = auth.store().user_by_id(user_id).await?;
    let user = user.filter(|user| !user.disabled).ok_or_else(|| OauthError::invalid_token("the user is gone"))?;
    let mut claims = Map::new();
    claims.insert("sub".into(), user.id.to_string().into());
    claims.extend(user_claims(&user, &checked.scope));
    Ok(claims)
}
