//! Building and signing an Authify JWT: Authify's claims (`exp, iat, iss, scopes, user`, `custom`
//! when injected) plus `sub` and `jti`.

use serde_json::{Map, Value, json};

use crate::crypto::{jwt, tokens};
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::state::AppState;
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
pub fn scopes_of(user: &User) -> Vec<&'static str> {
    if user.admin { vec![USER_ACCESS, ADMIN_ACCESS] } else { vec![USER_ACCESS] }
}

/// Signs a token for `user`.
pub fn issue_for_user(state: &AppState, user: &User, inject: Option<Map<String, Value>>) -> Result<IssuedToken, Error> {
    let settings = &state.settings;
    let now = state.now();
    let lifetime = i64::from(settings.jwt_expiration) * 60;
    let jti = tokens::random_token(16);
    let mut claims = Map::new();
    claims.insert("exp".into(), json!(now + lifetime));
    claims.insert("iat".into(), json!(now));
    claims.insert("iss".into(), json!(settings.jwt_issuer));
    claims.insert("scopes".into(), json!(scopes_of(user)));
    claims
        .insert("user".into(), json!({ "username": user.email, "uid": user.id, "organizations": Vec::<Value>::new() }));
    if let Some(custom) = inject {
        claims.insert("custom".into(), Value::Object(custom));
    }
    claims.insert("sub".into(), json!(user.id.to_string()));
    claims.insert("jti".into(), json!(jti));
    let jwt = jwt::sign(&state.keyring, claims)?;
    Ok(IssuedToken { jwt, jti, expires_in: lifetime })
}

#[cfg(test)]
mod tests {
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
