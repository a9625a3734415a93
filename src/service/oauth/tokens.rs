//! The tokens of the OpenID Provider, signed with the same keyring as Authify's own and checked
//! against the same revocation list:
//! - access tokens per RFC 9068 (`typ: at+jwt`; `iss`, `sub`, `aud`, `client_id`, `scope`, `jti`,
//!   `exp`, `iat`, and `sid` / `auth_time` when a user signed in);
//! - ID tokens per OpenID Connect Core §2 (`at_hash`, `nonce`, `auth_time`, `amr`, and the
//!   `profile` / `email` claims the scope grants).
//!
//! Their `iss` is the issuer URL, AUTHIFY_PUBLIC_URL, never AUTHIFY_JWT_ISSUER, which keeps naming
//! the tokens of `/jwt/token` exactly as authify-api did (docs/openid-provider.md).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::error::OauthError;
use super::scope::{EMAIL, PROFILE, Scopes};
use crate::crypto::jwt::{self, ACCESS_TOKEN_TYPE, Expectations};
use crate::crypto::{Algorithm, tokens};
use crate::error::Error;
use crate::service::auth::Tokens;
use crate::store::users::User;

/// Who an access token is for.
#[derive(Debug, Clone)]
pub struct AccessGrant<'a> {
    pub client_id: &'a str,
    /// The user, or none for a client acting for itself (`sub` is then the `client_id`).
    pub user_id: Option<i64>,
    pub scope: &'a Scopes,
    /// The session the token continues: ending it revokes the token.
    pub session: Option<i64>,
    pub auth_time: Option<i64>,
}

/// A signed access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub jwt: String,
    pub expires_in: i64,
}

#[derive(Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: String,
    aud: &'a str,
    client_id: &'a str,
    scope: String,
    jti: String,
    iat: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
}

/// The issuer URL: `iss` of every OpenID Provider token and `issuer` of the discovery document.
pub fn issuer(tokens: &Tokens) -> &str {
    &tokens.settings.public_url
}

/// Signs an RFC 9068 access token, living AUTHIFY_JWT_EXPIRATION minutes like Authify's own.
pub fn sign_access_token(tokens: &Tokens, grant: &AccessGrant<'_>) -> Result<AccessToken, Error> {
    let now = tokens.now();
    let lifetime = i64::from(tokens.settings.jwt_expiration) * 60;
    let claims = AccessClaims {
        iss: issuer(tokens),
        sub: grant.user_id.map_or_else(|| grant.client_id.to_owned(), |id| id.to_string()),
        aud: grant.client_id,
        client_id: grant.client_id,
        scope: grant.scope.to_text(),
        jti: tokens::random_token(16),
        iat: now,
        exp: now + lifetime,
        sid: grant.session,
        auth_time: grant.auth_time,
    };
    let jwt = jwt::sign_typed(&tokens.keyring.current(), &claims, now, ACCESS_TOKEN_TYPE)?;
    tokens.monitor.token_provided();
    Ok(AccessToken { jwt, expires_in: lifetime })
}

/// What an ID token says besides the user.
#[derive(Debug, Clone)]
pub struct IdTokenFacts<'a> {
    pub client_id: &'a str,
    pub scope: &'a Scopes,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    /// The access token issued beside it (for `at_hash`).
    pub access_token: &'a str,
    pub session: i64,
    /// How the user signed in (space-separated), when not with a password.
    pub amr: Option<&'a str>,
}

/// Signs an ID token for `user`.
pub fn sign_id_token(tokens: &Tokens, user: &User, facts: &IdTokenFacts<'_>) -> Result<String, Error> {
    let now = tokens.now();
    let keyring = tokens.keyring.current();
    // `at_hash` uses the hash of the algorithm that signs now (it may change across a rotation).
    let algorithm = keyring.signing_algorithm(now);
    let mut claims = Map::new();
    claims.insert("iss".into(), issuer(tokens).into());
    claims.insert("sub".into(), user.id.to_string().into());
    claims.insert("aud".into(), facts.client_id.into());
    claims.insert("azp".into(), facts.client_id.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + i64::from(tokens.settings.jwt_expiration) * 60).into());
    claims.insert("auth_time".into(), facts.auth_time.into());
    claims.insert("sid".into(), facts.session.to_string().into());
    let amr: Vec<&str> = facts.amr.map_or_else(|| vec!["pwd"], |amr| amr.split_whitespace().collect());
    claims.insert("amr".into(), json!(amr));
    claims.insert("at_hash".into(), token_hash(algorithm, facts.access_token).into());
    if let Some(nonce) = facts.nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    claims.extend(user_claims(user, facts.scope));
    Ok(jwt::sign(&keyring, &claims, now)?)
}

/// The claims about `user` that `scope` grants (ID token and userinfo).
pub fn user_claims(user: &User, scope: &Scopes) -> Map<String, Value> {
    let mut claims = Map::new();
    if scope.contains(PROFILE) {
        claims.insert("preferred_username".into(), user.handle.clone().into());
        if let Some(name) = &user.full_name {
            claims.insert("name".into(), name.clone().into());
        }
        claims.insert("updated_at".into(), user.updated_at.into());
    }
    if scope.contains(EMAIL) {
        claims.insert("email".into(), user.email.clone().into());
        claims.insert("email_verified".into(), user.verified.into());
    }
    claims
}

/// `at_hash` (OpenID Connect Core §3.1.3.6): the left half of the token's hash, with the hash of
/// the signing algorithm.
pub fn token_hash(algorithm: Algorithm, token: &str) -> String {
    let digest: Vec<u8> = match algorithm {
        Algorithm::Es256 => Sha256::digest(token.as_bytes()).to_vec(),
        Algorithm::Es384 => Sha384::digest(token.as_bytes()).to_vec(),
        Algorithm::Es512 => Sha512::digest(token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// A verified, unrevoked access token of this provider.
#[derive(Debug, Clone)]
pub struct CheckedAccessToken {
    pub claims: Map<String, Value>,
    pub client_id: String,
    pub user_id: Option<i64>,
    pub scope: Scopes,
}

/// Checks an access token: signature, `typ: at+jwt`, issuer, expiry, and the revocation list
/// (its `jti`, its session, its user, its client). Anything else is `invalid_token`.
pub fn check_access_token(tokens: &Tokens, token: &str) -> Result<CheckedAccessToken, OauthError> {
    let invalid = || OauthError::invalid_token("the access token is invalid, expired or revoked");
    let expect =
        Expectations { issuer: issuer(tokens), now: tokens.now(), leeway: i64::from(tokens.settings.jwt_leeway) };
    let signed = jwt::verify_signed(&tokens.keyring.current(), token, expect).map_err(|_| invalid())?;
    if !signed.token_type.as_deref().is_some_and(|typ| typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)) {
        return Err(invalid());
    }
    let claims = signed.payload;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let client_id = text("client_id").ok_or_else(invalid)?.to_owned();
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or_else(invalid)?;
    let sid = claims.get("sid").and_then(Value::as_i64);
    let user_id = match text("sub") {
        Some(sub) if sub == client_id && sid.is_none() => None,
        Some(sub) => Some(sub.parse::<i64>().map_err(|_| invalid())?),
        None => return Err(invalid()),
    };
    let revocations = &tokens.revocations;
    if revocations.is_revoked(text("jti"), sid, user_id.map(|id| (id, iat)))
        || revocations.is_client_revoked(&client_id, iat)
    {
        return Err(invalid());
    }
    let scope = Scopes::parse(text("scope").unwrap_or_default()).map_err(|_| invalid())?;
    Ok(CheckedAccessToken { claims, client_id, user_id, scope })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_the_algorithms_hash() {
        // OpenID Connect Core's example uses SHA-256: 16 bytes, 22 base64url characters.
        assert_eq!(token_hash(Algorithm::Es256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").len(), 22);
        assert_eq!(token_hash(Algorithm::Es384, "x").len(), 32);
        assert_eq!(token_hash(Algorithm::Es512, "x").len(), 43);
    }
}
