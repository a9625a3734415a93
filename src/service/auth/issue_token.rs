//! Building and signing an Authify JWT: Authify's claims (`exp, iat, iss, scopes, user`, `custom`
//! when injected) plus `sub` and `jti`, and when they apply `act`, `sid` and `akid` (see
//! [`Claims`]).

use serde_json::{Map, Value};

use super::Tokens;
use crate::crypto::{jwt, tokens};
use crate::domain::claims::{ActClaim, UserClaim};
use crate::domain::{ApiKeyId, Claims, InvalidValue, Scope, SessionId, UserId};
use crate::error::Error;
use crate::store::claims::OrganizationClaim;
use crate::store::users::User;

/// The largest `inject` object accepted, serialized.
pub const MAX_INJECT_BYTES: usize = 4096;

pub const USER_ACCESS: &str = "user_access";
pub const ADMIN_ACCESS: &str = "admin_access";

/// A signed token and what a caller may want to report about it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub jwt: String,
    pub jti: String,
    pub expires_in: i64,
    /// The `exp` claim.
    pub expires_at: i64,
}

/// Checks the `inject` value of a token request: a JSON object of bounded size.
pub fn check_inject(inject: Option<Value>) -> Result<Option<Map<String, Value>>, Error> {
    match inject {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => {
            let size = serde_json::to_vec(&map).map(|v| v.len()).unwrap_or(usize::MAX);
            if size > MAX_INJECT_BYTES {
                return Err(
                    InvalidValue::new("inject", format!("must be at most {MAX_INJECT_BYTES} bytes of JSON")).into()
                );
            }
            Ok(Some(map))
        }
        Some(_) => Err(InvalidValue::new("inject", "must be a JSON object").into()),
    }
}

/// The scopes a user holds.
pub fn scopes_of(user: &User) -> Vec<String> {
    let mut scopes = vec![USER_ACCESS.to_owned()];
    if user.admin {
        scopes.push(ADMIN_ACCESS.to_owned());
    }
    scopes
}

/// Who a token is for and what it may do; everything a token says about its user.
#[derive(Debug, Clone)]
pub struct TokenSubject<'a> {
    pub user: &'a User,
    pub organizations: &'a [OrganizationClaim],
    /// The `scopes` claim: the user's own, or fewer (an API key narrows them).
    pub scopes: &'a [String],
    /// `act.sub` for a token minted by a trusted delegate on a user's behalf (`delegate:<name>`).
    pub actor: Option<&'a str>,
    /// The session the token continues (`sid`): revoking the session revokes the token.
    pub session: Option<SessionId>,
    /// The API key the token was minted with (`akid`): deleting the key revokes the token.
    pub api_key: Option<ApiKeyId>,
    /// The session's `amr` (space-separated), when the user did not sign in with a password.
    pub amr: Option<&'a str>,
}

/// Signs a token for `subject`. No database access: callers that cache the subject sign from memory.
pub fn sign_token(
    tokens: &Tokens,
    subject: &TokenSubject<'_>,
    inject: Option<Map<String, Value>>,
) -> Result<IssuedToken, Error> {
    let settings = &tokens.settings;
    let user = subject.user;
    let now = tokens.now();
    let lifetime = i64::from(settings.jwt_expiration) * 60;
    let jti = tokens::random_token(16);
    let claims = Claims {
        exp: Some(now + lifetime),
        iat: Some(now),
        iss: settings.jwt_issuer.clone(),
        scopes: subject.scopes.iter().map(|scope| Scope::from(scope.as_str())).collect(),
        user: Some(UserClaim {
            username: user.email.clone(),
            uid: UserId(user.id),
            organizations: subject.organizations.to_vec(),
        }),
        custom: inject,
        sub: Some(UserId(user.id)),
        jti: Some(jti.clone()),
        act: subject.actor.map(|actor| ActClaim { sub: actor.to_owned() }),
        sid: subject.session,
        akid: subject.api_key,
        amr: subject.amr.map(|amr| amr.split_whitespace().map(str::to_owned).collect()),
    };
    let jwt = jwt::sign(&tokens.keyring.current(), &claims, now)?;
    tokens.monitor.token_provided();
    Ok(IssuedToken { jwt, jti, expires_in: lifetime, expires_at: now + lifetime })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn inject_must_be_a_small_object() {
        assert!(check_inject(None).expect("none").is_none());
        assert!(check_inject(Some(json!({"foo": "bar"}))).expect("object").is_some());
        assert!(check_inject(Some(json!("text"))).is_err());
        assert!(check_inject(Some(json!([1, 2]))).is_err());
        assert!(check_inject(Some(json!({"big": "x".repeat(MAX_INJECT_BYTES)}))).is_err());
    }
}
