//! Authify's `/jwt/*` routes: the public key, token metadata, token issuance and verification.

use poem::web::Data;
use poem_openapi::param::{Header, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde::Deserialize;
use serde_json::Value;

use super::errors::{BodyError, PlainError};
use super::json_body::{JsonBody, OptionalJsonBody};
use super::passkeys::PasskeyAssertion;
use crate::domain::{Email, Submitted};
use crate::error::Error;
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::api_key_login;
use crate::service::auth::external;
use crate::service::auth::identity_login;
use crate::service::auth::issue_token;
use crate::service::auth::login;
use crate::service::auth::passkeys::second_factor::Assertion;
use crate::service::auth::refresh::{self, TokenPair};
use crate::service::auth::revoke;
use crate::service::auth::verify_token;
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
    /// With `email` + `password`: a passkey instead of `totp_code`, for the ceremony the
    /// `totp_required` answer carried (`second_factor_required.passkey`).
    #[oai(write_only)]
    passkey: Option<PasskeyAssertion>,
    /// The one-time code an external sign-in (`/identities/oidc/{provider}/callback`) sent back
    /// to the redirect URI; valid 60 s, once.
    #[oai(write_only)]
    login_code: Option<String>,
    /// A JSON object copied into the token's `custom` claim (at most 4 KiB).
    inject: Option<Value>,
}

/// The one kind of credentials a token request is judged by (see [`choose_credentials`]).
enum Credentials {
    LoginCode {
        code: String,
    },
    Identity {
        access: String,
        secret: String,
        provider: String,
        uid: String,
    },
    ApiKey {
        access: String,
        secret: String,
    },
    Password {
        email: String,
        password: String,
        totp_code: Option<String>,
        recovery_code: Option<String>,
        passkey: Option<Assertion>,
    },
}

/// Picks the kind of credentials by what the body names, in this order, and only that kind is
/// checked (never a fallback to another after a failure): `login_code` → external sign-in;
/// `provider`/`uid` → delegate identity
/// login; an access key (underscored spelling first) → API key; else `email` + `password`.
/// `None` when the chosen kind is incomplete.
fn choose_credentials(
    request: TokenRequest,
    delegate_access: Option<String>,
    delegate_secret: Option<String>,
) -> Option<Credentials> {
    if let Some(code) = request.login_code {
        return Some(Credentials::LoginCode { code });
    }
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
        passkey: request.passkey.map(PasskeyAssertion::into_assertion),
    })
}

/// A signed token; interactive logins (password, identity) and refreshes also get a refresh token.
#[derive(Object)]
pub(super) struct TokenResponse {
    jwt: String,
    /// Exchange it at `/jwt/refresh` for a new pair (`authify_rt_…`); single-use.
    #[oai(skip_serializing_if_is_none)]
    refresh_token: Option<String>,
    /// Seconds until `jwt` expires.
    #[oai(skip_serializing_if_is_none)]
    expires_in: Option<i64>,
    /// Always `Bearer`, with a refresh token.
    #[oai(skip_serializing_if_is_none)]
    token_type: Option<String>,
}

impl TokenResponse {
    fn only_jwt(jwt: String) -> Self {
        Self { jwt, refresh_token: None, expires_in: None, token_type: None }
    }
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        Self {
            jwt: pair.jwt,
            refresh_token: Some(pair.refresh_token),
            expires_in: Some(pair.expires_in),
            token_type: Some("Bearer".into()),
        }
    }
}

/// `{"refresh_token": "authify_rt_…"}`, optionally with `inject` (for `/jwt/refresh`).
#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct RefreshRequest {
    #[oai(write_only)]
    refresh_token: Option<String>,
    /// A JSON object copied into the new token's `custom` claim (at most 4 KiB); refreshed tokens
    /// carry no `custom` claim otherwise.
    inject: Option<Value>,
}

/// `{"refresh_token": …}` to end that token's session; empty with a Bearer token.
#[derive(Debug, Default, Object, Deserialize)]
#[serde(default)]
struct RevokeRequest {
    #[oai(write_only)]
    refresh_token: Option<String>,
}

/// `{}`: the session is over (also for a refresh token that was unknown, as RFC 7009 says).
#[derive(Object)]
struct Revoked {}

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

#[derive(Default)]
pub struct JwtApi;

#[OpenApi(prefix_path = "/jwt", tag = "JwtTags::Jwt")]
impl JwtApi {
    /// The public key (PEM) that verifies tokens.
    #[oai(path = "/key", method = "get")]
    async fn key(&self, state: Data<&AppState>) -> Json<KeyDocument> {
        Json(KeyDocument { data: state.tokens().keyring.current().public_pem(state.now()).to_owned() })
    }

    /// The algorithm, issuer and lifetime of tokens.
    #[oai(path = "/meta", method = "get")]
    async fn meta(&self, state: Data<&AppState>) -> Json<MetaDocument> {
        Json(MetaDocument {
            algorithm: state.tokens().keyring.current().signing_algorithm(state.now()).name().to_owned(),
            issuer: state.settings.jwt_issuer.clone(),
            expiration: state.settings.jwt_expiration,
        })
    }

    /// Exchanges credentials for a signed JWT (and, for interactive logins, a refresh token).
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
        meta: RequestMeta,
        body: JsonBody<TokenRequest>,
    ) -> Result<Json<TokenResponse>, PlainError> {
        let mut request = body.0;
        let inject = issue_token::check_inject(request.inject.take())?;
        let credentials =
            choose_credentials(request, delegate_access.0, delegate_secret.0).ok_or(Error::InvalidCredentials)?;
        let response = match credentials {
            Credentials::LoginCode { code } => external::redeem(&state.auth, &code, inject, &meta).await?.into(),
            Credentials::Identity { access, secret, provider, uid } => {
                identity_login::delegate_identity_login(&state.auth, &access, &secret, &provider, &uid, inject, &meta)
                    .await?
                    .into()
            }
            Credentials::ApiKey { access, secret } => {
                let issued = api_key_login::api_key_login(&state.auth, &access, &secret, inject, &meta).await?;
                TokenResponse::only_jwt(issued.jwt)
            }
            Credentials::Password { email, password, totp_code, recovery_code, passkey } => {
                let email = Submitted::parse(email, Email::parse);
                let attempt = login::PasswordAttempt {
                    email: &email,
                    password: &password,
                    totp_code: totp_code.as_deref(),
                    recovery_code: recovery_code.as_deref(),
                    passkey: passkey.as_ref(),
                    request: &meta,
                };
                login::password_login(&state.auth, &attempt, inject).await?.into()
            }
        };
        Ok(Json(response))
    }

    /// Exchanges a refresh token for a new JWT and a new refresh token; the old one stops working.
    ///
    /// A refresh token used a second time ends its whole session (it was copied), unless it comes
    /// back within AUTHIFY_REFRESH_GRACE_SECONDS: a concurrent refresh gets the same new pair. An
    /// unknown, used, expired or ended token, or one whose user was disabled, deleted or changed the
    /// password, answers 401 `{"error": "Invalid refresh token"}`.
    #[oai(path = "/refresh", method = "post")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: JsonBody<RefreshRequest>,
    ) -> Result<Json<TokenResponse>, PlainError> {
        let mut request = body.0;
        let inject = issue_token::check_inject(request.inject.take())?;
        let presented = request.refresh_token.ok_or_else(|| Error::BadRequest("refresh_token is required".into()))?;
        Ok(Json(refresh::refresh(&state.auth, &presented, inject, &meta).await?.into()))
    }

    /// Logout: with `Authorization: Bearer <jwt>`, that token is revoked until it expires and its
    /// session ends (its refresh token stops working); with `{"refresh_token": …}`, that session
    /// ends. Revoked tokens are refused by `/jwt/verify` (`Token has been revoked`) and every route,
    /// on every instance (others within AUTHIFY_REVOCATION_POLL_MS).
    #[oai(path = "/revoke", method = "post")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        /// `Bearer <jwt>`: the token to revoke.
        #[oai(name = "Authorization")]
        authorization: Header<Option<String>>,
        meta: RequestMeta,
        body: OptionalJsonBody<RevokeRequest>,
    ) -> Result<Json<Revoked>, PlainError> {
        let bearer = authorization.0.as_deref().and_then(super::auth::bearer_token);
        let refresh_token = body.0.and_then(|b| b.refresh_token);
        if bearer.is_none() && refresh_token.is_none() {
            return Err(
                Error::BadRequest("Send the token to revoke: Authorization: Bearer, or refresh_token".into()).into()
            );
        }
        revoke::logout(state.tokens(), state.sessions(), bearer, refresh_token.as_deref(), &meta).await?;
        Ok(Json(Revoked {}))
    }

    /// Checks a token given as the `token` query parameter.
    #[oai(path = "/verify", method = "get")]
    async fn verify_get(&self, state: Data<&AppState>, token: Query<Option<String>>) -> Json<VerifyResponse> {
        Json(verification(&state, token.0.as_deref().unwrap_or_default()))
    }

    /// Checks a token given as `{"token": "…"}`.
    #[oai(path = "/verify", method = "post")]
    async fn verify_post(
        &self,
        state: Data<&AppState>,
        body: JsonBody<VerifyRequest>,
    ) -> Result<Json<VerifyResponse>, BodyError> {
        Ok(Json(verification(&state, body.0.token.as_deref().unwrap_or_default())))
    }
}

fn verification(state: &AppState, token: &str) -> VerifyResponse {
    match verify_token::verify(state.tokens(), token) {
        Ok(verified) => VerifyResponse {
            valid: true,
            payload: Some(Value::Object(verified.payload)),
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
