//! HTTP: thin handlers (poem-openapi `Api` structs, one per route group) over the services.

mod account_page;
mod auth;
mod client;
mod consents;
mod cors;
pub mod errors;
pub mod external_login;
mod health;
mod json_body;
pub mod jsonapi;
mod jwt;
mod monitoring;
mod oauth2;
mod observe;
pub mod pages;
mod passkeys;
mod rate_limit;
mod registration;
mod resources;
mod security_admin;
pub mod server;
mod session;
mod totp;
mod wellknown;

use std::sync::OnceLock;

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
use poem_openapi::{OpenApi, OpenApiService};

use crate::state::AppState;

type Apis = (
    jwt::JwtApi,
    registration::RegistrationApi,
    wellknown::WellKnownApi,
    health::HealthApi,
    totp::TotpApi,
    security_admin::SecurityAdminApi,
    monitoring::MonitoringApi,
    session::SessionApi,
    consents::ConsentApi,
    external_login::ExternalLoginApi,
    passkeys::PasskeyApi,
);

fn openapi_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(Apis::default(), "Authify", env!("CARGO_PKG_VERSION")).description(
        "Authentication service: ECDSA-signed JWTs (ES256/ES384/ES512), published public keys, \
             users, organizations and API keys. Drop-in for authify-api 0.5.",
    )
}

/// The OpenAPI document (JSON), exactly as served at `/openapi.json` and checked in under `openapi/`:
/// poem-openapi's document for the plain-JSON routes plus the generated {json:api} routes.
pub fn openapi_json() -> String {
    let plain = openapi_service().spec();
    let Ok(mut spec) = serde_json::from_str::<serde_json::Value>(&plain) else { return plain };
    resources::add_to_spec(&mut spec);
    serde_json::to_string_pretty(&spec).unwrap_or(plain)
}

/// Every route template served (`/users/:id`), for per-route counters: the poem-openapi routes,
/// the {json:api} routes and the documentation pages.
pub fn route_templates() -> Vec<String> {
    let mut templates: Vec<String> =
        Apis::meta().into_iter().flat_map(|api| api.paths.into_iter().map(|path| path.path)).collect();
    templates.extend(resources::route_templates());
    templates.extend(oauth2::ROUTES.map(str::to_owned));
    templates.extend(["/openapi.json", "/docs", "/account", "/assets/passkeys.js"].map(str::to_owned));
    templates
}

/// Every route, with request ids, counters, CORS, JSON errors and the state attached.
pub fn endpoint(state: AppState) -> impl Endpoint {
    // Built on first request, not at start-up: the document and the Swagger page (which embeds the
    // whole Swagger UI bundle) cost more than the rest of start-up together.
    static SPEC: OnceLock<String> = OnceLock::new();
    static DOCS: OnceLock<String> = OnceLock::new();
    let spec_endpoint = poem::endpoint::make_sync(|_| {
        let spec = SPEC.get_or_init(openapi_json);
        poem::Response::builder().content_type("application/json; charset=utf-8").body(spec.clone())
    });
    let docs = poem::endpoint::make_sync(|_| {
        let html = DOCS.get_or_init(|| {
            // Swagger UI with the whole document (poem-openapi's page embeds only its own part).
            let api = openapi_service();
            api.swagger_ui_html().replacen(&api.spec(), SPEC.get_or_init(openapi_json), 1)
        });
        poem::web::Html(html.clone())
    });
    let api = std::sync::Arc::new(openapi_service().into_endpoint());
    let routes = oauth2::routes(resources::routes(Route::new()))
        // Under /identities, where the {json:api} routes would take it for an identity's id.
        .at("/identities/oidc/*rest", api.clone().around(external_login::pages_for_browsers))
        // Under /passkeys, where the {json:api} routes would take `login` for a passkey's id.
        .at("/passkeys/login/*rest", api.clone())
        .at("/account", poem::get(account_page::account_page))
        .at("/assets/passkeys.js", poem::get(account_page::passkey_script))
        .at("/openapi.json", spec_endpoint)
        .at("/docs", docs)
        .nest("/", api);
    observe::KeepRoute(routes)
        .with(rate_limit::RateLimit::new(state.clone()))
        .with(cors::Cors::new(state.settings.cors_origins.allow_list().map(<[String]>::to_vec)))
        .with(observe::Observe::new(state.monitor.clone(), state.settings.trusted_proxies.nets().to_vec()))
        .data(state)
}
