//! HTTP: thin handlers (poem-openapi `Api` structs, one per route group) over the services.

mod cors;
pub mod errors;
mod health;
mod json_body;
pub mod jsonapi;
mod jwt;
mod resources;
mod wellknown;

use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::OpenApiService;

use crate::state::AppState;

type Apis = (jwt::JwtApi, wellknown::WellKnownApi, health::HealthApi);

fn openapi_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new((jwt::JwtApi, wellknown::WellKnownApi, health::HealthApi), "Authify", env!("CARGO_PKG_VERSION"))
        .description(
            "Authentication service: ECDSA-signed JWTs (ES256/ES384/ES512), published public keys, \
             users, organizations and API keys. Drop-in for authify-api 0.5.",
        )
}

/// The OpenAPI document (JSON), exactly as served at `/openapi.json` and checked in under `openapi/`.
pub fn openapi_json() -> String {
    openapi_service().spec()
}

/// Every route, with CORS, JSON errors and the state attached.
pub fn endpoint(state: AppState) -> impl Endpoint {
    let api = openapi_service();
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    resources::routes(Route::new())
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/", api)
        .catch_all_error(errors::poem_error_to_json)
        .with(cors::Cors::new(state.settings.cors_allow_list()))
        .data(state)
}
