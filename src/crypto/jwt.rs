//! Signing and verifying Authify JWTs. josekit does the JWS work; this module adds Authify's
//! claim checks and maps every failure to Authify's error messages.

use std::cell::Cell;

use josekit::JoseError;
use josekit::jws::{JwsHeader, JwsVerifier};
use josekit::jwt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Algorithm, Keyring};
use crate::domain::Claims;

/// Tokens longer than this are refused before any decoding (Authify tokens are well under 4 KiB).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Why a token is not valid; the texts are Authify's (ruby-jwt's), so clients matching on them keep working.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("Nil JSON web token")]
    Nil,
    #[error("Not enough or too many segments")]
    Segments,
    #[error("Invalid segment encoding")]
    Encoding,
    #[error("Expected a different algorithm")]
    Algorithm,
    #[error("Signature verification raised")]
    Signature,
    #[error("Signature has expired")]
    Expired,
    #[error("Signature nbf has not been reached")]
    NotYetValid,
    #[error("Invalid issuer. Expected {expected}, received {received}")]
    Issuer { expected: String, received: String },
    #[error("Invalid iat")]
    IssuedInFuture,
    #[error("Token has been revoked")]
    Revoked,
}

/// What the checks below need to know besides the token.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    pub issuer: &'a str,
    /// Unix seconds.
    pub now: i64,
    pub leeway: i64,
}

/// A token that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub claims: Claims,
    /// Every claim as it was signed, those [`Claims`] does not name included.
    pub payload: Map<String, Value>,
    pub algorithm: Algorithm,
}

/// Signs `claims` (a JSON object: [`Claims`], or a map) with the key that signs at `now` (Unix
/// seconds); the header carries `typ: JWT`, `alg` and `kid`.
pub fn sign(keyring: &Keyring, claims: &impl Serialize, now: i64) -> Result<String, JoseError> {
    sign_typed(keyring, claims, now, "JWT")
}

/// [`sign`] with another `typ` header (`at+jwt` for RFC 9068 access tokens).
pub fn sign_typed(keyring: &Keyring, claims: &impl Serialize, now: i64, typ: &str) -> Result<String, JoseError> {
    let (kid, signer) = keyring.signer(now);
    let mut header = JwsHeader::new();
    header.set_token_type(typ);
    header.set_key_id(kid);
    // The claims go straight to their JSON bytes (what `jwt::encode_with_signer` signs after
    // taking them through a map); a JWT's payload is an object.
    let payload = serde_json::to_vec(claims).map_err(|err| JoseError::InvalidJson(err.into()))?;
    if payload.first() != Some(&b'{') {
        return Err(JoseError::InvalidJson(anyhow::anyhow!("the claims are not a JSON object")));
    }
    josekit::jws::serialize_compact(&payload, &header, signer)
}

/// The `typ` of RFC 9068 access tokens; Authify's own routes refuse them (and the OpenID
/// Provider's routes refuse everything else), so one kind of token cannot stand in for the other.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Verifies an Authify token: [`verify_signed`], then Authify's claims; an `at+jwt` token is
/// refused as if its signature were wrong.
pub fn verify(keyring: &Keyring, token: &str, expect: Expectations<'_>) -> Result<VerifiedToken, VerifyError> {
    let signed = verify_signed(keyring, token, expect)?;
    if signed.token_type.as_deref().is_some_and(|typ| typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)) {
        return Err(VerifyError::Signature);
    }
    // A known claim of the wrong type is refused like a payload that does not decode: only a
    // holder of our key could have signed it (see `domain::claims`).
    let payload = Value::Object(signed.payload);
    let claims = Claims::deserialize(&payload).map_err(|_| VerifyError::Encoding)?;
    let Value::Object(payload) = payload else { return Err(VerifyError::Encoding) };
    Ok(VerifiedToken { claims, payload, algorithm: signed.algorithm })
}

/// A token whose signature and registered claims (`exp`, `nbf`, `iss`, `iat`) passed.
#[derive(Debug, Clone)]
pub struct SignedPayload {
    pub payload: Map<String, Value>,
    pub algorithm: Algorithm,
    /// The `typ` header.
    pub token_type: Option<String>,
}

/// Verifies signature (with the key named by `kid`, whose algorithm must match `alg`) and the
/// registered claims.
pub fn verify_signed(keyring: &Keyring, token: &str, expect: Expectations<'_>) -> Result<SignedPayload, VerifyError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(VerifyError::Nil);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::Encoding);
    }
    if token.bytes().filter(|b| *b == b'.').count() != 2 {
        return Err(VerifyError::Segments);
    }
    let refused: Cell<Option<VerifyError>> = Cell::new(None);
    let chosen: Cell<Option<Algorithm>> = Cell::new(None);
    let selector = |header: &JwsHeader| -> Result<Option<&dyn JwsVerifier>, JoseError> {
        let Some((algorithm, verifier)) = keyring.verification_key(header.key_id(), expect.now) else {
            refused.set(Some(VerifyError::Signature));
            return Ok(None);
        };
        if header.algorithm() != Some(algorithm.name()) {
            refused.set(Some(VerifyError::Algorithm));
            return Ok(None);
        }
        chosen.set(Some(algorithm));
        Ok(Some(verifier))
    };
    let (payload, header) = jwt::decode_with_verifier_selector(token, selector).map_err(|err| {
        refused.take().unwrap_or(match err {
            JoseError::InvalidSignature(_) if chosen.get().is_some() => VerifyError::Signature,
            _ => VerifyError::Encoding,
        })
    })?;
    let algorithm = chosen.get().ok_or(VerifyError::Signature)?;
    let payload = payload.claims_set().clone();
    check_claims(&payload, expect)?;
    Ok(SignedPayload { payload, algorithm, token_type: header.token_type().map(str::to_owned) })
}

/// ruby-jwt's order and rules: exp, nbf, iss, iat.
fn check_claims(claims: &Map<String, Value>, expect: Expectations<'_>) -> Result<(), VerifyError> {
    let number = |name: &str| claims.get(name).map(|v| v.as_f64().map(|f| f as i64));
    match number("exp") {
        Some(Some(exp)) if exp > expect.now - expect.leeway => {}
        None => {}
        _ => return Err(VerifyError::Expired),
    }
    match number("nbf") {
        Some(Some(nbf)) if nbf > expect.now + expect.leeway => return Err(VerifyError::NotYetValid),
        Some(None) => return Err(VerifyError::NotYetValid),
        _ => {}
    }
    let received = claims.get("iss").and_then(Value::as_str).unwrap_or_default();
    if received != expect.issuer {
        return Err(VerifyError::Issuer { expected: expect.issuer.to_string(), received: received.to_string() });
    }
    match number("iat") {
        Some(Some(iat)) if iat > expect.now + expect.leeway => Err(VerifyError::IssuedInFuture),
        Some(None) => Err(VerifyError::IssuedInFuture),
        _ => Ok(()),
    }
}
