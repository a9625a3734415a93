//! Checking an upstream ID token with the `openidconnect` crate: the signature by a key of the
//! provider's JWKS (asymmetric algorithms only), `iss`, `aud`, `azp`, `exp`, `iat` against our
//! clock, and the `nonce` this login sent. Microsoft Entra's multi-tenant tokens are checked
//! against the issuer of their own `tid`, which must be allowed, and are known by `tid` + `oid`.

use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJwsSigningAlgorithm};
use openidconnect::{ClaimsVerificationError, ClientId, ClientSecret, IssuerUrl, Nonce, SignatureVerificationError};
use serde_json::Value;

use super::upstream::{Discovered, Upstream, Upstreams};
use crate::crypto::secret;
use crate::domain::Email;
use crate::error::Error;

/// Who a checked ID token says signed in.
#[derive(Debug, Clone)]
pub struct UpstreamIdentity {
    /// The stable subject: `sub`, or `tid:oid` for Entra.
    pub subject: String,
    pub email: Option<Email>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Checks `id_token` (fetching the JWKS once more for a key it lacks) and answers who it is for.
pub async fn check(
    upstreams: &Upstreams,
    upstream: &Upstream,
    discovered: Discovered,
    id_token: &str,
    nonce_hash: &str,
    now: i64,
) -> Result<UpstreamIdentity, Error> {
    let failed = |problem: &str| Error::ExternalLoginFailed(format!("the ID token {problem}"));
    let token = CoreIdToken::from_str(id_token).map_err(|_| failed("is not a signed JWT"))?;
    let payload = unverified_payload(id_token).ok_or_else(|| failed("is not a signed JWT"))?;
    let tenant = payload.get("tid").and_then(Value::as_str).map(str::to_owned);
    let claims = match check_claims(upstream, &discovered, &token, tenant.as_deref(), nonce_hash, now) {
        Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
            let refreshed =
                upstreams.refetch_keys(upstream).await.ok_or_else(|| failed("is signed by an unknown key"))?;
            check_claims(upstream, &refreshed, &token, tenant.as_deref(), nonce_hash, now)
        }
        other => other,
    }
    .map_err(|e| failed(&format!("fails a check: {e}")))?;
    identity(&discovered, &claims, &payload, tenant, upstream)
}

fn check_claims(
    upstream: &Upstream,
    discovered: &Discovered,
    token: &CoreIdToken,
    tenant: Option<&str>,
    nonce_hash: &str,
    now: i64,
) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
    let issuer = match (discovered.issuer_template(), tenant) {
        (Some(_), Some(tid)) => discovered.issuer_for_tenant(tid).unwrap_or_default(),
        (Some(_), None) => return Err(ClaimsVerificationError::InvalidIssuer("no tid claim".into())),
        (None, _) => discovered.metadata.issuer().as_str().to_owned(),
    };
    let issuer = IssuerUrl::new(issuer).map_err(|e| ClaimsVerificationError::InvalidIssuer(e.to_string()))?;
    let client_id = ClientId::new(upstream.settings.client_id.clone());
    let keys = (*discovered.keys).clone();
    let verifier = match &upstream.settings.client_secret {
        Some(secret) => CoreIdTokenVerifier::new_confidential_client(
            client_id,
            ClientSecret::new(secret.expose().into()),
            issuer,
            keys,
        ),
        None => CoreIdTokenVerifier::new_public_client(client_id, issuer, keys),
    };
    let verifier = verifier
        .set_allowed_algs(ASYMMETRIC)
        .set_time_fn(move || chrono::DateTime::from_timestamp(now, 0).unwrap_or_default());
    let nonce_matches = |nonce: Option<&Nonce>| match nonce {
        Some(nonce) if secret::secret_matches(nonce.secret(), nonce_hash) => Ok(()),
        Some(_) => Err("the nonce is not the one this sign-in sent".to_owned()),
        None => Err("no nonce".to_owned()),
    };
    token.claims(&verifier, nonce_matches).cloned()
}

/// Algorithms an ID token may be signed with: never `none`, never HMAC with the client secret.
const ASYMMETRIC: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The identity in a token whose checks passed.
fn identity(
    discovered: &Discovered,
    claims: &CoreIdTokenClaims,
    payload: &Value,
    tenant: Option<String>,
    upstream: &Upstream,
) -> Result<UpstreamIdentity, Error> {
    let failed = |problem: &str| Error::ExternalLoginFailed(format!("the ID token {problem}"));
    let subject = match (discovered.issuer_template(), tenant) {
        (Some(_), Some(tid)) => {
            let allowed = &upstream.settings.allowed_tenants;
            if !allowed.is_empty() && !allowed.iter().any(|t| t == &tid) {
                return Err(Error::ExternalLoginRefused(format!("tenant {tid} is not allowed")));
            }
            let oid = payload.get("oid").and_then(Value::as_str).ok_or_else(|| failed("has no oid claim"))?;
            format!("{tid}:{oid}")
        }
        _ => claims.subject().as_str().to_owned(),
    };
    let email = claims.email().and_then(|e| Email::parse(e.as_str()).ok());
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned());
    Ok(UpstreamIdentity { subject, email, email_verified: claims.email_verified().unwrap_or(false), name })
}

/// The JWT's claims as JSON, before any check (for `tid` and `oid`, which the checked claims do
/// not carry); trusted only once the signature has been checked.
fn unverified_payload(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}
