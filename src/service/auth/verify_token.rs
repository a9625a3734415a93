//! Verifying a token against this instance's keys, issuer, clock and revocation list.

use serde_json::{Map, Value};

use super::Tokens;
use crate::crypto::jwt::{self, Expectations, VerifiedToken, VerifyError};

pub fn verify(tokens: &Tokens, token: &str) -> Result<VerifiedToken, VerifyError> {
    let expect = Expectations {
        issuer: &tokens.settings.jwt_issuer,
        now: tokens.now(),
        leeway: i64::from(tokens.settings.jwt_leeway),
    };
    let verified = jwt::verify(&tokens.keyring, token, expect)?;
    let claims = &verified.claims;
    let jti = claims.get("jti").and_then(Value::as_str);
    let subject = subject_id(claims).zip(claims.get("iat").and_then(Value::as_i64));
    let delegate = delegate_name(claims).zip(claims.get("iat").and_then(Value::as_i64));
    if tokens.revocations.is_revoked(jti, session_id(claims), subject)
        || api_key_id(claims).is_some_and(|key| tokens.revocations.is_api_key_revoked(key))
        || delegate.is_some_and(|(name, iat)| tokens.revocations.is_delegate_revoked(name, iat))
    {
        return Err(VerifyError::Revoked);
    }
    Ok(verified)
}

/// The delegate a token was minted through (`act.sub = "delegate:<name>"`), if any.
pub fn delegate_name(claims: &Map<String, Value>) -> Option<&str> {
    claims.get("act")?.get("sub")?.as_str()?.strip_prefix("delegate:")
}

/// The API key a token was minted with (`akid`), if any.
pub fn api_key_id(claims: &Map<String, Value>) -> Option<i64> {
    claims.get("akid")?.as_str()?.parse().ok()
}

/// `sub` (ours), or Authify's `user.uid` for tokens without one.
pub fn subject_id(claims: &Map<String, Value>) -> Option<i64> {
    if let Some(sub) = claims.get("sub").and_then(Value::as_str) {
        return sub.parse().ok();
    }
    claims.get("user")?.get("uid")?.as_i64()
}

/// The session a token was issued for (`sid`), if any.
pub fn session_id(claims: &Map<String, Value>) -> Option<i64> {
    match claims.get("sid")? {
        Value::String(sid) => sid.parse().ok(),
        Value::Number(sid) => sid.as_i64(),
        _ => None,
    }
}
