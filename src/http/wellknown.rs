//! Discovery for relying services: the JWK Set and an OpenID-style configuration document.

use std::marker::PhantomData;

use bytes::Bytes;
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::service::oauth::scope::USER_SCOPES;
use crate::state::AppState;

#[derive(Tags)]
enum WellKnownTags {
    /// Discovery documents for relying services.
    Discovery,
}

/// A JSON body serialized once at start-up and served as is; `T` documents its schema.
pub struct PreSerialized<T> {
    bytes: Bytes,
    schema: PhantomData<T>,
}

impl<T: Type> Payload for PreSerialized<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for PreSerialized<T> {
    fn into_response(self) -> Response {
        Response::builder().content_type("application/json").body(self.bytes)
    }
}

/// The public keys that verify this service's tokens (RFC 7517).
#[derive(Object)]
#[allow(dead_code, reason = "documents the schema of the JWKS, which the keyring pre-serializes")]
struct JwkSet {
    keys: Vec<Jwk>,
}

/// One EC public key.
#[derive(Object)]
#[allow(dead_code, reason = "documents the schema of the JWKS, which the keyring pre-serializes")]
struct Jwk {
    /// Always `EC`.
    kty: String,
    /// `P-256`, `P-384` or `P-521`.
    crv: String,
    x: String,
    y: String,
    /// RFC 7638 thumbprint; tokens name their key with it in the `kid` header.
    kid: String,
    alg: String,
    /// Always `sig`.
    #[oai(rename = "use")]
    key_use: String,
}

#[derive(ApiResponse)]
enum JwksResponse {
    /// The JWK Set; cache it for `max-age` seconds.
    #[oai(status = 200)]
    Ok(PreSerialized<JwkSet>, #[oai(header = "Cache-Control")] String),
}

/// OpenID Provider metadata (OpenID Connect Discovery 1.0): only what is served.
#[derive(Object)]
struct DiscoveryDocument {
    /// The issuer URL (AUTHIFY_PUBLIC_URL): the `iss` of ID tokens and OAuth access tokens. The
    /// tokens of `/jwt/token` keep AUTHIFY_JWT_ISSUER.
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    end_session_endpoint: String,
    scopes_supported: Vec<String>,
    response_types_supported: Vec<String>,
    response_modes_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    code_challenge_methods_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    introspection_endpoint_auth_methods_supported: Vec<String>,
    revocation_endpoint_auth_methods_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    subject_types_supported: Vec<String>,
    prompt_values_supported: Vec<String>,
    claims_supported: Vec<String>,
    authorization_response_iss_parameter_supported: bool,
    /// The `iss` of the tokens of `/jwt/token` (AUTHIFY_JWT_ISSUER, unchanged from authify-api).
    authify_jwt_issuer: String,
}

#[derive(Default)]
pub struct WellKnownApi;

#[OpenApi(prefix_path = "/.well-known", tag = "WellKnownTags::Discovery")]
impl WellKnownApi {
    /// The JWK Set of every key that can verify this service's tokens.
    #[oai(path = "/jwks.json", method = "get")]
    async fn jwks(&self, state: Data<&AppState>) -> JwksResponse {
        let body =
            PreSerialized { bytes: state.tokens().keyring.current().jwks_json(state.now()), schema: PhantomData };
        JwksResponse::Ok(body, format!("public, max-age={}", state.settings.jwks_max_age))
    }

    /// OpenID Connect discovery metadata.
    #[oai(path = "/openid-configuration", method = "get")]
    async fn openid_configuration(&self, state: Data<&AppState>) -> Json<DiscoveryDocument> {
        let base = &state.settings.public_url;
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let secret_methods = strings(&["client_secret_basic", "client_secret_post"]);
        Json(DiscoveryDocument {
            issuer: base.clone(),
            authorization_endpoint: format!("{base}/oauth2/authorize"),
            token_endpoint: format!("{base}/oauth2/token"),
            userinfo_endpoint: format!("{base}/oauth2/userinfo"),
            jwks_uri: format!("{base}/.well-known/jwks.json"),
            introspection_endpoint: format!("{base}/oauth2/introspect"),
            revocation_endpoint: format!("{base}/oauth2/revoke"),
            end_session_endpoint: format!("{base}/oauth2/logout"),
            scopes_supported: strings(&USER_SCOPES),
            response_types_supported: strings(&["code"]),
            response_modes_supported: strings(&["query"]),
            grant_types_supported: strings(&["authorization_code", "refresh_token", "client_credentials"]),
            code_challenge_methods_supported: strings(&["S256"]),
            token_endpoint_auth_methods_supported: strings(&["client_secret_basic", "client_secret_post", "none"]),
            introspection_endpoint_auth_methods_supported: secret_methods.clone(),
            revocation_endpoint_auth_methods_supported: secret_methods,
            id_token_signing_alg_values_supported: vec![
                state.tokens().keyring.current().signing_algorithm(state.now()).name().to_owned(),
            ],
            subject_types_supported: strings(&["public"]),
            prompt_values_supported: strings(&["none", "login", "consent"]),
            claims_supported: strings(&[
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "at_hash",
                "amr",
                "azp",
                "sid",
                "name",
                "preferred_username",
                "updated_at",
                "email",
                "email_verified",
            ]),
            authorization_response_iss_parameter_supported: true,
            authify_jwt_issuer: state.settings.jwt_issuer.clone(),
        })
    }
}
