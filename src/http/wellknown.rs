//! Discovery for relying services: the JWK Set and an OpenID-style configuration document.

use std::marker::PhantomData;

use bytes::Bytes;
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

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

/// Where to find this issuer's keys and token endpoint.
#[derive(Object)]
struct DiscoveryDocument {
    /// The `iss` claim of every token (AUTHIFY_JWT_ISSUER).
    issuer: String,
    jwks_uri: String,
    token_endpoint: String,
    grant_types_supported: Vec<String>,
    response_types_supported: Vec<String>,
    subject_types_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    claims_supported: Vec<String>,
}

#[derive(Default)]
pub struct WellKnownApi;

#[OpenApi(prefix_path = "/.well-known", tag = "WellKnownTags::Discovery")]
impl WellKnownApi {
    /// The JWK Set of every key that can verify this service's tokens.
    #[oai(path = "/jwks.json", method = "get")]
    async fn jwks(&self, state: Data<&AppState>) -> JwksResponse {
        let body = PreSerialized { bytes: state.tokens().keyring.jwks_json(state.now()), schema: PhantomData };
        JwksResponse::Ok(body, format!("public, max-age={}", state.settings.jwks_max_age))
    }

    /// OpenID Connect discovery metadata.
    #[oai(path = "/openid-configuration", method = "get")]
    async fn openid_configuration(&self, state: Data<&AppState>) -> Json<DiscoveryDocument> {
        let base = &state.settings.public_url;
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Json(DiscoveryDocument {
            issuer: state.settings.jwt_issuer.clone(),
            jwks_uri: format!("{base}/.well-known/jwks.json"),
            token_endpoint: format!("{base}/jwt/token"),
            grant_types_supported: strings(&["password", "client_credentials"]),
            response_types_supported: strings(&["token"]),
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: vec![state.tokens().keyring.algorithm().name().to_owned()],
            token_endpoint_auth_methods_supported: strings(&["client_secret_post"]),
            claims_supported: strings(&["sub", "iss", "exp", "iat", "jti", "scopes", "user", "custom"]),
        })
    }
}
