//! Verifying a token against this instance's keys, issuer, clock and revocation list.

use serde_json::{Map, Value};

use crate::crypto::jwt::{self, Expectations, VerifiedToken, VerifyError};
use crate::state::AppState;

pub fn verify(state: &AppState, token: &str) -> Result<VerifiedToken, VerifyError> {
    let expect = Expectations {
        issuer: &state.settings.jwt_issuer,
        now: state.now(),
        leeway: i64::from(state.settings.jwt_leeway),
    };
    let verified = jwt::verify(&state.keyring, token, expect)?;
    let jti = verified.claims.get("jti").and_then(Value::as_str);
    if state.revocations.is_revoked(jti, session_id(&verified.claims)) {
        return Err(VerifyError::Revoked);
    }
    Ok(verified)
}

/// The session a token was issued for (`sid`), if any.
pub fn session_id(claims: &Map<String, Value>) -> Option<i64> {
    match claims.get("sid")? {
        Value::String(sid) => sid.parse().ok(),
        Value::Number(sid) => sid.as_i64(),
        _ => None,
    }
}
