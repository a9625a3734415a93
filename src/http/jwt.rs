//! Authify's `/jwt/*` routes: the public key, token metadata, token issuance and verification.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde::Deserialize;
use serde_json::Value;

use super::errors::PlainError;
use super::json_body::JsonBody;
use crate::error::Error;
use crate::service::{issue_token, login, verify_token};
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

/// Credentials for a token: `email` + `password`.
#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct TokenRequest {
    email: Option<String>,
    #[oai(write_only)]
    password: Option<String>,
    /// A JSON object copied into the token's `custom` claim (at most 4 KiB).
    inject: Option<Value>,
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
    /// Unknown email, wrong password and (when verification is required) an unverified account all
    /// answer the same 401.
    #[oai(path = "/token", method = "post")]
    async fn token(
        &self,
        state: Data<&AppState>,
        body: JsonBody<TokenRequest>,
    ) -> Result<Json<TokenResponse>, PlainError> {
        let request = body.0;
        let inject = issue_token::check_inject(request.inject)?;
        let (Some(email), Some(password)) = (request.email, request.password) else {
            return Err(Error::InvalidCredentials.into());
        };
        let issued = login::password_login(&state, &email, &password, inject).await?;
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
