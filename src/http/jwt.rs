//! Authify's `/jwt/*` routes: the public key, token metadata, token issuance and verification.

use poem::web::Data;
use poem_openapi::param::{Header, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde::Deserialize;
use serde_json::Value;

use super::errors::PlainError;
use super::json_body::JsonBody;
use super::rate_limit::ClientIp;
use crate::error::Error;
use crate::service::{api_keys, identity_login, issue_token, login, verify_token};
use crate::state::AppState;

#[derive(Tags)]
enum JwtTags {
    /// Tokens: issuance, verification and the key that signs them (Authify-compatible).
    Jwt,
}

/// `{"data": "<PEM>"}`
#[derive(Object)]
struct KeyDocument {
    /// The PEM-encoded (SPKI) public key that verifies this service's tokens.
    data: String,
}

/// How this service's tokens are made.
#[derive(Object)]
struct MetaDocument {
    /// The JWA algorithm: ES256, ES384 or ES512.
    algorithm: String,
    /// The `iss` claim.
    issuer: String,
    /// Token lifetime in minutes.
    expiration: u32,
}

/// Credentials for a token: an API key (`access_key` + `secret_key`, or Authify's dashed
/// `access-key` + `secret-key`); a trusted delegate's identity login (`provider` + `uid`, with the
/// `X-Authify-Access` and `X-Authify-Secret` headers); or `email` + `password`.
#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct TokenRequest {
    /// An API key's access key.
    access_key: Option<String>,
    /// The API key's secret (`authify_sk_…`).
    #[oai(write_only)]
    secret_key: Option<String>,
    /// Same as `access_key` (the spelling of the {json:api} create response).
    #[oai(rename = "access-key")]
    #[serde(rename = "access-key")]
    access_key_dashed: Option<String>,
    /// Same as `secret_key`.
    #[oai(rename = "secret-key", write_only)]
    #[serde(rename = "secret-key")]
    secret_key_dashed: Option<String>,
    /// With `uid`: the external identity (for example `github`) whose linked user a trusted delegate
    /// asks a token for. Needs the delegate headers.
    provider: Option<String>,
    /// The user's id at `provider`.
    uid: Option<String>,
    email: Option<String>,
    #[oai(write_only)]
    password: Option<String>,
    /// With `email` + `password`: the current code of the account's second factor.
    #[oai(write_only)]
    totp_code: Option<String>,
    /// With `email` + `password`: a one-time recovery code instead of `totp_code`.
    #[oai(write_only)]
    recovery_code: Option<String>,
    /// A JSON object copied into the token's `custom` claim (at most 4 KiB).
    inject: Option<Value>,
}

/// The one kind of credentials a token request is judged by (see [`choose_credentials`]).
enum Credentials {
    Identity { access: String, secret: String, provider: String, uid: String },
    ApiKey { access: String, secret: String },
    Password { email: String, password: String, totp_code: Option<String>, recovery_code: Option<String> },
}

/// Picks the kind of credentials by what the body names, in this order, and only that kind is
/// checked (never a fallback to another after a failure): `provider`/`uid` → delegate identity
/// login; an access key (underscored spelling first) → API key; else `email` + `password`.
/// `None` when the chosen kind is incomplete.
fn choose_credentials(
    request: TokenRequest,
    delegate_access: Option<String>,
    delegate_secret: Option<String>,
) -> Option<Credentials> {
    if request.provider.is_some() || request.uid.is_some() {
        return Some(Credentials::Identity {
            access: delegate_access?,
            secret: delegate_secret?,
            provider: request.provider?,
            uid: request.uid?,
        });
    }
    if let Some(access) = request.access_key.or(request.access_key_dashed) {
        return Some(Credentials::ApiKey { access, secret: request.secret_key.or(request.secret_key_dashed)? });
    }
    Some(Credentials::Password {
        email: request.email?,
        password: request.password?,
        totp_code: request.totp_code,
        recovery_code: request.recovery_code,
    })
}

/// A signed token.
#[derive(Object)]
struct TokenResponse {
    jwt: String,
}

#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct VerifyRequest {
    token: Option<String>,
}

/// Always answered with 200: `valid` says whether the token is good.
#[derive(Object)]
struct VerifyResponse {
    valid: bool,
    /// Every claim of a valid token.
    #[oai(skip_serializing_if_is_none)]
    payload: Option<Value>,
    /// Always `JWT` for a valid token.
    #[oai(rename = "type", skip_serializing_if_is_none)]
    token_type: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    algorithm: Option<String>,
    /// For an invalid token: what was wrong, in Authify's words.
    #[oai(skip_serializing_if_is_none)]
    errors: Option<Vec<String>>,
    /// For an invalid token: always `Corrupt or invalid JWT`.
    #[oai(skip_serializing_if_is_none)]
    reason: Option<String>,
}

pub struct JwtApi;

#[OpenApi(prefix_path = "/jwt", tag = "JwtTags::Jwt")]
impl JwtApi {
    /// The public key (PEM) that verifies tokens.
    #[oai(path = "/key", method = "get")]
    async fn key(&self, state: Data<&AppState>) -> Json<KeyDocument> {
        Json(KeyDocument { data: state.keyring.public_pem().to_owned() })
    }

    /// The algorithm, issuer and lifetime of tokens.
    #[oai(path = "/meta", method = "get")]
    async fn meta(&self, state: Data<&AppState>) -> Json<MetaDocument> {
        Json(MetaDocument {
            algorithm: state.keyring.algorithm().name().to_owned(),
            issuer: state.settings.jwt_issuer.clone(),
            expiration: state.settings.jwt_expiration,
        })
    }

    /// Exchanges credentials for a signed JWT.
    ///
    /// One kind of credentials is judged, chosen by what the body names: `provider`/`uid` (a trusted
    /// delegate's identity login, with the delegate headers), else an access key, else email and
    /// password. Any failure (unknown or wrong credentials, an expired or deleted API key, an unknown
    /// identity, an unverified account when verification is required) answers the same 401; a
    /// disabled account answers 403, only after correct credentials.
    #[oai(path = "/token", method = "post")]
    async fn token(
        &self,
        state: Data<&AppState>,
        /// A trusted delegate's access key (identity login only).
        #[oai(name = "X-Authify-Access")]
        delegate_access: Header<Option<String>>,
        /// The trusted delegate's secret (identity login only).
        #[oai(name = "X-Authify-Secret")]
        delegate_secret: Header<Option<String>>,
        client_ip: ClientIp,
        body: JsonBody<TokenRequest>,
    ) -> Result<Json<TokenResponse>, PlainError> {
        let mut request = body.0;
        let inject = issue_token::check_inject(request.inject.take())?;
        let credentials =
            choose_credentials(request, delegate_access.0, delegate_secret.0).ok_or(Error::InvalidCredentials)?;
        let issued = match credentials {
            Credentials::Identity { access, secret, provider, uid } => {
                identity_login::delegate_identity_login(&state, &access, &secret, &provider, &uid, inject).await?
            }
            Credentials::ApiKey { access, secret } => api_keys::api_key_login(&state, &access, &secret, inject).await?,
            Credentials::Password { email, password, totp_code, recovery_code } => {
                let attempt = login::PasswordAttempt {
                    email: &email,
                    password: &password,
                    totp_code: totp_code.as_deref(),
                    recovery_code: recovery_code.as_deref(),
                    client_ip: client_ip.0,
                };
                login::password_login(&state, &attempt, inject).await?
            }
        };
        Ok(Json(TokenResponse { jwt: issued.jwt }))
    }

    /// Checks a token given as the `token` query parameter.
    #[oai(path = "/verify", method = "get")]
    async fn verify_get(&self, state: Data<&AppState>, token: Query<Option<String>>) -> Json<VerifyResponse> {
        Json(verification(&state, token.0.as_deref().unwrap_or_default()))
    }

    /// Checks a token given as `{"token": "…"}`.
    #[oai(path = "/verify", method = "post")]
    async fn verify_post(&self, state: Data<&AppState>, body: JsonBody<VerifyRequest>) -> Json<VerifyResponse> {
        Json(verification(&state, body.0.token.as_deref().unwrap_or_default()))
    }
}

fn verification(state: &AppState, token: &str) -> VerifyResponse {
    match verify_token::verify(state, token) {
        Ok(verified) => VerifyResponse {
            valid: true,
            payload: Some(Value::Object(verified.claims)),
            token_type: Some("JWT".into()),
            algorithm: Some(verified.algorithm.name().into()),
            errors: None,
            reason: None,
        },
        Err(err) => VerifyResponse {
            valid: false,
            payload: None,
            token_type: None,
            algorithm: None,
            errors: Some(vec![err.to_string()]),
            reason: Some("Corrupt or invalid JWT".into()),
        },
    }
}
