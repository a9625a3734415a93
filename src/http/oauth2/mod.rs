//! The OpenID Provider's routes (docs/openid-provider.md): plain poem handlers, because their
//! errors follow RFC 6749 (JSON with `error`) or are pages, not Authify's JSON errors.

mod browser;
mod endpoints;
mod form;
mod respond;
mod signin;

use poem::{Route, get, post};

pub use browser::{redirect, signed_in};

/// The route templates, for the per-route counters.
pub const ROUTES: [&str; 8] = [
    "/oauth2/authorize",
    "/oauth2/token",
    "/oauth2/userinfo",
    "/oauth2/introspect",
    "/oauth2/revoke",
    "/oauth2/logout",
    "/oauth2/consent",
    "/login",
];

pub fn routes(route: Route) -> Route {
    route
        .at("/oauth2/authorize", get(signin::authorize_get))
        .at("/oauth2/token", post(endpoints::token_endpoint))
        .at("/oauth2/userinfo", get(endpoints::user_info).post(endpoints::user_info))
        .at("/oauth2/introspect", post(endpoints::introspection))
        .at("/oauth2/revoke", post(endpoints::revocation))
        .at("/oauth2/logout", get(signin::logout_get))
        .at("/oauth2/consent", post(signin::consent_submit))
        .at("/login", get(signin::login_page).post(signin::login_submit))
}
