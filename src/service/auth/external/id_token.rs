//! Checking an upstream ID token with the `openidconnect` crate: the signature by a key of the
//! provider's JWKS (asymmetric algorithms only), `iss`, `aud`, `azp`, `exp`, `iat` against our
//! clock, and the `nonce` this login sent. Microsoft Entra's multi-tenant tokens are checked
//! against the issuer of their own `tid`, which must be allowed, and are known by `tid` + `oid`.

use std::str::FromStr;

use openidconnect::core::{
    CoreGenderClaim, CoreIdTokenVerifier, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, ClientSecret, IdToken, IdTokenClaims, IssuerUrl, Nonce,
    SignatureVerificationError,
};
use serde::{Deserialize, Serialize};

use super::upstream::{Discovered, Upstream, Upstreams};
use crate::crypto::secret;
use crate::domain::Email;
use crate::error::Error;

/// Microsoft Entra's tenant and object ids, beside the standard claims.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct EntraClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    oid: Option<String>,
}

impl AdditionalClaims for EntraClaims {}

type UpstreamIdToken =
    IdToken<EntraClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type UpstreamClaims = IdTokenClaims<EntraClaims, CoreGenderClaim>;

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
    let token = UpstreamIdToken::from_str(id_token).map_err(|_| failed("is not a signed JWT"))?;
    let claims = match check_claims(upstream, &discovered, &token, nonce_hash, now) {
        Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
            let refreshed =
                upstreams.refetch_keys(upstream).await.ok_or_else(|| failed("is signed by an unknown key"))?;
            check_claims(upstream, &refreshed, &token, nonce_hash, now)
        }
        other => other,
    }
    .map_err(|e| failed(&format!("fails a check: {e}")))?;
    identity(&discovered, &claims, upstream)
}

/// The checked claims. A tenant-templated issuer is left to [`identity`], which knows the `tid`
/// once the signature is proven.
fn check_claims(
    upstream: &Upstream,
    discovered: &Discovered,
    token: &UpstreamIdToken,
    nonce_hash: &str,
    now: i64,
) -> Result<UpstreamClaims, ClaimsVerificationError> {
    let issuer = IssuerUrl::new(discovered.metadata.issuer().to_string())
        .map_err(|e| ClaimsVerificationError::InvalidIssuer(e.to_string()))?;
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
        .require_issuer_match(discovered.issuer_template().is_none())
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

/// The identity in claims whose checks passed; for a tenant-templated issuer, the issuer of the
/// token's own `tid` and the allowed tenants are checked here.
fn identity(discovered: &Discovered, claims: &UpstreamClaims, upstream: &Upstream) -> Result<UpstreamIdentity, Error> {
    let failed = |problem: &str| Error::ExternalLoginFailed(format!("the ID token {problem}"));
    let subject = match discovered.issuer_template() {
        Some(_) => {
            let entra = claims.additional_claims();
            let tid = entra.tid.as_deref().ok_or_else(|| failed("has no tid claim"))?;
            let expected = discovered.issuer_for_tenant(tid).unwrap_or_default();
            if claims.issuer().as_str() != expected {
                return Err(failed(&format!(
                    "fails a check: Invalid issuer: {} is not {expected}",
                    claims.issuer().as_str()
                )));
            }
            let allowed = &upstream.settings.allowed_tenants;
            if !allowed.is_empty() && !allowed.iter().any(|t| t == tid) {
                return Err(Error::ExternalLoginRefused(format!("tenant {tid} is not allowed")));
            }
            let oid = entra.oid.as_deref().ok_or_else(|| failed("has no oid claim"))?;
            format!("{tid}:{oid}")
        }
        None => claims.subject().as_str().to_owned(),
    };
    let email = claims.email().and_then(|e| Email::parse(e.as_str()).ok());
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned());
    Ok(UpstreamIdentity { subject, email, email_verified: claims.email_verified().unwrap_or(false), name })
}
