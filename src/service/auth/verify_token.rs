//! Verifying a token against this instance's keys, issuer, clock and revocation list.

use super::Tokens;
use crate::crypto::jwt::{self, Expectations, VerifiedToken, VerifyError};

pub fn verify(tokens: &Tokens, token: &str) -> Result<VerifiedToken, VerifyError> {
    let expect = Expectations {
        issuer: &tokens.settings.jwt_issuer,
        now: tokens.now(),
        leeway: i64::from(tokens.settings.jwt_leeway),
    };
    let verified = jwt::verify(&tokens.keyring.current(), token, expect)?;
    let claims = &verified.claims;
    let subject = claims.subject().map(|id| id.0).zip(claims.iat);
    let delegate = claims.delegate_name().zip(claims.iat);
    if tokens.revocations.is_revoked(claims.jti.as_deref(), claims.sid.map(|sid| sid.0), subject)
        || claims.akid.is_some_and(|key| tokens.revocations.is_api_key_revoked(key.0))
        || delegate.is_some_and(|(name, iat)| tokens.revocations.is_delegate_revoked(name, iat))
    {
        return Err(VerifyError::Revoked);
    }
    Ok(verified)
}
